"""The error-code table (rubricdsl/codes.py): it names every code the package raises, each code's table
message matches what the real diagnostic says, docs/codes.md is generated from it, and `rubric rules CODE`
explains every code.

Why these tests matter: a code missing from the table is a code a user cannot look up (`rubric rules E204`
used to answer "no rule E204"), and a table message that drifted from the raising site documents an error
nobody sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rubricdsl import RubricError, loads
from rubricdsl.cli import main
from rubricdsl.codes import BY_CODE, CATEGORIES, CODES, lookup
from rubricdsl.config import LintConfig
from rubricdsl.lint import lint_paths
from rubricdsl.lint.docs import DEFAULT_OUTPUT, render_codes_markdown
from rubricdsl.lint.docs import main as write_docs

PACKAGE = Path(__file__).resolve().parent.parent / "rubricdsl"
_LITERAL = re.compile(r"""["'](E\d{3})["']""")


def raised_codes() -> dict[str, list[str]]:
    """Every `"Exxx"` literal in the package's source (but the table itself), with the files it is in."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "codes.py":
            continue
        for code in _LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(str(path.relative_to(PACKAGE)))
    return found


def template(code: str) -> re.Pattern[str]:
    """The table's message as a pattern: capitalised placeholders (`NAME`, `N`, `WHAT`) match any text and
    ` / ` separates the forms of a code that has several."""
    forms = []
    for form in BY_CODE[code].message.split(" / "):
        pieces = re.split(r"[A-Z][A-Z0-9_]*", form)
        forms.append(".*?".join(re.escape(piece) for piece in pieces))
    return re.compile("(?:" + "|".join(forms) + ")")


# ---------------------------------------------------------------- the table against the source


def test_every_code_raised_in_the_package_is_in_the_table() -> None:
    raised = raised_codes()
    assert len(raised) >= 45  # the scan finds the raising sites at all
    missing = {code: files for code, files in raised.items() if code not in BY_CODE}
    assert not missing, f"codes raised but not in rubricdsl/codes.py: {missing}"


def test_every_code_in_the_table_is_raised_somewhere() -> None:
    stale = [entry.code for entry in CODES if entry.code not in raised_codes()]
    assert not stale, f"codes in the table that nothing raises: {stale}"


def test_the_table_is_well_formed() -> None:
    codes = [entry.code for entry in CODES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    for entry in CODES:
        assert re.fullmatch(r"E\d{3}", entry.code) and entry.code[:2] in CATEGORIES
        assert entry.message and entry.explanation.endswith(".")
    assert lookup("e204") is BY_CODE["E204"] and lookup("E999") is None


# ---------------------------------------------------------------- the table against real diagnostics

INVALID: dict[str, str] = {
    "E101": "rubric r:\n\tessential x: A.\n",
    "E102": "  rubric r:\n    essential x: A.\n",
    "E103": "rubric r:\n    essential x: A.\rB\n",
    "E104": "rubric r:\n    group g: G.\n        essential x: A.\n      essential y: B.\n",
    "E105": 'rubric r:\n    prompt: """\n    never closed\n',
    "E106": "rubric r:\n    Hard x: A.\n",
    "E107": "rubric r:\n    esential x: A.\n",
    "E108": "rubric r:\n    criterionfoo: A.\n",
    "E109": "rubric r:\n    hard Five: A.\n",
    "E110": "rubric r:\n    hard check: A.\n",
    "E111": "rubric r:\n    hard " + "a" * 65 + ": A.\n",
    "E112": "rubric r:\n    essential x The answer.\n",
    "E113": "rubric r:\n    essential x:\n",
    "E114": "rubric r: extra\n    essential x: A.\n",
    "E115": "import nothing\nrubric r:\n    essential x: A.\n",
    "E116": "essential x: A.\n",
    "E119": "rubric r:\n" + "".join("    " * (i + 1) + f"group g{i}: G.\n" for i in range(17)) + "    " * 18
    + "essential x: A.\n",
    "E201": "rubric r:\n    use nothere\n",
    "E202": "rubric r:\n    essential x: A.\nrubric r:\n    essential y: B.\n",
    "E203": 'import "case.rubric"\nrubric r:\n    essential x: A.\n',
    "E204": 'import "../x.rubric"\nrubric r:\n    essential x: A.\n',
    "E205": 'import "missing.rubric"\nrubric r:\n    essential x: A.\n',
    "E206": "principles a:\n    use b\nprinciples b:\n    use a\nrubric r:\n    use a\n",
    "E207": "rubric r:\n    essential x: A.\n    important x: B.\n",
    "E208": "rubric r:\n    hard: A.\n    hard hard_1: B.\n    hard: C.\n",
    "E209": "rubric r:\n    pitfall 2 x: A.\n    essential -2 y: B.\n",
    "E210": "rubric r:\n    hard 3 x: A.\n",
    "E211": "rubric r:\n    criterion x: A.\n",
    "E212": "rubric r:\n    optional 0 x: A.\n",
    "E213": "rubric r:\n    title: A\n    title: B\n    scoring:\n        normalize: sum\n        normalize: abs\n"
    "    essential x: A.\n",
    "E214": "principles p:\n    title: A\n    principle x: A.\n",
    "E215": "rubric r:\n    scoring:\n        normalise: minmax\n    essential x: A.\n",
    "E216": "rubric r:\n    judge:\n        samples: 0\n        temperature:\n    essential x: A.\n",
    "E217": "rubric r:\n    title: T\n",
    "E218": "rubric r:\n    scale s: Q.\n        1: Bad.\n    scale t: Q.\n        1: Bad.\n        3: Good.\n",
    "E219": "rubric r:\n    essential x: A.\n        1: Bad.\n        2: Good.\n",
    "E220": "rubric r:\n    group g: G.\n    essential x: A.\n",
    "E221": "rubric r:\n    essential x: A.\n        check: words < 5\n        check: words > 1\n",
    "E222": "rubric r:\n    tags: a,, b\n    essential x: A.\n",
    "E223": "rubric r:\n" + "".join(f"    essential x{i}: A.\n" for i in range(10_001)),
    "E226": "rubric r:\n    judge:\n        model: a\n        models: b, c\n    essential x: A.\n",
    "E227": "rubric r:\n    scoring:\n        hard_fail: 5\n    essential x: A.\n",
    "E301": "rubric r:\n    essential x: A.\n        check: 250 >= words\n    essential y: B.\n        check:\n",
    "E302": "rubric r:\n    essential x: A.\n        check: matches /(?<=a)b/\n",
}


