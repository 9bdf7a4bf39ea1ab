"""`rubric lint --fix` and `diagnostics.Fix`: the warnings with a safe edit (W112 unused import, W120
duplicate tag, W122 ignored weight) are fixed in place, what is left is reported, and a fixed file grades
exactly as before.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from rubricdsl import load
from rubricdsl.cli import main
from rubricdsl.config import LintConfig
from rubricdsl.diagnostics import Diagnostic, Fix, Span
from rubricdsl.lint import RULES, lint_paths
from rubricdsl.lint.fixes import apply_fixes

SHARED = "principles style:\n    principle clear: The answer is clear.\n"
BEFORE = """\
import "shared.rubric"

rubric capital:
    tags: geography, easy, Geography
    scoring:
        method: all
    essential 5 names: The answer names the capital.
    important 2: The answer is one sentence.
    optional spelled: The name is spelled correctly.
"""
AFTER = """\

rubric capital:
    tags: geography, easy
    scoring:
        method: all
    essential names: The answer names the capital.
    important: The answer is one sentence.
    optional spelled: The name is spelled correctly.
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def write(tmp_path: Path, text: str, newline: str = "\n") -> Path:
    (tmp_path / "shared.rubric").write_text(SHARED, encoding="utf-8")
    path = tmp_path / "capital.rubric"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def lint(path: Path, root: Path | None = None) -> list[Diagnostic]:
    return lint_paths([path], LintConfig(), root=root)[0]


def codes(path: Path) -> list[str]:
    return [d.code for d in lint(path)]


def test_fix_removes_unused_imports_duplicate_tags_and_ignored_weights(tmp_path: Path) -> None:
    path = write(tmp_path, BEFORE)
    assert {"W112", "W120", "W122"} <= set(codes(path))
    done = run("lint", "--fix", str(path))
    assert done.exit_code == 0, done.output
    assert path.read_text(encoding="utf-8") == AFTER
    assert "Fixed 4 finding(s)." in done.output
    assert not {"W112", "W120", "W122"} & set(codes(path))


def test_a_fixed_rubric_grades_as_before(tmp_path: Path) -> None:
    before = load(write(tmp_path, BEFORE))["capital"]
    run("lint", "--fix", str(tmp_path / "capital.rubric"))
    after = load(tmp_path / "capital.rubric")["capital"]
    assert [(i.name, i.kind) for i in after.items] == [(i.name, i.kind) for i in before.items]
    assert after.scoring == before.scoring and list(after.tags) == ["geography", "easy"]


def test_fix_keeps_crlf_line_endings_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + BEFORE, newline="\r\n")
    assert run("lint", "--fix", str(path)).exit_code == 0
    assert path.read_bytes() == ("\ufeff" + AFTER).replace("\n", "\r\n").encode("utf-8")


def test_fix_without_fixable_findings_leaves_the_file_alone(tmp_path: Path) -> None:
    text = "rubric r:\n    essential 5 x: The answer names the capital.\n"
    path = write(tmp_path, text)
    done = run("lint", "--fix", str(path))
    assert "Fixed 0 finding(s)." in done.output and "W108" in done.output
    assert path.read_text(encoding="utf-8") == text


def test_apply_fixes_edits_from_the_end_and_skips_overlaps() -> None:
    text = "abc def\nghi\n"
    fixes = [
        Fix(Span(1, 5, 1, 8), "XYZ"),
        Fix(Span(1, 6, 1, 7), "!"),  # inside the first: left for the next run
        Fix(Span(2, 1, 3, 1), ""),  # a whole line and its newline
        Fix(Span(1, 1, 1, 1), ">"),  # an insertion
    ]
    assert apply_fixes(text, fixes) == (">abc XYZ\n", 3)


def test_the_rules_marked_fixable_are_those_whose_findings_carry_a_fix() -> None:
    fixtures = Path(__file__).resolve().parent / "fixtures" / "lint"
    for rule in RULES:
        found = [d for d in lint(fixtures / f"{rule.code}_fail.rubric", fixtures) if d.code == rule.code]
        assert found and all((d.fix is not None) == rule.fixable for d in found), rule.code
    assert {r.code for r in RULES if r.fixable} == {"W112", "W120", "W122"}
