"""Scoring: from item verdicts to one reward (SCORING.md). A pure core: no I/O, no judge, deterministic."""

from rubricdsl.scoring.aggregate import aggregate, failed_result
from rubricdsl.scoring.rules import RAR_WEIGHTS, GradingError
from rubricdsl.scoring.stats import Summary, bootstrap_mean, hold_rates, summarize, summarize_rewards
from rubricdsl.scoring.vectorized import aggregate_many
from rubricdsl.scoring.verdicts import GradeResult, Usage, Verdict, credit_from_votes, to_verdict

__all__ = [
    "RAR_WEIGHTS",
    "GradeResult",
    "GradingError",
    "Summary",
    "Usage",
    "Verdict",
    "aggregate",
    "aggregate_many",
    "bootstrap_mean",
    "credit_from_votes",
    "failed_result",
    "hold_rates",
    "summarize",
    "summarize_rewards",
    "to_verdict",
]
