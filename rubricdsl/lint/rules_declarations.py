"""Lint rules about what surrounds the items: imports, names in shared sets, tags, checks that decide
nothing or disagree with their text, and `scoring:`/`judge:` settings that waste calls, ignore weights or
can score above the range.

Settings are read after `use` has lent them (`LintContext.resolved`), but a finding points at a setting or
item written in the declaration being linted, never at a line of another declaration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ..check_analysis import satisfiability
from ..diagnostics import Diagnostic, Fix, Span, warning
from ..loader import LoadedFile
from ..syntax import AllOf, AnyOf, CheckExpr, Comparison, Declaration, Field, Item, Not, Setting, Use
from ..validate import walk_items
from .context import LintContext
from .rules_text import phrase_span


def _uses(body: Sequence[Item | Use]) -> Iterator[Use]:
    for node in body:
        if isinstance(node, Use):
            yield node
        else:
            yield from _uses(node.children)


def _imported(loaded: LoadedFile, path: str) -> LoadedFile | None:
    if loaded.path is None:
        return None
    target = (loaded.path.parent / path).resolve()
    return next((source for source in loaded.imports if source.path == target), None)


def unused_import(ctx: LintContext) -> Iterator[Diagnostic]:
    """An `import` whose file provides no declaration that a `use` in this file refers to.

    Why: imports are not transitive and do nothing but make names visible; an unused one slows loading,
    can cause name clashes (E202), and misleads readers about what the rubric contains.
    Instead: remove the import, or add the `use` line that was meant.
    """
    visible = ctx.loaded.visible()
    used = {id(visible[u.name][1]) for d in ctx.declarations() for u in _uses(d.body) if u.name in visible}
    for node in ctx.file.imports:
        source = _imported(ctx.loaded, node.path)
        if source is not None and source.file is not None and id(source) not in used:
            line = Span(node.span.line, 1, node.span.line + 1, 1, node.span.path)  # the line and its newline
            yield warning("W112", node.path_span, f"nothing from `{node.path}` is used",
                          "remove the import, or add a `use` line for one of its declarations", Fix(line, ""))


def unnamed_shared_item(ctx: LintContext) -> Iterator[Diagnostic]:
    """An unnamed item in a `principles` set.

    Why: an unnamed item is named `KIND_N` by its position in the rubric that uses the set, so the same
    principle gets different names in different rubrics, and verdicts, labels and agreement reports stop
    lining up.
    Instead: name every item of a principles set: `principle clarity: ...`.
    """
    for declaration, item in ctx.written_items():
        if declaration.kind == "principles" and item.name is None:
            yield warning("W118", item.kind_span,
                          f"unnamed `{item.kind}` in principles set `{declaration.name}`",
                          f"name it (`{item.kind} NAME: ...`) so it keeps one name in every rubric")


def _tag_spans(ctx: LintContext, field: Field) -> Iterator[tuple[str, Span]]:
    """Each tag with its own span, found in the source line (tags keep no per-label spans)."""
    lines = ctx.loaded.text.split("\n")
    line = lines[field.span.line - 1] if 0 < field.span.line <= len(lines) else ""
    start = line.find(field.raw, field.span.column - 1) if field.raw else -1
    for piece in field.raw.split(",") if start >= 0 else ():
        label = piece.strip()
        column = start + piece.find(label) + 1 if label else start + 1
        end = column + max(len(label), 1)
        yield label, Span(field.span.line, column, field.span.line, end, field.span.path)
        start += len(piece) + 1


def _remove_tag(ctx: LintContext, span: Span) -> Fix | None:
    """Delete a tag that is not the first, with the comma before it: `a, b, a` becomes `a, b`."""
    lines = ctx.loaded.text.lstrip("\ufeff").split("\n")
    comma = lines[span.line - 1].rfind(",", 0, span.column - 1) if 0 < span.line <= len(lines) else -1
    if comma < 0:
        return None
    return Fix(Span(span.line, comma + 1, span.line, span.end_column, span.path), "")


def duplicate_tag(ctx: LintContext) -> Iterator[Diagnostic]:
    """A tag given twice in one `tags:` line (ignoring case).

    Why: tags are kept in order in the compiled output, so the copy shows up in every report that groups by
    tag, and usually hides a typo for the tag that was meant.
    Instead: remove the copy.
    """
    for declaration in ctx.declarations():
        field = declaration.get_field("tags")
        seen: set[str] = set()
        for label, span in _tag_spans(ctx, field) if field is not None else ():
            if label and label.casefold() in seen:
                yield warning("W120", span, f"tag `{label}` is given twice", "remove the copy",
                              _remove_tag(ctx, span))
            seen.add(label.casefold())


def constant_check(ctx: LintContext) -> Iterator[Diagnostic]:
    """A `check:` that can never hold, or that holds for every response.

    Found statically (`rubricdsl.check_analysis.satisfiability`): `words < 0`, `words > 10 and words < 5`,
    `contains "x" or not contains "x"`, `contains ""`.
    Why: the item is decided by the check alone and never sent to the judge, so a constant check gives the
    same verdict to every response: a hard rule that always fails rejects everything, a criterion that
    always holds adds the same points to every score.
    Instead: fix the numbers or operators so the check tells responses apart, or remove it and let the
    judge decide the item.
    """
    for _, item in ctx.written_items():
        if item.check is None:
            continue
        verdict = satisfiability(item.check.expr)
        span = item.check.expr.span
        if verdict == "never":
            yield warning("W115", span, "check can never hold",
                          "the conditions contradict each other; fix the numbers or operators")
        elif verdict == "always":
            yield warning("W115", span, "check holds for every response",
                          "it decides nothing: tighten it or remove it")


_NUMBER_WORDS = {word: n for n, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
))}
_UNITS = {"word": "words", "character": "chars", "char": "chars", "line": "lines", "sentence": "sentences",
          "paragraph": "paragraphs", "bullet": "bullets", "bullet point": "bullets", "heading": "headings"}
# Digits always state an amount; a number word only after a bound: "at most five sentences" is a limit,
# "each change is one bullet" is not.
_BOUND = (r"(?:exactly|at\s+most|at\s+least|fewer\s+than|less\s+than|more\s+than|no\s+more\s+than|up\s+to"
          r"|under|over)\s+")
_AMOUNT = re.compile(r"(?:\b(\d+)|\b" + _BOUND + r"(" + "|".join(_NUMBER_WORDS) + r"))\s+(bullet point|"
                     + "|".join(_UNITS) + r")s?\b", re.IGNORECASE)


def _compared(expr: CheckExpr) -> dict[str, set[int]]:
    """The integers each measure is compared with anywhere in the check."""
    if isinstance(expr, (AllOf, AnyOf)):
        found: dict[str, set[int]] = {}
        for operand in expr.operands:
            for measure, values in _compared(operand).items():
                found.setdefault(measure, set()).update(values)
        return found
    if isinstance(expr, Not):
        return _compared(expr.operand)
    return {expr.measure: {expr.value}} if isinstance(expr, Comparison) else {}


def check_text_mismatch(ctx: LintContext) -> Iterator[Diagnostic]:
    """Item text that gives a length or count ("at most 250 words") the item's `check:` does not use.

    Flagged when the text says N words, characters, lines, sentences, paragraphs, bullets or headings (N in
    digits, or a number word after "at most", "exactly", … — "each change is one bullet" is not a limit)
    and the check compares that measure, but never with N (or N ± 1, which "fewer than" and "more than"
    need).
    Why: the check decides the item and the text documents it; when they disagree, readers, reviewers and
    `rubric export` trust the text while grading follows the check.
    Instead: make the number in the text and in the check the same.
    """
    for _, item in ctx.written_items():
        compared = _compared(item.check.expr) if item.check is not None else {}
        for match in _AMOUNT.finditer(item.text.value) if compared else ():
            amount = int(match.group(1)) if match.group(1) else _NUMBER_WORDS[match.group(2).lower()]
            measure = _UNITS[match.group(3).lower()]
            values = compared.get(measure)
            if values and not any(abs(v - amount) <= 1 for v in values):
                shown = ", ".join(str(v) for v in sorted(values))
                yield warning("W124", phrase_span(item.text, match.start(), match.end()),
                              f"text says {match.group()} but the check compares `{measure}` with {shown}",
                              "make the number in the text and in the check the same")


def _own_setting(declaration: Declaration, block: str, key: str) -> Setting | None:
    field = declaration.get_field(block)
    entries = field.value if field is not None and isinstance(field.value, tuple) else ()
    return next((s for s in entries if isinstance(s, Setting) and s.key == key), None)


def samples_at_zero_temperature(ctx: LintContext) -> Iterator[Diagnostic]:
    """`judge: samples` above 1 while the temperature is 0 (the default).

    Settings lent by a used rubric count; the finding points at the `samples` (or `temperature`) line
    written in the rubric.
    Why: at temperature 0 the samples are (nearly) the same answer, so K samples cost K times as much and
    the majority or mean says nothing the first sample did not.
    Instead: set a temperature (0.7 is common) so the samples differ, or use `samples: 1`.
    """
    for declaration in ctx.declarations():
        resolved = ctx.resolved.get(declaration.name)
        judge = resolved.judge if resolved is not None else {}
        if judge.get("samples", 1) <= 1 or judge.get("temperature", 0.0) != 0:
            continue
        setting = _own_setting(declaration, "judge", "samples")
        setting = setting or _own_setting(declaration, "judge", "temperature")
        if setting is not None:
            yield warning("W121", setting.value_span,
                          f"{judge['samples']} judge samples at temperature 0 are near-identical",
                          "set `temperature:` (e.g. 0.7) so samples differ, or use `samples: 1`")


_IGNORED_BY = {
    "rar_explicit": ("essential", "important", "optional", "pitfall"),
    "all": ("essential", "important", "optional", "pitfall", "principle", "scale"),
    "mean": ("essential", "important", "optional", "pitfall", "principle", "scale"),
}


def ignored_weight(ctx: LintContext) -> Iterator[Diagnostic]:
    """A weight written on an item whose scoring method ignores it.

    `method: rar_explicit` replaces the weights of essential, important, optional and pitfall items with
    RaR's 1.0 / 0.7 / 0.3 / 0.9; `method: all` and `method: mean` ignore weights altogether (a
    `criterion` still needs one, so it is not flagged).
    Why: the weight reads as meaningful but changes nothing, and someone will tune it and wonder why the
    scores do not move.
    Instead: remove the weight, or switch to `method: weighted` if the weights matter.
    """
    for declaration in ctx.declarations():
        resolved = ctx.resolved.get(declaration.name)
        method = resolved.scoring.get("method", "weighted") if resolved else "weighted"
        kinds = _IGNORED_BY.get(method, ())
        for item in walk_items(declaration.body):
            if item.kind in kinds and item.weight_span is not None:
                # The weight and the space before it: `important 5 x:` becomes `important x:`.
                kind, weight = item.kind_span, item.weight_span
                gap = Span(kind.end_line, kind.end_column, weight.end_line, weight.end_column, weight.path)
                yield warning("W122", item.weight_span, f"`method: {method}` ignores this weight",
                              "remove the weight, or use `method: weighted` if weights should count", Fix(gap, ""))


def sum_with_negative_weights(ctx: LintContext) -> Iterator[Diagnostic]:
    """`normalize: sum` in a rubric that has negative weights (pitfalls, penalty criteria).

    Why: `sum` divides by the sum of all weights, and negative weights shrink that sum: a response that
    meets every positive item and makes no mistake scores above 1, and when the negatives outweigh the
    positives the score flips sign. (`method: rar_explicit` scores pitfalls as avoided and is fine.)
    Instead: use `normalize: positive` (points over available points), `minmax`, or `abs`.
    """
    for declaration in ctx.declarations():
        resolved = ctx.resolved.get(declaration.name)
        if resolved is None or resolved.scoring.get("normalize") != "sum":
            continue
        if resolved.scoring.get("method", "weighted") != "weighted":
            continue
        if any((item.effective_weight or 0) < 0 for item in ctx.expanded_items(declaration)):
            setting = _own_setting(declaration, "scoring", "normalize")
            span: Span = setting.value_span if setting is not None else declaration.name_span
            yield warning("W123", span, "`normalize: sum` with negative weights can score above 1",
                          "use `normalize: positive`, `minmax` or `abs` for rubrics with penalties")
