"""Properties of the aggregator over random rubric trees (hypothesis).

- the reward stays in the range for positive, minmax, mean, all, and for abs/sum with non-negative weights;
- it is monotone: non-decreasing in a positive item's credit, non-increasing in a pitfall's;
- multiplying every weight by c > 0 changes nothing;
- `aggregate_many` equals `aggregate` on every row (NaN exactly where the scalar grade raises).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rubricdsl.ir import ItemIR, LevelIR, RubricIR, ScoringIR
from rubricdsl.scoring import GradingError, aggregate, aggregate_many
from rubricdsl.scoring.rules import method_normalize, term_for

NICE = [0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0]
KINDS = ["hard", "principle", "essential", "important", "optional", "pitfall", "criterion", "scale"]
LEVELS = tuple(LevelIR(level=k, text=str(k)) for k in range(1, 6))
CREDITS = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, 1 / 3, 2 / 3]),
    st.floats(0.0, 1.0, allow_subnormal=False),
    st.just(math.nan),
)
# Credits with few digits: scaling weights by 2^k keeps every product exact (no underflow to subnormals).
ROUND_CREDITS = st.one_of(st.integers(0, 1000).map(lambda k: k / 1000), st.just(math.nan))
PROPS = settings(max_examples=300, deadline=None)


def _weight(draw: st.DrawFn, kind: str, signs: str) -> float | None:
    if kind == "hard":
        return None
    w = draw(st.sampled_from(NICE))
    if kind == "pitfall" or (kind == "criterion" and signs == "any" and draw(st.booleans())):
        return -w
    if kind == "group" and draw(st.integers(0, 9)) == 0:
        return 0.0
    return w


@st.composite
def _level(draw: st.DrawFn, depth: int, names: Iterator[int], signs: str) -> tuple[ItemIR, ...]:
    kinds = KINDS + (["group"] if depth < 3 else [])
    if signs == "nonneg":
        kinds.remove("pitfall")
    items = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        extra: dict[str, Any] = {}
        if kind == "group":
            extra["items"] = draw(_level(depth + 1, names, signs))
        if kind == "scale":
            extra["levels"] = LEVELS
        weight = _weight(draw, kind, signs)
        items.append(ItemIR(name=f"i{next(names)}", kind=kind, weight=weight, text="t", **extra))  # type: ignore[arg-type]
    return tuple(items)


SCORINGS = st.builds(
    ScoringIR,
    method=st.sampled_from(["weighted", "weighted", "rar_explicit", "all", "mean"]),
    normalize=st.sampled_from(["positive", "healthbench", "minmax", "sum", "abs"]),
    gate=st.sampled_from(["zero", "cap", "none"]),
    on_na=st.sampled_from(["skip", "zero", "fail"]),
    range=st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (0.0, 10.0)]),
)


@st.composite
def rubrics(draw: st.DrawFn, signs: str = "any", scoring: Any = SCORINGS) -> RubricIR:
    chosen: ScoringIR = draw(scoring)
    lo, hi = chosen.range
    chosen = chosen.model_copy(update={"hard_fail": draw(st.sampled_from([lo, hi, (lo + hi) / 2]))})
    items = draw(_level(0, itertools.count(), signs))
    return RubricIR(name="random", title="random", items=items, scoring=chosen)


def rows_for(draw: st.DrawFn, rubric: RubricIR, credits: Any = CREDITS, max_rows: int = 8) -> np.ndarray:
    width = len(rubric.leaves())
    rows = draw(st.lists(st.lists(credits, min_size=width, max_size=width), min_size=1, max_size=max_rows))
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def scalar(rubric: RubricIR, row: np.ndarray) -> float | None:
    """The scalar reward of one matrix row, None when grading raises."""
    try:
        verdicts = {leaf.name: float(c) for leaf, c in zip(rubric.leaves(), row, strict=True)}
        result = aggregate(rubric, verdicts)
    except GradingError:
        return None
    assert result.reward is not None
    return result.reward


# -- aggregate_many == aggregate -------------------------------------------------------------------


@PROPS
@given(data=st.data(), rubric=rubrics())
def test_vectorised_equals_scalar(data: st.DataObject, rubric: RubricIR) -> None:
    rows = rows_for(data.draw, rubric)
    many = aggregate_many(rubric, rows)
    for row, value in zip(rows, many, strict=True):
        expected = scalar(rubric, row)
        if expected is None:
            assert math.isnan(value)
        else:
            assert value == expected  # same operations in the same order: equal, not close


@PROPS
@given(data=st.data(), rubric=rubrics())
def test_vectorised_equals_scalar_across_chunks(data: st.DataObject, rubric: RubricIR) -> None:
    import rubricdsl.scoring.vectorized as vectorized

    rows = rows_for(data.draw, rubric, max_rows=12)
    whole = aggregate_many(rubric, rows)
    original, vectorized.CHUNK_ROWS = vectorized.CHUNK_ROWS, 5
    try:
        chunked = aggregate_many(rubric, rows)
    finally:
        vectorized.CHUNK_ROWS = original
    np.testing.assert_array_equal(whole, chunked)


# -- range -----------------------------------------------------------------------------------------


def _in_range(rubric: RubricIR, value: float | None, widen: float = 0.0) -> None:
    if value is None:
        return
    lo, hi = rubric.scoring.range
    assert lo - widen * (hi - lo) - 1e-12 <= value <= hi + 1e-12


@PROPS
@given(data=st.data(), rubric=rubrics())
def test_reward_in_range_any_weights(data: st.DataObject, rubric: RubricIR) -> None:
    s = rubric.scoring
    for row in rows_for(data.draw, rubric):
        value = scalar(rubric, row)
        if s.method in ("mean", "all") or (s.method == "weighted" and s.normalize in ("positive", "minmax")):
            _in_range(rubric, value)
        elif s.method == "weighted" and s.normalize == "abs":
            _in_range(rubric, value, widen=1.0)  # S / Σ|w| lies in [-1, 1]


@PROPS
@given(data=st.data(), rubric=rubrics(signs="nonneg"))
def test_reward_in_range_nonneg_weights(data: st.DataObject, rubric: RubricIR) -> None:
    for row in rows_for(data.draw, rubric):
        _in_range(rubric, scalar(rubric, row))  # every method and normalisation


# -- monotonicity ----------------------------------------------------------------------------------


def _levels(items: tuple[ItemIR, ...]) -> Iterator[tuple[ItemIR, ...]]:
    yield items
    for item in items:
        if item.items:
            yield from _levels(item.items)


def _sum_well_defined(rubric: RubricIR) -> bool:
    """Under `sum` (and RaR's sum), S / Σw only grows with S when Σw > 0 at every level."""
    if method_normalize(rubric.scoring) != "sum":
        return True
    for level in _levels(rubric.items):
        weights = [term_for(i, rubric.scoring.method).weight for i in level if i.kind != "hard"]
        if any(weights) and sum(weights) <= 0:
            return False
    return True


@PROPS
@given(data=st.data(), rubric=rubrics())
def test_monotone_in_each_item(data: st.DataObject, rubric: RubricIR) -> None:
    assume(_sum_well_defined(rubric))
    leaves = rubric.leaves()
    weighted = [j for j, leaf in enumerate(leaves) if leaf.kind != "hard"]
    assume(weighted)
    j = data.draw(st.sampled_from(weighted))
    row = rows_for(data.draw, rubric, credits=st.floats(0.0, 1.0, allow_subnormal=False), max_rows=1)[0]
    low, high = sorted(data.draw(st.lists(st.floats(0.0, 1.0, allow_subnormal=False), min_size=2, max_size=2)))
    row_low, row_high = row.copy(), row.copy()
    row_low[j], row_high[j] = low, high
    r_low, r_high = scalar(rubric, row_low), scalar(rubric, row_high)
    assume(r_low is not None and r_high is not None)
    assert r_low is not None and r_high is not None
    if (leaves[j].weight or 0.0) > 0:
        assert r_high >= r_low - 1e-12
    else:
        assert r_high <= r_low + 1e-12


# -- scale invariance ------------------------------------------------------------------------------


def _scaled(items: tuple[ItemIR, ...], c: float) -> tuple[ItemIR, ...]:
    out = []
    for item in items:
        update: dict[str, Any] = {}
        if item.weight is not None:
            update["weight"] = item.weight * c
        if item.items:
            update["items"] = _scaled(item.items, c)
        out.append(item.model_copy(update=update))
    return tuple(out)


NOT_RAR = SCORINGS.filter(lambda s: s.method != "rar_explicit")  # RaR fixes category weights


@PROPS
@given(data=st.data(), rubric=rubrics(scoring=NOT_RAR), k=st.integers(-6, 6))
def test_scale_invariance_exact_for_powers_of_two(data: st.DataObject, rubric: RubricIR, k: int) -> None:
    scaled = rubric.model_copy(update={"items": _scaled(rubric.items, 2.0**k)})
    for row in rows_for(data.draw, rubric, credits=ROUND_CREDITS):
        assert scalar(scaled, row) == scalar(rubric, row)


@PROPS
@given(data=st.data(), rubric=rubrics(scoring=NOT_RAR), c=st.floats(0.01, 100.0))
def test_scale_invariance(data: st.DataObject, rubric: RubricIR, c: float) -> None:
    # With mixed signs, Σw under `sum` can cancel to ~0 with rounding that scaling changes: excluded.
    has_negative = any((i.weight or 0.0) < 0 for i in rubric.all_items())
    assume(not (has_negative and rubric.scoring.normalize == "sum" and rubric.scoring.method == "weighted"))
    scaled = rubric.model_copy(update={"items": _scaled(rubric.items, c)})
    for row in rows_for(data.draw, rubric):
        a, b = scalar(rubric, row), scalar(scaled, row)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
