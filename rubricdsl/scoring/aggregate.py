"""The scalar aggregator: a compiled rubric and one verdict per leaf item → one `GradeResult`.

A pure function (no I/O, deterministic) implementing SCORING.md exactly; `vectorized.aggregate_many`
mirrors it operation by operation. A rubric is scored level by level: each level (the rubric's top items,
or a group's children) has its own hard rules, which gate that level only, and weighted items, a group
being one weighted item whose credit is its children's score. docs/scoring.md lists every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from rubricdsl.ir import ItemIR, RubricIR, ScoringIR, iter_leaves
from rubricdsl.scoring.rules import (
    HOLD_THRESHOLD,
    GradingError,
    Term,
    clip01,
    method_normalize,
    normalise,
    substitute,
    term_for,
    to_range,
)
from rubricdsl.scoring.verdicts import GradeResult, Usage, Verdict, to_verdict

Status = Literal["ok", "empty", "error"]


@dataclass
class _Level:
    """The score of one level before its gate: `r` is set when `status` is ok."""

    status: Status
    r: float | None
    why: str
    s: float
    p: float
    n: float
    gate_open: bool
    share: float | None  # share of this level's hard rules that hold; None when it has none


@dataclass
class _Ctx:
    scoring: ScoringIR
    given: dict[str, Verdict]
    groups: dict[str, Verdict] = field(default_factory=dict)
    undecided: dict[str, str] = field(default_factory=dict)


def aggregate(
    rubric: RubricIR,
    verdicts: Mapping[str, object],
    *,
    model: str | None = None,
    usage: Usage | None = None,
    judge_calls: int = 0,
) -> GradeResult:
    """Score one response from its leaf verdicts (bool, credit, level, None or Verdict per leaf name).

    Raises ValueError for a missing, unknown or malformed verdict, and GradingError when no reward can
    be given (undecided items under `on_error: raise`, or a score that is undefined, e.g. P = 0 with sum).
    """
    given = _read_verdicts(rubric, verdicts)
    _raise_on_errors(rubric.scoring, given)
    ctx = _Ctx(rubric.scoring, given)
    top = _level(rubric.items, ctx)
    reward = _root_reward(top, rubric.scoring, ctx)
    every = {**given, **ctx.groups}
    return GradeResult(
        reward=reward,
        gate="open" if top.gate_open else "closed",
        S=top.s,
        P=top.p,
        N=top.n,
        verdicts={it.name: every[it.name] for it in rubric.all_items()},
        undecided=ctx.undecided,
        content_hash=rubric.content_hash or rubric.compute_hash(),
        rubric=rubric.name,
        model=model,
        usage=usage if usage is not None else Usage(),
        judge_calls=judge_calls,
    )


def failed_result(
    rubric: RubricIR,
    error: str | Exception,
    *,
    verdicts: Mapping[str, Verdict] | None = None,
    model: str | None = None,
    usage: Usage | None = None,
    judge_calls: int = 0,
) -> GradeResult:
    """The result of a grade that raised: reward None (TRL's "no reward"), gate closed, S = P = N = 0.

    Undecided verdicts are listed with their reason, and a GradingError's other items as having failed, so
    that the result still says which items failed and why.
    """
    items = error.items if isinstance(error, GradingError) else ()
    undecided = {name: v.error or v.undecided or "" for name, v in (verdicts or {}).items() if not v.decided}
    undecided.update({name: "error: grading raised" for name in items if name not in undecided})
    return GradeResult(
        reward=None,
        gate="closed",
        S=0.0,
        P=0.0,
        N=0.0,
        verdicts=dict(verdicts or {}),
        undecided=undecided,
        content_hash=rubric.content_hash or rubric.compute_hash(),
        rubric=rubric.name,
        model=model,
        usage=usage if usage is not None else Usage(),
        judge_calls=judge_calls,
        error=str(error),
    )


def _read_verdicts(rubric: RubricIR, verdicts: Mapping[str, object]) -> dict[str, Verdict]:
    leaves = rubric.leaves()
    names = {leaf.name for leaf in leaves}
    groups = {it.name for it in rubric.all_items() if it.kind == "group"}
    for key in verdicts:
        if key in groups:
            raise ValueError(f"item {key!r} is a group: its verdict is computed from its children, not given")
        if key not in names:
            raise ValueError(f"rubric {rubric.name!r} has no item {key!r}")
    missing = [leaf.name for leaf in leaves if leaf.name not in verdicts]
    if missing:
        raise ValueError(f"rubric {rubric.name!r}: no verdict for {', '.join(missing)}")
    return {leaf.name: to_verdict(leaf, verdicts[leaf.name]) for leaf in leaves}


def _raise_on_errors(scoring: ScoringIR, given: dict[str, Verdict]) -> None:
    # `raise` covers hard rules too: an error is never turned into a closed gate (a silent hard_fail).
    failed = [name for name, v in given.items() if v.undecided == "error"]
    if failed and scoring.on_error == "raise":
        detail = ", ".join(f"{name} ({given[name].error or 'error'})" for name in failed)
        raise GradingError(f"undecided items (on_error: raise): {detail}", failed)


def _describe(v: Verdict, action: str) -> str:
    return f"{v.undecided}{f' ({v.error})' if v.error else ''}: {action}"


def _hard_holds(item: ItemIR, ctx: _Ctx) -> bool:
    v = ctx.given[item.name]
    if v.credit is None:
        ctx.undecided[item.name] = _describe(v, "gate closed")
        return False
    return v.credit >= HOLD_THRESHOLD


def _leaf_credit(item: ItemIR, term: Term, ctx: _Ctx) -> float | None:
    v = ctx.given[item.name]
    if v.credit is not None:
        return v.credit
    policy = ctx.scoring.on_na if v.undecided == "na" else ctx.scoring.on_error
    credit = substitute(policy, term)
    ctx.undecided[item.name] = _describe(v, "skipped" if credit is None else f"credit {credit:g} ({policy})")
    return credit


def _group_credit(item: ItemIR, ctx: _Ctx) -> tuple[float | None, str]:
    """(credit or None when skipped, error reason); also records the group's computed verdict."""
    inner = _level(item.items or (), ctx)
    if ctx.scoring.gate == "zero" and not inner.gate_open:
        credit: float | None = 0.0
        ctx.groups[item.name] = Verdict(credit=0.0, source="group", reason="gate closed: a hard rule failed")
        return credit, ""
    if inner.status == "error":
        ctx.groups[item.name] = Verdict(undecided="error", error=inner.why, source="group")
        return None, f"group {item.name!r}: {inner.why}"
    if inner.status == "empty":
        # Every child already went through its own policy and left: the group leaves too.
        kind: Literal["na", "error"] = "na"
        if any(ctx.given[leaf.name].undecided == "error" for leaf in iter_leaves(item.items or ())):
            kind = "error"
        ctx.groups[item.name] = Verdict(undecided=kind, error=inner.why, source="group")
        ctx.undecided[item.name] = f"{kind}: every child undecided and skipped: skipped"
        return None, ""
    r = inner.r if inner.r is not None else 0.0
    if ctx.scoring.gate == "cap" and inner.share is not None:
        r = min(r, inner.share)
    credit = clip01(r)
    ctx.groups[item.name] = Verdict(credit=credit, source="group")
    return credit, ""


def _level(items: tuple[ItemIR, ...], ctx: _Ctx) -> _Level:
    held = [_hard_holds(it, ctx) for it in items if it.kind == "hard"]
    share = sum(held) / len(held) if held else None
    terms: list[tuple[float, float]] = []  # (weight, credit) of the items that stay in S, P, N
    errors: list[str] = []
    static = False  # does this level have any weighted item of non-zero weight at all?
    for it in items:
        if it.kind == "hard":
            continue
        term = term_for(it, ctx.scoring.method)
        static = static or term.weight != 0.0
        if it.kind == "group":
            credit, why = _group_credit(it, ctx)
            if why:
                errors.append(why)
        else:
            credit = _leaf_credit(it, term, ctx)
        if credit is not None:
            terms.append((term.weight, 1.0 - credit if term.avoided else credit))
    s = p = n = 0.0
    for w, c in terms:
        s += w * c
        if w > 0:
            p += w
        elif w < 0:
            n += w
    status, r, why = _score(terms, s, p, n, static, errors, ctx.scoring)
    return _Level(status, r, why, s, p, n, all(held), share)


def _score(
    terms: list[tuple[float, float]],
    s: float,
    p: float,
    n: float,
    static: bool,
    errors: list[str],
    scoring: ScoringIR,
) -> tuple[Status, float | None, str]:
    if errors:
        return "error", None, errors[0]
    if not static:
        # Hard rules only (or zero-weight groups only): the gate alone decides, top or bottom.
        return "ok", 1.0, ""
    if p == 0.0 and n == 0.0:
        return "empty", None, "no weighted item was decided"
    if scoring.method == "all":
        ok = all(c >= HOLD_THRESHOLD if w > 0 else c < HOLD_THRESHOLD for w, c in terms if w != 0.0)
        return "ok", 1.0 if ok else 0.0, ""
    r, why = normalise(s, p, n, method_normalize(scoring))
    return ("ok", r, "") if r is not None else ("error", None, why)


def _root_reward(top: _Level, scoring: ScoringIR, ctx: _Ctx) -> float:
    if scoring.gate == "zero" and not top.gate_open:
        return scoring.hard_fail
    if top.status == "error":
        raise GradingError(top.why)
    if top.status == "empty" or top.r is None:
        skipped = sorted(ctx.undecided)
        raise GradingError(f"nothing to score: every weighted item is undecided ({', '.join(skipped)})", skipped)
    r = top.r
    if scoring.gate == "cap" and top.share is not None:
        r = min(r, top.share)
    return to_range(r, scoring)
