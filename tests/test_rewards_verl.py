"""verl's custom reward function, driven the way verl 0.9's reward loop drives it.

verl itself cannot be imported here: its `verl.protocol` imports `ray` at the top, and ray (like vllm and
the CUDA builds) is not installed on these machines. So these tests replay verl's contract, step by step
as verl/trainer/ppo/reward.py and verl/experimental/reward_loop/ (0.9.1) do it: the custom function is
imported from `pkg://rubricdsl.rewards.verl`, recognised as a coroutine function through the
`functools.partial` that merges `reward_kwargs`, awaited under `asyncio.wait_for` inside
`except Exception` (the `rate_limited` manager), and the batch's extra-info keys are those of its first
sample, read from every other sample into numpy arrays. The judge is the fake judge server; what it
answers follows markers in the response, so every expected score is computed with `aggregate`.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pytest
from marker_rewards import ENERGY, INLINE, PHYSICS, oracle_reward

from rubricdsl import loads
from rubricdsl.rewards.verl import RewardConfigAbort, compute_score
from rubricdsl.testing import FaultConfig, JudgeServer

# Drives verl-style batches: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations

BREAK = "[judge-breaks-here]"  # responses holding this get malformed judge replies, every time


# --- verl's side, replayed ------------------------------------------------------------------------------


async def _call_with_kwargs_async(raw_fn: Callable[..., Any], extra_kwargs: dict[str, Any], *args: Any,
                                  **kwargs: Any) -> Any:
    return await raw_fn(*args, **{**kwargs, **extra_kwargs})


def load_custom_reward_fn(path: str, name: str, reward_kwargs: dict[str, Any]) -> Callable[..., Any]:
    """verl.trainer.ppo.reward.get_custom_reward_fn for a `pkg://` path."""
    assert path.startswith("pkg://")
    raw_fn = getattr(importlib.import_module(path[len("pkg://"):].replace("/", ".")), name)
    assert inspect.iscoroutinefunction(raw_fn), "verl would run a sync function in a thread pool instead"
    return partial(_call_with_kwargs_async, raw_fn, dict(reward_kwargs))


async def rate_limited_run_single(compute: Callable[..., Any], row: dict[str, Any], timeout: float = 60.0) -> dict:
    """RateLimitedRewardManager.run_single after decoding: any Exception becomes a reward of 0."""
    extra: dict[str, Any] = {}
    try:
        result = await asyncio.wait_for(compute(data_source=row["data_source"], solution_str=row["response"],
                                                ground_truth=row["ground_truth"], extra_info=row["extra_info"]),
                                        timeout=timeout)
        if isinstance(result, dict):
            score = result["score"]
            extra.update(result)
        else:
            score = extra["acc"] = result
    except asyncio.TimeoutError:
        score, extra = 0.0, {"timeout": True, "acc": 0.0}
    except Exception as exc:
        score, extra = 0.0, {"error": str(exc), "acc": 0.0}
    return {"reward_score": score, "reward_extra_info": extra}


def reward_loop(compute: Callable[..., Any], rows: list[dict[str, Any]]) -> tuple[list[float], dict[str, np.ndarray]]:
    """The reward manager's batch on its own event loop, then RewardLoopManager.compute_rm_score's merge:
    the keys of the first sample, read from every sample (a missing key is a KeyError)."""
    async def process_batch() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(rate_limited_run_single(compute, r) for r in rows)))

    loop = asyncio.new_event_loop()
    try:
        outputs = loop.run_until_complete(process_batch())
    finally:
        loop.close()
    infos = [o["reward_extra_info"] for o in outputs]
    keys = list(infos[0].keys())
    return [o["reward_score"] for o in outputs], {key: np.array([info[key] for info in infos]) for key in keys}


def row(response: str, rubric: str | None = "energy_conservation", **extra: Any) -> dict[str, Any]:
    info = {"index": 0, **({"rubric": rubric} if rubric is not None else {}), **extra}
    return {"data_source": "physics", "response": response, "ground_truth": "", "extra_info": info}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    with JudgeServer(faults=FaultConfig(faults_by_response={BREAK: "malformed"})) as srv:
        yield srv


def kwargs_for(server: JudgeServer, **more: Any) -> dict[str, Any]:
    return {"rubrics": str(PHYSICS), "judge": "anthropic/claude-test", "base_url": server.url, **more}


RESPONSES = [
    "Energy is conserved [energy_conserved]; 196 J at the top and bottom [numeric_breakdown].",
    "A pendulum swings [pendulum_example] back and forth.",
    "Nothing useful.",
    "[energy_conserved] but friction is never mentioned [friction_ignored]",
]


# --- tests ----------------------------------------------------------------------------------------------


def test_scores_through_the_rate_limited_flow_are_the_oracles(server: JudgeServer) -> None:
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score", kwargs_for(server))
    scores, extra = reward_loop(compute, [row(r) for r in RESPONSES])

    expected = [oracle_reward(ENERGY, r) for r in RESPONSES]
    assert scores == pytest.approx(expected)
    assert len(set(expected)) > 2  # the responses really are told apart
    item_keys = [f"item/{item.name}" for item in ENERGY.all_items()]
    assert list(extra) == ["score", "judge_failed", *item_keys]
    assert extra["score"].tolist() == pytest.approx(expected)
    assert extra["judge_failed"].tolist() == [0.0] * len(RESPONSES)
    for name in ("energy_conserved", "pendulum_example", "friction_ignored"):
        assert extra[f"item/{name}"].tolist() == [float(f"[{name}]" in r) for r in RESPONSES]
    assert extra["item/word_limit"].tolist() == [1.0] * len(RESPONSES)
    # verl's validation metrics take means and standard deviations of every key: they must be numbers
    assert all(np.issubdtype(values.dtype, np.floating) for values in extra.values())
    assert len(server.requests) == len(RESPONSES)  # one judge call per response, none for the check


def test_a_failed_grade_keeps_the_keys_scores_failure_score_and_flags_it(server: JudgeServer) -> None:
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score",
                                    kwargs_for(server, failure_score=-0.5))
    responses = [RESPONSES[0], f"{BREAK} [energy_conserved]", RESPONSES[1]]
    scores, extra = reward_loop(compute, [row(r) for r in responses])

    assert scores == pytest.approx([oracle_reward(ENERGY, responses[0]), -0.5, oracle_reward(ENERGY, responses[2])])
    assert extra["judge_failed"].tolist() == [0.0, 1.0, 0.0]
    # the judged items of the failed grade are undecided (NaN), the locally decided check is not
    assert math.isnan(extra["item/energy_conserved"][1]) and extra["item/energy_conserved"][0] == 1.0
    assert extra["item/word_limit"].tolist() == [1.0, 1.0, 1.0]
    assert "error" not in extra  # the manager saw a result, not an exception


def test_every_sample_of_a_rubric_has_the_same_keys_even_the_failed_first(server: JudgeServer) -> None:
    """verl reads the first sample's keys from all others: a failed first sample must not drop any."""
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score", kwargs_for(server))
    scores, extra = reward_loop(compute, [row(BREAK), row(RESPONSES[0])])
    assert scores[0] == 0.0 and extra["judge_failed"].tolist() == [1.0, 0.0]
    assert len(extra) == 2 + len(ENERGY.all_items())


