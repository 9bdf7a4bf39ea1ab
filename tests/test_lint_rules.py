"""The lint rules: each against a rubric that breaks it and a realistic one that does not, plus selection,
suppression, configuration, the command line and the generated docs.

Why these tests matter: a rule that misses is a lost hint, but a rule that fires on good criteria teaches
people to ignore the linter. So every `<code>_pass.rubric` is a clean, ordinary rubric written to sit near
the rule's edge, and must produce no diagnostic at all; every `<code>_fail.rubric` must produce its code,
and only its code, on the lines marked `# expect: CODE` (the marker sits on the comment line above).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rubricdsl.cli import main
from rubricdsl.config import LintConfig
from rubricdsl.diagnostics import Diagnostic
from rubricdsl.lint import RULES, lint_paths
from rubricdsl.lint.docs import DEFAULT_OUTPUT, render_rules_markdown
from rubricdsl.lint.docs import main as write_docs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lint"
CODES = [rule.code for rule in RULES]
_EXPECT = re.compile(r"#\s*expect:\s*(W\d{3})")


def lint(path: Path, config: LintConfig | None = None) -> list[Diagnostic]:
    return lint_paths([path], config or LintConfig(), root=FIXTURES)[0]


def expected(path: Path) -> list[tuple[str, int]]:
    """(code, line) for each `# expect: CODE` marker: the line is the next one that is not a comment."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    for number, line in enumerate(lines, start=1):
        match = _EXPECT.search(line)
        if match:
            target = next(i for i in range(number, len(lines)) if not lines[i].strip().startswith("#")) + 1
            found.append((match.group(1), target))
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# ---------------------------------------------------------------- the table


def test_the_table_is_well_formed() -> None:
    assert len(RULES) >= 16
    assert sorted(CODES) == CODES and len(set(CODES)) == len(CODES)
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"W\d{3}", rule.code) and re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
        assert "\n" not in rule.summary and rule.summary.endswith("."), rule.code
        assert "Why:" in rule.doc and "Instead:" in rule.doc, f"{rule.code} docstring needs Why: and Instead:"


# ---------------------------------------------------------------- fixtures, one pair per rule


@pytest.mark.parametrize("code", CODES)
def test_fail_fixture_reports_the_rule_on_the_marked_lines(code: str) -> None:
    path = FIXTURES / f"{code}_fail.rubric"
    assert path.is_file(), f"missing {path}"
    diagnostics = lint(path)
    assert [(d.code, d.span.line) for d in diagnostics] == expected(path)
    assert expected(path), f"{path.name} marks no line with `# expect: {code}`"
    assert {d.code for d in diagnostics} == {code}
    text = path.read_text(encoding="utf-8").split("\n")
    for d in diagnostics:
        assert not d.is_error and d.hint, d
        assert "\n" not in d.message and not d.message.endswith("."), d.message
        # The span covers real text on its line: a name, a weight, a phrase, an item's text.
        line = text[d.span.line - 1]
        assert 1 <= d.span.column < d.span.end_column or d.span.end_line > d.span.line, d
        assert line[d.span.column - 1 :].strip(), d


@pytest.mark.parametrize("code", CODES)
def test_pass_fixture_is_clean(code: str) -> None:
    path = FIXTURES / f"{code}_pass.rubric"
    assert path.is_file(), f"missing {path}"
    assert lint(path) == []


def test_shared_fixture_file_is_clean() -> None:
    assert lint(FIXTURES / "common" / "assistant.rubric") == []


def spans(path: Path) -> list[tuple[str, int, int, int]]:
    return [(d.code, d.span.line, d.span.column, d.span.end_column) for d in lint(path)]


def test_spans_point_at_the_offending_text() -> None:
    assert spans(FIXTURES / "W106_fail.rubric") == [("W106", 6, 15, 16), ("W106", 9, 13, 16)]  # the weights
    assert spans(FIXTURES / "W120_fail.rubric") == [("W120", 4, 26, 29)]  # the second `SQL`
    assert spans(FIXTURES / "W107_fail.rubric") == [("W107", 2, 8, 20)]  # the rubric's name
    assert spans(FIXTURES / "W112_fail.rubric") == [("W112", 2, 8, 33)]  # the import's path
    assert spans(FIXTURES / "W121_fail.rubric") == [("W121", 5, 18, 19)]  # the samples value
    w104 = spans(FIXTURES / "W104_fail.rubric")[0]
    line = (FIXTURES / "W104_fail.rubric").read_text().split("\n")[w104[1] - 1]
    assert line[w104[2] - 1 : w104[3] - 1] == "explains"  # the verb of the second demand
    w110 = spans(FIXTURES / "W110_fail.rubric")[0]
    line = (FIXTURES / "W110_fail.rubric").read_text().split("\n")[w110[1] - 1]
    assert line[w110[2] - 1 : w110[3] - 1] == "appropriate"


