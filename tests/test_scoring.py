"""SCORING.md's worked examples, number for number, and every scoring decision of docs/scoring.md.

Rubrics are built directly as IR (no parser). Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from rubricdsl.ir import ItemIR, LevelIR, RubricIR, ScoringIR
from rubricdsl.scoring import (
    GradeResult,
    GradingError,
    Usage,
    Verdict,
    aggregate,
    aggregate_many,
    bootstrap_mean,
    failed_result,
    summarize,
    summarize_rewards,
    to_verdict,
)


def it(kind: str, name: str, weight: float | None = None, **extra: Any) -> ItemIR:
    return ItemIR(name=name, kind=kind, weight=weight, text=f"{name}.", **extra)  # type: ignore[arg-type]


def rubric(*items: ItemIR, **scoring: Any) -> RubricIR:
    return RubricIR(name="r", title="r", items=items, scoring=ScoringIR(**scoring))


ENERGY = (
    it("essential", "energy_conserved", 5.0),
    it("important", "numeric_breakdown", 3.0),
    it("optional", "pendulum_example", 1.0),
    it("pitfall", "friction_ignored", -1.0),
    it("hard", "word_limit", check="words <= 250"),
)
ENERGY_VERDICTS: dict[str, Any] = {
    "energy_conserved": True,
    "numeric_breakdown": False,
    "pendulum_example": True,
    "friction_ignored": True,
    "word_limit": True,
}
MUSEUM = (
    it("hard", "five_artifacts"),
    it("hard", "distinct_origins"),
    it("hard", "significance"),
    it("principle", "clarity", 1.0),
    it("principle", "precision", 1.0),
    it("principle", "engagement", 2.0),
)
LIKERT = tuple(LevelIR(level=k, text=f"level {k}") for k in range(1, 6))


def energy(**scoring: Any) -> RubricIR:
    return rubric(*ENERGY, **scoring)


def reward(r: RubricIR, verdicts: dict[str, Any]) -> float:
    value = aggregate(r, verdicts).reward
    assert value is not None
    return value


# -- SCORING.md worked examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("normalize", "expected"),
    [
        ("positive", 5 / 9),  # S = 5 + 0 + 1 - 1 = 5, P = 9
        ("healthbench", 5 / 9),
        ("minmax", 0.6),  # (5 + 1) / (9 + 1)
        ("sum", 0.625),  # 5 / 8
        ("abs", 0.5),  # 5 / 10
    ],
)
def test_energy_conservation_normalisations(normalize: str, expected: float) -> None:
    result = aggregate(energy(normalize=normalize), ENERGY_VERDICTS)
    assert result.reward == pytest.approx(expected, abs=1e-12)
    assert (result.S, result.P, result.N) == (5.0, 9.0, -1.0)
    assert result.gate == "open"


def test_energy_conservation_rounded_as_published() -> None:
    assert round(reward(energy(), ENERGY_VERDICTS), 4) == 0.5556
    assert round(reward(energy(method="rar_explicit"), ENERGY_VERDICTS), 4) == 0.4483


def test_energy_conservation_rar_explicit() -> None:
    # essential 1.0·1 + important 0.7·0 + optional 0.3·1 + pitfall 0.9·(1 - 1) over 1.0 + 0.7 + 0.3 + 0.9
    result = aggregate(energy(method="rar_explicit"), ENERGY_VERDICTS)
    assert result.reward == pytest.approx(1.3 / 2.9, abs=1e-12)
    assert math.isclose(result.S, 1.3) and math.isclose(result.P, 2.9) and result.N == 0.0


@pytest.mark.parametrize("normalize", ["positive", "healthbench", "minmax", "sum", "abs"])
@pytest.mark.parametrize("method", ["weighted", "rar_explicit", "all", "mean"])
def test_failed_hard_rule_gives_zero_everywhere(normalize: str, method: str) -> None:
    result = aggregate(energy(normalize=normalize, method=method), {**ENERGY_VERDICTS, "word_limit": False})
    assert result.reward == 0.0
    assert result.gate == "closed"


def test_range_minus_one_to_one_with_minmax() -> None:
    r = energy(normalize="minmax", range=(-1.0, 1.0), hard_fail=-1.0)
    assert reward(r, ENERGY_VERDICTS) == pytest.approx(0.2, abs=1e-12)  # -1 + 2 · 0.6
    assert reward(r, {**ENERGY_VERDICTS, "word_limit": False}) == -1.0  # hard_fail is in output units


@pytest.mark.parametrize("normalize", ["positive", "minmax"])
def test_museum_with_style(normalize: str) -> None:
    verdicts = {"five_artifacts": True, "distinct_origins": True, "significance": True}
    verdicts |= {"clarity": True, "precision": True, "engagement": False}
    result = aggregate(rubric(*MUSEUM, normalize=normalize), verdicts)
    assert result.reward == pytest.approx(0.5, abs=1e-12)  # S = 2, P = 4, N = 0
    assert (result.S, result.P, result.N) == (2.0, 4.0, 0.0)


def test_three_samples_two_of_three() -> None:
    votes = Verdict(votes=[True, False, True], source="judge")
    result = aggregate(energy(), {**ENERGY_VERDICTS, "energy_conserved": votes})
    assert result.verdicts["energy_conserved"].credit == pytest.approx(2 / 3)
    assert math.isclose(result.S, 10 / 3)  # 5·(2/3) + 1 - 1
    assert result.reward == pytest.approx(10 / 27, abs=1e-12)  # 3.333 / 9
    assert round(result.reward or 0.0, 4) == 0.3704


def test_healthbench_reference_example() -> None:
    items = [it("criterion", f"c{k}", w) for k, w in enumerate((7.0, 5.0, 10.0, -6.0))]
    r = rubric(*items, normalize="healthbench")
    verdicts = {"c0": True, "c1": False, "c2": True, "c3": True}
    assert reward(r, verdicts) == pytest.approx(0.5, abs=1e-12)  # (7 + 10 - 6) / 22


# -- normalisations at their edges ----------------------------------------------------------------


def test_healthbench_is_not_clipped_per_response() -> None:
    r = rubric(it("criterion", "good", 7.0), it("criterion", "bad", -6.0), normalize="healthbench")
    assert reward(r, {"good": False, "bad": True}) == pytest.approx(-6 / 7)
    assert reward(rubric(*r.items), {"good": False, "bad": True}) == 0.0  # positive clips


def test_only_pitfalls_positive_and_minmax() -> None:
    items = (it("pitfall", "p1", -1.0), it("pitfall", "p2", -3.0))
    verdicts = {"p1": True, "p2": False}  # S = -1, P = 0, N = -4
    assert reward(rubric(*items), verdicts) == pytest.approx(0.75)  # 1 + S/|N|
    assert reward(rubric(*items, normalize="minmax"), verdicts) == pytest.approx(0.75)  # (S - N)/(P - N)
    assert reward(rubric(*items), {"p1": True, "p2": True}) == 0.0


@pytest.mark.parametrize("normalize", ["healthbench", "sum", "abs"])
def test_only_pitfalls_is_an_error_elsewhere(normalize: str) -> None:
    r = rubric(it("pitfall", "p1", -1.0), normalize=normalize)
    with pytest.raises(GradingError, match="P = 0"):
        aggregate(r, {"p1": False})
    assert np.isnan(aggregate_many(r, [[0.0]])[0])


def test_sum_with_weights_summing_to_zero_is_an_error() -> None:
    r = rubric(it("criterion", "a", 2.0), it("criterion", "b", -2.0), normalize="sum")
    with pytest.raises(GradingError, match="sum to 0"):
        aggregate(r, {"a": True, "b": False})


def test_sum_can_exceed_one_with_pitfalls_avoided() -> None:
    r = rubric(it("criterion", "a", 2.0), it("criterion", "b", -1.0), normalize="sum")
    assert reward(r, {"a": True, "b": False}) == 2.0  # S = 2, Σw = 1: RaR's plain weighted mean


def test_abs_value() -> None:
    r = rubric(it("criterion", "a", 2.0), it("pitfall", "b", -2.0), normalize="abs")
    assert reward(r, {"a": False, "b": True}) == -0.5  # S = -2 over Σ|w| = 4
    r = rubric(it("pitfall", "b", -2.0), it("criterion", "a", 2.0), normalize="abs")
    assert reward(r, {"a": True, "b": False}) == 0.5


# -- methods ---------------------------------------------------------------------------------------


def test_method_all() -> None:
    r = energy(method="all")
    assert reward(r, ENERGY_VERDICTS) == 0.0  # numeric_breakdown fails and the pitfall holds
    everything = {**ENERGY_VERDICTS, "numeric_breakdown": True, "friction_ignored": False}
    assert reward(r, everything) == 1.0
    assert reward(r, {**everything, "friction_ignored": True}) == 0.0


def test_method_mean() -> None:
    # 2 of 3 positive items hold (2/3), the pitfall holds (- 1/3): 1/3
    assert reward(energy(method="mean"), ENERGY_VERDICTS) == pytest.approx(1 / 3)
    none_hold = dict.fromkeys(ENERGY_VERDICTS, False) | {"word_limit": True, "friction_ignored": True}
    assert reward(energy(method="mean"), none_hold) == 0.0  # -1/3 clipped


def test_rar_explicit_ignores_rubric_weights_of_categories() -> None:
    doubled = tuple(i.model_copy(update={"weight": i.weight * 2}) if i.weight is not None else i for i in ENERGY)
    assert reward(rubric(*doubled, method="rar_explicit"), ENERGY_VERDICTS) == pytest.approx(1.3 / 2.9)


def test_rar_explicit_avoided_pitfall_counts_for() -> None:
    verdicts = {**ENERGY_VERDICTS, "friction_ignored": False}  # 1.0 + 0.3 + 0.9 = 2.2 of 2.9
    assert reward(energy(method="rar_explicit"), verdicts) == pytest.approx(2.2 / 2.9)


# -- gates -----------------------------------------------------------------------------------------


def test_gate_cap_and_none() -> None:
    items = (*ENERGY, it("hard", "cites_units"))
    verdicts = {**ENERGY_VERDICTS, "cites_units": False}
    assert reward(rubric(*items, gate="cap"), verdicts) == pytest.approx(0.5)  # min(5/9, 1/2)
    assert reward(rubric(*items, gate="cap"), {**verdicts, "cites_units": True}) == pytest.approx(5 / 9)
    result = aggregate(rubric(*items, gate="none"), verdicts)
    assert result.reward == pytest.approx(5 / 9) and result.gate == "closed"


def test_hard_rule_with_samples_holds_at_half() -> None:
    assert reward(energy(), {**ENERGY_VERDICTS, "word_limit": 2 / 3}) == pytest.approx(5 / 9)
    assert reward(energy(), {**ENERGY_VERDICTS, "word_limit": 0.5}) == pytest.approx(5 / 9)
    assert reward(energy(), {**ENERGY_VERDICTS, "word_limit": 1 / 3}) == 0.0


def test_hard_rules_only_score_top_or_bottom() -> None:
    r = rubric(it("hard", "a"), it("hard", "b"), range=(-1.0, 1.0), hard_fail=-1.0)
    assert reward(r, {"a": True, "b": True}) == 1.0
    assert reward(r, {"a": True, "b": False}) == -1.0


# -- undecided items -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "numeric", "friction"),
    [
        ("skip", 5 / 6, 6 / 9),  # numeric leaves: S = 5, P = 6; friction leaves: S = 6, P = 9
        ("zero", 5 / 9, 6 / 9),  # c = 0 either way
        ("fail", 5 / 9, 5 / 9),  # worst case: 0 for a positive item, 1 (mistake made) for a pitfall
    ],
)
def test_on_na(policy: str, numeric: float, friction: float) -> None:
    r = energy(on_na=policy)
    na = Verdict(undecided="na")
    result = aggregate(r, {**ENERGY_VERDICTS, "numeric_breakdown": na})
    assert result.reward == pytest.approx(numeric)
    assert "numeric_breakdown" in result.undecided
    assert reward(r, {**ENERGY_VERDICTS, "friction_ignored": na}) == pytest.approx(friction)


def test_on_error_raise_names_the_items() -> None:
    broken = {**ENERGY_VERDICTS, "numeric_breakdown": Verdict(undecided="error", error="timeout")}
    with pytest.raises(GradingError, match="numeric_breakdown") as info:
        aggregate(energy(), broken | {"pendulum_example": None})
    assert info.value.items == ("numeric_breakdown", "pendulum_example")
    assert reward(energy(on_error="skip"), broken) == pytest.approx(5 / 6)
    assert reward(energy(on_error="zero"), broken) == pytest.approx(5 / 9)


def test_undecided_hard_rule_closes_the_gate() -> None:
    na = {**ENERGY_VERDICTS, "word_limit": Verdict(undecided="na")}
    result = aggregate(energy(), na)
    assert result.reward == 0.0 and result.gate == "closed" and "word_limit" in result.undecided
    errored = {**ENERGY_VERDICTS, "word_limit": None}
    assert reward(energy(on_error="skip"), errored) == 0.0
    with pytest.raises(GradingError, match="word_limit"):
        aggregate(energy(), errored)  # raise wins: an error is never a silent hard_fail


def test_nothing_decided_is_an_error_unless_the_gate_is_closed() -> None:
    na = Verdict(undecided="na")
    undecided = {name: na for name in ENERGY_VERDICTS if name != "word_limit"}
    with pytest.raises(GradingError, match="nothing to score"):
        aggregate(energy(), {**undecided, "word_limit": True})
    assert reward(energy(), {**undecided, "word_limit": False}) == 0.0


def test_missing_unknown_and_group_verdicts_are_errors() -> None:
    partial = {k: v for k, v in ENERGY_VERDICTS.items() if k not in ("pendulum_example", "word_limit")}
    with pytest.raises(ValueError, match="no verdict for pendulum_example, word_limit"):
        aggregate(energy(), partial)
    with pytest.raises(ValueError, match="no item 'typo'"):
        aggregate(energy(), {**ENERGY_VERDICTS, "typo": True})
    r = rubric(it("group", "g", 1.0, items=(it("optional", "a", 1.0),)))
    with pytest.raises(ValueError, match="computed"):
        aggregate(r, {"a": True, "g": 1.0})


# -- scales, ternary, coercion ---------------------------------------------------------------------


def test_scale_credit() -> None:
    r = rubric(it("scale", "helpfulness", 2.0, levels=LIKERT), it("optional", "extra", 1.0))
    result = aggregate(r, {"helpfulness": 4, "extra": False})
    assert result.verdicts["helpfulness"].credit == 0.75  # (4 - 1) / (5 - 1)
    assert result.reward == pytest.approx(0.5)  # 2 · 0.75 / 3


def test_scale_with_negative_levels() -> None:
    levels = tuple(LevelIR(level=k, text=str(k)) for k in (-2, -1, 0, 1, 2))
    assert to_verdict(it("scale", "s", 1.0, levels=levels), -1).credit == 0.25


def test_ternary_votes() -> None:
    item = it("optional", "x", 1.0)
    assert to_verdict(item, Verdict(votes=["holds", "partly", "does_not"], source="judge")).credit == 0.5
    assert to_verdict(item, Verdict(votes=["partly"], source="judge")).holds is True


@pytest.mark.parametrize(
    ("item", "value", "message"),
    [
        (it("scale", "s", 1.0, levels=LIKERT), 7, "level 7 is not declared"),
        (it("optional", "o", 1.0), 2, "not a credit"),
        (it("optional", "o", 1.0), 1.5, "outside"),
        (it("optional", "o", 1.0), -0.1, "outside"),
        (it("optional", "o", 1.0), Verdict(level=3), "only scale items"),
        (it("optional", "o", 1.0), "yes", "cannot read"),
        (it("scale", "s", 1.0, levels=LIKERT), Verdict(level=2, credit=0.5), "disagrees"),
    ],
)
def test_bad_values_name_the_item(item: ItemIR, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"'{item.name}'.*{message}"):
        to_verdict(item, value)


def test_coercions() -> None:
    item = it("optional", "o", 1.0)
    assert to_verdict(item, True).credit == 1.0
    assert to_verdict(item, np.bool_(False)).holds is False
    assert to_verdict(item, 1).credit == 1.0
    assert to_verdict(item, 0.25).holds is False
    assert to_verdict(item, float("nan")).undecided == "na"
    assert to_verdict(item, None).undecided == "error"
    with pytest.raises(ValueError):
        Verdict(undecided="na", holds=True)
    with pytest.raises(ValueError):
        Verdict()


# -- groups ----------------------------------------------------------------------------------------

TREE = (
    it(
        "group",
        "implementation",
        2.0,
        items=(
            it("criterion", "data_loaded", 1.0),
            it("criterion", "training_loop", 3.0),
            it("group", "ablations", 1.0, items=(it("criterion", "ablation_a", 1.0),)),
        ),
    ),
    it("criterion", "report", 1.0),
)
TREE_VERDICTS = {"data_loaded": True, "training_loop": False, "ablation_a": True, "report": True}


def test_group_is_the_weighted_mean_of_its_children() -> None:
    result = aggregate(rubric(*TREE, normalize="sum"), TREE_VERDICTS)
    assert result.verdicts["ablations"].credit == 1.0
    assert result.verdicts["implementation"].credit == pytest.approx(0.4)  # (1 + 0 + 1) / 5
    assert result.verdicts["implementation"].source == "group"
    assert result.reward == pytest.approx(0.6)  # (2 · 0.4 + 1) / 3
    order = ["implementation", "data_loaded", "training_loop", "ablations", "ablation_a", "report"]
    assert list(result.verdicts) == order  # every item, groups included, depth-first


def test_range_maps_only_the_root() -> None:
    r = rubric(*TREE, normalize="sum", range=(-1.0, 1.0), hard_fail=-1.0)
    result = aggregate(r, TREE_VERDICTS)
    assert result.verdicts["implementation"].credit == pytest.approx(0.4)  # in [0, 1], not mapped
    assert result.reward == pytest.approx(0.2)  # -1 + 2 · 0.6


def test_hard_rule_in_a_group_gates_that_group_only() -> None:
    group = it("group", "g", 1.0, items=(it("hard", "h"), it("optional", "a", 1.0)))
    r = rubric(group, it("optional", "b", 1.0))
    result = aggregate(r, {"h": False, "a": True, "b": True})
    assert result.verdicts["g"].credit == 0.0
    assert result.reward == 0.5 and result.gate == "open"
    assert reward(r, {"h": True, "a": True, "b": True}) == 1.0
    capped = rubric(group, it("optional", "b", 1.0), gate="cap")
    assert reward(capped, {"h": False, "a": True, "b": True}) == 0.5  # group min(1, 0) = 0


def test_group_of_skipped_children_is_skipped() -> None:
    group = it("group", "g", 1.0, items=(it("optional", "a", 1.0), it("optional", "c", 1.0)))
    na = Verdict(undecided="na")
    result = aggregate(rubric(group, it("optional", "b", 1.0)), {"a": na, "c": na, "b": True})
    assert result.reward == 1.0  # the group left S and P: 1 / 1
    assert result.verdicts["g"].undecided == "na" and "g" in result.undecided
    with pytest.raises(GradingError, match="nothing to score"):
        aggregate(rubric(group), {"a": na, "c": na})


def test_closed_group_scores_zero_even_when_its_children_were_skipped() -> None:
    group = it("group", "g", 1.0, items=(it("hard", "h"), it("optional", "a", 1.0)))
    r = rubric(group, it("optional", "b", 1.0))
    # The failed hard rule is evidence: the group counts, with credit 0, rather than leaving S and P.
    assert reward(r, {"h": False, "a": Verdict(undecided="na"), "b": True}) == 0.5
    assert aggregate_many(r, [[0.0, math.nan, 1.0]])[0] == 0.5
    assert aggregate_many(r, [[1.0, math.nan, 1.0]])[0] == 1.0  # open gate: skipped, 1 / 1


def test_negative_group_score_is_clipped_to_zero_credit() -> None:
    group = it("group", "g", 1.0, items=(it("criterion", "a", 1.0), it("pitfall", "p", -3.0)))
    r = rubric(group, it("optional", "b", 1.0), normalize="healthbench")
    result = aggregate(r, {"a": False, "p": True, "b": True})
    assert result.verdicts["g"].credit == 0.0  # S/P = -3 inside, a credit stays in [0, 1]
    assert result.reward == 0.5


def test_error_inside_a_group_raises() -> None:
    group = it("group", "g", 1.0, items=(it("pitfall", "p", -1.0),))
    r = rubric(group, it("optional", "b", 1.0), normalize="sum")
    with pytest.raises(GradingError, match="group 'g'"):
        aggregate(r, {"p": False, "b": True})


# -- result and vectorised path --------------------------------------------------------------------


def test_grade_result_fields_and_json_line() -> None:
    r = energy().with_hash()
    usage = Usage(input_tokens=100, cached_input_tokens=80, output_tokens=20)
    result = aggregate(r, ENERGY_VERDICTS, model="anthropic/x", usage=usage, judge_calls=1)
    line = result.to_json_line()
    assert "\n" not in line
    data = json.loads(line)
    assert data["content_hash"] == r.content_hash and data["rubric"] == "r"
    assert data["usage"]["cached_input_tokens"] == 80 and data["judge_calls"] == 1
    assert GradeResult.model_validate_json(line) == result
    assert (usage + usage).output_tokens == 40


def test_aggregate_many_matches_the_worked_example() -> None:
    rows = np.array(
        [
            [1.0, 0.0, 1.0, 1.0, 1.0],  # 5/9
            [1.0, 0.0, 1.0, 1.0, 0.0],  # gate closed
            [2 / 3, 0.0, 1.0, 1.0, 1.0],  # 10/27
            [1.0, np.nan, 1.0, 1.0, 1.0],  # skip: 5/6
            [np.nan, np.nan, np.nan, np.nan, 1.0],  # nothing decided
            [1.0, 0.0, 1.0, 1.0, np.nan],  # undecided hard rule
        ]
    )
    out = aggregate_many(energy(), rows)
    expected = [5 / 9, 0.0, 10 / 27, 5 / 6, math.nan, 0.0]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


def test_aggregate_many_checks_its_input() -> None:
    with pytest.raises(ValueError, match=r"shape \(responses, 5\)"):
        aggregate_many(energy(), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"'numeric_breakdown'.*row 1"):
        aggregate_many(energy(), [[1, 0, 1, 1, 1], [1, 2, 1, 1, 1]])
    assert aggregate_many(energy(), np.zeros((0, 5))).shape == (0,)


# -- data-set statistics ---------------------------------------------------------------------------


def test_bootstrap_of_a_constant_is_exact() -> None:
    assert bootstrap_mean([0.25] * 40) == (0.25, 0.0)


def test_bootstrap_standard_error_of_a_coin() -> None:
    mean, se = bootstrap_mean([0.0, 1.0] * 50)
    assert mean == 0.5
    assert se == pytest.approx(0.05, abs=0.005)  # sqrt(0.25 / 100)
    assert bootstrap_mean([0.0, 1.0] * 50) == (mean, se)  # seeded
    assert bootstrap_mean([0.0, 1.0] * 50, seed=1)[1] != se


def test_healthbench_mean_is_clipped() -> None:
    r = rubric(it("criterion", "a", 1.0), normalize="healthbench")
    summary = summarize_rewards([-0.5, -0.25, None], r)
    assert summary.mean == 0.0 and summary.stderr == 0.0  # every bootstrap mean clips to 0
    assert summary.failed == 1 and summary.n == 3
    assert summarize_rewards([-0.5, -0.25]).mean == pytest.approx(-0.375)


def test_summary_of_results() -> None:
    r = energy()
    results = [
        aggregate(r, ENERGY_VERDICTS),  # 5/9
        aggregate(r, {**ENERGY_VERDICTS, "word_limit": False}),  # 0, gate closed
        aggregate(r, {**ENERGY_VERDICTS, "numeric_breakdown": True}),  # 8/9
    ]
    failed = results[0].model_copy(update={"reward": None, "error": "boom"})
    summary = summarize([*results, failed], r)
    assert summary.mean == pytest.approx((5 / 9 + 0 + 8 / 9) / 3)
    assert summary.failed == 1 and summary.n == 4
    assert summary.gate_pass_rate == pytest.approx(2 / 3)
    assert summary.hold_rates["numeric_breakdown"] == pytest.approx(1 / 3)
    assert summary.hold_rates["word_limit"] == pytest.approx(2 / 3)


def test_failed_result() -> None:
    r = energy()
    try:
        aggregate(r, {**ENERGY_VERDICTS, "numeric_breakdown": None})
    except GradingError as exc:
        result = failed_result(r, exc, model="m", judge_calls=2)
    assert result.reward is None and result.gate == "closed" and result.judge_calls == 2
    assert "numeric_breakdown" in (result.error or "") and "numeric_breakdown" in result.undecided
    assert json.loads(result.to_json_line())["reward"] is None
