"""Names for imported rubrics and items: valid, unique within a rubric, and stable (same input, same names).

A name is derived from a title or a text: folded to ASCII, lowercased, cut into words of letters and digits,
joined with `_` and truncated at a word boundary. Long texts lose their filler words ("the", "response",
...) first. A name that would be a keyword or look like a generated name (`hard_2`) gets `_item`; one that
starts with a digit gets `n_`; an empty one falls back to a given word. Duplicates get `_2`, `_3`, ... in
input order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePath

from ..syntax import ITEM_KINDS, KEYWORDS

MAX_NAME = 64
NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
AUTO_NAME_RE = re.compile(rf"(?:{'|'.join(ITEM_KINDS)})_[0-9]+\Z")
FILLER = frozenset(["a", "an", "the", "that", "this", "these", "those", "of", "to", "and", "or", "is", "are", "be",
                    "been", "in", "for", "with", "on", "as", "by", "its", "it", "response", "responses"])
GENERIC_PATH_PARTS = frozenset(["rubric", "rubrics", "expected_result", "grading", "judge_eval", "papers", "data"])


def is_valid(name: str) -> bool:
    """A name the language accepts: `[a-z][a-z0-9_]*`, at most 64 characters, not a keyword."""
    return bool(NAME_RE.match(name)) and len(name) <= MAX_NAME and name not in KEYWORDS


def is_free(name: str) -> bool:
    """Valid, and not of the `KIND_N` form the language gives unnamed items (which could collide)."""
    return is_valid(name) and not AUTO_NAME_RE.match(name)


def words_of(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.findall(r"[a-z0-9]+", re.sub(r"['’`]", "", folded))


def slug(text: str, limit: int = 40, *, drop_filler: bool = False) -> str:
    """The words of `text` joined by `_`, cut at a word boundary within `limit` characters ('' if none)."""
    words = words_of(text)
    if drop_filler:
        words = [w for w in words if w not in FILLER] or words
    out = ""
    for word in words:
        candidate = f"{out}_{word}" if out else word
        if len(candidate) > limit:
            out = out or word[:limit]
            break
        out = candidate
    return out


def usable(base: str, fallback: str) -> str:
    """Make a slug a free name: fallback when empty, `n_` before a digit, `_item` after a keyword/auto name."""
    name = base or fallback
    if not name[0].isalpha():
        name = f"n_{name}"
    if name in KEYWORDS or AUTO_NAME_RE.match(name):
        name = f"{name}_item"
    return name[:MAX_NAME]


def short_hash(key: str, length: int = 6) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]


class NameAllocator:
    """Hands out unique names in call order: the first `x`, then `x_2`, `x_3`, ..."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.used: set[str] = set(taken or ())

    def claim(self, base: str, fallback: str = "item") -> str:
        name = usable(base, fallback)
        candidate, counter = name, 1
        while candidate in self.used:
            counter += 1
            suffix = f"_{counter}"
            candidate = name[: MAX_NAME - len(suffix)] + suffix
        self.used.add(candidate)
        return candidate

    def claim_exact(self, name: str) -> str | None:
        """Take `name` itself when it is free and unused (data that already carries a rubricdsl name)."""
        if is_free(name) and name not in self.used:
            self.used.add(name)
            return name
        return None


def text_names(texts: list[str], fallback: str = "item") -> list[str]:
    """Names for items known only by their text (HealthBench, OpenRubrics): filler words dropped, 40 chars."""
    allocator = NameAllocator()
    return [allocator.claim(slug(text, 40, drop_filler=True), fallback) for text in texts]


def title_names(titles: list[str], fallback: str = "item") -> list[str]:
    """Names for items with a short title (RaR, autorubric): every word kept, up to 64 characters."""
    allocator = NameAllocator()
    return [allocator.claim(slug(title, MAX_NAME), fallback) for title in titles]


def name_from_path(path: PurePath) -> str:
    """A rubric name from a file path: its stem, or the nearest folder whose name is not generic
    (`papers/<paper>/rubric.json` gives the paper's name)."""
    for part in [path.stem, *(p.name for p in path.parents)]:
        base = slug(part, 48)
        if base and part.lower() not in GENERIC_PATH_PARTS and not base.isdigit():
            return usable(base, "imported")
    return "imported"
