"""`rubricdsl.lint()` as a library call, and `rubric lint` on paths that hold no rubric."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUBRIC = "rubric r:\n    essential x: The answer names the capital.\n"


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_lint_can_be_called_again_after_the_lint_subpackage_is_imported(tmp_path: Path) -> None:
    """Importing `rubricdsl.lint` (the subpackage) used to replace the function `rubricdsl.lint`, so the
    second call raised "'module' object is not callable"."""
    (tmp_path / "r.rubric").write_text(RUBRIC)
    done = python(
        "import rubricdsl\n"
        "first = rubricdsl.lint('r.rubric')\n"
        "from rubricdsl.lint import RULES\n"
        "import rubricdsl.cli\n"
        "second = rubricdsl.lint('r.rubric')\n"
        "print(callable(rubricdsl.lint), len(RULES) > 0, [d.code for d in first] == [d.code for d in second])\n"
        "print(*[d.code for d in second])\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True True True", "W108"]


def test_lint_on_a_directory_without_rubrics_warns(tmp_path: Path) -> None:
    """Like ruff's "No Python files found": exit 0, but say that nothing was linted."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a rubric\n")
    done = subprocess.run(
        [sys.executable, "-m", "rubricdsl", "lint", "empty"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0
    assert done.stderr.strip() == "warning: no .rubric files found under empty" and done.stdout == ""


def test_lint_with_rubrics_does_not_warn(tmp_path: Path) -> None:
    (tmp_path / "r.rubric").write_text(RUBRIC)
    done = subprocess.run(
        [sys.executable, "-m", "rubricdsl", "lint", "."], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert "no .rubric files" not in done.stderr and "W108" in done.stdout
