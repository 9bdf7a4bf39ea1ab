"""Decisions become rewards: samples and their item orders, several judges and their combine rules, agreement.

The fake judge answers from markers in the response, or from what the request carries (the sample's item
order, the model name), so each expected reward is worked out by hand from SCORING.md and the rubric file.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from judging_helpers import ENERGY_ITEMS, RUBRICS, energy, variant

import rubricdsl
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, JudgeReply, JudgeRequest, build_requests
from rubricdsl.judging.votes import all_agree, cohen_kappa, combine_judges, fleiss_kappa
from rubricdsl.scoring import GradingError, Verdict
from rubricdsl.testing import JudgeServer, OracleContext, marker_oracle


def anthropic_grader(server: JudgeServer, rubric: RubricIR, judge: str | list[str] = "anthropic/claude-test",
                     **options: Any) -> Grader:
    return Grader(rubric, judge=judge, api_key="test", base_url=server.url, **options)


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


# --- samples ----------------------------------------------------------------------------------------


def test_sample_orders_are_seeded_different_and_reproducible() -> None:
    rubric = energy()
    first = [[i.name for i in r.items] for r in build_requests(rubric, "one", samples=3)]
    again = [[i.name for i in r.items] for r in build_requests(rubric, "another response", samples=3)]
    assert first == again  # seeded by the rubric, not by the response or the run
    assert first[0] == ENERGY_ITEMS  # the first sample keeps the rubric's order
    assert len({tuple(order) for order in first}) == 3
    assert all(sorted(order) == sorted(ENERGY_ITEMS) for order in first)


def test_three_samples_two_of_which_hold_give_the_spec_reward() -> None:
    """SCORING.md: three samples, energy_conserved holds in 2 of 3, the rest as in the first example → 0.3704."""

    def unsure_in_rubric_order(ctx: OracleContext) -> dict[str, Any]:
        answer = marker_oracle(ctx)
        if list(ctx.field_names) == ENERGY_ITEMS:  # the sample that lists the items in rubric order says no
            answer["energy_conserved"]["holds"] = False
        return answer

    response = ("Energy is conserved [energy_conserved]; like a pendulum [pendulum_example]; "
                "friction is never mentioned [friction_ignored].")
    with JudgeServer(oracle=unsure_in_rubric_order) as server:
        result = anthropic_grader(server, energy(), samples=3).grade(response)
        orders = sorted(list(r.body["tools"][0]["input_schema"]["properties"]) for r in server.requests)
    assert orders == sorted([i.name for i in r.items] for r in build_requests(energy(), response, samples=3))
    conserved = result.verdicts["energy_conserved"]
    assert conserved.credit == pytest.approx(2 / 3)
    assert conserved.holds is True and sorted(conserved.votes) == [False, True, True]
    assert result.verdicts["numeric_breakdown"].votes == [False, False, False]
    # S = 5·(2/3) + 3·0 + 1·1 − 1·1 = 10/3; P = 9
    earned, available, lost = result.S, result.P, result.N
    assert earned == pytest.approx(10 / 3) and (available, lost) == (9, -1)
    assert result.reward == pytest.approx(10 / 27)
    assert round(result.reward or 0, 4) == 0.3704
    assert result.judge_calls == 3


# --- decisions other than holds ----------------------------------------------------------------------


def test_scale_levels_become_credits(server: JudgeServer) -> None:
    sky = rubricdsl.load_rubric(RUBRICS / "prometheus" / "sky_blue.rubric")
    result = anthropic_grader(server, sky).grade(
        "Light is a mix of colours. [child_level=4] [accuracy=2] [sunset_link]"
    )
    assert result.verdicts["child_level"].credit == pytest.approx(0.75)  # (4 − 1)/(5 − 1)
    assert result.verdicts["accuracy"].credit == 1.0  # (2 − 0)/(2 − 0)
    assert result.verdicts["read_aloud_length"].source == "check"
    # weights 3, 2, 1: S = 3·0.75 + 2·1 + 1·1 = 5.25 of P = 6
    assert result.reward == pytest.approx(5.25 / 6)


def test_ternary_answers_give_half_credit(server: JudgeServer) -> None:
    rubric = variant(energy(), judge={"scale": "ternary"})
    result = anthropic_grader(server, rubric).grade("[energy_conserved~] [numeric_breakdown] [friction_ignored~]")
    assert [result.verdicts[n].credit for n in ENERGY_ITEMS] == [0.5, 1.0, 0.0, 0.5]
    assert result.verdicts["energy_conserved"].votes == ["partly"]
    # S = 5·0.5 + 3·1 + 1·0 − 1·0.5 = 5 of P = 9
    assert result.reward == pytest.approx(5 / 9)


@pytest.mark.parametrize(("on_na", "expected"), [("skip", 6 / 6), ("zero", 6 / 9)])
def test_cannot_assess_follows_on_na(server: JudgeServer, on_na: str, expected: float) -> None:
    rubric = variant(energy(), judge={"allow_na": True}, scoring={"on_na": on_na})
    result = anthropic_grader(server, rubric).grade("[energy_conserved] [numeric_breakdown?] [pendulum_example]")
    numeric = result.verdicts["numeric_breakdown"]
    assert numeric.undecided == "na" and numeric.votes == ["cannot_assess"]
    assert "numeric_breakdown" in result.undecided
    # skip: numeric leaves S and P → S = 5 + 1 = 6 of P = 6; zero: credit 0 → 6 of 9
    assert result.reward == pytest.approx(expected)


# --- several judges ---------------------------------------------------------------------------------

# What each judge (by the model name in the request body) says holds; the response carries no markers.
HOLDS_BY_MODEL = {
    "a": {"energy_conserved", "numeric_breakdown", "pendulum_example"},
    "b": {"energy_conserved", "numeric_breakdown"},
    "c": {"energy_conserved"},
}


def by_model(ctx: OracleContext) -> dict[str, Any]:
    answer = marker_oracle(ctx)
    for name, decision in answer.items():
        decision["holds"] = name in HOLDS_BY_MODEL[ctx.body["model"]]
    return answer


@pytest.mark.parametrize(
    ("combine", "credits", "reward"),
    [
        # item credits per judge (a, b, c): energy 1,1,1 · numeric 1,1,0 · pendulum 1,0,0 · friction 0,0,0
        ("mean", [1, 2 / 3, 1 / 3, 0], (5 + 2 + 1 / 3) / 9),
        ("majority", [1, 1, 0, 0], 8 / 9),  # lower median: two of three must hold
        ("unanimous", [1, 0, 0, 0], 5 / 9),
        ("any", [1, 1, 1, 0], 9 / 9),
    ],
)
def test_three_judges_are_combined_and_each_verdict_kept(combine: str, credits: list[float], reward: float) -> None:
    rubric = variant(energy(), judge={"combine": combine})
    with JudgeServer(oracle=by_model) as server:
        result = anthropic_grader(server, rubric, judge=["anthropic/a", "anthropic/b", "anthropic/c"]).grade("text")
        assert sorted(r.body["model"] for r in server.requests) == ["a", "b", "c"]
    assert [result.verdicts[n].credit for n in ENERGY_ITEMS] == pytest.approx(credits)
    assert result.reward == pytest.approx(reward)
    assert result.judge_calls == 3 and result.model == "anthropic/a,anthropic/b,anthropic/c"
    numeric = result.verdicts["numeric_breakdown"].judges
    assert numeric is not None
    assert {name: v.holds for name, v in numeric.items()} == {"anthropic/a": True, "anthropic/b": True,
                                                               "anthropic/c": False}


def test_two_judges_majority_needs_both() -> None:
    rubric = variant(energy(), judge={"combine": "majority"})
    with JudgeServer(oracle=by_model) as server:
        result = anthropic_grader(server, rubric, judge=["anthropic/a", "anthropic/b"]).grade("text")
    # pendulum: a says yes, b no: no strict majority → 0; numeric: both → 1
    assert [result.verdicts[n].credit for n in ENERGY_ITEMS] == [1, 1, 0, 0]
    assert result.reward == pytest.approx(8 / 9)


def test_judges_with_samples_average_within_each_judge_first() -> None:
    """Two judges × three samples: each judge's samples give its credit, then the judges are combined."""
    rubric = variant(energy(), judge={"samples": 3, "combine": "unanimous"})

    def a_unsure_once(ctx: OracleContext) -> dict[str, Any]:
        answer = marker_oracle(ctx)
        if ctx.body["model"] == "a" and list(ctx.field_names) == ENERGY_ITEMS:
            answer["energy_conserved"]["holds"] = False
        return answer

    with JudgeServer(oracle=a_unsure_once) as server:
        result = anthropic_grader(server, rubric, judge=["anthropic/a", "anthropic/b"]).grade("[energy_conserved]")
        assert len(server.requests) == 6
    conserved = result.verdicts["energy_conserved"]
    assert conserved.judges is not None
    assert conserved.judges["anthropic/a"].credit == pytest.approx(2 / 3)
    assert conserved.judges["anthropic/b"].credit == 1.0
    assert conserved.credit == pytest.approx(2 / 3)  # unanimous: the lower of the two


