"""Check-expression parse trees → `CheckExpr` nodes. Methods are named after the grammar's rules."""

from __future__ import annotations

from typing import Any

from lark import Token, Transformer

from .diagnostics import Span
from .syntax import AllOf, AnyOf, CheckExpr, Comparison, JsonTest, Not, RegexTest, TextTest


class CheckBuilder(Transformer[Token, Any]):
    """Check parse trees → CheckExpr nodes, with spans moved to where the check sits in the file."""

    def __init__(self, path: str | None, line: int, column: int):
        super().__init__()
        self.path, self.line, self.offset = path, line, column - 1

    def _span_of(self, start: int, end: int) -> Span:
        return Span(self.line, start + self.offset, self.line, end + self.offset, self.path)

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        raise AssertionError(f"no builder for rule {data}")  # a grammar rule without a builder is a bug

    def _meta_span(self, tree_children: list[Any]) -> Span:
        spans = [c.span if hasattr(c, "span") else self._span_of(c.column, c.end_column) for c in tree_children]
        return Span(self.line, spans[0].column, self.line, spans[-1].end_column, self.path)

    def check_expr(self, children: list[Any]) -> CheckExpr:
        return children[0]  # type: ignore[no-any-return]

    def any_of(self, children: list[CheckExpr]) -> AnyOf:
        flat = tuple(op for c in children for op in (c.operands if isinstance(c, AnyOf) else (c,)))
        return AnyOf(flat, span=self._meta_span(children))

    def all_of(self, children: list[CheckExpr]) -> AllOf:
        flat = tuple(op for c in children for op in (c.operands if isinstance(c, AllOf) else (c,)))
        return AllOf(flat, span=self._meta_span(children))

    def negation(self, children: list[CheckExpr]) -> Not:
        (operand,) = children
        return Not(
            operand, span=Span(self.line, operand.span.column - 4, self.line, operand.span.end_column, self.path)
        )

    def comparison(self, children: list[Token]) -> Comparison:
        measure, op, value = children
        return Comparison(str(measure), str(op), int(value), span=self._meta_span(children))

    def text_test(self, children: list[Token]) -> TextTest:
        op, string = children[0], children[1]
        return TextTest(
            str(op), unescape_string(str(string)), ignorecase=len(children) == 3, span=self._meta_span(children)
        )

    def regex_test(self, children: list[Token]) -> RegexTest:
        (regex,) = children
        body, _, flags = str(regex)[1:].rpartition("/")
        flags = "".join(sorted(set(flags)))  # `/x/si` and `/x/is` mean the same: one spelling, one hash
        return RegexTest(
            unescape_regex(body),
            flags,
            span=self._span_of((regex.column or 9) - 8, regex.end_column or 0),
            pattern_span=self._span_of(regex.column or 0, regex.end_column or 0),
        )

    def json_test(
        self,
        children: list[Any],
    ) -> JsonTest:
        return JsonTest()


def unescape_string(literal: str) -> str:
    """`"a\\"b"` → `a"b`: only `\\"` and `\\\\` are escapes; any other backslash is itself."""
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def unescape_regex(body: str) -> str:
    """`\\/` → `/`; every other escape is RE2's and stays as written."""
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append("/" if body[i + 1] == "/" else body[i : i + 2])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)
