"""`aggregate_many`: the scalar aggregator applied to a matrix of credits, one row per response.

Columns are the rubric's leaf items in depth-first order (`rubric.leaves()`, hard rules and checks
included); a cell is a credit in [0, 1] or NaN for "undecided". A NaN is read as the judge's
`cannot assess` (`na`), exactly as `aggregate` reads a float NaN, so `on_na` decides it; `on_error`
never applies because a matrix cannot hold an error. A row whose scalar grade would raise GradingError
(e.g. nothing decided, or P = 0 under `sum`) gives NaN.

The tree is compiled once into a plan; rows are processed in cache-sized chunks, and within a chunk the
code loops over items only, doing the same float operations in the same order as `aggregate.py`, so the
results are equal to the scalar path, not merely close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rubricdsl.ir import ItemIR, RubricIR, ScoringIR
from rubricdsl.scoring.rules import HOLD_THRESHOLD, Term, method_normalize, substitute, term_for

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Rows per chunk: keeps a chunk's columns and temporaries in the CPU cache (tuned in bench/aggregate.py).
CHUNK_ROWS = 8192


@dataclass(frozen=True)
class _Entry:
    term: Term
    col: int  # the leaf's column, or -1 for a group
    child: _Node | None


@dataclass(frozen=True)
class _Node:
    hard: tuple[int, ...]
    entries: tuple[_Entry, ...]
    static: bool  # any weighted item of non-zero weight at this level


@dataclass
class _Arrays:
    r: Floats
    empty: Bools
    error: Bools
    gate_open: Bools
    share: Floats | None


def _plan(items: tuple[ItemIR, ...], columns: dict[str, int], method: str) -> _Node:
    hard = tuple(columns[it.name] for it in items if it.kind == "hard")
    entries = []
    for it in items:
        if it.kind == "hard":
            continue
        child = _plan(it.items or (), columns, method) if it.kind == "group" else None
        entries.append(_Entry(term_for(it, method), -1 if child is not None else columns[it.name], child))
    return _Node(hard, tuple(entries), any(e.term.weight != 0.0 for e in entries))


def aggregate_many(rubric: RubricIR, credits: npt.ArrayLike) -> Floats:
    """Rewards (float64, one per row) equal to `aggregate` row by row; NaN where it would raise."""
    leaves = rubric.leaves()
    x = np.asarray(credits, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(leaves):
        raise ValueError(
            f"rubric {rubric.name!r}: credits must have shape (responses, {len(leaves)}) "
            f"(one column per leaf item), got {x.shape}"
        )
    root = _plan(rubric.items, {leaf.name: j for j, leaf in enumerate(leaves)}, rubric.scoring.method)
    out = np.empty(x.shape[0], dtype=np.float64)
    for start in range(0, x.shape[0], CHUNK_ROWS):
        chunk = x[start : start + CHUNK_ROWS]
        _check_range(chunk, start, leaves)
        out[start : start + chunk.shape[0]] = _rewards(root, chunk, rubric.scoring)
    return out


def _check_range(chunk: Floats, start: int, leaves: list[ItemIR]) -> None:
    bad = (chunk < 0.0) | (chunk > 1.0)  # NaN compares False: undecided is allowed
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"item {leaves[col].name!r} (column {col}), row {start + row}: credit {chunk[row, col]} is outside [0, 1]"
        )


def _rewards(root: _Node, x: Floats, scoring: ScoringIR) -> Floats:
    top = _level(root, x, scoring)
    closed = ~top.gate_open if scoring.gate == "zero" else np.zeros(x.shape[0], dtype=bool)
    r = top.r
    if scoring.gate == "cap" and top.share is not None:
        r = np.minimum(r, top.share)
    lo, hi = scoring.range
    with np.errstate(invalid="ignore"):
        reward = lo + (hi - lo) * r
    reward = np.where(closed, scoring.hard_fail, reward)
    reward[(top.error | top.empty) & ~closed] = np.nan
    return reward


def _leaf(col: Floats, term: Term, scoring: ScoringIR) -> tuple[Floats, Bools | None]:
    """(credit, skipped) of one leaf column under `on_na`; skipped is None when no row is."""
    nan = np.isnan(col)
    if not nan.any():
        return col, None
    sub = substitute(scoring.on_na, term)
    if sub is None:
        return col, nan
    return np.where(nan, sub, col), None


def _group(node: _Node, x: Floats, scoring: ScoringIR) -> tuple[Floats, Bools | None, Bools]:
    """(credit, skipped, error) of a group: its children's gated score, clipped to [0, 1]."""
    inner = _level(node, x, scoring)
    closed = ~inner.gate_open if scoring.gate == "zero" else np.zeros(x.shape[0], dtype=bool)
    r = inner.r
    if scoring.gate == "cap" and inner.share is not None:
        r = np.minimum(r, inner.share)
    credit = np.where(closed, 0.0, np.clip(r, 0.0, 1.0))
    skipped = inner.empty & ~closed
    return credit, skipped if skipped.any() else None, inner.error & ~closed


