"""Lint rules about a rubric's items: duplicated items, weights, the number and kinds of items, and
scales.

Rules that look at a rubric after `use` expansion still report only on lines of the file being linted:
a problem inside an imported set is reported when that set's own file is linted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from ..diagnostics import Diagnostic, warning
from ..syntax import Declaration, Item, Use
from ..validate import walk_items
from .context import LintContext

_Key = tuple[str | None, int, int]


def _key(item: Item) -> _Key:
    # Spans compare without their path, so the path is part of the key: items of two files can share lines.
    return (item.span.path, item.span.line, item.span.column)


def _where(ctx: LintContext, item: Item) -> str:
    span = item.name_span or item.span
    return f"line {span.line}" if span.path == ctx.loaded.display else f"{span.path}:{span.line}"


def _siblings(items: Sequence[Item | Use]) -> Iterator[list[Item]]:
    """Each list of items that share a parent. Items under different groups are different criteria even
    with the same text, because the judge sees each leaf with its groups' texts."""
    level = [item for item in items if isinstance(item, Item)]
    yield level
    for item in level:
        if item.children:
            yield from _siblings(item.children)


def _sibling_pairs(ctx: LintContext, find: Callable[[list[Item]], Iterator[tuple[Item, Item]]],
                   ) -> Iterator[tuple[Item, Item]]:
    """(item to report, the item it repeats) for every pair `find` returns among siblings, in every
    declaration: the later copy, unless the earlier one is written in that declaration and the later is
    not (a principle spliced in by `use`), or only the earlier is in this file. Never a line elsewhere."""
    here = ctx.loaded.display
    for declaration in ctx.declarations():
        resolved = ctx.resolved.get(declaration.name)
        own = {_key(item) for item in walk_items(declaration.body)}
        for items in _siblings(resolved.items if resolved else ()):
            for first, second in find(items):
                ranks = [(_key(item) not in own, item.span.path != here) for item in (first, second)]
                target, other = (first, second) if ranks[0] < ranks[1] else (second, first)
                if target.span.path == here:
                    yield target, other


def normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _exact_pairs(items: list[Item]) -> Iterator[tuple[Item, Item]]:
    first: dict[str, Item] = {}
    for item in items:
        earlier = first.setdefault(normalise(item.text.value), item)
        if earlier is not item:
            yield earlier, item


def duplicate_criterion(ctx: LintContext) -> Iterator[Diagnostic]:
    """Two items with the same text, ignoring case, spacing and punctuation.

    Compared among the items that share a parent, after `use` expansion (so an item that repeats a
    principle of a used set is found); reported on the copy written in the file being linted.
    Why: the judge gives both the same verdict, so the criterion silently counts twice.
    Instead: delete one copy, or give the total weight to a single item.
    """
    for target, other in _sibling_pairs(ctx, _exact_pairs):
        yield warning("W102", target.text.span, f"item repeats `{other.name}` ({_where(ctx, other)})",
                      "delete one copy, or give the combined weight to one item")


# Words that carry no demand of their own: two texts that differ only in these say the same thing.
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "to", "in", "on", "for", "with", "and", "is", "are", "was", "were", "be", "been",
    "ha", "has", "have", "that", "this", "it", "its", "as", "at", "by", "from", "so", "which", "their",
    "there", "then", "into", "also", "response", "answer", "reply", "clearly", "explicitly",
))


def _content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.casefold())
    # A light stemmer, so "cites a source" and "cites sources" compare equal.
    stems = (w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)
    return frozenset(stems) - _FUNCTION_WORDS


def _near_pairs(items: list[Item]) -> Iterator[tuple[Item, Item]]:
    """Items whose content words equal an earlier item's while the texts differ (equal texts are W102's).
    Grouping by the word set keeps this linear in the number of items."""
    first: dict[frozenset[str], Item] = {}
    for item in items:
        words = _content_words(item.text.value)
        earlier = first.setdefault(words, item)
        if words and earlier is not item and normalise(earlier.text.value) != normalise(item.text.value):
            yield earlier, item


