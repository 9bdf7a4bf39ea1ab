"""The compiled form (IR): a versioned, hashed, self-contained description of one rubric.

Pydantic models at this boundary: everything after compilation (scoring, judging, rewards, formats) reads
only these. `to_json()` writes the document of LANGUAGE.md "The compiled form"; `content_hash` is the
SHA-256 of the canonical JSON of everything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

ItemKind = Literal["hard", "principle", "essential", "important", "optional", "pitfall", "criterion", "scale", "group"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelIR(_Frozen):
    level: int
    text: str


class ItemIR(_Frozen):
    name: str
    kind: ItemKind
    weight: float | None
    text: str
    check: str | None = None
    levels: tuple[LevelIR, ...] | None = None
    items: tuple[ItemIR, ...] | None = None

    @property
    def is_leaf(self) -> bool:
        return self.kind != "group"

    @property
    def credit_span(self) -> tuple[int, int] | None:
        """(lowest, highest) level of a scale item."""
        if not self.levels:
            return None
        values = [lv.level for lv in self.levels]
        return min(values), max(values)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "weight": self.weight,
            "text": self.text,
            "check": self.check,
        }
        if self.levels is not None:
            data["levels"] = [lv.model_dump() for lv in self.levels]
        if self.items is not None:
            data["items"] = [child.to_json() for child in self.items]
        return data


class ScoringIR(_Frozen):
    method: Literal["weighted", "rar_explicit", "all", "mean"] = "weighted"
    normalize: Literal["positive", "healthbench", "minmax", "sum", "abs"] = "positive"
    gate: Literal["zero", "cap", "none"] = "zero"
    hard_fail: float = 0.0
    range: tuple[float, float] = (0.0, 1.0)
    on_error: Literal["raise", "skip", "zero", "fail"] = "raise"
    on_na: Literal["skip", "zero", "fail"] = "skip"


class JudgeIR(_Frozen):
    model: str | None = None
    models: tuple[str, ...] = ()
    combine: Literal["mean", "majority", "unanimous", "any"] = "mean"
    samples: int = Field(default=1, ge=1, le=100)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    scale: Literal["binary", "ternary"] = "binary"
    granularity: Literal["response", "item"] = "response"
    allow_na: bool = False


class RubricIR(_Frozen):
    schema_version: int = SCHEMA_VERSION
    name: str
    title: str
    prompt: str | None = None
    reference: str | None = None
    tags: tuple[str, ...] = ()
    items: tuple[ItemIR, ...]
    scoring: ScoringIR = ScoringIR()
    judge: JudgeIR = JudgeIR()
    content_hash: str = ""

    def meaning(self) -> dict[str, Any]:
        """Everything but the hash, as plain JSON values (weights and bounds as floats)."""
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "title": self.title,
            "prompt": self.prompt,
            "reference": self.reference,
            "tags": list(self.tags),
            "items": [item.to_json() for item in self.items],
            "scoring": {**self.scoring.model_dump(), "range": list(self.scoring.range)},
            "judge": {**self.judge.model_dump(), "models": list(self.judge.models)},
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.meaning(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def with_hash(self) -> RubricIR:
        return self.model_copy(update={"content_hash": self.compute_hash()})

    def to_json(self) -> dict[str, Any]:
        return {**self.meaning(), "content_hash": self.content_hash or self.compute_hash()}

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), sort_keys=True, indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RubricIR:
        return cls.model_validate(data)

    # -- traversal used by scoring and judging

    def leaves(self) -> list[ItemIR]:
        """Leaf items depth-first in rubric order: the columns of `aggregate_many`."""
        return list(iter_leaves(self.items))

    def all_items(self) -> list[ItemIR]:
        return list(iter_items(self.items))

    def item(self, name: str) -> ItemIR:
        for it in iter_items(self.items):
            if it.name == name:
                return it
        raise KeyError(name)


def iter_items(items: tuple[ItemIR, ...]) -> Iterator[ItemIR]:
    for it in items:
        yield it
        if it.items:
            yield from iter_items(it.items)


def iter_leaves(items: tuple[ItemIR, ...]) -> Iterator[ItemIR]:
    for it in iter_items(items):
        if it.kind != "group":
            yield it
