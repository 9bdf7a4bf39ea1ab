"""Data-set statistics over graded responses: mean reward with a seeded bootstrap standard error, the gate's
pass rate and each item's hold rate (SCORING.md "Data-set statistics").

Failed grades (reward None, or NaN from `aggregate_many`) are left out of every statistic and counted in
`failed`. With `healthbench` normalisation the mean and every bootstrap mean are clipped to [0, 1], as
HealthBench reports them; the standard error is the population standard deviation of the 1000 bootstrap
means (numpy's default ddof=0, as in OpenAI's simple-evals).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from rubricdsl.ir import RubricIR
from rubricdsl.scoring.rules import method_normalize
from rubricdsl.scoring.verdicts import GradeResult

RESAMPLES = 1000
SEED = 0
# Bootstrap indices are drawn in blocks of at most this many, so memory stays bounded for large data sets.
_BLOCK = 1 << 22


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int  # responses given
    failed: int  # responses whose grade failed: excluded from everything below
    mean: float | None
    stderr: float | None
    gate_pass_rate: float | None = None
    hold_rates: dict[str, float | None] = {}
    resamples: int = RESAMPLES
    seed: int = SEED


def clips_mean(rubric: RubricIR | None) -> bool:
    """HealthBench's data-set clipping applies when the rubric's score is HealthBench's S / P."""
    return rubric is not None and method_normalize(rubric.scoring) == "healthbench"


def bootstrap_mean(
    rewards: npt.ArrayLike, *, clip: bool = False, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float | None, float | None]:
    """(mean, bootstrap standard error) of the finite rewards; (None, None) when there are none."""
    values = np.asarray(rewards, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None
    mean = float(values.mean())
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, _BLOCK // values.size))
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, block):
        k = min(block, resamples - start)
        idx = rng.integers(0, values.size, size=(k, values.size))
        means[start : start + k] = values[idx].mean(axis=1)
    if clip:
        mean = min(max(mean, 0.0), 1.0)
        means = np.clip(means, 0.0, 1.0)
    return mean, float(means.std())


def summarize_rewards(
    rewards: npt.ArrayLike | Sequence[float | None],
    rubric: RubricIR | None = None,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Summary:
    """Summary of bare rewards (e.g. `aggregate_many`'s output): NaN or None marks a failed grade."""
    values = np.asarray(rewards, dtype=np.float64).ravel()  # numpy reads None as NaN
    mean, stderr = bootstrap_mean(values, clip=clips_mean(rubric), resamples=resamples, seed=seed)
    failed = int(np.count_nonzero(~np.isfinite(values)))
    return Summary(n=values.size, failed=failed, mean=mean, stderr=stderr, resamples=resamples, seed=seed)


def summarize(
    results: Sequence[GradeResult],
    rubric: RubricIR | None = None,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Summary:
    """Summary of grade results; pass the rubric so that `healthbench` clipping applies."""
    graded = [r for r in results if r.reward is not None]
    base = summarize_rewards([r.reward for r in results], rubric, resamples=resamples, seed=seed)
    gate_rate = sum(r.gate == "open" for r in graded) / len(graded) if graded else None
    return base.model_copy(update={"gate_pass_rate": gate_rate, "hold_rates": hold_rates(graded)})


def hold_rates(results: Sequence[GradeResult]) -> dict[str, float | None]:
    """Per item (groups included), the share of its decided verdicts that hold; None if never decided."""
    held: dict[str, int] = {}
    decided: dict[str, int] = {}
    for result in results:
        for name, v in result.verdicts.items():
            held.setdefault(name, 0)
            decided.setdefault(name, 0)
            if v.holds is not None:
                decided[name] += 1
                held[name] += v.holds
    return {name: held[name] / decided[name] if decided[name] else None for name in held}
