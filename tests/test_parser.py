"""Parser: every construct of LANGUAGE.md, and the traps NOTES.md lists."""

from __future__ import annotations

import pytest

from rubricdsl.diagnostics import RubricError
from rubricdsl.grammar import build_parser
from rubricdsl.parser import parse, parse_check
from rubricdsl.syntax import AllOf, AnyOf, Comparison, Item, JsonTest, Not, RegexTest, Text, TextTest, Use


def codes(text: str) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse(text)
    return [d.code for d in info.value.diagnostics]


def items(text: str) -> tuple[Item | Use, ...]:
    return parse(text).declarations[0].body


def test_grammar_is_conflict_free_under_strict_mode() -> None:
    build_parser(strict=True, cache=False)  # raises on any LALR or terminal collision


def test_empty_file_and_comment_only_file_are_valid() -> None:
    assert parse("").declarations == ()
    assert parse("# only a comment").trailing_comments == ("# only a comment",)
    assert parse("\ufeff# bom\n").trailing_comments == ("# bom",)


def test_keywords_are_whole_words() -> None:
    assert codes("rubric r:\n    criterionfoo: T\n") == ["E108"]
    expr = parse_check("not json")
    assert expr == Not(JsonTest())
    with pytest.raises(RubricError):
        parse_check("notjson")
    assert codes("rubric r:\n    hard check: T\n") == ["E110"]


def test_item_parts_and_default_weights() -> None:
    body = items("rubric r:\n    essential 5 a: A.\n    pitfall -2 b: B.\n    criterion +3 c: C.\n    optional: D.\n")
    assert [(i.kind, i.weight, i.name) for i in body if isinstance(i, Item)] == [
        ("essential", None, "a"),
        ("pitfall", -2.0, "b"),
        ("criterion", 3.0, "c"),
        ("optional", None, None),
    ]


def test_bare_text_keeps_colons_quotes_and_hashes() -> None:
    (item,) = items('rubric r:\n    hard x:   Item #3: says "hi" # not a comment  \n')
    assert isinstance(item, Item) and item.text == Text('Item #3: says "hi" # not a comment')


def test_block_text_dedents_and_keeps_tabs_and_hashes() -> None:
    source = (
        'rubric r:\n    prompt: """\n\n        line one # kept\n          indented\n\t\n'
        '        \ttab\n\n        """\n    hard h: T.\n'
    )
    (field,) = parse(source).declarations[0].fields
    assert field.value == Text("line one # kept\n  indented\n\n\ttab", block=True)


def test_crlf_line_endings_are_accepted() -> None:
    crlf = parse("rubric r:\r\n    hard h: T.\r\n")
    assert crlf == parse("rubric r:\n    hard h: T.\n")


def test_lone_carriage_return_and_tabs_are_errors() -> None:
    assert codes("rubric r:\r    hard h: T.\n")[0] == "E103"
    assert codes("rubric r:\n\thard h: T.\n") == ["E101"]
    assert codes("  rubric r:\n") == ["E102"]


def test_file_without_final_newline_and_trailing_comment() -> None:
    file = parse("rubric r:\n    hard h: T.\n    # trailing")
    assert file.trailing_comments == ("# trailing",)


def test_unclosed_block_is_reported_at_its_opening() -> None:
    with pytest.raises(RubricError) as info:
        parse('rubric r:\n    prompt: """\n        text\n    hard h: T.\n')
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E105", 2, 13)


def test_dedent_to_an_unknown_level() -> None:
    assert codes("rubric r:\n    group g: G.\n        hard h: T.\n      hard i: U.\n") == ["E104"]


def test_end_of_file_never_leaks_lark_names() -> None:
    with pytest.raises(RubricError) as info:
        parse("rubric r:\n")
    message = info.value.diagnostics[0].message
    assert "$END" not in message and "_INDENT" not in message and "end of the file" in message


def test_check_precedence_and_flattening() -> None:
    expr = parse_check('words <= 250 and not contains "As an AI" or json and (lines > 2 and bullets == 5)')
    assert expr == AnyOf(
        (
            AllOf((Comparison("words", "<=", 250), Not(TextTest("contains", "As an AI")))),
            AllOf((JsonTest(), Comparison("lines", ">", 2), Comparison("bullets", "==", 5))),
        )
    )


def test_check_literals_and_escapes() -> None:
    assert parse_check(r'contains "say \"hi\" \\ done" ignorecase') == TextTest("contains", 'say "hi" \\ done', True)
    assert parse_check(r"matches /a\/b\d+/im") == RegexTest(r"a/b\d+", "im")


def test_check_errors_point_into_the_line() -> None:
    with pytest.raises(RubricError) as info:
        parse("rubric r:\n    hard h: T.\n        check: 250 >= words\n")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E301", 3, 16)


def test_range_setting_is_not_a_signed_number() -> None:
    file = parse("rubric r:\n    scoring:\n        range: -1..1\n    hard h: T.\n")
    setting = file.declarations[0].fields[0].value[0]  # type: ignore[index]
    assert (setting.key, setting.value) == ("range", "-1..1")  # type: ignore[union-attr]


def test_comments_are_kept_with_their_statements() -> None:
    file = parse("# lead\nrubric r:  # head\n    # before item\n    hard h: T.\n        check: json  # why\n")
    declaration = file.declarations[0]
    assert declaration.comments == ("# lead",) and declaration.trailing_comment == "# head"
    item = declaration.body[0]
    assert isinstance(item, Item) and item.comments == ("# before item",)
    assert item.check is not None and item.check.trailing_comment == "# why"


def test_spans_are_excluded_from_equality() -> None:
    assert parse("rubric r:\n    hard h: T.\n") == parse("\n\nrubric   r:\n  hard   h:    T.\n")


def test_nesting_limit() -> None:
    source = "rubric r:\n" + "".join("    " * (d + 1) + f"group g{d}: G.\n" for d in range(17))
    source += "    " * 18 + "hard h: T.\n"
    assert "E119" in codes(source)


def test_name_limits() -> None:
    assert codes("rubric r:\n    hard " + "a" * 65 + ": T.\n") == ["E111"]
    assert codes("rubric r:\n    hard Five: T.\n") == ["E109"]


def test_several_lexical_errors_are_reported_at_once() -> None:
    assert codes("rubric r:\n    Hard a: T.\n    esential 5 b: U.\n    hard 3x: V.\n") == ["E106", "E107", "E109"]
