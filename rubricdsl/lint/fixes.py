"""`rubric lint --fix`: apply the safe edits some warnings carry (`Diagnostic.fix`).

A fix is only attached where the edit cannot change how any response is graded: removing an import nothing
uses (W112), a tag given twice (W120), a weight the scoring method ignores (W122). Fixes are applied from
the end of the file backwards so earlier spans stay valid; a fix overlapping one already taken is left for
the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..diagnostics import Diagnostic, Fix, Span


def _offset(text: str, line_starts: list[int], line: int, column: int) -> int:
    """The character offset of a 1-based (line, column); a line just past the end means the end of text."""
    if line > len(line_starts):
        return len(text)
    # Spans count columns after a byte-order mark (the lexer drops it), the text still holds it.
    bom = 1 if line == 1 and text.startswith("\ufeff") else 0
    return min(line_starts[line - 1] + bom + column - 1, len(text))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")
    return starts


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """The text with every non-overlapping fix applied, and how many were applied."""
    starts = _line_starts(text)
    edits: list[tuple[int, int, str]] = []
    for fix in fixes:
        span: Span = fix.span
        start = _offset(text, starts, span.line, span.column)
        end = _offset(text, starts, span.end_line, span.end_column)
        edits.append((start, max(start, end), fix.replacement))
    taken: list[tuple[int, int, str]] = []
    for edit in sorted(edits):
        if not taken or edit[0] >= taken[-1][1]:
            taken.append(edit)
    for start, end, replacement in reversed(taken):
        text = text[:start] + replacement + text[end:]
    return text, len(taken)


def fix_files(diagnostics: Iterable[Diagnostic], texts: dict[str, str]) -> int:
    """Rewrite each file that has fixable findings; returns how many fixes were applied.

    `texts` are the files' texts as linted (keyed by the path diagnostics show, which opens the file from
    the working directory), so the spans match what is edited.
    """
    by_path: dict[str, list[Fix]] = {}
    for d in diagnostics:
        if d.fix is not None and d.span.path in texts:
            by_path.setdefault(d.span.path, []).append(d.fix)
    applied = 0
    for path, fixes in by_path.items():
        fixed, count = apply_fixes(texts[path], fixes)
        if count:
            Path(path).write_text(fixed, encoding="utf-8", newline="")
            applied += count
    return applied