def test_combine_rules_on_undecided_judges() -> None:
    held, missed = Verdict(holds=True, source="judge"), Verdict(holds=False, source="judge")
    failed = Verdict(undecided="error", error="timeout", source="judge")
    # an undecided judge is left out; the others still decide
    assert combine_judges({"a": held, "b": failed, "c": missed}, "mean").credit == 0.5
    assert combine_judges({"a": held, "b": failed}, "unanimous").credit == 1.0
    both_failed = combine_judges({"a": failed, "b": failed}, "mean")
    assert both_failed.undecided == "error" and both_failed.error == "a: timeout; b: timeout"


# --- agreement --------------------------------------------------------------------------------------


def test_cohen_kappa_by_hand() -> None:
    # Two raters, 50 items: both yes 20, A only 5, B only 10, both no 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50: p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5)/0.5 = 0.4
    a = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    b = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([True, False, True, False], [False, True, False, True]) == pytest.approx(-1.0)
    assert cohen_kappa(["holds", "partly", "does_not"], ["holds", "partly", "does_not"]) == pytest.approx(1.0)
    assert cohen_kappa([True, True], [True, True]) is None  # one category: chance agreement is 1, κ undefined
    assert cohen_kappa([True], [True, False]) is None


def test_fleiss_kappa_by_hand() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories (counts per category).
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    ratings = [[category for category, count in enumerate(row) for _ in range(count)] for row in table]
    # P_i = (Σ n_ij² − 14)/(14·13); Σ over subjects of (Σ n_ij² − 14) = 688 → P̄ = 688/1820.
    # Category totals 20, 28, 39, 21, 32 of 140 → P̄e = (20² + 28² + 39² + 21² + 32²)/140² = 4170/19600.
    p_bar, p_e = Fraction(688, 1820), Fraction(4170, 19600)
    expected = float((p_bar - p_e) / (1 - p_e))
    assert fleiss_kappa(ratings) == pytest.approx(expected)
    assert round(expected, 3) == 0.210  # the published value
    # two raters who always agree on two categories: κ = 1; ragged input is undefined
    assert fleiss_kappa([[True, True], [False, False]]) == pytest.approx(1.0)
    assert fleiss_kappa([[True, True], [False]]) is None
    assert all_agree([True, True]) and not all_agree([True, False]) and all_agree([2 / 3, 0.6666666666666666])


