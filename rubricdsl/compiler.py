"""Compiling: a resolved rubric → the IR (`RubricIR`), with defaults filled and settings cross-checked."""

from __future__ import annotations

from typing import Any

from .checks import render
from .diagnostics import Diagnostic, RubricError, Span, error
from .ir import ItemIR, JudgeIR, LevelIR, RubricIR, ScoringIR
from .resolve import Resolved
from .syntax import Field, Item, Setting, Text

MAX_ITEMS = 10_000


def compile_resolved(resolved: Resolved) -> RubricIR:
    """Raise RubricError with every problem found; otherwise return the hashed IR."""
    problems = list(resolved.problems)
    declaration = resolved.declaration
    if not resolved.items and not resolved.problems:  # an unknown `use` already explains it
        problems.append(
            error(
                "E217",
                declaration.name_span,
                f"rubric `{declaration.name}` has no items",
                "add at least one item, e.g. `essential NAME: ...`",
            )
        )
    count = _count(resolved.items)
    if count > MAX_ITEMS:
        problems.append(
            error(
                "E223",
                declaration.name_span,
                f"rubric `{declaration.name}` has {count} items",
                f"a rubric holds at most {MAX_ITEMS} items; split it",
            )
        )
    scoring, judge, setting_problems = _settings(resolved)
    problems.extend(setting_problems)
    if problems:
        raise RubricError(problems)
    ir = RubricIR(
        name=declaration.name,
        title=_text(declaration.get_field("title")) or declaration.name,
        prompt=_text(declaration.get_field("prompt")),
        reference=_text(declaration.get_field("reference")),
        tags=_tags(declaration.get_field("tags")),
        items=tuple(_item(item) for item in resolved.items),
        scoring=scoring,
        judge=judge,
    )
    return ir.with_hash()


def _count(items: tuple[Item, ...]) -> int:
    return sum(1 + _count(tuple(c for c in item.children if isinstance(c, Item))) for item in items)


def _text(field: Field | None) -> str | None:
    return field.value.value if field is not None and isinstance(field.value, Text) else None


def _tags(field: Field | None) -> tuple[str, ...]:
    return tuple(str(label) for label in field.value) if field is not None else ()  # type: ignore[union-attr]


def _item(item: Item) -> ItemIR:
    weight = item.effective_weight
    assert item.name is not None, "resolve() names every item"
    return ItemIR(
        name=item.name,
        kind=item.kind,  # type: ignore[arg-type]
        weight=None if weight is None else float(weight),
        text=item.text.value,
        check=render(item.check.expr) if item.check is not None else None,
        levels=tuple(LevelIR(level=lv.level, text=lv.text.value) for lv in item.levels)
        if item.kind == "scale"
        else None,
        items=tuple(_item(c) for c in item.children if isinstance(c, Item)) if item.kind == "group" else None,
    )


def _settings(resolved: Resolved) -> tuple[ScoringIR, JudgeIR, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    span = resolved.declaration.name_span
    scoring: dict[str, Any] = dict(resolved.scoring)
    low, high = scoring.get("range", (0.0, 1.0))
    scoring.setdefault("hard_fail", low)
    if not low <= scoring["hard_fail"] <= high:
        problems.append(
            error(
                "E227",
                _setting_span(resolved, "scoring", "hard_fail") or span,
                f"hard_fail {scoring['hard_fail']:g} lies outside the range {low:g}..{high:g}",
                "hard_fail is in the reward's units: pick a value inside the range",
            )
        )
    judge: dict[str, Any] = dict(resolved.judge)
    if judge.get("model") and judge.get("models"):
        problems.append(
            error(
                "E226",
                _setting_span(resolved, "judge", "models") or span,
                "`model` and `models` are both set",
                "keep `model` for one judge or `models` for several",
            )
        )
    return ScoringIR(**scoring), JudgeIR(**judge), problems


def _setting_span(resolved: Resolved, block: str, key: str) -> Span | None:
    field = resolved.declaration.get_field(block)
    entries = field.value if field is not None and isinstance(field.value, tuple) else ()
    for entry in entries:
        if isinstance(entry, Setting) and entry.key == key:
            return entry.span
    return None
