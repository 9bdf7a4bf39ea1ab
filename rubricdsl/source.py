"""Physical source handling: decoding, line splitting, block text and comment cutting.

These are the lexical rules of LANGUAGE.md that are about characters rather than words: a byte-order mark
is ignored, `\\r\\n` is a line ending but a lone `\\r` is an error, tabs never indent, `#` starts a comment
except inside text, strings and regexes, and block text loses its common indentation.
"""

from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Diagnostic, Span, error

MAX_FILE_BYTES = 5 * 1024 * 1024
BLOCK_QUOTE = '"""'


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    text: str  # without the line ending


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str  # including the leading '#', trailing spaces removed
    trailing: bool  # after code on the same line


def decode(data: bytes, path: str | None) -> str:
    """Bytes → text; refuses oversized and non-UTF-8 input with a diagnostic instead of a traceback."""
    from .diagnostics import RubricError

    if len(data) > MAX_FILE_BYTES:
        raise RubricError(
            error("E001", Span.point(1, 1, path), "file is larger than 5 MB", "split the rubrics into several files")
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RubricError(
            error("E002", Span.point(line, 1, path), "file is not valid UTF-8", "save the file as UTF-8")
        ) from None


def split_lines(text: str, path: str | None) -> tuple[list[Line], list[Diagnostic]]:
    """Split on `\\n`, dropping one `\\r` before it; every other `\\r` is a lone carriage return error."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines: list[Line] = []
    problems: list[Diagnostic] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        body = raw[:-1] if raw.endswith("\r") else raw
        column = body.find("\r")
        if column >= 0:
            problems.append(
                error(
                    "E103",
                    Span.point(number, column + 1, path),
                    "lone carriage return in a line",
                    "use `\\n` or `\\r\\n` line endings",
                )
            )
            body = body.replace("\r", " ")
        lines.append(Line(number, body))
    if lines and lines[-1].text == "":
        lines.pop()
    return lines, problems


def indentation(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def dedent_block(lines: list[str]) -> str:
    """Block text: remove the common leading spaces of non-blank lines, blank the whitespace-only ones and
    drop blank lines around the text. Tabs are content, never indentation."""
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip(" \t")]
    common = min(widths, default=0)
    cut = [ln[common:] if ln.strip(" \t") else "" for ln in lines]
    while cut and cut[0] == "":
        cut.pop(0)
    while cut and cut[-1] == "":
        cut.pop()
    return "\n".join(cut)


def cut_comment(text: str, start_column: int) -> tuple[str, int | None]:
    """Split a non-text value from a trailing comment. Returns (code, column of '#' or None).

    `#` inside a double-quoted string or a `/regex/` after `matches` is not a comment.
    """
    i, n = 0, len(text)
    last_word = ""
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _skip_quoted(text, i, '"')
            last_word = ""
            continue
        if ch == "/" and last_word == "matches":
            i = _skip_quoted(text, i, "/")
            last_word = ""
            continue
        if ch == "#":
            return text[:i].rstrip(), start_column + i
        if ch.isalnum() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            last_word = text[i:j]
            i = j
            continue
        if not ch.isspace():
            last_word = ""
        i += 1
    return text.rstrip(), None


def _skip_quoted(text: str, i: int, quote: str) -> int:
    """Index just past the literal opened at text[i]; the end of the text when it is unterminated."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    return len(text)
