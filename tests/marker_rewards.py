"""What the reward-function tests share: the rubrics they grade and the reward the judge server's
`marker_oracle` implies for a completion, computed independently of any grader (through `aggregate`)."""

from __future__ import annotations

from pathlib import Path

from rubricdsl import load_rubric
from rubricdsl.checks import CheckContext
from rubricdsl.ir import RubricIR
from rubricdsl.parser import parse_check
from rubricdsl.scoring import Verdict, aggregate

ROOT = Path(__file__).resolve().parents[1]
PHYSICS = ROOT / "rubrics" / "physics.rubric"
ENERGY = load_rubric(PHYSICS, "energy_conservation")
INLINE = """rubric short_answer:
    essential names_energy: Names the form of energy at the bottom.
    pitfall wrong_units: Gives an energy in units other than joules.
"""
BREAK = "[judge-breaks-here]"  # a response the test servers answer with a fault


def oracle_reward(rubric: RubricIR, text: str) -> float | None:
    """The reward when an item holds exactly if `[NAME]` is in the text, and checks decide the rest."""
    verdicts = {}
    for leaf in rubric.leaves():
        if leaf.check:
            verdicts[leaf.name] = Verdict(holds=CheckContext(text).evaluate(parse_check(leaf.check)), source="check")
        else:
            verdicts[leaf.name] = Verdict(holds=f"[{leaf.name}]" in text, source="judge")
    return aggregate(rubric, verdicts).reward
