"""Votes → verdicts: samples of one judge become a credit, several judges are combined, agreement measured.

Pure functions. A sample's decision is a vote: a bool (binary), `holds`/`partly`/`does_not` (ternary), a
level (scale items), `None` for "cannot assess" and a missing vote for a sample whose call failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ir import ItemIR
from ..scoring.verdicts import Verdict, credit_from_votes

NA = "cannot_assess"


def vote_of(decision: dict[str, Any]) -> Any:
    """The vote inside one decision object of the judge's reply."""
    if decision.get("cannot_assess"):
        return NA
    for key in ("holds", "answer", "level"):
        if key in decision:
            return decision[key]
    raise ValueError(f"a decision without holds/answer/level: {decision}")


def samples_verdict(item: ItemIR, votes: Sequence[Any], reasons: Sequence[str], errors: Sequence[str]) -> Verdict:
    """One judge's samples of one item → its verdict (mean credit over the samples that answered)."""
    answered = [v for v in votes if v != NA]
    reason = next((r for r in reasons if r), "")
    if answered:
        credit = credit_from_votes(item, list(answered))
        return Verdict(credit=credit, source="judge", reason=reason, votes=list(votes))
    if votes:
        return Verdict(undecided="na", source="judge", reason=reason, votes=list(votes))
    return Verdict(undecided="error", source="judge", error="; ".join(errors) or "the judge gave no answer")


def combine_judges(verdicts: dict[str, Verdict], how: str) -> Verdict:
    """Several judges' verdicts on one item → one verdict, keeping each judge's verdict.

    mean: the mean credit; majority: the lower median (a strict majority must hold); unanimous: the
    lowest credit; any: the highest. With credits of 0 and 1 these are the usual vote rules, and they
    extend to scale and ternary credits without a special case.
    """
    decided = {name: v for name, v in verdicts.items() if v.decided}
    if len(verdicts) == 1:
        return next(iter(verdicts.values()))
    if not decided:
        kinds = {v.undecided for v in verdicts.values()}
        why = "na" if kinds == {"na"} else "error"
        errors = "; ".join(f"{n}: {v.error}" for n, v in verdicts.items() if v.error)
        return Verdict(undecided=why, source="judge", error=errors or None, judges=verdicts)  # type: ignore[arg-type]
    credits = sorted(v.credit for v in decided.values() if v.credit is not None)
    if how == "mean":
        credit = sum(credits) / len(credits)
    elif how == "majority":
        credit = credits[(len(credits) - 1) // 2]
    elif how == "unanimous":
        credit = credits[0]
    else:
        credit = credits[-1]
    reason = next((v.reason for v in decided.values() if v.reason), "")
    votes = [vote for v in decided.values() for vote in v.votes]
    return Verdict(credit=credit, source="judge", reason=reason, votes=votes, judges=verdicts)


def all_agree(votes: Sequence[Any]) -> bool:
    return len({_as_key(v) for v in votes}) <= 1


def _as_key(vote: Any) -> Any:
    return vote if not isinstance(vote, float) else round(vote, 9)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two raters over the same items; None when it is undefined."""
    if len(a) != len(b) or not a:
        return None
    categories = sorted({_as_key(x) for x in (*a, *b)}, key=repr)
    n = len(a)
    observed = sum(_as_key(x) == _as_key(y) for x, y in zip(a, b, strict=True)) / n
    expected = sum((sum(_as_key(x) == c for x in a) / n) * (sum(_as_key(y) == c for y in b) / n) for c in categories)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def fleiss_kappa(ratings: Sequence[Sequence[Any]]) -> float | None:
    """Fleiss' kappa: `ratings[i]` are the raters' categories for item i (the same number of raters each)."""
    if not ratings or len({len(r) for r in ratings}) != 1 or len(ratings[0]) < 2:
        return None
    raters = len(ratings[0])
    categories = sorted({_as_key(x) for row in ratings for x in row}, key=repr)
    counts = [[sum(_as_key(x) == c for x in row) for c in categories] for row in ratings]
    per_item = [(sum(k * k for k in row) - raters) / (raters * (raters - 1)) for row in counts]
    observed = sum(per_item) / len(per_item)
    shares = [sum(row[j] for row in counts) / (len(ratings) * raters) for j in range(len(categories))]
    expected = sum(p * p for p in shares)
    return None if expected == 1 else (observed - expected) / (1 - expected)