def test_kappa_of_two_judges_over_a_dataset() -> None:
    """The per-judge verdicts kept in each result are enough to measure the judges' agreement."""

    def marker_per_judge(ctx: OracleContext) -> dict[str, Any]:
        answer = marker_oracle(ctx)
        tag = {"a": "[A]", "b": "[B]"}[ctx.body["model"]]
        answer["energy_conserved"]["holds"] = tag in ctx.response
        return answer

    cells = [("[A] [B]", 20), ("[A]", 5), ("[B]", 10), ("", 15)]  # the table of test_cohen_kappa_by_hand
    responses = [f"#{n} {tags}" for n, tags in enumerate(t for tags, count in cells for t in [tags] * count)]
    with JudgeServer(oracle=marker_per_judge) as server:
        results = anthropic_grader(server, energy(), judge=["anthropic/a", "anthropic/b"]).grade_many(responses)
        assert len(server.requests) == 100
    judged = [r.verdicts["energy_conserved"].judges for r in results]
    a = [j["anthropic/a"].holds for j in judged if j]
    b = [j["anthropic/b"].holds for j in judged if j]
    assert len(a) == len(b) == 50
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert [r.verdicts["energy_conserved"].credit for r in results[20:25]] == [0.5] * 5  # mean of 1 and 0


