"""Rendering diagnostics: like a compiler (text), as JSON, or as GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from .diagnostics import Diagnostic

SourceLookup = Callable[[str | None], str | None]


def render_text(diagnostic: Diagnostic, source: str | None) -> str:
    """`path:line:col: CODE message`, then the source line with carets under the span, then `help:`."""
    span = diagnostic.span
    head = f"{span.path or '<string>'}:{span.line}:{span.column}: {diagnostic.code} {diagnostic.message}"
    lines = [head]
    source_line = _line(source, span.line)
    if source_line is not None:
        gutter = " " * len(str(span.line))
        end = span.end_column if span.end_line == span.line else len(source_line) + 1
        width = max(1, min(end, len(source_line) + 1) - span.column)
        lines += [
            f"{gutter} |",
            f"{span.line} | {source_line}",
            f"{gutter} | {' ' * (span.column - 1)}{'^' * width}",
        ]
        if diagnostic.hint:
            lines += [f"{gutter} |", f"{gutter} = help: {diagnostic.hint}"]
    elif diagnostic.hint:
        lines.append(f"  = help: {diagnostic.hint}")
    return "\n".join(lines)


def _line(source: str | None, number: int) -> str | None:
    if source is None or number < 1:
        return None
    lines = source.lstrip("\ufeff").split("\n")
    if number > len(lines):
        return None
    return lines[number - 1].rstrip("\r").expandtabs(1)


def render_many_text(diagnostics: Iterable[Diagnostic], lookup: SourceLookup) -> str:
    return "\n\n".join(render_text(d, lookup(d.span.path)) for d in diagnostics)


def to_json_object(diagnostic: Diagnostic) -> dict[str, object]:
    span = diagnostic.span
    return {
        "code": diagnostic.code,
        "severity": diagnostic.severity.value,
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
    }


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json_object(d) for d in diagnostics], indent=2, ensure_ascii=False)


def render_github(diagnostic: Diagnostic) -> str:
    """A workflow command: `::error file=F,line=L,col=C,endLine=..,endColumn=..,title=CODE::message`."""
    span = diagnostic.span
    message = diagnostic.message + (f" (help: {diagnostic.hint})" if diagnostic.hint else "")
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    props = f"file={span.path},line={span.line},col={span.column},endLine={span.end_line},endColumn={span.end_column}"
    return f"::{diagnostic.severity.value} {props},title={diagnostic.code}::{message}"
