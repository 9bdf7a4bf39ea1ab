"""Check expressions: canonical spelling, evaluation, RE2 compilation and static satisfiability.

Why these tests matter: the canonical spelling goes into the IR and its content hash, so a stray space or
parenthesis changes every hash; a check decides an item with no judge in the loop, so a wrong evaluation
is a wrong reward; and lint's never/always warnings must be sound, or they tell authors to delete checks
that work.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubricdsl import checks, measures
from rubricdsl.check_analysis import satisfiability
from rubricdsl.checks import CheckContext, compile_regex, evaluate, render
from rubricdsl.syntax import MEASURES, AllOf, AnyOf, CheckExpr, Comparison, JsonTest, Not, RegexTest, TextTest

A = Comparison("words", "<=", 250)
B = Comparison("bullets", "==", 5)
C = TextTest("contains", "As an AI")
D = JsonTest()


def words(op: str, value: int) -> Comparison:
    return Comparison("words", op, value)


# ---------------------------------------------------------------- render


@pytest.mark.parametrize(
    ("expr", "spelling"),
    [
        (A, "words <= 250"),
        (AllOf((B, Not(C))), 'bullets == 5 and not contains "As an AI"'),
        (RegexTest(r"\b(19|20)\d{2}\b"), r"matches /\b(19|20)\d{2}\b/"),
        (TextTest("contains", "Rosetta", ignorecase=True), 'contains "Rosetta" ignorecase'),
        (D, "json"),
        (
            AnyOf((Comparison("lines", ">=", 3), Comparison("paragraphs", ">=", 2))),
            "lines >= 3 or paragraphs >= 2",
        ),
    ],
)
def test_render_spells_the_language_examples(expr: CheckExpr, spelling: str) -> None:
    assert render(expr) == spelling


@pytest.mark.parametrize(
    ("expr", "spelling"),
    [
        (AllOf((A, AnyOf((B, C)))), 'words <= 250 and (bullets == 5 or contains "As an AI")'),
        (AnyOf((AllOf((A, B)), C)), 'words <= 250 and bullets == 5 or contains "As an AI"'),
        (Not(AllOf((A, B))), "not (words <= 250 and bullets == 5)"),
        (Not(AnyOf((A, D))), "not (words <= 250 or json)"),
        (Not(Not(D)), "not not json"),
        (AllOf((Not(A), D)), "not words <= 250 and json"),
        (AnyOf((Not(D), AllOf((Not(D), A)))), "not json or not json and words <= 250"),
        (AllOf((AllOf((A, B)), D)), "words <= 250 and bullets == 5 and json"),  # unflattened: no parens
        (AnyOf((AnyOf((A, B)), D)), "words <= 250 or bullets == 5 or json"),
        (AllOf((AllOf((AnyOf((A, D)),)), B)), "(words <= 250 or json) and bullets == 5"),  # 1-operand and
        (
            AllOf((AnyOf((A, D)), AnyOf((B, C)))),
            '(words <= 250 or json) and (bullets == 5 or contains "As an AI")',
        ),
    ],
)
def test_render_uses_the_fewest_parentheses(expr: CheckExpr, spelling: str) -> None:
    assert render(expr) == spelling


@pytest.mark.parametrize(
    ("expr", "spelling"),
    [
        (TextTest("contains", 'He said "hi" \\o/'), r'contains "He said \"hi\" \\o/"'),
        (TextTest("endswith", "\\"), r'endswith "\\"'),
        (TextTest("startswith", ""), 'startswith ""'),
        (RegexTest("a/b"), r"matches /a\/b/"),
        (RegexTest(r"a\/b"), r"matches /a\/b/"),  # an escaped slash stays one escape
        (RegexTest("\\\\/"), r"matches /\\\//"),  # an escaped backslash, then a slash
        (RegexTest(r"\d+", "si"), r"matches /\d+/si"),  # flags as the tree holds them
        (RegexTest('"quoted"'), 'matches /"quoted"/'),  # quotes need no escape in a regex
    ],
)
def test_render_escapes(expr: CheckExpr, spelling: str) -> None:
    assert render(expr) == spelling


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (AllOf(()), "empty and"),
        (AnyOf(()), "empty or"),
        (TextTest("contains", "two\nlines"), "one line"),
        (RegexTest("a\rb"), "one line"),
        (RegexTest("ab\\"), "lone backslash"),
        (RegexTest(""), "empty regex"),
        (RegexTest("a", "x"), "unknown regex flag 'x'"),
        (Comparison("tokens", "<", 3), "unknown measure"),
        (Comparison("words", "=<", 3), "unknown comparison"),
        (Comparison("words", "<", -1), "non-negative"),
        (TextTest("has", "x"), "unknown text test"),
    ],
)
def test_render_refuses_trees_no_check_line_can_spell(expr: CheckExpr, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(expr)


# ---------------------------------------------------------------- text predicates and json


@pytest.mark.parametrize(
    ("expr", "response", "holds"),
    [
        (TextTest("contains", "rosetta"), "The Rosetta Stone", False),
        (TextTest("contains", "rosetta", ignorecase=True), "The Rosetta Stone", True),
        (TextTest("contains", "straße", ignorecase=True), "STRASSE", True),  # casefold, not lower
        (TextTest("startswith", "Hello"), " Hello", False),  # exact: the response is not stripped
        (TextTest("startswith", "hello", ignorecase=True), "HELLO there", True),
        (TextTest("endswith", "."), "Done.\n", False),
        (TextTest("endswith", "DONE.", ignorecase=True), "done.", True),
        (TextTest("contains", ""), "", True),
        (TextTest("contains", "e\u0301"), "\u00e9", False),  # no Unicode normalisation: exact code points
    ],
)
def test_text_predicates(expr: CheckExpr, response: str, holds: bool) -> None:
    assert evaluate(expr, response) is holds


@pytest.mark.parametrize(
    ("response", "holds"),
    [
        ('{"a": 1}', True),
        ('  [1, 2]\n', True),
        ('"just a string"', True),
        ("42", True),
        ("null", True),
        ("-0.5e3", True),
        ("1" * 5000, True),  # over Python's int-parsing digit limit, still JSON
        ("", False),
        ("   ", False),
        ("NaN", False),
        ('{"a": Infinity}', False),
        ('{"a": 1,}', False),
        ("{'a': 1}", False),
        ('```json\n{"a": 1}\n```', False),  # a fenced block is Markdown, not a JSON document
        ('{"a": 1} and more', False),
        ('{"a": 1}{"b": 2}', False),
        ("\ufeff{}", False),
        ("[" * 100_000 + "]" * 100_000, False),  # deeper than the parser's recursion limit
    ],
)
def test_json(response: str, holds: bool) -> None:
    assert evaluate(D, response) is holds


# ---------------------------------------------------------------- regexes


@pytest.mark.parametrize(
    ("expr", "response", "holds"),
    [
        (RegexTest(r"\b(19|20)\d{2}\b"), "Founded in 1999, it", True),
        (RegexTest(r"\b(19|20)\d{2}\b"), "in 2100", False),
        (RegexTest("b"), "abc", True),  # a search anywhere, not a full match
        (RegexTest("rosetta"), "Rosetta", False),
        (RegexTest("rosetta", "i"), "Rosetta", True),
        (RegexTest("^b$"), "a\nb\nc", False),
        (RegexTest("^b$", "m"), "a\nb\nc", True),
        (RegexTest("a.b"), "a\nb", False),
        (RegexTest("a.b", "s"), "a\nb", True),
        (RegexTest("A.B", "is"), "a\nb", True),
        (RegexTest("a$"), "a\n", False),  # `$` is the end of the text (Python's re would say True)
        (RegexTest("^.$"), "é", True),  # `.` is one code point
        (RegexTest(r"^\w+$"), "café", False),  # RE2's \w is ASCII
        (RegexTest(r"^\pL+$"), "café", True),
        (RegexTest("a/b"), "x a/b y", True),
        (RegexTest("x"), "\ud800x", True),  # a lone surrogate in the response is no crash
    ],
)
def test_regex_predicates(expr: CheckExpr, response: str, holds: bool) -> None:
    assert evaluate(expr, response) is holds


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?=x)", "invalid perl operator: (?="),
        ("(?<=a)b", "invalid perl operator: (?<="),
        (r"(a)\1", r"invalid escape sequence: \1"),
        ("(?P<n>a)(?P=n)", "invalid perl operator"),
        ("a**", "bad repetition operator"),
        ("x{1001}", "invalid repetition size"),
    ],
)
def test_re2_rejects_what_it_cannot_run_in_linear_time(pattern: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        compile_regex(pattern)
    assert message in str(raised.value)


def test_rejections_quote_the_pattern_as_written_and_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError) as raised:
        compile_regex("(abc", "im")
    assert str(raised.value) == "missing ): (abc"  # no trace of the (?im) prefix flags become
    assert capfd.readouterr().err == ""  # RE2's own logging is off


def test_unknown_flags_and_surrogate_patterns_are_value_errors() -> None:
    with pytest.raises(ValueError, match="flag 'g'"):
        compile_regex("a", "g")
    with pytest.raises(ValueError, match="surrogate"):
        compile_regex("\ud800")


def test_compiled_regexes_are_cached() -> None:
    assert compile_regex("ab+c", "i") is compile_regex("ab+c", "i")


# ---------------------------------------------------------------- measures and the context


def test_comparisons_read_measures() -> None:
    assert evaluate(Comparison("bullets", "==", 2), "- a\n- b")
    assert evaluate(Comparison("words", "!=", 2), "one two three")
    assert not evaluate(Comparison("headings", ">", 0), "```\n# code\n```")


def test_context_computes_each_measure_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(text: str) -> int:
        calls.append(text)
        return measures.words(text)

    monkeypatch.setitem(measures.MEASURE_FUNCTIONS, "words", counting)
    context = CheckContext("one two three")
    results = [context.evaluate(words(op, 3)) for op in checks.COMPARISONS]
    assert results == [False, True, False, True, True, False]
    assert calls == ["one two three"]
    assert evaluate(AllOf((words(">", 1), Not(D))), context)
    assert len(calls) == 1


# ---------------------------------------------------------------- satisfiability


@pytest.mark.parametrize(
    ("expr", "verdict"),
    [
        (words("<", 0), "never"),
        (words(">=", 0), "always"),
        (Not(words(">=", 0)), "never"),
        (words("<=", 0), None),
        (words("==", 3), None),
        (AllOf((D, Not(D))), "never"),
        (AnyOf((D, Not(D))), "always"),
        (AllOf((words(">", 10), words("<", 5))), "never"),
        (AllOf((words(">", 10), words("<", 12))), None),  # 11
        (AnyOf((words("<", 5), words(">=", 5))), "always"),
        (AnyOf((words("<", 5), words(">", 5))), None),  # 5
        (AllOf((words("==", 3), words("!=", 3))), "never"),
        (AllOf((AllOf((words(">", 10), B)), words("<", 3))), "never"),
        (AllOf((TextTest("contains", "A", True), Not(TextTest("contains", "a", True)))), "never"),
        (TextTest("contains", ""), "always"),
        (Not(TextTest("startswith", "")), "never"),
        (AllOf((words(">", 10), Comparison("chars", "<", 5))), None),  # measures are judged independently
        (AllOf((C, Not(D))), None),
    ],
)
def test_satisfiability(expr: CheckExpr, verdict: str | None) -> None:
    assert satisfiability(expr) == verdict


def test_satisfiability_with_too_many_cases_still_finds_a_contradiction() -> None:
    many = tuple(TextTest("contains", str(i)) for i in range(14))  # 2**14 cases: judged by parts
    assert satisfiability(AllOf((*many, words(">", 10), words("<", 5)))) == "never"
    assert satisfiability(AnyOf((*many, D, Not(D)))) is None  # parts alone cannot see this one
    assert satisfiability(AnyOf((*many, AnyOf((D, Not(D)))))) == "always"


def test_satisfiability_of_many_measures_terminates() -> None:
    spread = tuple(Comparison(name, ">", 5) for name in MEASURES)  # 4**8 cases, all numeric
    assert satisfiability(AllOf(spread)) is None
    assert satisfiability(AllOf((*spread, Comparison("words", "<", 0)))) == "never"


# ---------------------------------------------------------------- properties

SMALL_TEXT = st.text(alphabet="aAbé- \t#.{}[]1\"\\/", max_size=4)  # no line break: a check is one line
ATOMS = st.one_of(
    st.builds(Comparison, st.sampled_from(MEASURES), st.sampled_from(list(checks.COMPARISONS)),
              st.integers(0, 6)),
    st.builds(TextTest, st.sampled_from(checks.TEXT_OPS), SMALL_TEXT, st.booleans()),
    st.builds(RegexTest, st.sampled_from(["a", "^-", r"\d", "b$", "(?i)é", "a/b", r"\/"]),
              st.sampled_from(["", "i", "m", "s", "ims"])),
    st.just(JsonTest()),
)
EXPRS: st.SearchStrategy[CheckExpr] = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: AllOf(tuple(ops))),
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: AnyOf(tuple(ops))),
    ),
    max_leaves=8,
)
RESPONSES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["- a", "1. b", "# H", "\n", "\n\n", "{}", "[1]", "a/b", "É", "Done.", " "]),
             max_size=12).map("".join),
)


@given(EXPRS, RESPONSES)
def test_not_negates(expr: CheckExpr, response: str) -> None:
    assert evaluate(Not(expr), response) is (not evaluate(expr, response))


@given(EXPRS, EXPRS, RESPONSES)
def test_de_morgan(left: CheckExpr, right: CheckExpr, response: str) -> None:
    assert evaluate(Not(AllOf((left, right))), response) == evaluate(AnyOf((Not(left), Not(right))), response)
    assert evaluate(Not(AnyOf((left, right))), response) == evaluate(AllOf((Not(left), Not(right))), response)


@given(EXPRS, RESPONSES)
def test_a_shared_context_agrees_with_fresh_evaluation(expr: CheckExpr, response: str) -> None:
    context = CheckContext(response)
    shared = [context.evaluate(expr), context.evaluate(Not(expr)), context.evaluate(expr)]
    assert shared == [evaluate(expr, response), evaluate(Not(expr), response), evaluate(expr, response)]


@given(EXPRS)
def test_render_is_deterministic_and_single_spaced(expr: CheckExpr) -> None:
    spelling = render(expr)
    assert spelling == render(expr)
    assert spelling == spelling.strip()
    assert "  " not in _outside_literals(spelling)
    assert render(AllOf((expr,))) == spelling


NUMERIC = st.recursive(
    st.builds(Comparison, st.sampled_from(MEASURES), st.sampled_from(list(checks.COMPARISONS)),
              st.integers(0, 4)),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: AllOf(tuple(ops))),
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: AnyOf(tuple(ops))),
    ),
    max_leaves=10,
)


@given(NUMERIC, RESPONSES)
def test_rendered_precedence_means_the_tree(expr: CheckExpr, response: str) -> None:
    # Python's `not` > `and` > `or` is the language's, and a measure comparison is a Python comparison, so
    # the spelling evaluated as Python must agree with the tree: a missing parenthesis would change it.
    values = {name: measures.measure(name, response) for name in MEASURES}
    assert eval(render(expr), {"__builtins__": {}}, values) is evaluate(expr, response)


@given(EXPRS, RESPONSES)
def test_satisfiability_is_sound(expr: CheckExpr, response: str) -> None:
    verdict = satisfiability(expr)
    if verdict is not None:
        assert evaluate(expr, response) is (verdict == "always")


def _outside_literals(spelling: str) -> str:
    """The spelling with string and regex literals blanked, so their own spaces do not count."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for char in spelling:
        if quote:
            escaped, closing = (not escaped and char == "\\"), (not escaped and char == quote)
            quote = None if closing else quote
            continue
        if char in "\"/":
            quote = char
        out.append(char)
    return "".join(out)
