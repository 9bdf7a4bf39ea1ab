"""The types every format module shares: what an import and an export return, and how notes collect.

A format module turns foreign data into `Declaration` nodes (`read`) and compiled rubrics into foreign data
(`write`). Neither raises anything but `FormatError`; what a conversion cannot carry over is never silent:
it becomes a note, and the command line prints every note (and fails on them with `--strict`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ..ir import RubricIR
from ..syntax import Declaration

JSONDict = dict[str, Any]


class FormatError(ValueError):
    """Input that cannot be converted at all (malformed data, nothing representable); the message says why."""


class Notes:
    """What a conversion could not carry over, grouped by message so a hundred cases make one line."""

    def __init__(self) -> None:
        self._where: dict[str, list[str]] = {}

    def add(self, message: str, where: str | None = None) -> None:
        places = self._where.setdefault(message, [])
        if where is not None and where not in places:
            places.append(where)

    def lines(self, shown: int = 6) -> list[str]:
        out = []
        for message, places in self._where.items():
            if not places:
                out.append(message)
                continue
            listed = ", ".join(places[:shown]) + (f" and {len(places) - shown} more" if len(places) > shown else "")
            out.append(f"{message}: {listed}")
        return out

    def __bool__(self) -> bool:
        return bool(self._where)


@dataclass(frozen=True)
class Origin:
    """Where imported data came from: its display path, and the rubric name the user asked for (if any)."""

    path: str = "<string>"
    name: str | None = None

    def base_name(self) -> str:
        from .names import name_from_path

        return self.name or name_from_path(PurePath(self.path))

    def rubric_name(self, index: int, total: int) -> str:
        """`--name` or the file's name for one rubric; with a 1-based suffix when the data holds several."""
        base = self.base_name()
        return base if total == 1 else f"{base}_{index}"


@dataclass
class Imported:
    declarations: list[Declaration]
    notes: Notes = field(default_factory=Notes)


@dataclass(frozen=True)
class Source:
    """One compiled rubric to export, with the annotations (`# @FORMAT {...}` comments) kept for this format:
    `meta` for the rubric, `item_meta` by item name."""

    ir: RubricIR
    meta: JSONDict = field(default_factory=dict)
    item_meta: dict[str, JSONDict] = field(default_factory=dict)


@dataclass
class Exported:
    text: str
    notes: Notes = field(default_factory=Notes)


@dataclass(frozen=True)
class Format:
    name: str
    summary: str
    read: Callable[[str, Origin], Imported]
    write: Callable[[list[Source]], Exported]
    several: bool  # can one file hold several rubrics?
    suffix: str  # the usual file suffix of exported data


def load_json(data: str, what: str) -> Any:
    """One JSON document, or JSON Lines (one document a line) read as a list."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as first:
        rows = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise FormatError(f"{what}: not JSON or JSON Lines (line {number}: {first.msg})") from None
        if not rows:
            raise FormatError(f"{what}: the file holds no JSON") from None
        return rows


def dump_jsonl(rows: list[JSONDict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def number(value: float) -> int | float:
    """A weight as JSON writes it in the source data sets: `5`, not `5.0`."""
    return int(value) if float(value).is_integer() else value
