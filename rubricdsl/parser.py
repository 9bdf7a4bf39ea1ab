"""Parsing: text → syntax tree (`File`), or diagnostics.

The line lexer makes the tokens, Lark's LALR parser (fed token by token through its interactive parser)
checks the structure, check expressions are parsed with the grammar's `check_expr` rule, and the builder
turns the parse trees into frozen dataclasses. Every failure becomes a `Diagnostic`; nothing else escapes.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .builder import Builder, CommentTable
from .check_builder import CheckBuilder
from .diagnostics import Diagnostic, RubricError, Span, error
from .grammar import parser
from .lexer import lex
from .syntax import CheckExpr, File
from .terminals import expected_words, friendly


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsing allocates many small objects that all survive; the cyclic garbage collector would scan them
    again and again (NOTES.md: it dominated on large inputs), so it pauses while a file is parsed."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(text: str, path: str | None = None) -> File:
    """Parse one file's text; raise RubricError with every syntax diagnostic found."""
    with collector_paused():
        return _parse(text, path)


def _parse(text: str, path: str | None) -> File:
    tree_or_errors = parse_tree(text, path)
    if isinstance(tree_or_errors, list):
        raise RubricError(tree_or_errors)
    tree, comments = tree_or_errors
    checks, problems = _parse_checks(tree, path)
    if problems:
        raise RubricError(problems)
    return Builder(path, comments, checks).build(tree)


def parse_tree(text: str, path: str | None) -> tuple[Tree[Token], CommentTable] | list[Diagnostic]:
    lexed = lex(text, path)
    if lexed.diagnostics:
        return sorted(lexed.diagnostics, key=lambda d: d.span)
    interactive = parser().parse_interactive(start="file")
    try:
        for token in lexed.tokens:
            interactive.feed_token(token)
        tree = interactive.feed_eof(lexed.tokens[-1] if lexed.tokens else None)  # type: ignore[no-untyped-call]
    except UnexpectedToken as exc:
        return [_structure_error(exc, path)]
    return tree, CommentTable.from_tokens(lexed.tokens, lexed.comments)


def parse_check(source: str, line: int = 1, column: int = 1, path: str | None = None) -> CheckExpr:
    """Parse one check expression written at (line, column)."""
    try:
        tree = _check_tree(source)
    except UnexpectedInput as exc:
        raise RubricError(_check_error(exc, source, line, column, path)) from None
    except LarkError as exc:  # defensive: any other Lark failure is still our error type
        raise RubricError(error("E301", Span.point(line, column, path), f"invalid check: {exc}")) from None
    expr: CheckExpr = CheckBuilder(path, line, column).transform(tree)
    return expr


@functools.lru_cache(maxsize=4096)
def _check_tree(source: str) -> Tree[Token]:
    """Check expressions repeat across rubrics (`words <= 250`): parse each distinct one once. Trees are
    only read, never changed, so sharing them is safe."""
    return parser().parse(source, start="check_expr")


def _parse_checks(tree: Tree[Token], path: str | None) -> tuple[dict[tuple[int, int], CheckExpr], list[Diagnostic]]:
    checks: dict[tuple[int, int], CheckExpr] = {}
    problems: list[Diagnostic] = []
    for token in tree.scan_values(lambda t: isinstance(t, Token) and t.type == "CHECK_SOURCE"):
        try:
            line, column = token.line or 0, token.column or 0
            checks[(line, column)] = parse_check(str(token.value), line, column, path)
        except RubricError as exc:
            problems.extend(exc.diagnostics)
    return checks, problems


def _structure_error(exc: UnexpectedToken, path: str | None) -> Diagnostic:
    token = exc.token
    kind = token.type
    line = token.line or 1
    column = token.column or 1
    width = max(len(str(token.value)) if kind not in ("_INDENT", "_DEDENT", "$END") else 1, 1)
    span = Span(line, column, token.end_line or line, column + width, path)
    expected = set(exc.expected)
    if kind == "_INDENT":
        return error(
            "E102", span, "unexpected indentation", "indent only the body of a declaration, a settings block or an item"
        )
    if "_INDENT" in expected:
        found = "the end of the file" if kind == "$END" else friendly(kind)
        return error(
            "E116",
            span,
            f"expected an indented block, found {found}",
            "indent the body under the line that ends with `:` (the formatter uses 4 spaces)",
        )
    if kind in ("ITEM_KIND", "FIELD_KEY", "SETTINGS_KEY", "USE", "CHECK", "LEVEL") and "DECLARATION_KIND" in expected:
        return error(
            "E116",
            span,
            f"{friendly(kind)} outside any rubric",
            "put it in the indented body of a `rubric NAME:` or `principles NAME:` block",
        )
    if kind == "IMPORT":
        return error("E116", span, "`import` after a declaration", "put every import at the top of the file")
    if kind == "$END":
        return error("E117", span, f"unexpected end of file, expected {expected_words(expected)}")
    return error("E116", span, f"expected {expected_words(expected)}, found {friendly(kind)}", _hint_for(kind))


def _hint_for(kind: str) -> str | None:
    return {
        "CHECK": "`check:` goes indented under the item it decides",
        "LEVEL": "scale levels go indented under a `scale` item",
        "SETTING_KEY": "settings go indented under `scoring:` or `judge:`",
    }.get(kind)


def _check_error(exc: UnexpectedInput, source: str, line: int, column: int, path: str | None) -> Diagnostic:
    offset = exc.column - 1 if isinstance(exc.column, int) and exc.column > 0 else 0
    if isinstance(exc, UnexpectedCharacters):
        rest = source[offset:].split()[0] if source[offset:].split() else source[offset : offset + 1]
        expected = expected_words(set(exc.allowed or ()))
        message = f"expected {expected} in check, found `{rest}`"
        width = len(rest)
    elif isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        offset = len(source)
        message = f"check ends too early, expected {expected_words(set(exc.expected))}"
        width = 1
    else:
        assert isinstance(exc, UnexpectedToken)
        message = f"expected {expected_words(set(exc.expected))} in check, found {friendly(exc.token.type)}"
        width = len(str(exc.token))
    span = Span(line, column + offset, line, column + offset + max(width, 1), path)
    return error(
        "E301",
        span,
        message,
        "checks compare a measure with a whole number (`words <= 250`) or use a predicate "
        '(`contains "x"`, `matches /x/`, `json`), joined by `and`, `or`, `not`',
    )
