"""Golden compiled IR for every example rubric: a reviewed record of what each one means.

A change to the compiler, the defaults or an example shows up here as a diff to review
(`pytest tests/test_ir_golden.py --update-goldens`, then read `git diff tests/golden/ir`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rubricdsl import load
from rubricdsl.ir import RubricIR

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"
FILES = sorted(RUBRICS.rglob("*.rubric"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(RUBRICS)) for p in FILES])
def test_compiled_ir_matches_golden(path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    compiled = load(path, root=RUBRICS)
    for name, rubric in compiled.items():
        golden(f"ir/{name}.json", rubric.dumps() + "\n")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(RUBRICS)) for p in FILES])
def test_ir_round_trips_through_json(path: Path) -> None:
    for rubric in load(path, root=RUBRICS).values():
        again = RubricIR.from_json(rubric.to_json())
        assert again == rubric and again.compute_hash() == rubric.content_hash
