"""The line lexer: source text → Lark tokens for the `file` rule of grammar/rubric.lark, plus comments.

Each logical line is classified by its first word (NOTES.md design B). This makes the lexical decisions —
where bare text starts, what a comment is, which words are keywords — explicit code with errors in words at
the right column, and it hands comments to the formatter. The structure (what may nest in what) is left to
the LALR grammar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token

from . import linekinds
from .diagnostics import Diagnostic, Span, error
from .source import BLOCK_QUOTE, Comment, Line, dedent_block, indentation, split_lines

MAX_DEPTH = 16


@dataclass
class LexResult:
    tokens: list[Token]
    comments: list[Comment]
    diagnostics: list[Diagnostic]


@dataclass
class _State:
    path: str | None
    tokens: list[Token] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    indents: list[int] = field(default_factory=lambda: [0])
    settings_levels: set[int] = field(default_factory=set)  # indentation widths of settings blocks
    opens_settings: bool = False


def lex(text: str, path: str | None = None) -> LexResult:
    lines, problems = split_lines(text, path)
    state = _State(path, problems=problems)
    index = 0
    while index < len(lines):
        index = _lex_line(state, lines, index)
    last = lines[-1].number + 1 if lines else 1
    while len(state.indents) > 1:
        state.indents.pop()
        state.tokens.append(_token("_DEDENT", "", last, 1, last, 1))
    return LexResult(state.tokens, state.comments, state.problems)


def _lex_line(state: _State, lines: list[Line], index: int) -> int:
    """Lex lines[index] (and the body of a block text it opens); return the index of the next line."""
    line = lines[index]
    indent = indentation(line.text)
    content = line.text[len(indent) :]
    if not content.strip() or content.startswith("#"):
        if content.startswith("#"):
            state.comments.append(Comment(line.number, len(indent) + 1, content.rstrip(), trailing=False))
        return index + 1
    if "\t" in indent:
        state.problems.append(
            error(
                "E101",
                Span.point(line.number, indent.index("\t") + 1, state.path),
                "tab in indentation",
                "indent with spaces (the formatter writes 4 per level)",
            )
        )
        return index + 1
    if not _indent_to(state, line, len(indent)):
        return index + 1
    classified = linekinds.classify(
        content, line.number, len(indent) + 1, state.path, in_settings=len(indent) in state.settings_levels
    )
    state.problems.extend(classified.problems)
    if classified.comment is not None:
        state.comments.append(classified.comment)
    tokens = classified.tokens
    next_index = index + 1
    if classified.block_at is not None:
        tokens, next_index = _read_block(state, lines, index, classified.block_at, tokens)
    state.tokens.extend(tokens)
    if tokens:
        state.tokens.append(_token("_NL", "\n", line.number, len(line.text) + 1, line.number, len(line.text) + 2))
    state.opens_settings = classified.opens_settings
    return next_index


def _indent_to(state: _State, line: Line, width: int) -> bool:
    """Emit _INDENT/_DEDENT for a line of the given indentation; False when the line must be skipped."""
    top = state.indents[-1]
    if width > top:
        if not state.tokens:
            state.problems.append(
                error(
                    "E102",
                    Span(line.number, 1, line.number, width + 1, state.path),
                    "the first line is indented",
                    "start the file at column 1",
                )
            )
            return False
        if len(state.indents) > MAX_DEPTH:
            state.problems.append(
                error(
                    "E119",
                    Span.point(line.number, width + 1, state.path),
                    "nesting deeper than 16 levels",
                    "flatten the groups",
                )
            )
            return False
        state.indents.append(width)
        if state.opens_settings:
            state.settings_levels.add(width)
        state.tokens.append(_token("_INDENT", " " * width, line.number, 1, line.number, width + 1))
        return True
    if width < top:
        enclosing = " or ".join(str(w) for w in reversed(state.indents[:-1]))
        while state.indents[-1] > width:
            closed = state.indents.pop()
            state.settings_levels.discard(closed)
            state.tokens.append(_token("_DEDENT", "", line.number, 1, line.number, width + 1))
        if state.indents[-1] != width:
            state.problems.append(
                error(
                    "E104",
                    Span(line.number, 1, line.number, width + 1, state.path),
                    "this line's indentation matches no enclosing block",
                    f"indent it by {enclosing} spaces, as the block it belongs to",
                )
            )
            return False
    return True


def _read_block(
    state: _State, lines: list[Line], index: int, column: int, tokens: list[Token]
) -> tuple[list[Token], int]:
    """Consume the body of a block text opened on lines[index]; replace the opener with a BLOCK_TEXT."""
    opener = lines[index]
    for end in range(index + 1, len(lines)):
        if lines[end].text.strip(" ") == BLOCK_QUOTE:
            body = dedent_block([ln.text for ln in lines[index + 1 : end]])
            closing = lines[end]
            if not body.strip():
                state.problems.append(
                    error(
                        "E113",
                        Span.point(opener.number, column, state.path, 3),
                        "empty text",
                        'write the text between the `"""` lines',
                    )
                )
            block = _token("BLOCK_TEXT", body, opener.number, column, closing.number, len(closing.text) + 1)
            return [*tokens[:-1], block], end + 1
    state.problems.append(
        error(
            "E105",
            Span.point(opener.number, column, state.path, 3),
            "block text is never closed",
            'end it with a line holding only `"""`',
        )
    )
    return [], len(lines)


def _token(kind: str, value: object, line: int, column: int, end_line: int, end_column: int) -> Token:
    return Token(kind, value, None, line, column, end_line, end_column)