def near_duplicate_criterion(ctx: LintContext) -> Iterator[Diagnostic]:
    """Two items with the same words, apart from order, case, plurals and function words.

    Compared like W102, among items that share a parent after `use` expansion. Function words are words
    like "the", "of", "that", "has", "also" and "response" ("The response states that X" and "States X" are
    the same criterion). A word added, removed or replaced makes a different criterion: items that fill one
    template for different cases ("TGAN has been implemented" / "TGAN+ADA has been implemented") and items
    that differ by a negation or a number are not flagged.
    Why: near-copies usually come from merging rubrics or regenerating one; the judge gives them the same
    verdict, so one demand is weighted twice.
    Instead: keep one of them, or rewrite them so the difference between them is explicit.
    """
    for target, other in _sibling_pairs(ctx, _near_pairs):
        yield warning("W103", target.text.span, f"item nearly repeats `{other.name}` ({_where(ctx, other)})",
                      "keep one of them, or make the difference between them explicit")


# The usual weights of each kind, as the data sets this language reads use them.
_USUAL: dict[str, tuple[float, float]] = {
    "essential": (1, 5), "important": (1, 5), "optional": (1, 5), "principle": (1, 5), "scale": (1, 5),
    "pitfall": (-5, -1),
}
_CRITERION_ABS = (1, 10)


def _unusual(item: Item) -> tuple[float, float] | None:
    weight = item.effective_weight
    if weight is None or item.weight_span is None:
        return None
    if item.kind == "criterion":
        low, high = _CRITERION_ABS
        return None if weight == 0 or low <= abs(weight) <= high else (low, high)
    usual = _USUAL.get(item.kind)
    if usual is None or (weight > 0) != (usual[0] > 0):
        return None  # no usual range (groups), or the wrong sign: that is error E209, not a style matter
    return usual if not usual[0] <= weight <= usual[1] else None


def unusual_weight(ctx: LintContext) -> Iterator[Diagnostic]:
    """A weight outside the usual range for its kind.

    Usual ranges: essential, important, optional, principle and scale 1 to 5 (the defaults are 5, 3, 1,
    1, 1); pitfall −5 to −1; criterion 1 to 10 in absolute value (HealthBench's points); groups any.
    (A weight of the wrong sign, or 0, is an error, E209/E212, and is not reported again here.)
    Why: an `important 8` outweighs every essential item, and a `pitfall -10` wipes out any positive score:
    weights far outside the scale usually mean a typo, or a kind that does not fit.
    Instead: keep to the range; for something a response must never do or always do, use a `hard` rule.
    """
    for _, item in ctx.written_items():
        usual = _unusual(item)
        if usual is not None and item.weight_span is not None:
            shown = f"{item.effective_weight:g}"
            low, high = usual
            where = f"{low:g} to {high:g}" + (" in absolute value" if item.kind == "criterion" else "")
            yield warning("W106", item.weight_span,
                          f"{item.kind} weight {shown} is outside the usual {where}",
                          "keep weights in the usual range; for a must or a must-not, use a `hard` rule")


def _rubrics(ctx: LintContext) -> Iterator[tuple[Declaration, list[Item]]]:
    for declaration in ctx.declarations():
        items = ctx.expanded_items(declaration)
        if declaration.kind == "rubric" and items:
            yield declaration, items


def _anchors(item: Item) -> bool:
    weight = item.effective_weight or 0
    return item.kind in ("hard", "essential", "scale") or (item.kind == "criterion" and weight >= 5)


