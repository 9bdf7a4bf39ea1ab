"""The compiled-IR cache, like `__pycache__`: a rubric whose source (and imports) did not change is not parsed.

One entry per source (a file, or a string given to `loads`), in the user cache directory (platformdirs;
`RUBRICDSL_CACHE_DIR` moves it). An entry records the SHA-256 of the text of every file that went into it
(the source and everything it imports, transitively), the IR schema version, the package version and a
fingerprint of the installed compiler; it is used only when all of them still match, so a changed import
invalidates every importer. Entries are written to a temporary file and renamed into place, so concurrent
processes never see half an entry; a corrupt or foreign entry is ignored and rewritten. Only sources that
compiled without errors are cached: errors are always reported from a fresh parse.

Lint, fmt and the language server never use it (they need the syntax tree). `RUBRICDSL_IR_CACHE=0` (or
`rubric --no-ir-cache`) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .ir import SCHEMA_VERSION, RubricIR

ENV_SWITCH = "RUBRICDSL_IR_CACHE"
ENTRY_FORMAT = 1


class Dependency(BaseModel):
    """One file that went into an entry, and the SHA-256 of its text when it was compiled."""

    model_config = ConfigDict(frozen=True)
    path: str
    digest: str


class Entry(BaseModel):
    """What one cache file holds: the key it was made under, its dependencies and the compiled rubrics."""

    model_config = ConfigDict(frozen=True)
    format: int
    key: str
    dependencies: tuple[Dependency, ...]
    rubrics: dict[str, RubricIR]


def enabled() -> bool:
    """The cache is on unless `RUBRICDSL_IR_CACHE` is set to 0, off, false or no."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "off", "false", "no"}


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def compiler_key() -> str:
    """The IR schema version, the package version and the installed compiler's files (name, size, mtime):
    an edited checkout or an upgrade never reads IR compiled by other code."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package_version = version("rubricdsl")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        package_version = "source"
    package_dir = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{ENTRY_FORMAT}\0{SCHEMA_VERSION}\0{package_version}".encode())
    for path in sorted(package_dir.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    from .grammar import grammar_text

    digest.update(grammar_text().encode())
    return digest.hexdigest()


def cache_directory() -> Path | None:
    """Where entries live, created on first use; None when it cannot be created (then nothing is cached)."""
    from platformdirs import user_cache_dir

    directory = Path(os.environ.get("RUBRICDSL_CACHE_DIR") or user_cache_dir("rubricdsl")) / "ir"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory


def source_id(source: str, root: Path | None) -> str:
    """The name of a source's entry: a resolved path (or `text:<digest>` for a string) and the import root."""
    return hashlib.sha256(f"{source}\0{root}".encode("utf-8", "surrogatepass")).hexdigest()[:40]


class IRCache:
    """Reads and writes entries in one directory. Every failure to read or write is a miss, never an error."""

    def __init__(self, directory: Path):
        self.directory = directory

    def _file(self, source: str, root: Path | None) -> Path:
        return self.directory / f"{source_id(source, root)}.json"

    def get(self, source: str, root: Path | None) -> dict[str, RubricIR] | None:
        """The rubrics compiled from `source` under `root`, if its entry is current."""
        from .parser import collector_paused

        try:
            with collector_paused():  # thousands of small objects that all survive, as when parsing
                entry = Entry.model_validate_json(self._file(source, root).read_bytes())
        except (OSError, ValidationError, ValueError):
            return None
        if entry.format != ENTRY_FORMAT or entry.key != compiler_key() or not _current(entry.dependencies):
            return None
        return entry.rubrics

    def put(
        self, source: str, root: Path | None, dependencies: Iterable[Dependency], rubrics: dict[str, RubricIR]
    ) -> None:
        """Store an entry atomically (a temporary file renamed over the old one)."""
        entry = Entry(format=ENTRY_FORMAT, key=compiler_key(), dependencies=tuple(dependencies), rubrics=rubrics)
        target = self._file(source, root)
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=target.stem, suffix=".tmp")
        except OSError:  # a read-only or full cache directory: grade without caching
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(entry.model_dump_json().encode("utf-8", "surrogatepass"))
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _current(dependencies: Iterable[Dependency]) -> bool:
    """Every dependency still has the text it was compiled from."""
    from .source import decode

    for dependency in dependencies:
        try:
            text = decode(Path(dependency.path).read_bytes(), dependency.path)
        except Exception:  # unreadable, vanished or no longer valid text: the entry is stale
            return False
        if text_digest(text) != dependency.digest:
            return False
    return True


def default_cache() -> IRCache | None:
    """The user's cache, or None when it is turned off or has no usable directory."""
    if not enabled():
        return None
    directory = cache_directory()
    return IRCache(directory) if directory is not None else None
