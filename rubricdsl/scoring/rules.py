"""Rule tables shared by the scalar (`aggregate`) and vectorised (`aggregate_many`) paths.

Both paths read the same per-item facts from here (effective weight, whether a pitfall is scored as
avoided, the worst-case credit), so that they can only differ in how they add numbers up, never in what
the numbers mean. See docs/scoring.md for the sources and the decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rubricdsl.ir import ItemIR, ScoringIR

# RaR's experiment setting (Gunjal et al. 2025, Sec. 4): category weights replace the rubric's own.
RAR_WEIGHTS: dict[str, float] = {"essential": 1.0, "important": 0.7, "optional": 0.3, "pitfall": 0.9}

# A statement holds when its credit reaches this (majority of samples; "partly" counts as holding).
HOLD_THRESHOLD = 0.5


class GradingError(Exception):
    """A grade that cannot give a reward: undecided items under `on_error: raise`, or an undefined score.

    `items` names the items concerned (may be empty when the cause is the rubric's shape, e.g. P = 0).
    """

    def __init__(self, message: str, items: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.items: tuple[str, ...] = tuple(items)


@dataclass(frozen=True)
class Term:
    """How one weighted (non-hard) item enters S, P and N under the rubric's method."""

    weight: float
    avoided: bool  # RaR pitfall: scored with credit 1 - c
    worst: float  # the credit `fail` substitutes: 0 for positive weights, 1 for negative ones


def term_for(item: ItemIR, method: str) -> Term:
    """The effective weight of a weighted item (a leaf or a group) under `method`."""
    weight = float(item.weight) if item.weight is not None else 0.0
    worst = 1.0 if weight < 0 else 0.0
    if method == "rar_explicit" and item.kind in RAR_WEIGHTS:
        return Term(RAR_WEIGHTS[item.kind], item.kind == "pitfall", worst)
    if method in ("mean", "all"):
        # Both ignore weights: every positive item counts 1, every pitfall -1, a zero-weight group 0.
        return Term(float((weight > 0) - (weight < 0)), False, worst)
    return Term(weight, False, worst)


def substitute(policy: str, term: Term) -> float | None:
    """The credit an undecided item gets under a `skip`/`zero`/`fail` policy (None = leaves S, P, N)."""
    if policy == "skip":
        return None
    if policy == "zero":
        return 0.0
    if policy == "fail":
        return term.worst
    raise ValueError(f"unknown undecided policy {policy!r}")


def normalise(s: float, p: float, n: float, normalize: str) -> tuple[float | None, str]:
    """r from S, P, N (P + N > 0 or N < 0 is guaranteed by the caller); None with a reason if undefined."""
    if normalize == "minmax":
        return (s - n) / (p - n), ""
    if p == 0.0:
        if normalize == "positive":
            # Only pitfalls: 1 when none holds, down to 0 when all do.
            return min(max(1.0 + s / (-n), 0.0), 1.0), ""
        return None, f"normalize {normalize!r} is undefined with no positive weight (P = 0)"
    if normalize == "positive":
        return min(max(s / p, 0.0), 1.0), ""
    if normalize == "healthbench":
        return s / p, ""
    if normalize == "sum":
        total = p + n
        if total == 0.0:
            return None, "normalize 'sum' is undefined when the weights sum to 0"
        return s / total, ""
    if normalize == "abs":
        return s / (p - n), ""
    raise ValueError(f"unknown normalize {normalize!r}")


def method_normalize(scoring: ScoringIR) -> str:
    """The normalisation a method uses: its own for `rar_explicit` (sum) and `mean` (positive)."""
    if scoring.method == "rar_explicit":
        return "sum"
    if scoring.method in ("mean", "all"):
        return "positive"
    return scoring.normalize


def to_range(r: float, scoring: ScoringIR) -> float:
    lo, hi = scoring.range
    return lo + (hi - lo) * r


def clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)
