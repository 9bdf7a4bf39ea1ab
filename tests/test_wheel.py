"""The grammar ships inside a built wheel: build it, install it into a fresh venv, run `rubric lint` there."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

# Needs a wheel build into a fresh venv: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_lints(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("rubricdsl-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Dependencies come from this interpreter's site-packages, appended after the venv's own, so the
    # package itself is the wheel's copy and not this checkout.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "r.rubric").write_text("rubric r:\n    essential a: States the law of conservation of energy.\n")
    where = subprocess.run(
        [str(python), "-c", "import rubricdsl.grammar as g; print(g.grammar_path())"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(purelib), where
    done = subprocess.run(
        [str(env_dir / "bin" / "rubric"), "compile", "r.rubric"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "RUBRICDSL_NO_PARSER_CACHE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "r"' in done.stdout
    lint = subprocess.run(
        [str(env_dir / "bin" / "rubric"), "lint", "--select", "E", "r.rubric"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