# ---------------------------------------------------------------- rule details worth pinning


def write(tmp_path: Path, text: str, name: str = "r.rubric") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
rubric r:
    prompt: Explain how a bicycle gear ratio works.

    essential ratio: States that the gear ratio is the number of chainring teeth over the number of cog teeth.
    important example: Works through one example, such as 48 teeth over 16 teeth giving 3.
"""


def codes(path: Path, config: LintConfig | None = None) -> list[str]:
    return [d.code for d in lint_paths([path], config or LintConfig())[0]]


def test_duplicates_are_found_after_use_and_reported_in_this_file(tmp_path: Path) -> None:
    shared = "principles shared:\n    principle gear_terms: Names the chainring and the cog.\n"
    write(tmp_path, shared, "shared.rubric")
    body = BASE + "    optional terms: names the chainring and the cog\n    use shared\n"
    user = write(tmp_path, 'import "shared.rubric"\n\n' + body)
    (finding,) = [d for d in lint_paths([user])[0] if d.code == "W102"]
    assert finding.span.line == 8 and "gear_terms" in finding.message and "shared.rubric:2" in finding.message
    # The imported set itself is clean: nothing is reported on its lines while linting the user.
    assert all(d.span.path == finding.span.path for d in lint_paths([user])[0])


def test_negative_criterion_with_praise_is_an_inverted_pitfall(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "    criterion -3 refrains: Refrains from giving a wrong ratio.\n")
    assert codes(path) == ["W105"]
    path = write(tmp_path, BASE + "    criterion 3 refrains: Refrains from jargon such as \"drivetrain\".\n")
    assert codes(path) == []  # a positive criterion may describe good behaviour


def test_weight_errors_are_not_repeated_as_warnings(tmp_path: Path) -> None:
    wrong_sign = BASE + "    pitfall 2 wrong: States a ratio of 2.\n    important -3 neg: Names the cog.\n"
    assert codes(write(tmp_path, wrong_sign)) == ["E209", "E209"]
    assert codes(write(tmp_path, BASE + "    criterion 12 big: Names the cog.\n")) == ["W106"]


def test_unstated_context_inside_a_group_may_mean_the_group(tmp_path: Path) -> None:
    tree = BASE + ("    group results: The gear table of Section 2 is reproduced.\n"
                   "        criterion 1 reported: The above ratios are reported to two decimals.\n")
    assert codes(write(tmp_path, tree)) == []
    flat = BASE + "    optional reported: The above ratios are reported to two decimals.\n"
    assert codes(write(tmp_path, flat)) == ["W111"]


def test_samples_lent_by_a_used_rubric_are_reported_where_written(tmp_path: Path) -> None:
    user = BASE.replace("rubric r:", "rubric r:\n    judge:\n        temperature: 0") + "    use base\n"
    base = "rubric base:\n    judge:\n        samples: 3\n\n    hard short: The answer is at most 80 words.\n"
    text = base + "        check: words <= 80\n\n" + user
    found = [(d.code, d.span.line) for d in lint_paths([write(tmp_path, text)])[0]]
    assert ("W121", 3) in found and ("W121", 10) in found  # base's samples, and r's temperature 0


def test_heuristics_leave_the_language_examples_alone() -> None:
    """The example rubrics are good rubrics: e.g. the pitfall "Does not mention …" (an omission) passes."""
    rubrics = ROOT / "rubrics"
    assert rubrics.is_dir(), "the example rubrics are missing"
    diagnostics, _ = lint_paths([rubrics])
    assert [f"{d.path}:{d.span.line}: {d.code} {d.message}" for d in diagnostics] == []


# ---------------------------------------------------------------- selection, suppression, configuration


def test_select_and_ignore() -> None:
    path = FIXTURES / "W110_fail.rubric"
    assert {d.code for d in lint(path)} == {"W110"}
    assert lint(path, LintConfig(select=["W111"])) == []
    assert lint(path, LintConfig(ignore=["W110"])) == []
    assert lint(path, LintConfig(ignore=["W1"])) == []
    assert len(lint(path, LintConfig(select=["W11"]))) == 2
    assert run("lint", "--format", "json", "--select", "W111", str(path)).output.strip() == "[]"
    assert run("lint", "--format", "json", "--ignore", "W110", str(path)).output.strip() == "[]"


def test_suppression_comments(tmp_path: Path) -> None:
    vague = "    optional terms: Uses appropriate terminology.\n"
    assert codes(write(tmp_path, BASE + vague)) == ["W110"]
    assert codes(write(tmp_path, BASE + "    # rubric: ignore[W110]\n" + vague)) == []
    assert codes(write(tmp_path, BASE + "    # rubric: ignore[W104, W110]\n    # a note\n" + vague)) == []
    assert codes(write(tmp_path, BASE + "    # rubric: ignore[ALL]\n" + vague)) == []
    assert codes(write(tmp_path, BASE + "    # rubric: ignore[W111]\n" + vague)) == ["W110"]
    # Only comment lines directly above count: a blank line or an item in between ends the block.
    assert codes(write(tmp_path, BASE + "    # rubric: ignore[W110]\n\n" + vague)) == ["W110"]
    # Errors are never suppressed.
    bad = BASE + "    # rubric: ignore[ALL]\n    pitfall 2 wrong: States a ratio of 2.\n"
    assert codes(write(tmp_path, bad)) == ["E209"]


def test_pyproject_configuration(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "    optional terms: Uses appropriate terminology.\n")
    assert json.loads(run("lint", "--format", "json", str(path)).output)[0]["code"] == "W110"
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl.lint]\nignore = ["W110"]\nmin-items = 4\n')
    found = json.loads(run("lint", "--format", "json", str(path)).output)
    assert [d["code"] for d in found] == ["W108"] and "fewer than 4" in found[0]["message"]
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl.lint]\nselect = ["W117"]\nmax-words = 16\n')
    found = json.loads(run("lint", "--format", "json", str(path)).output)
    assert [(d["code"], d["line"]) for d in found] == [("W117", 4)]  # 17 words > 16; line 5 has 12
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl.lint]\nmax-items = 1\nselect = ["W109"]\n')
    assert [d["code"] for d in json.loads(run("lint", "--format", "json", str(path)).output)] == ["W109"]
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl.lint]\nmin-itemz = 1\n')
    broken = run("lint", str(path))
    assert broken.exit_code == 2 and "min-itemz" in broken.output


# ---------------------------------------------------------------- the command line


def test_lint_exit_codes(tmp_path: Path) -> None:
    clean = FIXTURES / "W110_pass.rubric"
    warned = FIXTURES / "W110_fail.rubric"
    assert run("lint", str(clean)).exit_code == 0
    assert run("lint", "--strict", str(clean)).exit_code == 0
    done = run("lint", str(warned))
    assert done.exit_code == 0 and "W110" in done.output and "help:" in done.output
    assert run("lint", "--strict", str(warned)).exit_code == 1
    broken = write(tmp_path, "rubric r:\n    hard 3 x: The answer is at most 5 words.\n")
    assert run("lint", str(broken)).exit_code == 1
    assert run("lint", str(tmp_path / "missing.rubric")).exit_code == 2


def test_lint_json_and_github_formats() -> None:
    path = FIXTURES / "W106_fail.rubric"
    found = json.loads(run("lint", "--format", "json", str(path)).output)
    keys = {"code", "severity", "path", "line", "column", "end_line", "end_column", "message", "hint"}
    assert all(set(d) == keys for d in found) and len(found) == 2
    first = found[0]
    assert (first["code"], first["severity"], first["line"], first["column"], first["end_column"]) == \
        ("W106", "warning", 6, 15, 16)
    assert first["path"].endswith("W106_fail.rubric") and first["hint"]
    github = run("lint", "--format", "github", str(path)).output.strip().split("\n")
    assert len(github) == 2 and all(line.startswith("::warning file=") for line in github)
    assert "line=6,col=15,endLine=6,endColumn=16,title=W106::" in github[0]


def test_lint_a_directory_of_fixtures_reports_every_code() -> None:
    found = json.loads(run("lint", "--format", "json", str(FIXTURES)).output)
    assert {d["code"] for d in found} == set(CODES)
    assert all(Path(d["path"]).name.endswith("_fail.rubric") for d in found)


def test_rules_command_lists_and_explains() -> None:
    listing = run("rules")
    assert listing.exit_code == 0
    for rule in RULES:
        assert f"{rule.code}  {rule.name}" in listing.output
    one = run("rules", "W105")
    assert one.exit_code == 0 and one.output.startswith("W105 inverted-pitfall") and "Instead:" in one.output
    assert run("rules", "inverted-pitfall").output == one.output
    assert run("rules", "W999").exit_code == 2


# ---------------------------------------------------------------- docs/rules.md


def test_docs_rules_md_is_generated_from_the_table() -> None:
    assert DEFAULT_OUTPUT == ROOT / "docs" / "rules.md"
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == render_rules_markdown(), (
        "docs/rules.md is out of date: run `python -m rubricdsl.lint.docs` and commit the result"
    )


def test_docs_have_a_section_per_rule(tmp_path: Path) -> None:
    page = render_rules_markdown()
    for rule in RULES:
        assert f"## {rule.code} `{rule.name}`" in page and rule.summary in page
    assert "# rubric: ignore[" in page and "[tool.rubricdsl.lint]" in page
    assert write_docs([str(tmp_path / "rules.md")]) == 0
    assert (tmp_path / "rules.md").read_text(encoding="utf-8") == page
