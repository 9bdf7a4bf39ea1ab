"""Classify one line by its first word and cut it into tokens (the heart of the line lexer).

A line is one of: `import "path"`, `rubric|principles NAME:`, a field (`title: TEXT`), a settings header
(`scoring:`), a setting (`key: value`, only inside a settings block), `use NAME`, `check: EXPR`, a scale
level (`3: TEXT`), or an item (`KIND [WEIGHT] [NAME]: TEXT`). Anything else is an error that names what
was found and suggests what was probably meant.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from lark import Token

from .diagnostics import Diagnostic, Span, error
from .source import BLOCK_QUOTE, Comment, cut_comment
from .syntax import FIELD_ORDER, ITEM_KINDS, KEYWORDS, SETTINGS_FIELDS

NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_NAME = 64
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[+-]?[0-9]+")
_ITEM = re.compile(
    r"(?P<kind>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:[ \t]+(?P<weight>[+-]?[0-9]+(?:\.[0-9]+)?)(?=[ \t:]))?"
    r"(?:[ \t]+(?P<name>[^\s:]+))?[ \t]*:"
)
_LEVEL = re.compile(r"(?P<level>[+-]?[0-9]+)[ \t]*:")
_KEY = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:")


@dataclass
class Classified:
    tokens: list[Token] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    comment: Comment | None = None
    block_at: int | None = None  # column of an opening `"""`
    opens_settings: bool = False


class _Line:
    """One line's content with helpers that make tokens and errors at the right columns."""

    def __init__(self, content: str, number: int, column: int, path: str | None):
        self.content, self.number, self.column, self.path = content, number, column, path
        self.out = Classified()

    def token(self, kind: str, value: object, start: int, end: int) -> None:
        self.out.tokens.append(
            Token(kind, value, None, self.number, self.column + start, self.number, self.column + end)
        )

    def span(self, start: int, end: int) -> Span:
        return Span(self.number, self.column + start, self.number, self.column + max(end, start + 1), self.path)

    def fail(self, code: str, start: int, end: int, message: str, hint: str | None = None) -> Classified:
        self.out.problems.append(error(code, self.span(start, end), message, hint))
        self.out.tokens = []
        return self.out

    def text_after(self, start: int) -> Classified:
        """Bare or block text from `start` to the end of the line."""
        raw = self.content[start:]
        text = raw.strip()
        at = start + len(raw) - len(raw.lstrip())
        if not text:
            return self.fail(
                "E113", start - 1, start, "empty text", 'write the text after the colon, or `"""` for a block'
            )
        if text == BLOCK_QUOTE:
            self.out.block_at = self.column + at
            self.token("BARE_TEXT", text, at, at + 3)
            return self.out
        self.token("BARE_TEXT", text, at, at + len(text))
        return self.out

    def code_after(self, start: int) -> tuple[str, int]:
        """The non-text value after `start` with its trailing comment cut off; returns (value, offset)."""
        raw = self.content[start:]
        lead = len(raw) - len(raw.lstrip())
        code, comment_col = cut_comment(raw[lead:], self.column + start + lead)
        if comment_col is not None:
            text = self.content[comment_col - self.column :].rstrip()
            self.out.comment = Comment(self.number, comment_col, text, trailing=True)
        return code, start + lead


def classify(content: str, number: int, column: int, path: str | None, *, in_settings: bool) -> Classified:
    line = _Line(content, number, column, path)
    if in_settings:
        return _setting(line)
    word_match = _WORD.match(content)
    word = word_match.group() if word_match else ""
    if word in ("rubric", "principles"):
        return _declaration(line, word)
    if word == "import":
        return _import(line)
    if word == "use":
        return _use(line)
    if word in FIELD_ORDER or word == "check":
        return _keyed(line, word)
    if word in ITEM_KINDS:
        return _item(line)
    if _LEVEL.match(content):
        return _level(line)
    return _unknown(line, word)


def _declaration(line: _Line, word: str) -> Classified:
    m = re.compile(word + r"(?:[ \t]+(?P<name>[^\s:]+))?[ \t]*:").match(line.content)
    if not m or not m.group("name"):
        return line.fail(
            "E112", len(word), len(line.content), f"expected `{word} NAME:`", f"write for example `{word} my_{word}:`"
        )
    line.token("DECLARATION_KIND", word, 0, len(word))
    if not _name(line, m.group("name"), m.start("name")):
        return line.out
    line.token("_COLON", ":", m.end() - 1, m.end())
    rest, at = line.code_after(m.end())
    if rest:
        return line.fail(
            "E114",
            at,
            at + len(rest),
            f"unexpected text after `{word} {m.group('name')}:`",
            "the body goes on the following lines, indented",
        )
    return line.out


def _import(line: _Line) -> Classified:
    line.token("IMPORT", "import", 0, 6)
    rest, at = line.code_after(6)
    m = re.fullmatch(r'"([^"\\]*)"', rest)
    if not m or not m.group(1):
        return line.fail(
            "E115",
            at,
            at + max(len(rest), 1),
            "expected a quoted path after `import`",
            'write `import "common/style.rubric"`',
        )
    line.token("IMPORT_PATH", m.group(1), at, at + len(rest))
    return line.out


def _use(line: _Line) -> Classified:
    line.token("USE", "use", 0, 3)
    rest, at = line.code_after(3)
    if not rest:
        return line.fail(
            "E109", 3, 4, "expected a name after `use`", "write `use NAME` with a principles set or rubric"
        )
    _name(line, rest, at)
    return line.out


def _keyed(line: _Line, word: str) -> Classified:
    m = _KEY.match(line.content)
    if not m or m.group("key") != word:
        return line.fail("E112", len(word), len(word) + 1, f"expected `:` after `{word}`", f"write `{word}: ...`")
    if word == "check":
        line.token("CHECK", word, 0, len(word))
        line.token("_COLON", ":", m.end() - 1, m.end())
        code, at = line.code_after(m.end())
        if not code:
            return line.fail(
                "E301", m.end(), m.end() + 1, "empty check expression", "write for example `check: words <= 250`"
            )
        line.token("CHECK_SOURCE", code, at, at + len(code))
        return line.out
    if word in SETTINGS_FIELDS:
        line.token("SETTINGS_KEY", word, 0, len(word))
        line.token("_COLON", ":", m.end() - 1, m.end())
        rest, at = line.code_after(m.end())
        if rest:
            return line.fail(
                "E114",
                at,
                at + len(rest),
                f"`{word}:` opens a block of `key: value` lines",
                f"put `{rest.split(':')[0].strip()}: ...` on its own line, indented under `{word}:`",
            )
        line.out.opens_settings = True
        return line.out
    line.token("FIELD_KEY", word, 0, len(word))
    line.token("_COLON", ":", m.end() - 1, m.end())
    return line.text_after(m.end())


def _setting(line: _Line) -> Classified:
    m = _KEY.match(line.content)
    if not m:
        return line.fail(
            "E112", 0, len(line.content), "expected a `key: value` setting", "write for example `normalize: minmax`"
        )
    line.token("SETTING_KEY", m.group("key"), 0, len(m.group("key")))
    line.token("_COLON", ":", m.end() - 1, m.end())
    value, at = line.code_after(m.end())
    if not value:
        return line.fail(
            "E216", m.end() - 1, m.end(), f"`{m.group('key')}` has no value", "write the value after the colon"
        )
    line.token("SETTING_VALUE", value, at, at + len(value))
    return line.out


def _item(line: _Line) -> Classified:
    m = _ITEM.match(line.content)
    if not m:
        return _missing_colon(line)
    line.token("ITEM_KIND", m.group("kind"), 0, len(m.group("kind")))
    if m.group("weight") is not None:
        line.token("WEIGHT", float(m.group("weight")), m.start("weight"), m.end("weight"))
    if m.group("name") is not None and not _name(line, m.group("name"), m.start("name")):
        return line.out
    line.token("_COLON", ":", m.end() - 1, m.end())
    return line.text_after(m.end())


def _level(line: _Line) -> Classified:
    m = _LEVEL.match(line.content)
    assert m is not None
    line.token("LEVEL", int(m.group("level")), 0, len(m.group("level")))
    line.token("_COLON", ":", m.end() - 1, m.end())
    return line.text_after(m.end())


def _missing_colon(line: _Line) -> Classified:
    words = list(re.finditer(r"\S+", line.content))
    at = words[min(len(words) - 1, 2)] if words else None
    start = at.start() if at else len(line.content)
    found = f", found `{at.group()}`" if at else ""
    return line.fail(
        "E112",
        start,
        at.end() if at else start + 1,
        f"expected `:` after the item's name{found}",
        "write `KIND [WEIGHT] [NAME]: TEXT`",
    )


def _name(line: _Line, name: str, start: int) -> bool:
    end = start + len(name)
    if name in KEYWORDS:
        line.fail("E110", start, end, f"`{name}` is a keyword, not a name", f"choose another name, e.g. `{name}_1`")
        return False
    if not NAME_RE.match(name):
        fixed = re.sub(r"[^a-z0-9_]", "_", name.lower()).lstrip("_0123456789") or "item"
        line.fail(
            "E109",
            start,
            end,
            f"invalid name `{name}`",
            f"names are lowercase letters, digits and `_`, starting with a letter: `{fixed}`",
        )
        return False
    if len(name) > MAX_NAME:
        line.fail("E111", start, end, "name longer than 64 characters", "shorten the name")
        return False
    line.token("NAME", name, start, end)
    return True


def _unknown(line: _Line, word: str) -> Classified:
    end = len(word) or 1
    if word.lower() in KEYWORDS:
        return line.fail("E106", 0, end, f"unknown keyword `{word}`", f"keywords are lowercase: `{word.lower()}`")
    if line.content.startswith(BLOCK_QUOTE):
        return line.fail("E108", 0, 3, 'unexpected `"""`', "a block text opens after a field's or item's colon")
    item_like = _ITEM.match(line.content) and not _KEY.match(line.content)
    choices = ITEM_KINDS if item_like else ITEM_KINDS + FIELD_ORDER + ("check", "use")
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    what = "item kind" if item_like else "keyword"
    hint = f"did you mean `{close[0]}`?" if close else "items start with one of: " + ", ".join(ITEM_KINDS)
    return line.fail("E107" if item_like else "E108", 0, end, f"unknown {what} `{word or line.content[:1]}`", hint)
