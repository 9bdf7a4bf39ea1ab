"""`rubric import` and `rubric export` as a user runs them: exit codes, files, messages (in process through
click, and once as a real subprocess to see the commands registered on `rubric`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from rubricdsl.cli import main

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "formats"
TWO = """\
rubric first:
    prompt: P
    hard short: Is short.
        check: words <= 10
    essential right: Is right.

rubric second:
    criterion 2 fine: Is fine.
"""


class Done:
    def __init__(self, result: Result) -> None:
        self.returncode = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


def rubric(*args: str) -> Done:
    return Done(CliRunner().invoke(main, list(args)))


def test_import_writes_canonical_text_that_lints_and_formats(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "hb.rubric"
    done = subprocess.run([sys.executable, "-m", "rubricdsl", "import", "--from", "healthbench",
                           str(corpus / "healthbench/healthbench_30.jsonl"), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "not carried over: `ideal_completions_data`" in done.stderr
    assert rubric("fmt", "--check", str(out)).returncode == 0
    assert rubric("lint", str(out)).returncode == 0
    assert len(re.findall(r"^rubric ", out.read_text(encoding="utf-8"), flags=re.MULTILINE)) == 30


def test_import_prints_to_stdout_and_strict_refuses_losses(tmp_path: Path) -> None:
    done = rubric("import", "--from", "openrubrics", str(SAMPLES / "openrubrics_museum.txt"), "--name", "museum")
    assert done.returncode == 0 and done.stdout.startswith("rubric museum:\n") and done.stderr == ""
    out = tmp_path / "p.rubric"
    rows = str(SAMPLES / "prometheus_rows.jsonl")
    strict = rubric("import", "--from", "prometheus", rows, "--strict", "-o", str(out))
    assert strict.returncode == 1 and "`orig_feedback`" in strict.stderr and "--strict" in strict.stderr
    assert not out.exists()


def test_import_errors_and_usage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = rubric("import", "--from", "paperbench", str(bad))
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert rubric("import", "--from", "paperbench", str(tmp_path / "missing.json")).returncode == 2
    assert rubric("import", "--from", "nosuch", str(bad)).returncode == 2
    assert rubric("import", "--from", "rar", str(bad), "--name", "Bad Name").returncode == 2


def test_export_picks_rubrics_and_reports_losses(tmp_path: Path) -> None:
    source = tmp_path / "two.rubric"
    source.write_text(TWO, encoding="utf-8")
    several = rubric("export", "--to", "paperbench", str(source))
    assert several.returncode == 1 and "`first`, `second`" in several.stderr
    one = rubric("export", "--to", "paperbench", str(source), "--rubric", "second")
    assert one.returncode == 0 and json.loads(one.stdout)["sub_tasks"][0]["id"] == "fine"
    lossy = rubric("export", "--to", "rar", str(source), "--rubric", "first", "-o", str(tmp_path / "r.json"))
    assert lossy.returncode == 0 and "`hard` items have no place in RaR: left out: first.short" in lossy.stderr
    assert "`prompt:`" not in lossy.stderr
    strict = rubric("export", "--to", "rar", str(source), "--rubric", "first", "--strict")
    assert strict.returncode == 1 and strict.stdout == ""
    both = rubric("export", "--to", "json", str(source))
    assert both.returncode == 0 and [ir["name"] for ir in json.loads(both.stdout)] == ["first", "second"]


def test_export_of_an_invalid_file_shows_its_diagnostics(tmp_path: Path) -> None:
    source = tmp_path / "bad.rubric"
    source.write_text("rubric r:\n    pitfall 2 x: Wrong sign.\n", encoding="utf-8")
    done = rubric("export", "--to", "json", str(source))
    assert done.returncode == 1 and "E209" in done.stderr
    assert rubric("export", "--to", "json", str(tmp_path / "missing.rubric")).returncode == 2
    nothing = tmp_path / "hard.rubric"
    nothing.write_text("rubric r:\n    hard h: Holds.\n", encoding="utf-8")
    done = rubric("export", "--to", "prometheus", str(nothing))
    assert done.returncode == 1 and "no scale item" in done.stderr


def test_export_reads_the_configured_root(tmp_path: Path) -> None:
    """`[tool.rubricdsl] root` lets a file import from above its own folder, for export as for compile."""
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl]\nroot = "."\n')
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "style.rubric").write_text("principles style:\n    principle clarity: Is clear.\n")
    (tmp_path / "sets").mkdir()
    rubric_file = tmp_path / "sets" / "r.rubric"
    rubric_file.write_text(
        'import "../shared/style.rubric"\n\nrubric r:\n    essential a: States the law.\n    use style\n'
    )
    from click.testing import CliRunner

    from rubricdsl.cli import main

    done = CliRunner().invoke(main, ["export", "--to", "json", str(rubric_file)])
    assert done.exit_code == 0, done.output
    assert '"clarity"' in done.output
