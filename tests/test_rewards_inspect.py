"""Inspect AI: `rubric_scorer` in a real `inspect_ai.eval` run, with a mock model and the fake judge server.

The mock model answers each sample with the text after "Echo: " in its input, so each sample's output
(and so its expected score, computed with `aggregate` from the markers) is known. The eval log is read
back as Inspect wrote it: dict-valued scores, unscored samples, and the per-key metrics.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.solver import generate
from marker_rewards import BREAK, ENERGY, INLINE, PHYSICS, oracle_reward

from rubricdsl import loads
from rubricdsl.rewards.inspect import rubric_scorer
from rubricdsl.testing import FaultConfig, JudgeServer

# Needs inspect_ai: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations

SCORER = "rubric_scorer"


def echo(messages: list[Any], *_: Any) -> ModelOutput:
    output = ModelOutput.from_content(model="mockllm/model", content=messages[-1].text.split("Echo: ", 1)[1])
    # with usage given, mockllm does not count tokens with tiktoken, which downloads its encodings
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    with JudgeServer(faults=FaultConfig(faults_by_response={BREAK: "malformed"})) as srv:
        yield srv


def run(task: Task, tmp_path: Path) -> EvalLog:
    (log,) = eval(task, model=get_model("mockllm/model", custom_outputs=echo), display="none",
                  log_dir=str(tmp_path / "logs"), max_samples=4)
    return log


RESPONSES = [
    "Energy is conserved [energy_conserved]; 196 J at the top and bottom [numeric_breakdown].",
    "A pendulum swings [pendulum_example] back and forth.",
    "[energy_conserved] but friction is never mentioned [friction_ignored]",
    "Nothing useful.",
]


def test_scores_are_dicts_of_reward_and_item_credits(server: JudgeServer, tmp_path: Path) -> None:
    samples = [Sample(input=f"Echo: {r}", id=i, metadata={"rubric": "energy_conservation"})
               for i, r in enumerate(RESPONSES)]
    scorer = rubric_scorer(judge="anthropic/claude-test", rubrics=str(PHYSICS), base_url=server.url)
    log = run(Task(dataset=samples, solver=generate(), scorer=scorer), tmp_path)

    assert log.status == "success", log.error
    assert log.samples is not None and len(log.samples) == len(RESPONSES)
    keys = ["reward", *(f"item/{item.name}" for item in ENERGY.all_items())]
    for sample in log.samples:
        response = RESPONSES[int(sample.id)]
        assert sample.output.completion == response
        score = sample.scores[SCORER]
        assert list(score.value) == keys
        assert score.value["reward"] == pytest.approx(oracle_reward(ENERGY, response))
        assert score.value["item/numeric_breakdown"] == float("[numeric_breakdown]" in response)
        assert score.value["item/word_limit"] == 1.0
        assert score.answer == response
        assert "energy_conserved (essential):" in score.explanation
        assert score.metadata["gate"] == "open" and score.metadata["rubric"] == "energy_conservation"
    # Inspect's metrics: the mean (and stderr) of every key, across the samples
    assert log.results is not None
    by_key = {s.name: s for s in log.results.scores}
    expected = [oracle_reward(ENERGY, r) for r in RESPONSES]
    assert by_key["reward"].metrics["mean"].value == pytest.approx(sum(expected) / len(expected))  # type: ignore[arg-type]
    assert by_key["item/energy_conserved"].metrics["mean"].value == pytest.approx(0.5)
    assert "stderr" in by_key["reward"].metrics


def test_a_failed_grade_is_unscored_and_left_out_of_the_metrics(server: JudgeServer, tmp_path: Path) -> None:
    responses = [RESPONSES[0], f"{BREAK} [energy_conserved]"]
    samples = [Sample(input=f"Echo: {r}", id=i) for i, r in enumerate(responses)]
    scorer = rubric_scorer(str(PHYSICS), judge="anthropic/claude-test", base_url=server.url)
    log = run(Task(dataset=samples, solver=generate(), scorer=scorer), tmp_path)

    assert log.status == "success" and log.samples is not None
    failed = next(s for s in log.samples if s.id == 1).scores[SCORER]
    assert isinstance(failed.value, float) and math.isnan(failed.value)
    assert failed.reason == "grader_failed"
    assert failed.explanation  # why the grade failed
    assert log.results is not None
    reward = next(s for s in log.results.scores if s.name == "reward")
    assert reward.metrics["mean"].value == pytest.approx(oracle_reward(ENERGY, RESPONSES[0]))
    assert reward.unscored_samples == 1 and reward.scored_samples == 1


def test_rubric_text_in_metadata(server: JudgeServer, tmp_path: Path) -> None:
    samples = [Sample(input="Echo: kinetic [names_energy]", id=1, metadata={"rubric": INLINE})]
    scorer = rubric_scorer(judge="anthropic/claude-test", base_url=server.url)
    log = run(Task(dataset=samples, solver=generate(), scorer=scorer), tmp_path)
    assert log.samples is not None
    value = log.samples[0].scores[SCORER].value
    assert value == {"reward": pytest.approx(oracle_reward(loads(INLINE), "kinetic [names_energy]")),
                     "item/names_energy": 1.0, "item/wrong_units": 0.0}


def test_a_configuration_error_fails_the_sample_instead_of_scoring_it(server: JudgeServer, tmp_path: Path) -> None:
    samples = [Sample(input="Echo: x", id=1, metadata={"rubric": "no_such_rubric"})]
    scorer = rubric_scorer(judge="anthropic/claude-test", rubrics=str(PHYSICS), base_url=server.url)
    log = run(Task(dataset=samples, solver=generate(), scorer=scorer), tmp_path)
    assert log.status == "error"
    assert log.error is not None and "no_such_rubric" in log.error.message