def test_rubric_text_in_extra_info_and_configuration_from_the_environment(
        server: JudgeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUBRICDSL_JUDGE", "anthropic/claude-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.delenv("RUBRICDSL_RUBRICS", raising=False)
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score", {})
    responses = ["kinetic [names_energy]", "kinetic [names_energy] in calories [wrong_units]", "no idea"]
    scores, extra = reward_loop(compute, [row(r, rubric=INLINE, prompt="Where does the energy go?")
                                          for r in responses])
    assert scores == pytest.approx([oracle_reward(loads(INLINE), r) for r in responses])
    assert list(extra) == ["score", "judge_failed", "item/names_energy", "item/wrong_units"]
    # the prompt from extra_info reaches the judge
    assert all("Where does the energy go?" in str(r.body) for r in server.requests)


def test_item_credits_can_be_left_out_for_batches_that_mix_rubrics(server: JudgeServer) -> None:
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score",
                                    kwargs_for(server, item_credits=False))
    rows = [row(RESPONSES[0]), row("[names_energy]", rubric=INLINE)]
    scores, extra = reward_loop(compute, rows)
    assert list(extra) == ["score", "judge_failed"]
    expected = [oracle_reward(ENERGY, RESPONSES[0]), oracle_reward(loads(INLINE), "[names_energy]")]
    assert scores == pytest.approx(expected)


def test_fixed_rubric_for_rows_without_one(server: JudgeServer) -> None:
    compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score",
                                    kwargs_for(server, rubric="energy_conservation"))
    scores, _ = reward_loop(compute, [row(RESPONSES[3], rubric=None)])
    assert scores == pytest.approx([oracle_reward(ENERGY, RESPONSES[3])])


@pytest.mark.parametrize("case", ["refused_key", "unknown_rubric", "no_rubric", "no_judge"])
def test_configuration_errors_are_never_a_reward_even_under_rate_limited(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate_limited manager makes every Exception a reward of 0; these must stop the batch instead."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    monkeypatch.delenv("RUBRICDSL_JUDGE", raising=False)
    with JudgeServer(valid_keys=("another-key",) if case == "refused_key" else ("test",)) as srv:
        options = kwargs_for(srv)
        rubric: str | None = "energy_conservation"
        if case == "unknown_rubric":
            rubric = "no_such_rubric"
        elif case == "no_rubric":
            rubric = None
        elif case == "no_judge":
            options.pop("judge")
        compute = load_custom_reward_fn("pkg://rubricdsl.rewards.verl", "compute_score", options)
        with pytest.raises(RewardConfigAbort) as caught:
            reward_loop(compute, [row(RESPONSES[0], rubric=rubric)])
    message = str(caught.value)
    expected = {"refused_key": "credentials", "unknown_rubric": "no_such_rubric", "no_rubric": "rubric",
                "no_judge": "needs a judge"}[case]
    assert expected in message
    assert not isinstance(caught.value, Exception)


def test_compute_score_can_be_awaited_directly(server: JudgeServer) -> None:
    result = asyncio.run(compute_score("physics", RESPONSES[1], None, {"rubric": "energy_conservation"},
                                       **kwargs_for(server)))
    assert result["score"] == pytest.approx(oracle_reward(ENERGY, RESPONSES[1]))
    assert result["judge_failed"] == 0.0
