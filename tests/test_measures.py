"""Measures on tricky responses, with values worked out by hand from the rules in docs/checks.md.

Why these tests matter: a hard rule like `words <= 250` rejects responses outright, so a miscount is a wrong
reward. The tables pin each counting decision (code fences, nested lists, rules, CJK, CRLF, abbreviations),
and the properties pin the relations between measures that any reader would assume.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubricdsl import measures
from rubricdsl.measures import MEASURE_FUNCTIONS, measure
from rubricdsl.syntax import MEASURES

PLAN = """\
# Plan

Here is the plan. It has steps.

- First item
  - Nested item
    * Deeper item
- Second item

1. One
2) Two
10. Ten

```python
# not a heading
- not a bullet
1. not numbered

x = 1
```

---

Done!
"""


def counts(text: str) -> dict[str, int]:
    return {name: measure(name, text) for name in MEASURES}


def test_every_measure_of_the_language_has_a_function() -> None:
    assert set(MEASURE_FUNCTIONS) == set(MEASURES)


def test_unknown_measure_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown measure 'tokens'"):
        measure("tokens", "text")


def test_markdown_document_with_nested_lists_and_a_code_block() -> None:
    # 17 non-blank lines (fences, code and the rule included); code lines are no bullets, numbers or
    # headings; blocks: the intro, the bullet list, the numbered list, the code block, "Done!" (the heading
    # and the rule separate blocks); sentences: Plan | 2 in the intro | 4 items | 3 items | Done!
    assert counts(PLAN) == {
        "words": 35,
        "chars": len(PLAN),
        "lines": 17,
        "sentences": 11,
        "paragraphs": 5,
        "bullets": 4,
        "numbered": 3,
        "headings": 1,
    }


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t\r\n "])
def test_empty_and_blank_responses_count_nothing_but_their_characters(text: str) -> None:
    assert counts(text) == dict.fromkeys(MEASURES, 0) | {"chars": measures.chars(text)}


def test_chars_of_blank_text_are_its_whitespace() -> None:
    assert measures.chars("  \n\t\n") == 5
    assert measures.chars(" \t\r\n ") == 4  # \r\n is one line break


def test_crlf_counts_like_lf() -> None:
    text = "Line one.\r\n\r\nLine two.\r\n"
    assert counts(text) == counts(text.replace("\r\n", "\n"))
    assert counts(text) | {} == {
        "words": 4, "chars": 21, "lines": 2, "sentences": 2, "paragraphs": 2,
        "bullets": 0, "numbered": 0, "headings": 0,
    }


def test_a_lone_carriage_return_is_a_line_break() -> None:
    assert measures.lines("a\rb") == 2
    assert measures.chars("a\rb") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", 2),
        ("state-of-the-art isn't rock 'n' roll", 5),  # inner hyphens and apostrophes join
        ("well—known -- really – yes", 4),  # dashes separate, free-standing ones are no words
        ("snake_case __ 42 ... !!!", 2),  # pieces without a letter or digit are no words
        ("3.14 e.g. U.S.A. https://example.com/a", 4),
        ("a\u00a0b", 2),  # a no-break space is whitespace
        ("naïve café — 東京へ行きます。", 9),  # 2 words + 7 CJK characters, one word each
        ("我喜欢Python编程。", 6),
        ("re\u0301sume\u0301", 1),  # combining accents stay inside the word
        ("👍🏽 great", 1),
        ("- item\n1. one\n# Title", 4),  # "1." holds a digit: it is a word, "-" and "#" are not
    ],
)
def test_words(text: str, expected: int) -> None:
    assert measures.words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc\n", 4),
        ("a\r\nb", 3),
        ("cafe\u0301", 4),  # NFC composes e + accent into é
        ("café", 4),
        ("👍🏽 great", 8),  # emoji and skin-tone modifier are two code points
        ("東京。", 3),
    ],
)
def test_chars(text: str, expected: int) -> None:
    assert measures.chars(text) == expected


def test_lines_skip_blank_and_whitespace_only_lines() -> None:
    assert measures.lines("a\n\n \n\tb\n") == 2


BULLETS = """\
-no space
-\x20
-  two spaces
*bold* text
**bold** text
* * *
- - -
___
+ plus
• dot
\t- tab indented
> - quoted
"""


def test_bullets_need_a_space_and_text_and_are_never_rules() -> None:
    # counted: "-  two spaces", "+ plus", "• dot", the tab-indented one, the quoted one
    assert measures.bullets(BULLETS) == 5


def test_numbered_items() -> None:
    text = "1. a\n2)b\n3.14 is pi\n1234567890. too long\n  4. indented\n(5) paren\na. letter\n١. arabic"
    assert measures.numbered(text) == 2  # "1. a" and "  4. indented"


def test_headings_are_atx_with_a_space_and_at_most_three_spaces_indent() -> None:
    text = (
        "# One\n####### seven\n#hashtag\n   ### indented three\n    # four spaces\n## Closed ##\n#\n"
        "###### Six"
    )
    assert measures.headings(text) == 4
    assert measures.headings("Setext\n======") == 0


def test_fences_hide_structure_until_a_matching_close() -> None:
    text = (
        "~~~\n# in tilde fence\n~~~\n"
        "````\n```\n- a three-backtick line does not close a four-backtick fence\n````\n"
        "- after\n"
        "```unclosed\n- inside until the end\n# still code"
    )
    assert (measures.bullets(text), measures.headings(text), measures.paragraphs(text)) == (1, 0, 1)


def test_inline_triple_backticks_do_not_open_a_fence() -> None:
    assert measures.bullets("```inline``` code\n- item") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\n\n\n\nb", 2),
        ("a\n   \nb", 2),
        ("# H\ntext\n## H2\nmore", 2),  # headings separate and are not paragraphs
        ("p1\n---\np2", 2),  # a rule separates like a blank line
        ("```\ncode\n\nmore code\n```", 1),  # a blank line inside a fence does not split it
        ("text\n```\ncode\n```\n\nafter", 2),
        ("- a\n- b\n\n- c", 2),  # a list is a block; a blank line splits it
        ("---\n\n***", 0),
    ],
)
def test_paragraphs(text: str, expected: int) -> None:
    assert measures.paragraphs(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith met Mr. Jones at 3.30 p.m. on Jan. 5. They talked.", 2),
        ("Is it? yes it is. OK!", 2),  # a lowercase word after a terminator continues the sentence
        ("See Fig. 2. The answer is no. Really.", 3),
        ('He wrote: "Stop." Then he left.', 2),
        ("Version 2.0 is out... Try it!", 2),
        ("J. R. R. Tolkien wrote it. U.S. troops left.", 2),
        ("Hello!!! World?!", 2),
        ("...", 0),
        ("?", 0),
        ("- no period\n- another\n\nText without end", 3),
        ("你好。今天天气很好！", 2),
        ("A list:\n1. first point\n   continues here.\n2. second", 3),
        ("```\nNot. Counted. Here.\n```\nOne.", 1),
        ("# Title\nBody text. More", 3),
    ],
)
def test_sentences(text: str, expected: int) -> None:
    assert measures.sentences(text) == expected


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bullets", "- a\n  - b\n    * c\n- d", 4),
        ("bullets", "* * *\n- - -\n-x\n**bold** text", 0),
        ("bullets", "```\n- in code\n```\n- after", 1),
        ("bullets", "> - quoted", 1),
        ("chars", "e\u0301", 1),
        ("words", "สวัสดีครับ ผม", 2),  # Thai: only spaces separate words
        ("numbered", "1. a\n2)b\n3.14 is pi\n  4. indented", 2),
        ("headings", "# One\n#hashtag\n   ### three spaces\n    # four\n## Closed ##", 3),
    ],
)
def test_the_remaining_examples_of_the_docs_table(name: str, text: str, expected: int) -> None:
    assert measure(name, text) == expected


# ---------------------------------------------------------------- properties

MARKDOWN_PIECES = st.sampled_from(
    ["- ", "* ", "1. ", "# ", "```", "~~~", "---", "> ", "\n", "\r\n", "\n\n", " ", "\t", ". ", "? ", "!",
     "word", "Word", "é", "e\u0301", "東", "。", "—", "--", "Dr.", "3.14", "_", "'", '"']
)
RESPONSES = st.one_of(st.text(), st.lists(MARKDOWN_PIECES, max_size=40).map("".join))


@given(RESPONSES)
def test_measures_are_non_negative_and_consistent(text: str) -> None:
    c = counts(text)
    assert all(value >= 0 for value in c.values())
    assert c["lines"] <= c["chars"]
    assert c["words"] <= c["chars"]
    assert c["paragraphs"] <= c["lines"]
    assert c["bullets"] + c["numbered"] + c["headings"] <= c["lines"]
    assert c["sentences"] <= c["words"]


@given(RESPONSES)
def test_line_endings_do_not_change_any_measure(text: str) -> None:
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    assert counts(lf) == counts(text) == counts(lf.replace("\n", "\r\n"))


@given(st.lists(MARKDOWN_PIECES, max_size=30).map("".join))
def test_a_closed_code_block_adds_no_structure(text: str) -> None:
    if "```" in text or "~~~" in text:
        return
    fenced = text + "\n\n```\n- a\n1. b\n# c\nD. E.\n```\n"
    for name in ("bullets", "numbered", "headings", "sentences"):
        assert measure(name, fenced) == measure(name, text)


PATHOLOGICAL = {
    "dots": "." * 200_000,
    "dotted": "a." * 100_000,
    "dashes-spaced": "- " * 100_000,
    "quotes": ">" * 200_000,
    "backticks": "`" * 200_000,
    "hashes": "#" * 200_000,
    "dashes": "-" * 200_000,
    "spaces": " " * 200_000 + "x",
    "newlines": "\n" * 200_000,
    "abbreviations": "Dr. x " * 30_000,
    "fences": "```\n" * 50_000,
    "terminators": "?! " * 60_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_inputs_take_linear_time(name: str) -> None:
    # Each input is a worst case for some naive regex (a run of one repeated character); 200 kB must take
    # well under a second, where a quadratic scan would take minutes.
    start = time.perf_counter()
    counts(PATHOLOGICAL[name])
    assert time.perf_counter() - start < 3.0
