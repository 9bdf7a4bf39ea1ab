"""`rubric lint | fmt | compile | rules` as a user runs them: real subprocesses, exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = (
    "rubric r:\n    title: Energy\n\n    hard short: The response is at most 100 words.\n        check: words <= 100\n"
)


def rubric(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rubricdsl", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_compile_prints_the_ir(tmp_path: Path) -> None:
    (tmp_path / "r.rubric").write_text(GOOD)
    done = rubric("compile", str(tmp_path / "r.rubric"))
    assert done.returncode == 0, done.stderr
    ir = json.loads(done.stdout)
    assert ir["name"] == "r" and ir["items"][0]["check"] == "words <= 100" and ir["content_hash"].startswith("sha256:")


def test_compile_needs_a_rubric_name_when_there_are_several(tmp_path: Path) -> None:
    (tmp_path / "two.rubric").write_text(GOOD + "\nrubric s:\n    hard h: H.\n")
    done = rubric("compile", str(tmp_path / "two.rubric"))
    assert done.returncode == 1 and "E224" in done.stderr and "`r`, `s`" in done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(rubric("compile", str(tmp_path / "two.rubric"), "--rubric", "s").stdout)["name"] == "s"


def test_compile_errors_and_usage(tmp_path: Path) -> None:
    (tmp_path / "bad.rubric").write_text("rubric r:\n    Hard h: H.\n")
    done = rubric("compile", str(tmp_path / "bad.rubric"))
    assert done.returncode == 1 and "E106" in done.stderr and "help: keywords are lowercase" in done.stderr
    assert rubric("compile", str(tmp_path / "missing.rubric")).returncode == 2


def test_fmt_check_diff_and_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "r.rubric"
    path.write_text("rubric r:\n  Hard h:  x\n")
    broken = rubric("fmt", "--check", str(path))
    assert broken.returncode == 2 and "E106" in broken.stderr  # a syntax error: nothing to format
    path.write_text("rubric r:\n  essential 5 a:  States x.\n")
    check = rubric("fmt", "--check", str(tmp_path))
    assert check.returncode == 1 and "would reformat" in check.stdout
    diff = rubric("fmt", "--diff", str(path))
    assert diff.returncode == 1 and "+    essential a: States x." in diff.stdout
    assert path.read_text() == "rubric r:\n  essential 5 a:  States x.\n"
    assert rubric("fmt", str(path)).returncode == 0
    assert path.read_text() == "rubric r:\n    essential a: States x.\n"
    assert rubric("fmt", "--check", str(path)).returncode == 0


def test_lint_exit_codes_and_formats(tmp_path: Path) -> None:
    (tmp_path / "bad.rubric").write_text("rubric r:\n    pitfall 2 x: Claims it.\n")
    done = rubric("lint", "--format", "json", str(tmp_path / "bad.rubric"))
    assert done.returncode == 1
    (finding,) = [d for d in json.loads(done.stdout) if d["severity"] == "error"]
    assert (finding["code"], finding["line"], finding["column"], finding["hint"]) == ("E209", 2, 13, "did you mean -2?")
    github = rubric("lint", "--format", "github", str(tmp_path / "bad.rubric"))
    assert "::error file=" in github.stdout and "title=E209" in github.stdout
    assert rubric("lint", str(tmp_path / "nope")).returncode == 2


def test_rules_lists_and_explains(tmp_path: Path) -> None:
    listing = rubric("rules")
    assert listing.returncode == 0 and "W101" in listing.stdout
    one = rubric("rules", "W101")
    assert one.returncode == 0 and "Why:" in one.stdout
    assert rubric("rules", "W999").returncode == 2


@pytest.mark.parametrize("command", [["lint"], ["fmt", "--check"], ["compile"]])
def test_language_commands_import_no_provider_sdk(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "r.rubric"
    path.write_text(GOOD)
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['rubric', *{command!r}, {str(path)!r}]\n"
        "try:\n    runpy.run_module('rubricdsl', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('anthropic', 'openai', 'instructor', 'httpx'))\n"
        "print('LEAKED', leaked, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "LEAKED []" in done.stderr, done.stderr
