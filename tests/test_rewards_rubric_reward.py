"""RubricReward, TRL's reward function, on its own: the contract GRPOTrainer and RLOOTrainer rely on.

TRL calls it with `prompts`, `completions`, `completion_ids`, every dataset column, `trainer_state`,
`log_extra` and `log_metric` as keywords, awaits it on its own event loop, and treats None as "no reward".
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from marker_rewards import BREAK, ENERGY, INLINE, PHYSICS, oracle_reward

from rubricdsl import loads
from rubricdsl.judging import JudgeConfigError
from rubricdsl.rewards import RubricLookupError, RubricReward
from rubricdsl.testing import FaultConfig, JudgeServer


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer(faults=FaultConfig(faults_by_response={BREAK: "malformed"})) as srv:
        yield srv


def make(server: JudgeServer, **options: Any) -> RubricReward:
    options.setdefault("rubrics", PHYSICS)
    return RubricReward(judge="anthropic/claude-test", api_key="test", base_url=server.url, **options)


def call(reward: RubricReward, completions: list[Any], rubrics: list[Any] | None = None, **columns: Any) -> Any:
    prompts = [[{"role": "user", "content": "Explain the energy."}]] * len(completions)
    if rubrics is not None:
        columns["rubric"] = rubrics
    return asyncio.run(reward(prompts=prompts, completions=completions, completion_ids=[[1]] * len(completions),
                              trainer_state=object(), **columns))


def test_plain_and_conversational_completions_get_the_oracles_rewards(server: JudgeServer) -> None:
    texts = ["[energy_conserved] [numeric_breakdown]", "[pendulum_example]", "kinetic [names_energy]"]
    completions: list[Any] = [texts[0], [{"role": "assistant", "content": texts[1]}],
                              [{"role": "assistant", "content": [{"type": "text", "text": texts[2]}]}]]
    rewards = call(make(server), completions, ["energy_conservation", "energy_conservation", INLINE])
    assert rewards == pytest.approx([oracle_reward(ENERGY, texts[0]), oracle_reward(ENERGY, texts[1]),
                                     oracle_reward(loads(INLINE), texts[2])])
    assert sorted(r.response_text or "" for r in server.requests) == sorted(texts)


def test_it_pickles_into_a_worker_and_keeps_its_name(server: JudgeServer) -> None:
    reward = make(server, name="physics_reward")
    call(reward, ["[energy_conserved]"], ["energy_conservation"])  # graders and clients now exist
    copy = pickle.loads(pickle.dumps(reward))
    assert copy.__name__ == "physics_reward"
    assert call(copy, ["[energy_conserved]"], ["energy_conservation"]) == pytest.approx(
        [oracle_reward(ENERGY, "[energy_conserved]")])


def test_a_failed_grade_is_none_unless_told_otherwise(server: JudgeServer) -> None:
    completions = ["[energy_conserved]", f"{BREAK} [energy_conserved]"]
    assert call(make(server), completions, ["energy_conservation"] * 2) == [
        pytest.approx(oracle_reward(ENERGY, completions[0])), None]
    assert call(make(server, on_failure=0.0), completions, ["energy_conservation"] * 2)[1] == 0.0


def test_log_extra_and_log_metric(server: JudgeServer) -> None:
    extra: dict[str, list[Any]] = {}
    metrics: dict[str, float] = {}
    completions = ["[energy_conserved]", f"{BREAK}", "kinetic [names_energy]"]
    call(make(server), completions, ["energy_conservation", "energy_conservation", INLINE],
         log_extra=extra.__setitem__, log_metric=metrics.__setitem__)
    assert extra["rubric/energy_conserved"] == [1.0, None, None]  # undecided, and not an item of the third
    assert extra["rubric/names_energy"] == [None, None, 1.0]
    assert extra["rubric/word_limit"] == [1.0, 1.0, None]
    assert metrics["rubric/judge_failure_rate"] == pytest.approx(1 / 3)
    assert metrics["rubric/input_tokens"] > 0


def test_a_fixed_rubric_needs_no_column(server: JudgeServer) -> None:
    reward = make(server, rubric=str(PHYSICS.parent / "physics.rubric"), rubrics=None)
    assert call(reward, ["[numeric_breakdown]"]) == pytest.approx([oracle_reward(ENERGY, "[numeric_breakdown]")])


def test_configuration_errors_raise(server: JudgeServer) -> None:
    with pytest.raises(RubricLookupError, match="no `rubric` column"):
        call(make(server), ["x"])
    with pytest.raises(RubricLookupError, match="no_such_rubric"):
        call(make(server), ["x"], ["no_such_rubric"])
    with JudgeServer(valid_keys=("another-key",)) as refusing, pytest.raises(JudgeConfigError, match="credentials"):
        call(make(refusing), ["x"], ["energy_conservation"])


def test_columns_logged_before_are_logged_again_empty(server: JudgeServer) -> None:
    """TRL extends only the columns a batch logs: a column left out would show the previous batch's values."""
    reward = make(server)
    first: dict[str, list[Any]] = {}
    second: dict[str, list[Any]] = {}
    call(reward, ["[energy_conserved]"], ["energy_conservation"], log_extra=first.__setitem__)
    call(reward, ["[names_energy]", "x"], [INLINE, INLINE], log_extra=second.__setitem__)
    assert set(first) < set(second)
    assert second["rubric/energy_conserved"] == [None, None]
    assert second["rubric/names_energy"] == [1.0, 0.0]


def test_concurrency_is_bounded_per_judge_across_rubrics() -> None:
    """A batch mixing rubrics shares one judge object per model, so `concurrency` bounds all its calls."""
    with JudgeServer(latency=0.3) as server:
        reward = RubricReward(judge="anthropic/m", rubrics=PHYSICS.parent, api_key="test", base_url=server.url,
                              concurrency=2)
        completions = [f"answer {i} [energy_conserved]" for i in range(12)]
        rubrics = ["energy_conservation", INLINE] * 6
        rewards = asyncio.run(reward(prompts=["p"] * 12, completions=completions, rubric=rubrics))
        peak = server.stats()["peak_concurrency"]
    assert len(rewards) == 12 and all(r is not None for r in rewards)
    assert peak <= 2, f"{peak} calls were in flight at once with concurrency=2"
    assert len(reward._judges) == 1  # one judge object, shared by both rubrics' graders
