"""Verdicts (one per item) and grade results (one per response), as SCORING.md defines them.

`to_verdict` is the one door through which loose values (a bool, a credit, a scale level, None) become
`Verdict`s, so every caller gets the same checks and the same error messages naming the item.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rubricdsl.ir import ItemIR
from rubricdsl.scoring.rules import HOLD_THRESHOLD

Source = Literal["judge", "check", "label", "group"]
TERNARY_CREDIT: dict[str, float] = {"holds": 1.0, "partly": 0.5, "does_not": 0.0}


class Verdict(BaseModel):
    """The decision on one item. Decided: `credit` in [0, 1] (and `holds`). Undecided: `undecided` set.

    Either of `holds` and `credit` fills the other (`holds` = credit >= 0.5, the samples' majority).
    A verdict may also carry only a `level` or only `votes`: `to_verdict` turns those into a credit,
    because that needs the item (its levels). `source` is `group` for the computed verdict of a group.
    """

    model_config = ConfigDict(extra="forbid")

    holds: bool | None = None
    credit: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    level: int | None = None
    source: Source = "label"
    reason: str = ""
    votes: list[Any] = Field(default_factory=list)
    undecided: Literal["na", "error"] | None = None
    error: str | None = None
    judges: dict[str, Verdict] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Verdict:
        if self.undecided is not None:
            if self.holds is not None or self.credit is not None or self.level is not None:
                raise ValueError("an undecided verdict has no holds, credit or level")
            return self
        if self.credit is None and self.holds is not None:
            self.credit = 1.0 if self.holds else 0.0
        if self.holds is None and self.credit is not None:
            self.holds = self.credit >= HOLD_THRESHOLD
        if self.credit is None and self.level is None and not self.votes:
            raise ValueError("a decided verdict needs holds, credit, level or votes")
        return self

    @property
    def decided(self) -> bool:
        return self.undecided is None


class Usage(BaseModel):
    """Judge token usage, summed over the calls made for one response."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in Usage.model_fields})


class GradeResult(BaseModel):
    """One graded response. `reward` is None when the grade failed (then `error` says why)."""

    model_config = ConfigDict(extra="forbid")

    reward: float | None
    gate: Literal["open", "closed"]
    S: float
    P: float
    N: float
    verdicts: dict[str, Verdict]
    undecided: dict[str, str] = Field(default_factory=dict)
    content_hash: str
    rubric: str
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    judge_calls: int = 0
    error: str | None = None

    def to_json_line(self) -> str:
        """One JSON object, no newline inside (for JSONL output)."""
        return self.model_dump_json()


def _bad(item: ItemIR, what: str) -> ValueError:
    return ValueError(f"item {item.name!r} ({item.kind}): {what}")


def _level_credit(item: ItemIR, level: int) -> float:
    span = item.credit_span
    if item.kind != "scale" or span is None or item.levels is None:
        raise _bad(item, f"level {level} given, but only scale items have levels")
    if level not in {lv.level for lv in item.levels}:
        raise _bad(item, f"level {level} is not declared (levels {span[0]}..{span[1]})")
    return (level - span[0]) / (span[1] - span[0])


def _vote_credit(item: ItemIR, vote: Any) -> float:
    if isinstance(vote, (bool, np.bool_)):
        return 1.0 if vote else 0.0
    if isinstance(vote, str):
        if vote not in TERNARY_CREDIT:
            raise _bad(item, f"vote {vote!r} is not one of {sorted(TERNARY_CREDIT)}")
        return TERNARY_CREDIT[vote]
    if isinstance(vote, Integral) and item.kind == "scale":
        return _level_credit(item, int(vote))
    if isinstance(vote, Real) and 0.0 <= float(vote) <= 1.0:
        return float(vote)
    raise _bad(item, f"vote {vote!r} is not a bool, a ternary answer, a level or a credit")


def credit_from_votes(item: ItemIR, votes: list[Any]) -> float:
    """Mean credit of the samples' answers (None votes, samples that failed, are left out)."""
    credits = [_vote_credit(item, v) for v in votes if v is not None]
    if not credits:
        raise _bad(item, "no sample gave an answer")
    return sum(credits) / len(credits)


def _complete(item: ItemIR, verdict: Verdict) -> Verdict:
    """Fill a Verdict's credit from its level or votes, checking them against the item."""
    if not verdict.decided:
        return verdict
    credit = verdict.credit
    if verdict.level is not None:
        from_level = _level_credit(item, verdict.level)
        if credit is not None and not math.isclose(credit, from_level, abs_tol=1e-12):
            raise _bad(item, f"credit {credit} disagrees with level {verdict.level} ({from_level})")
        credit = from_level
    elif credit is None:
        credit = credit_from_votes(item, verdict.votes)
    holds = verdict.holds if verdict.holds is not None else credit >= HOLD_THRESHOLD
    if credit == verdict.credit and holds == verdict.holds:
        return verdict
    return verdict.model_copy(update={"credit": credit, "holds": holds})


def to_verdict(item: ItemIR, value: object) -> Verdict:
    """Coerce `value` into the verdict on `item`.

    bool → holds; int → a level for scale items, else a credit of 0 or 1; float → a credit in [0, 1]
    (NaN → undecided `na`, as in `aggregate_many`); None → undecided `error` (no verdict obtained);
    a Verdict is checked against the item and completed. Anything else is a ValueError naming the item.
    """
    if item.kind == "group":
        raise _bad(item, "a group's verdict is computed from its children, not given")
    if isinstance(value, Verdict):
        return _complete(item, value)
    if value is None:
        return Verdict(undecided="error", error="no verdict given")
    if isinstance(value, (bool, np.bool_)):
        return Verdict(holds=bool(value))
    if isinstance(value, Integral):
        if item.kind == "scale":
            level = int(value)
            return Verdict(level=level, credit=_level_credit(item, level))
        if int(value) not in (0, 1):
            raise _bad(item, f"{value} is not a credit in [0, 1] (levels are for scale items only)")
        return Verdict(credit=float(int(value)))
    if isinstance(value, Real):
        credit = float(value)
        if math.isnan(credit):
            return Verdict(undecided="na")
        if not 0.0 <= credit <= 1.0:
            raise _bad(item, f"credit {credit} is outside [0, 1]")
        return Verdict(credit=credit)
    raise _bad(item, f"cannot read a verdict from {type(value).__name__} {value!r}")