@pytest.mark.parametrize("code", sorted(INVALID))
def test_the_table_message_is_what_the_diagnostic_says(code: str, tmp_path: Path) -> None:
    path = tmp_path / "case.rubric"
    path.write_text(INVALID[code], encoding="utf-8")
    diagnostics, _ = lint_paths([path], LintConfig(select=["E"]), root=tmp_path)
    found = [d for d in diagnostics if d.code == code]
    assert found, f"{code} not raised; got {[(d.code, d.message) for d in diagnostics]}"
    for d in found:
        assert template(code).fullmatch(d.message), (d.message, BY_CODE[code].message)


def test_reading_errors_match_the_table(tmp_path: Path) -> None:
    (tmp_path / "big.rubric").write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    (tmp_path / "latin1.rubric").write_bytes(b"rubric r:\n    essential x: Caf\xe9.\n")
    diagnostics, _ = lint_paths([tmp_path], LintConfig(select=["E"]))
    by_code = {d.code: d.message for d in diagnostics}
    assert set(by_code) == {"E001", "E002"}
    assert all(template(code).fullmatch(message) for code, message in by_code.items())


def test_picking_errors_match_the_table() -> None:
    for text, name, code in [
        ("principles p:\n    principle x: A.\n", None, "E224"),
        ("rubric r:\n    essential x: A.\nrubric s:\n    essential y: B.\n", None, "E224"),
        ("rubric r:\n    essential x: A.\n", "nope", "E225"),
    ]:
        with pytest.raises(RubricError) as caught:
            loads(text, name)
        (d,) = caught.value.diagnostics
        assert d.code == code and template(code).fullmatch(d.message), d.message


# ---------------------------------------------------------------- docs and `rubric rules`


def test_docs_codes_md_is_generated_from_the_table(tmp_path: Path) -> None:
    committed = DEFAULT_OUTPUT.with_name("codes.md")
    assert committed.read_text(encoding="utf-8") == render_codes_markdown(), (
        "docs/codes.md is out of date: run `python -m rubricdsl.lint.docs` and commit the result"
    )
    page = render_codes_markdown()
    for entry in CODES:
        assert f"| **{entry.code}** |" in page
    assert write_docs([str(tmp_path / "rules.md")]) == 0
    assert (tmp_path / "codes.md").read_text(encoding="utf-8") == page


def test_rules_explains_every_error_code() -> None:
    runner = CliRunner()
    for entry in CODES:
        done = runner.invoke(main, ["rules", entry.code.lower()])
        assert done.exit_code == 0, done.output
        assert done.output.startswith(f"{entry.code} ") and entry.explanation in done.output
    listing = runner.invoke(main, ["rules"]).output
    assert all(f"{entry.code}  " in listing for entry in CODES) and "W101  hash-in-text" in listing
    unknown = runner.invoke(main, ["rules", "E999"])
    assert unknown.exit_code == 2 and "no rule or error code E999" in unknown.output
