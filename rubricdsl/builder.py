"""Parse trees → syntax tree nodes. Methods are named after grammar rules and only build nodes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Transformer, Tree

from .diagnostics import Span
from .source import Comment
from .syntax import (
    DEFAULT_WEIGHTS,
    FIELD_ORDER,
    Check,
    CheckExpr,
    Comments,
    Declaration,
    Field,
    File,
    Import,
    Item,
    Level,
    Setting,
    Text,
    Use,
)

_LAYOUT = frozenset({"_NL", "_INDENT", "_DEDENT"})


@dataclass
class CommentTable:
    """Comments by the line of the statement they belong to: full-line comments lead the next statement."""

    leading: dict[int, Comments] = field(default_factory=dict)
    trailing: dict[int, str] = field(default_factory=dict)
    rest: tuple[str, ...] = ()

    @classmethod
    def from_tokens(cls, tokens: Iterable[Token], comments: Iterable[Comment]) -> CommentTable:
        """Full-line comments lead the next statement; a blank line before a comment, or between the last
        comment and its statement, is kept as an empty entry so the formatter can keep it."""
        comments = list(comments)
        starts: list[int] = []
        occupied: set[int] = {c.line for c in comments}
        at_line_start = True
        for token in tokens:
            if token.type in _LAYOUT:
                at_line_start = True
                continue
            occupied.update(range(token.line or 0, (token.end_line or token.line or 0) + 1))
            if at_line_start:
                starts.append(token.line or 0)
                at_line_start = False
        table = cls()
        pending: dict[int, list[str]] = {}
        rest: list[str] = []
        first_content = min(occupied, default=0)
        for comment in comments:
            if comment.trailing:
                table.trailing[comment.line] = comment.text
                continue
            owner = next((s for s in starts if s > comment.line), None)
            group = rest if owner is None else pending.setdefault(owner, [])
            if comment.line - 1 > first_content and comment.line - 1 not in occupied and owner is not None:
                group.append("")
            group.append(comment.text)
        for owner, texts in pending.items():
            if owner - 1 not in occupied:
                texts.append("")
        table.leading = {line: Comments(texts) for line, texts in pending.items()}
        table.rest = tuple(rest)
        return table


def _span(first: Token, last: Token | None = None, path: str | None = None) -> Span:
    last = last or first
    return Span(first.line or 0, first.column or 0, last.end_line or 0, last.end_column or 0, path)


class Builder(Transformer[Token, Any]):
    def __init__(self, path: str | None, comments: CommentTable, checks: dict[tuple[int, int], CheckExpr]):
        super().__init__(visit_tokens=False)
        self.path, self.comments, self.checks = path, comments, checks

    def build(self, tree: Tree[Token]) -> File:
        result: File = self.transform(tree)
        return result

    def _lead(self, token: Token) -> Comments:
        return self.comments.leading.get(token.line or 0, Comments())

    def _trail(self, token: Token) -> str | None:
        return self.comments.trailing.get(token.line or 0)

    # ------------------------------------------------------------ files and declarations

    def file(self, children: list[Any]) -> File:
        imports = tuple(c for c in children if isinstance(c, Import))
        declarations = tuple(c for c in children if isinstance(c, Declaration))
        return File(imports, declarations, self.comments.rest, path=self.path)

    def import_line(self, children: list[Token]) -> Import:
        keyword, path = children
        return Import(
            str(path.value),
            comments=self._lead(keyword),
            trailing_comment=self._trail(keyword),
            span=_span(keyword, path, self.path),
            path_span=_span(path, path=self.path),
        )

    def declaration(self, children: list[Any]) -> Declaration:
        kind, name, *body = children
        fields = sorted((c for c in body if isinstance(c, Field)), key=lambda f: FIELD_ORDER.index(f.key))
        items = tuple(c for c in body if not isinstance(c, Field))
        return Declaration(
            str(kind),
            str(name),
            tuple(fields),
            items,
            comments=self._lead(kind),
            trailing_comment=self._trail(kind),
            span=_span(kind, name, self.path),
            name_span=_span(name, path=self.path),
        )

    # ------------------------------------------------------------ fields

    def field(self, children: list[Any]) -> Field:
        key, text = children
        value: Text | tuple[str, ...] = text
        if str(key) == "tags":
            value = tuple(label.strip() for label in text.value.split(","))
        return Field(
            str(key),
            value,
            comments=self._lead(key),
            raw=text.value,
            span=Span(key.line, key.column, text.span.end_line, text.span.end_column, self.path),
        )

    def settings(self, children: list[Any]) -> Field:
        key, *entries = children
        last = entries[-1].span if entries else _span(key)
        return Field(
            str(key),
            tuple(entries),
            comments=self._lead(key),
            trailing_comment=self._trail(key),
            span=Span(key.line, key.column, last.end_line, last.end_column, self.path),
        )

    def setting(self, children: list[Token]) -> Setting:
        key, value = children
        return Setting(
            str(key),
            str(value.value),
            comments=self._lead(key),
            trailing_comment=self._trail(key),
            span=_span(key, value, self.path),
            value_span=_span(value, path=self.path),
        )

    def use(self, children: list[Token]) -> Use:
        keyword, name = children
        return Use(
            str(name),
            comments=self._lead(keyword),
            trailing_comment=self._trail(keyword),
            span=_span(keyword, name, self.path),
            name_span=_span(name, path=self.path),
        )

    # ------------------------------------------------------------ items

    def item(self, children: list[Any]) -> Item:
        kind: Token = children[0]
        weight = next((c for c in children if isinstance(c, Token) and c.type == "WEIGHT"), None)
        name = next((c for c in children if isinstance(c, Token) and c.type == "NAME"), None)
        text: Text = next(c for c in children if isinstance(c, Text))
        parts: list[Any] = next((c for c in children if isinstance(c, list)), [])
        checks = [p for p in parts if isinstance(p, Check)]
        levels = sorted((p for p in parts if isinstance(p, Level)), key=lambda lv: lv.level)
        value = None if weight is None else float(weight.value)
        if value is not None and value == DEFAULT_WEIGHTS.get(str(kind)):
            value = None  # a weight equal to the default means the same as no weight
        return Item(
            str(kind),
            value,
            None if name is None else str(name),
            text,
            check=checks[0] if checks else None,
            levels=tuple(levels),
            children=tuple(p for p in parts if isinstance(p, (Item, Use))),
            comments=self._lead(kind),
            span=Span(kind.line or 0, kind.column or 0, text.span.end_line, text.span.end_column, self.path),
            kind_span=_span(kind, path=self.path),
            weight_span=None if weight is None else _span(weight, path=self.path),
            name_span=None if name is None else _span(name, path=self.path),
            extra_checks=tuple(checks[1:]),
        )

    def item_body(self, children: list[Any]) -> list[Any]:
        return children

    def check(self, children: list[Token]) -> Check:
        keyword, source = children
        expr = self.checks[(source.line or 0, source.column or 0)]
        return Check(
            expr,
            str(source.value),
            comments=self._lead(keyword),
            trailing_comment=self._trail(keyword),
            span=_span(keyword, source, self.path),
        )

    def level(self, children: list[Any]) -> Level:
        level, text = children
        return Level(
            int(level.value),
            text,
            comments=self._lead(level),
            span=Span(level.line, level.column, text.span.end_line, text.span.end_column, self.path),
        )

    def text(self, children: list[Token]) -> Text:
        (token,) = children
        return Text(str(token.value), block=token.type == "BLOCK_TEXT", span=_span(token, path=self.path))
