"""What the judging tests share: the energy rubric of rubrics/physics.rubric and variants of its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rubricdsl
from rubricdsl.ir import RubricIR

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"
ENERGY_ITEMS = ["energy_conserved", "numeric_breakdown", "pendulum_example", "friction_ignored"]


def energy() -> RubricIR:
    return rubricdsl.load_rubric(RUBRICS / "physics.rubric")


def variant(rubric: RubricIR, *, judge: dict[str, Any] | None = None,
            scoring: dict[str, Any] | None = None) -> RubricIR:
    """The rubric with some `judge:` / `scoring:` settings changed (as if written in the file)."""
    return rubric.model_copy(update={
        "judge": rubric.judge.model_copy(update=judge or {}),
        "scoring": rubric.scoring.model_copy(update=scoring or {}),
    }).with_hash()