def no_essential_item(ctx: LintContext) -> Iterator[Diagnostic]:
    """A rubric with no `hard` or `essential` item: nothing a response must get right.

    Counted after `use` expansion; a `scale` or a `criterion` weighing 5 or more also counts (holistic
    and HealthBench-style rubrics mark their essentials that way), and rubrics with groups are exempt
    (PaperBench trees weigh every level relative to its siblings).

    Why: without one, a response that misses the point of the task but ticks the minor boxes scores well;
    RaR's rubrics always name the essentials.
    Instead: mark the one or two things the answer cannot do without as `essential` (or `hard`, for an
    objective constraint).
    """
    for declaration, items in _rubrics(ctx):
        # A tree's weights are relative at each level (PaperBench): no item is meant to be a must.
        tree = any(item.kind == "group" for item in items)
        if not tree and not any(_anchors(item) for item in items):
            yield warning("W107", declaration.name_span,
                          f"rubric `{declaration.name}` has no essential or hard item",
                          "mark what a response cannot do without as `essential` (or `hard`, if objective)")


def too_few_items(ctx: LintContext) -> Iterator[Diagnostic]:
    """A rubric with fewer than `min-items` judged items (3 by default) after `use` expansion.

    Leaves are counted: groups are not items the judge decides. Set `[tool.rubricdsl.lint] min-items`
    to change the bound (0 turns the rule off).
    Why: a reward from one or two verdicts is nearly binary and noisy; RaR recommends 7 to 20 items.
    Instead: add the criteria an expert would check, or `use` a shared principles set.
    """
    for declaration, items in _rubrics(ctx):
        leaves = sum(item.kind != "group" for item in items)
        if leaves < ctx.config.min_items:
            yield warning("W108", declaration.name_span,
                          f"rubric has {leaves} item(s), fewer than {ctx.config.min_items}",
                          "add the criteria an expert would check, or `use` a shared principles set")


def too_many_items(ctx: LintContext) -> Iterator[Diagnostic]:
    """A rubric with more than `max-items` judged items (20 by default) after `use` expansion.

    Set `[tool.rubricdsl.lint] max-items` to change the bound; PaperBench-style trees want it larger.
    Why: judges lose accuracy on long item lists, every item costs tokens, and past about 20 items the
    criteria usually overlap. RaR recommends 7 to 20.
    Instead: merge overlapping items, move general qualities into a principles set, or split the task.
    """
    for declaration, items in _rubrics(ctx):
        leaves = sum(item.kind != "group" for item in items)
        if leaves > ctx.config.max_items:
            yield warning("W109", declaration.name_span,
                          f"rubric has {leaves} items, more than {ctx.config.max_items}",
                          "merge overlapping items, or raise `max-items` in [tool.rubricdsl.lint]")


def duplicate_level_text(ctx: LintContext) -> Iterator[Diagnostic]:
    """Two levels of a scale with the same description.

    (Gaps, repeated level numbers, a single level and levels out of order are errors, E218.)
    Why: the judge cannot choose between two levels that say the same thing, so it picks one at random and
    the credit jumps between them.
    Instead: say what separates the levels, or merge them and renumber.
    """
    for _, item in ctx.written_items():
        seen: dict[str, int] = {}
        for level in item.levels:
            earlier = seen.setdefault(normalise(level.text.value), level.level)
            if earlier != level.level:
                yield warning("W113", level.text.span,
                              f"level {level.level} repeats the text of level {earlier}",
                              "say what separates the two levels, or merge them")


_MAX_LEVELS = 10


def too_many_levels(ctx: LintContext) -> Iterator[Diagnostic]:
    """A scale with more than 10 levels.

    (Gaps, repeated level numbers, a single level and levels out of order are errors, E218.)
    Why: judges cannot tell 11 or more described levels apart reliably, and Likert and Prometheus scales use
    5; finer scales add noise, not resolution.
    Instead: use at most 10 levels (5 is usual), or split the judgement into several scales.
    """
    for _, item in ctx.written_items():
        if item.kind == "scale" and len(item.levels) > _MAX_LEVELS:
            yield warning("W114", item.name_span or item.kind_span,
                          f"scale has {len(item.levels)} levels, more than {_MAX_LEVELS}",
                          "use at most 10 levels (5 is usual), or split the judgement into several scales")
