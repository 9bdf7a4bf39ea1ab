"""Measures: the integers a check compares (`words <= 250`), counted over a response.

Every function here is pure, accepts any string (the empty one included) and runs in time linear in its
length: the regexes are anchored or consume what they match, and nothing rescans text it has passed.
docs/checks.md states each counting rule with examples; the comments below say why a rule is the way it is.

Length measures (`words`, `chars`, `lines`) count the whole response, code included. Structure measures
(`sentences`, `paragraphs`, `bullets`, `numbered`, `headings`) read it as Markdown and skip the inside of
fenced code blocks, because a `- x` or `# x` in a code sample is not part of the answer's structure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

LineKind = Literal["blank", "text", "heading", "bullet", "numbered", "rule", "fence", "code"]

_NEWLINES = re.compile(r"\r\n?")
# A letter or digit in any script (`\w` without the underscore).
_ALNUM = re.compile(r"[^\W_]")
# Scripts written without spaces between words: each ideograph or kana is a word, as word processors count.
_CJK = re.compile("[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  "\uff66-\uff9f\U00020000-\U0003ffff]")
# Besides whitespace, dashes used as punctuation separate words ("this—that", "this -- that"); CJK
# sentence punctuation does too, since nothing else separates words in those scripts.
_WORD_BREAK = re.compile("[\\s\u2013\u2014\u2015\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f]+|-{2,}")
_HEADING = re.compile(r"(#{1,6})[ \t]+(\S.*)")
_BULLET = re.compile(r"[-*+•][ \t]+(\S.*)")
_NUMBERED = re.compile(r"[0-9]{1,9}[.)][ \t]+(\S.*)")
# A run of terminators with the closing quotes or brackets after it. The match consumes the whole run, so
# finditer never restarts inside one: linear even on "......".
_TERMINATOR = re.compile("[.!?\u2026]+[\"'\u201d\u2019\u00bb)\\]]*|[\u3002\uff01\uff1f]+")
_CJK_TERMINATORS = frozenset("\u3002\uff01\uff1f")
_OPENERS = "\"'\u201c\u2018\u00ab(["
# Abbreviations whose period never ends a sentence: titles before names, and Latin short forms.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "capt", "sgt", "lt", "col", "rev"),
        *("gov", "hon", "pres", "vs", "cf", "approx", "ca", "viz", "al"),
    }
)
# Abbreviations that end a sentence unless a number follows ("see Fig. 3" but "the answer is no.").
_BEFORE_NUMBER = frozenset(
    {
        *("no", "nos", "fig", "figs", "eq", "eqs", "vol", "vols", "p", "pp", "ch", "sec", "art"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    }
)


@dataclass(frozen=True)
class Line:
    """One line of a response as the structure measures see it; `content` is the prose after any marker."""

    kind: LineKind
    content: str = ""


_BLANK, _RULE, _FENCE, _CODE = Line("blank"), Line("rule"), Line("fence"), Line("code")


def split_lines(text: str) -> list[str]:
    """Lines separated by `\\n`, `\\r\\n` or a lone `\\r`."""
    return _NEWLINES.sub("\n", text).split("\n")


def words(text: str) -> int:
    """Whitespace- and dash-separated pieces holding a letter or digit, plus one per CJK character."""
    ideographs = len(_CJK.findall(text))
    rest = _CJK.sub(" ", text)
    return ideographs + sum(1 for piece in _WORD_BREAK.split(rest) if _ALNUM.search(piece))


def chars(text: str) -> int:
    """Unicode code points after NFC composition, a `\\r\\n` line break counting as one character."""
    # NFC so that "é" counts once whether it arrived precomposed or as "e" plus a combining accent.
    return len(unicodedata.normalize("NFC", _NEWLINES.sub("\n", text)))


def lines(text: str) -> int:
    """Lines holding at least one non-whitespace character, code included."""
    return sum(1 for line in split_lines(text) if line.strip())


def bullets(text: str) -> int:
    """Lines starting, after any indentation, with `-`, `*`, `+` or `•`, whitespace and text."""
    return _count_kind(text, "bullet")


def numbered(text: str) -> int:
    """Lines starting, after any indentation, with `N.` or `N)`, whitespace and text."""
    return _count_kind(text, "numbered")


def headings(text: str) -> int:
    """ATX headings: `#` to `######`, whitespace and text, indented at most three spaces."""
    return _count_kind(text, "heading")


def paragraphs(text: str) -> int:
    """Blocks of content lines; blank lines, headings and horizontal rules separate them."""
    count = 0
    inside = False
    for line in classify(text):
        # A fenced code block is one block even when it holds blank lines (they are "code" lines here).
        content = line.kind in ("text", "bullet", "numbered", "fence", "code")
        if content and not inside:
            count += 1
        inside = content
    return count


def sentences(text: str) -> int:
    """Sentences of the prose: each heading, list item and paragraph is split at sentence terminators."""
    return sum(_sentences_in(block) for block in _prose_blocks(classify(text)))


MEASURE_FUNCTIONS: dict[str, Callable[[str], int]] = {
    "words": words,
    "chars": chars,
    "lines": lines,
    "sentences": sentences,
    "paragraphs": paragraphs,
    "bullets": bullets,
    "numbered": numbered,
    "headings": headings,
}


def measure(name: str, text: str) -> int:
    """The value of the measure called `name` (one of syntax.MEASURES) for `text`."""
    try:
        function = MEASURE_FUNCTIONS[name]
    except KeyError:
        expected = ", ".join(MEASURE_FUNCTIONS)
        raise ValueError(f"unknown measure {name!r}: expected one of {expected}") from None
    return function(text)


# ---------------------------------------------------------------- Markdown line structure


@lru_cache(maxsize=8)
def classify(text: str) -> tuple[Line, ...]:
    """Every line of `text` with its Markdown role. Cached: five measures read the same classification."""
    result: list[Line] = []
    fence: tuple[str, int] | None = None  # the open fence's character and length
    for raw in split_lines(text):
        body = _unquote(raw)
        if fence is not None:
            closed = _closes_fence(body, fence)
            result.append(_FENCE if closed else _CODE)
            fence = None if closed else fence
            continue
        fence = _opens_fence(body)
        result.append(_FENCE if fence else _classify_prose(body))
    return tuple(result)


def _count_kind(text: str, kind: LineKind) -> int:
    return sum(1 for line in classify(text) if line.kind == kind)


def _unquote(line: str) -> str:
    """The line without blockquote markers (`> `, `> > `): a list inside a quote is still a list."""
    start = 0  # an index, not slices: "> > > …" would otherwise copy the line once per marker
    while True:
        marker = start
        while marker < len(line) and line[marker] in " \t":
            marker += 1
        if marker == len(line) or line[marker] != ">":
            return line[start:] if start else line
        start = marker + 1
        if start < len(line) and line[start] in " \t":
            start += 1


def _opens_fence(body: str) -> tuple[str, int] | None:
    stripped = body.lstrip(" \t")
    mark = stripped[:1]
    if mark not in ("`", "~"):
        return None
    length = len(stripped) - len(stripped.lstrip(mark))
    # ```x``` on one line is inline code, not a fence (CommonMark: no backtick in a backtick info string).
    if length < 3 or (mark == "`" and "`" in stripped[length:]):
        return None
    return mark, length


def _closes_fence(body: str, fence: tuple[str, int]) -> bool:
    mark, length = fence
    stripped = body.strip()
    return len(stripped) >= length and not stripped.strip(mark)


def _classify_prose(body: str) -> Line:
    stripped = body.lstrip(" \t")
    if not stripped.strip():
        return _BLANK
    if _is_rule(stripped):  # before bullets: "* * *" and "- - -" are rules, not items
        return _RULE
    indent = body[: len(body) - len(stripped)]
    # Headings allow three spaces of indentation, as in CommonMark; more is an indented code block there.
    if len(indent) <= 3 and "\t" not in indent and (match := _HEADING.match(stripped)):
        return Line("heading", _strip_closing_hashes(match.group(2)))
    # Items may be indented any amount: nested lists are the common case in model output.
    if match := _BULLET.match(stripped):
        return Line("bullet", match.group(1))
    if match := _NUMBERED.match(stripped):
        return Line("numbered", match.group(1))
    return Line("text", stripped)


def _is_rule(stripped: str) -> bool:
    """A thematic break: three or more of one of `-`, `*`, `_`, spaces allowed between them."""
    core = "".join(stripped.split())
    return len(core) >= 3 and core[0] in "-*_" and not core.strip(core[0])


def _strip_closing_hashes(content: str) -> str:
    """`## Title ##` has the content `Title`."""
    content = content.rstrip()
    bare = content.rstrip("#")
    if bare != content and (not bare or bare[-1] in " \t"):
        return bare.rstrip()
    return content


# ---------------------------------------------------------------- sentences


def _prose_blocks(classified: tuple[Line, ...]) -> Iterator[str]:
    """The prose of each heading, list item and paragraph, lines joined and whitespace collapsed."""
    current: list[str] = []
    for line in classified:
        if line.kind == "text" and current:  # a continuation line of a paragraph or list item
            current.append(line.content)
            continue
        if current:
            yield " ".join(" ".join(current).split())
            current = []
        if line.kind in ("text", "bullet", "numbered"):
            current = [line.content]
        elif line.kind == "heading":
            yield " ".join(line.content.split())
    if current:
        yield " ".join(" ".join(current).split())


def _sentences_in(block: str) -> int:
    count = 0
    start = 0
    for match in _TERMINATOR.finditer(block):
        if _ends_sentence(block, match):
            count += bool(_ALNUM.search(block, start, match.end()))
            start = match.end()
    return count + bool(_ALNUM.search(block, start))


def _ends_sentence(block: str, match: re.Match[str]) -> bool:
    if match.group()[0] in _CJK_TERMINATORS:
        return True
    end = match.end()
    if end == len(block):
        return True
    if block[end] != " ":  # "3.14", "example.com", "Hi!)" inside a word
        return False
    following = block[end + 1 : end + 2]
    if following.islower():  # "e.g. this", "Wait... what?" — a new sentence starts with a capital
        return False
    if match.group() != ".":
        return True
    return not _is_abbreviation(block[block.rfind(" ", 0, match.start()) + 1 : match.start()], following)


def _is_abbreviation(token: str, following: str) -> bool:
    token = token.lstrip(_OPENERS)
    if len(token) == 1 and token.isupper():  # an initial: "J. R. R. Tolkien"
        return True
    # Dotted letters: "e.g", "i.e", "U.S", "a.m".
    if len(token) >= 3 and len(token) % 2 and not token[1::2].strip(".") and token[::2].isalpha():
        return True
    folded = token.casefold()
    return folded in _ABBREVIATIONS or (folded in _BEFORE_NUMBER and following.isdigit())
