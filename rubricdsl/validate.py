"""Meaning checks on one parsed file: weights, fields, settings, scales, groups and checks.

Everything that can be known from a file alone is checked here and reported all at once; what needs other
files (names, `use`, imports) is checked by the loader.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .diagnostics import Diagnostic, Span, error
from .settings import read_settings
from .syntax import AllOf, AnyOf, CheckExpr, Declaration, File, Item, Not, RegexTest, Setting, Use


def validate(file: File) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for declaration in file.declarations:
        problems.extend(_declaration(declaration))
        for item in walk_items(declaration.body):
            problems.extend(_item(item))
    return problems


def walk_items(body: tuple[Item | Use, ...]) -> Iterator[Item]:
    for node in body:
        if isinstance(node, Item):
            yield node
            yield from walk_items(node.children)


def _declaration(declaration: Declaration) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for field in declaration.fields:
        if declaration.kind == "principles":
            yield error(
                "E214",
                field.span,
                f"a principles set has no `{field.key}:`",
                "principles sets hold items only; move the field to a rubric",
            )
            continue
        if field.key in seen:
            yield error("E213", field.span, f"`{field.key}:` is given twice", "keep one of them")
        seen.add(field.key)
        if field.key in ("scoring", "judge"):
            entries = tuple(v for v in field.value if isinstance(v, Setting))  # type: ignore[union-attr]
            yield from read_settings(field.key, entries)[1]
        elif field.key == "tags" and any(not label for label in field.value):  # type: ignore[union-attr]
            yield error("E222", field.span, "empty tag", "write tags as `a, b, c` with no empty entries")


def _item(item: Item) -> Iterator[Diagnostic]:
    yield from _weight(item)
    if item.kind in ("scale", "group") and item.check is not None:
        yield error(
            "E221",
            item.check.span,
            f"a `{item.kind}` item takes no `check:`",
            "checks decide single statements: put it on a `hard` or weighted item",
        )
    for extra in item.extra_checks:
        yield error("E221", extra.span, "an item has at most one `check:`", "join the checks with `and`")
    if item.kind == "scale":
        yield from _levels(item)
    elif item.levels:
        yield error(
            "E219",
            item.levels[0].span,
            f"levels under a `{item.kind}` item",
            "levels belong to `scale` items: write `scale NAME: ...`",
        )
    if item.kind == "group" and not item.children:
        yield error("E220", item.span, "a group holds no items", "indent at least one item under the group")
    elif item.kind != "group" and item.children:
        yield error(
            "E220",
            item.children[0].span,
            f"items nested under a `{item.kind}` item",
            "only a `group` holds items: write `group NAME: ...` above them",
        )
    if item.check is not None:
        yield from _regexes(item.check.expr)


def _weight(item: Item) -> Iterator[Diagnostic]:
    span = item.weight_span or item.kind_span
    weight = item.weight
    if item.kind == "hard":
        if item.weight_span is not None:
            yield error(
                "E210", span, "hard rules take no weight", "remove the weight: a hard rule is a gate, not points"
            )
        return
    if item.kind == "criterion" and item.weight_span is None:
        yield error(
            "E211",
            item.kind_span,
            "a `criterion` needs a weight",
            "write `criterion 5 NAME: ...` (weights are usually 1 to 10; negative for a penalty)",
        )
        return
    if weight is None:
        return
    shown = f"{abs(weight):g}"
    if weight == 0 and item.kind != "group":
        yield error("E212", span, "a weight of 0", "remove the item, or give it a weight")
    elif item.kind == "pitfall" and weight > 0:
        yield error("E209", span, "pitfall weights are negative", f"did you mean -{shown}?")
    elif item.kind not in ("pitfall", "criterion") and weight < 0:
        hint = f"did you mean {shown}? For a penalty, write `pitfall -{shown} NAME: ...`"
        yield error("E209", span, f"{item.kind} weights are positive", hint)


def _levels(item: Item) -> Iterator[Diagnostic]:
    levels = item.levels
    if len(levels) < 2:
        yield error("E218", item.span, "a scale needs at least two levels", "indent levels `1: ...`, `2: ...` under it")
        return
    numbers = [lv.level for lv in levels]
    for previous, current in itertools.pairwise(levels):
        if current.level == previous.level:
            yield error("E218", current.span, f"level {current.level} is given twice", "number the levels 1, 2, 3, ...")
        elif current.level != previous.level + 1:
            yield error(
                "E218",
                current.span,
                f"levels jump from {previous.level} to {current.level}",
                f"add level {previous.level + 1} or renumber: levels are consecutive",
            )
    lines = [lv.span.line for lv in levels]  # levels are stored ascending: their lines show the written order
    if lines != sorted(lines) and lines != sorted(lines, reverse=True):
        yield error(
            "E218",
            item.span,
            f"levels {numbers[0]}..{numbers[-1]} are out of order",
            "write the levels in ascending or descending order",
        )


def _regexes(expr: CheckExpr) -> Iterator[Diagnostic]:
    if isinstance(expr, RegexTest):
        from .checks import compile_regex

        try:
            compile_regex(expr.pattern, expr.flags)
        except ValueError as exc:
            yield error(
                "E302",
                expr.pattern_span,
                "regular expression the RE2 engine cannot compile",
                f"{exc} (RE2 has no look-around or back-references)",
            )
    elif isinstance(expr, Not):
        yield from _regexes(expr.operand)
    elif isinstance(expr, (AllOf, AnyOf)):
        for operand in expr.operands:
            yield from _regexes(operand)


__all__ = ["Span", "validate", "walk_items"]
