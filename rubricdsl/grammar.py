"""Loading grammar/rubric.lark and building (and caching) the Lark LALR parser.

The grammar file is the single description of the structure. In a source checkout (and an editable
install) it is read from `grammar/` beside the package; a built wheel carries a copy inside the package.
Building the LALR tables costs a few hundred milliseconds, so the built parser is cached in the user cache
directory under a name derived from the grammar's hash and Lark's version (never a predictable temp path).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

import lark
from lark import Lark

_PACKAGE_DIR = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE_DIR / "grammar" / "rubric.lark", _PACKAGE_DIR.parent / "grammar" / "rubric.lark")


def grammar_path() -> Path:
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammar/rubric.lark is missing from the installation")


@functools.cache
def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def build_parser(*, strict: bool = False, cache: bool = True) -> Lark:
    options: dict[str, Any] = {
        "parser": "lalr",
        "lexer": "contextual",
        "start": ["file", "check_expr"],
        "propagate_positions": False,  # tokens carry their own positions; meta would cost ~10%
        "maybe_placeholders": False,
        "strict": strict,
    }
    cache_file = _cache_file() if cache and not strict else None
    if cache_file is not None:
        try:
            return Lark(grammar_text(), cache=str(cache_file), **options)
        except OSError:
            pass  # read-only or missing cache directory: build without it
    return Lark(grammar_text(), **options)


@functools.cache
def parser() -> Lark:
    return build_parser()


def _cache_file() -> Path | None:
    if os.environ.get("RUBRICDSL_NO_PARSER_CACHE"):
        return None
    try:
        from platformdirs import user_cache_dir

        directory = Path(os.environ.get("RUBRICDSL_CACHE_DIR") or user_cache_dir("rubricdsl"))
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    key = hashlib.sha256((grammar_text() + lark.__version__).encode()).hexdigest()[:16]
    return directory / f"grammar-{key}.lark-cache"