def _gate(node: _Node, x: Floats) -> tuple[Bools, Floats | None]:
    m = x.shape[0]
    if not node.hard:
        return np.ones(m, dtype=bool), None
    held = np.ones(m, dtype=bool)
    count = np.zeros(m, dtype=np.float64)
    for j in node.hard:
        ok = x[:, j] >= HOLD_THRESHOLD  # NaN (undecided) does not hold: the gate closes
        held &= ok
        count += ok
    return held, count / len(node.hard)


def _level(node: _Node, x: Floats, scoring: ScoringIR) -> _Arrays:
    m = x.shape[0]
    gate_open, share = _gate(node, x)
    s, p, n = np.zeros(m), np.zeros(m), np.zeros(m)
    err = np.zeros(m, dtype=bool)
    all_ok = np.ones(m, dtype=bool) if scoring.method == "all" else None
    with np.errstate(invalid="ignore"):  # NaN credits only reach rows that are skipped or errors
        for e in node.entries:
            skipped: Bools | None
            if e.child is not None:
                c, skipped, child_err = _group(e.child, x, scoring)
                err |= child_err
            else:
                c, skipped = _leaf(x[:, e.col], e.term, scoring)
            if e.term.avoided:
                c = 1.0 - c
            _accumulate(s, p, n, all_ok, c, skipped, e.term.weight)
    if not node.static:
        return _Arrays(np.ones(m), np.zeros(m, dtype=bool), err, gate_open, share)
    empty = ~err & (p == 0.0) & (n == 0.0)
    if all_ok is not None:
        r, undefined = all_ok.astype(np.float64), np.zeros(m, dtype=bool)
    else:
        r, undefined = _normalise(s, p, n, method_normalize(scoring))
    return _Arrays(r, empty, err | (undefined & ~empty), gate_open, share)


def _accumulate(
    s: Floats, p: Floats, n: Floats, all_ok: Bools | None, c: Floats, skipped: Bools | None, w: float
) -> None:
    """Add one item to S, P, N (in place). Adding 0.0 for a skipped row leaves the sum bit-identical to
    the scalar path, which never adds the item at all."""
    if skipped is None:
        s += w * c
        if w > 0.0:
            p += w
        elif w < 0.0:
            n += w
    else:
        keep = ~skipped
        s += np.where(keep, w * c, 0.0)
        if w > 0.0:
            p += np.where(keep, w, 0.0)
        elif w < 0.0:
            n += np.where(keep, w, 0.0)
    if all_ok is not None and w != 0.0:
        holds = (c >= HOLD_THRESHOLD) if w > 0.0 else (c < HOLD_THRESHOLD)
        all_ok &= holds if skipped is None else (skipped | holds)


def _normalise(s: Floats, p: Floats, n: Floats, normalize: str) -> tuple[Floats, Bools]:
    """rules.normalise on arrays: (r, undefined). Rows that are empty are masked by the caller."""
    pzero = p == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "minmax":
            return (s - n) / (p - n), np.zeros(s.shape, dtype=bool)
        if normalize == "positive":
            only_pitfalls = np.clip(1.0 + s / (-n), 0.0, 1.0)
            return np.where(pzero, only_pitfalls, np.clip(s / p, 0.0, 1.0)), np.zeros(s.shape, dtype=bool)
        if normalize == "healthbench":
            return s / p, pzero
        if normalize == "sum":
            total = p + n
            return s / total, pzero | (total == 0.0)
        if normalize == "abs":
            return s / (p - n), pzero
    raise ValueError(f"unknown normalize {normalize!r}")
