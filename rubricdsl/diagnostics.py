"""Diagnostics: the one type every stage uses to say something is wrong.

A diagnostic has a stable code, a severity, a span, a one-clause message and an optional hint. Codes are
never reused: `E1xx` lexical and syntax errors, `E2xx` meaning errors (names, imports, weights, settings),
`E3xx` check expressions, `W…` lint warnings. Rendering lives in `render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based region of a source file; columns count characters, `end_column` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    path: str | None = field(default=None, compare=False)

    @staticmethod
    def point(line: int, column: int, path: str | None = None, width: int = 1) -> Span:
        return Span(line, column, line, column + max(width, 1), path)

    def with_path(self, path: str | None) -> Span:
        return Span(self.line, self.column, self.end_line, self.end_column, path)


@dataclass(frozen=True)
class Fix:
    """A suggested edit: replace the text covered by `span` with `replacement`."""

    span: Span
    replacement: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    fix: Fix | None = None

    @property
    def path(self) -> str | None:
        return self.span.path

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, span, message, hint)


def warning(code: str, span: Span, message: str, hint: str | None = None, fix: Fix | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, span, message, hint, fix)


def unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Each diagnostic once, in order: an imported file's problems reach every file that imports it."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for d in diagnostics:
        key = (d.code, d.span.path, d.span.line, d.span.column, d.message)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept


class RubricError(Exception):
    """The only exception parsing, loading and compiling raise: it carries one or more diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        text = "unknown error" if first is None else _one_line(first)
        super().__init__(text)


def _one_line(d: Diagnostic) -> str:
    where = f"{d.span.path or '<string>'}:{d.span.line}:{d.span.column}"
    return f"{where}: {d.code} {d.message}"