# --- the judge protocol -----------------------------------------------------------------------------


class LabelJudge:
    """Labels from people (or a file) entering the same path as a model: the `Judge` protocol."""

    def __init__(self, labels: dict[str, dict[str, bool]], skip: str | None = None):
        self.name, self.labels, self.skip = "people", labels, skip

    async def decide(self, request: JudgeRequest) -> JudgeReply:
        held = self.labels[request.response]
        decisions = {i.name: {"reason": "labelled", "holds": held[i.name]}
                     for i in request.items if i.name != self.skip}
        return JudgeReply(decisions, self.name)


LABELS = {"r1": dict(zip(ENERGY_ITEMS, [True, False, True, True], strict=True)),
          "r2": dict(zip(ENERGY_ITEMS, [True, True, False, False], strict=True))}


def test_a_judge_object_grades_like_a_model() -> None:
    results = Grader(energy(), judge=LabelJudge(LABELS)).grade_many(["r1", "r2"])
    # r1 is SCORING.md's first example: 5/9; r2: S = 5 + 3 = 8 → 8/9
    assert [r.reward for r in results] == pytest.approx([5 / 9, 8 / 9])
    assert results[0].verdicts["energy_conserved"].reason == "labelled"


def test_a_judge_that_skips_an_item_leaves_it_undecided_never_not_met() -> None:
    grader = Grader(energy(), judge=LabelJudge(LABELS, skip="pendulum_example"))
    with pytest.raises(GradingError, match="pendulum_example") as caught:
        grader.grade("r1")
    assert "pendulum_example" in caught.value.items
    (failed,) = grader.grade_many(["r1"])  # a batch records the failure and goes on
    assert failed.reward is None and "pendulum_example" in (failed.error or "")
    # The reply was incomplete, so none of its decisions is trusted: every judged item is undecided, and
    # on_error says what that means. skip: nothing weighted is left to score, which raises naming them all.
    skipping = Grader(variant(energy(), scoring={"on_error": "skip"}),
                      judge=LabelJudge(LABELS, skip="pendulum_example"))
    with pytest.raises(GradingError, match="nothing to score") as caught:
        skipping.grade("r1")
    assert sorted(caught.value.items) == sorted(ENERGY_ITEMS)
    zeroing = Grader(variant(energy(), scoring={"on_error": "zero"}), judge=LabelJudge(LABELS, skip="pendulum_example"))
    result = zeroing.grade("r1")
    assert set(result.undecided) == set(ENERGY_ITEMS)
    assert result.reward == 0.0 and result.P == 9  # credit 0 for each: S = 0 of P = 9


def test_the_same_judge_twice_is_a_configuration_error() -> None:
    from rubricdsl.judging import JudgeConfigError

    with pytest.raises(JudgeConfigError, match="named twice"):
        Grader(energy(), judge="anthropic/a, anthropic/a", api_key="test")

