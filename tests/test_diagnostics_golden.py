"""Golden tests of rendered diagnostics: every error example of LANGUAGE.md, as a user sees it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rubricdsl.config import LintConfig
from rubricdsl.lint import lint_paths
from rubricdsl.render import render_json, render_many_text

CASES = sorted((Path(__file__).parent / "golden" / "diagnostics").glob("*.rubric"))


def _render(path: Path) -> str:
    cwd = os.getcwd()
    os.chdir(path.parent)  # paths in diagnostics are relative to the working directory
    try:
        diagnostics, texts = lint_paths([path.name], LintConfig(select=["E"]))
    finally:
        os.chdir(cwd)
    assert diagnostics, f"{path.name} should produce at least one error"
    assert all(d.is_error for d in diagnostics)
    return render_many_text(diagnostics, lambda p: texts.get(p or "")) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_rendered_diagnostics(case: Path, golden) -> None:  # type: ignore[no-untyped-def]
    golden(f"diagnostics/{case.stem}.txt", _render(case))


def _codes(name: str) -> list[tuple[str, int, int]]:
    path = Path(__file__).parent / "golden" / "diagnostics" / f"{name}.rubric"
    diagnostics, _ = lint_paths([path], LintConfig(select=["E"]))
    return [(d.code, d.span.line, d.span.column) for d in diagnostics]


def test_language_md_error_examples() -> None:
    """The examples of LANGUAGE.md "Errors", checked by code and exact position (independent of goldens)."""
    assert _codes("hard_uppercase") == [("E106", 2, 5)]
    assert _codes("esential") == [("E107", 2, 5)]
    assert _codes("pitfall_sign") == [("E209", 3, 13)]
    assert _codes("hard_weight") == [("E210", 2, 10)]
    assert _codes("item_outside") == [("E116", 1, 1)]
    assert _codes("unindented") == [("E116", 2, 1)]
    assert _codes("missing_colon") == [("E112", 2, 25)]
    assert _codes("use_unknown") == [("E201", 6, 9)]


def test_hints_say_what_to_write() -> None:
    path = Path(__file__).parent / "golden" / "diagnostics"
    diagnostics, _ = lint_paths([path], LintConfig(select=["E"]))
    hints = {d.code: d.hint for d in diagnostics}
    assert hints["E106"] == "keywords are lowercase: `hard`"
    assert hints["E107"] == "did you mean `essential`?"
    assert hints["E209"] == "did you mean -2?"
    messages = {d.code: d.message for d in diagnostics}
    assert messages["E210"] == "hard rules take no weight"
    assert "`nothere`" in messages["E201"] and "`style`" in (hints["E201"] or "")


def test_json_rendering_has_the_interface_keys() -> None:
    path = Path(__file__).parent / "golden" / "diagnostics" / "esential.rubric"
    diagnostics, _ = lint_paths([path], LintConfig(select=["E"]))
    import json

    (obj,) = json.loads(render_json(diagnostics))
    assert set(obj) == {"code", "severity", "path", "line", "column", "end_line", "end_column", "message", "hint"}
    assert (obj["line"], obj["column"], obj["end_column"], obj["severity"]) == (2, 5, 13, "error")
