"""What exporters share: naming, in notes, each part of a compiled rubric a format cannot hold.

Every exporter writes what its format can hold and reports the rest here, in the IR's terms (fields,
settings, item kinds, names), so that an export with no notes re-imports to the same content hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..ir import ItemIR, JudgeIR, RubricIR, ScoringIR
from .base import Notes

TEXT_FIELDS = ("title", "prompt", "reference", "tags")


def fields_lost(ir: RubricIR, notes: Notes, carried: Iterable[str] = (), scoring: dict[str, Any] | None = None,
                judge: dict[str, Any] | None = None) -> None:
    """Note the fields and settings of `ir` outside `carried`; `scoring` and `judge` are what the format implies."""
    kept = set(carried)
    present = {"title": ir.title != ir.name, "prompt": ir.prompt is not None,
               "reference": ir.reference is not None, "tags": bool(ir.tags)}
    for key in TEXT_FIELDS:
        if present[key] and key not in kept:
            notes.add(f"`{key}:` not carried", ir.name)
    implied = ScoringIR(**(scoring or {}))
    if "hard_fail" not in (scoring or {}):
        implied = implied.model_copy(update={"hard_fail": ir.scoring.range[0]})
    changed = _differences(ir.scoring.model_dump(), implied.model_dump())
    if changed:
        implies = _spell(implied.model_dump())
        notes.add(f"scoring settings not carried ({changed}; the format implies {implies})", ir.name)
    judge_changed = _differences(ir.judge.model_dump(), JudgeIR(**(judge or {})).model_dump())
    if judge_changed:
        notes.add(f"judge settings not carried ({judge_changed})", ir.name)


def _differences(actual: dict[str, Any], expected: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {_value(v)}" for k, v in actual.items() if expected.get(k) != v)


def _spell(values: dict[str, Any]) -> str:
    defaults = ScoringIR().model_dump()
    shown = {k: v for k, v in values.items() if defaults.get(k) != v and k != "hard_fail"}
    return ", ".join(f"{k}: {_value(v)}" for k, v in shown.items()) or "the defaults"


def _value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "..".join(f"{v:g}" for v in value) if all(isinstance(v, float) for v in value) else ", ".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value).lower() if isinstance(value, bool) else str(value)


def flat_items(items: tuple[ItemIR, ...], notes: Notes, rubric: str) -> list[ItemIR]:
    """The leaves of a flat format, in rubric order; each group's structure (and weight) is noted as lost."""
    out: list[ItemIR] = []
    for it in items:
        if it.kind == "group":
            notes.add("groups not carried (their items are written flat, without the group's weight)",
                      f"{rubric}.{it.name}")
            out.extend(flat_items(it.items or (), notes, rubric))
        else:
            out.append(it)
    return out


def checks_lost(item: ItemIR, notes: Notes, rubric: str) -> None:
    if item.check is not None:
        notes.add("`check:` expressions not carried (the item is left to the judge)", f"{rubric}.{item.name}")


def item_lost(item: ItemIR, notes: Notes, rubric: str, fmt: str) -> None:
    notes.add(f"`{item.kind}` items have no place in {fmt}: left out", f"{rubric}.{item.name}")


def kind_changed(item: ItemIR, becomes: str, notes: Notes, rubric: str) -> None:
    notes.add(f"`{item.kind}` items are written as {becomes} (kind not carried)", f"{rubric}.{item.name}")


def names_lost(written: list[ItemIR], derived: list[str], notes: Notes, rubric: str, source: str) -> None:
    """Item names the format does not store: note those that re-import would not derive again."""
    for it, again in zip(written, derived, strict=True):
        if it.name != again:
            notes.add(f"item names not carried (re-import derives them from the {source})",
                      f"{rubric}.{it.name} → {again}")


def weight_of(item: ItemIR) -> float:
    assert item.weight is not None, "only hard rules have no weight"
    return item.weight
