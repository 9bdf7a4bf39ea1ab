"""OpenAI-compatible judges (vLLM, SGLang, llama.cpp server, Ollama) in each structured-output mode.

Why: a team that serves its own judge points `--judge openai/MODEL --base-url URL` at it, and its server
supports some of `tools`, `json_schema` and `json` (a schema in the prompt); each mode must grade to the
same rewards, through the real openai SDK and instructor against the judge server's chat endpoint, with
the same retries, re-asks and concurrency bound as an Anthropic judge. Expected rewards come from markers
in the responses (S = 3·accurate + 1·polite − 1·rambles over P = 4, clipped to [0, 1]).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dataset_rubrics import JUDGED

from rubricdsl import loads
from rubricdsl.cli import main
from rubricdsl.dataset import grade_dataset
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, InstructorJudge, RetryPolicy
from rubricdsl.testing import FaultConfig, JudgeServer

FAST = RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05, deadline=20.0)
CHAT = "/v1/chat/completions"


@pytest.fixture
def rubric() -> RubricIR:
    return loads(JUDGED)


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


def reward(text: str) -> float:
    score = 3 * ("[accurate]" in text) + ("[polite]" in text) - ("[rambles]" in text)
    return min(max(score / 4, 0.0), 1.0)


def rows_file(path: Path, count: int) -> tuple[Path, dict[str, float]]:
    rows = [{"id": f"r{i}", "response": "[accurate]" * (i % 2 == 0) + " [polite]" * (i % 3 == 0)
             + " [rambles]" * (i % 5 == 0) + f" n{i}"} for i in range(count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, {str(r["id"]): reward(str(r["response"])) for r in rows}


def rewards_in(path: Path) -> dict[str, float | None]:
    return {line["id"]: line["reward"] for line in map(json.loads, path.read_text().splitlines())}


def openai_grader(rubric: RubricIR, server: JudgeServer, mode: str | None, concurrency: int = 8) -> Grader:
    judge = InstructorJudge("openai/judge-7b", api_key="test", base_url=server.url + "/v1", mode=mode, retry=FAST)
    return Grader(rubric, judge=judge, cache=False, concurrency=concurrency)


def check_shape(body: dict[str, Any], mode: str) -> None:
    """What each mode sends: a forced function, a response-format schema, or the schema inside the prompt."""
    system = body["messages"][0]
    assert system["role"] == "system" and "<rubric>" in system["content"]
    if mode == "tools":
        assert body["tools"][0]["function"]["name"] == "RubricVerdicts"
        assert body["tool_choice"]["function"]["name"] == "RubricVerdicts" and "response_format" not in body
    elif mode == "json_schema":
        schema = body["response_format"]["json_schema"]["schema"]
        assert body["response_format"]["type"] == "json_schema" and "tools" not in body
        assert set(schema["properties"]) == {"accurate", "polite", "rambles"}
    else:
        assert body["response_format"] == {"type": "json_object"} and "tools" not in body
        assert '"accurate"' in system["content"]  # the reply schema travels in the system message


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
def test_each_mode_grades_a_dataset_to_the_oracles_rewards(tmp_path: Path, rubric: RubricIR, server: JudgeServer,
                                                           mode: str) -> None:
    rows, expected = rows_file(tmp_path / "rows.jsonl", 12)
    summary = grade_dataset(openai_grader(rubric, server, mode), rows, tmp_path / "out.jsonl", concurrency=6)
    assert rewards_in(tmp_path / "out.jsonl") == pytest.approx(expected)
    assert summary.judge_calls == 12 and server.calls == {CHAT: 12}
    for record in server.requests:
        check_shape(record.body, mode)
        assert record.body["model"] == "judge-7b" and record.body["temperature"] == 0.0
    assert summary.usage.input_tokens + summary.usage.cached_input_tokens > 0 and summary.usage.output_tokens > 0


def test_retries_reasks_and_the_concurrency_bound_hold_as_for_anthropic(tmp_path: Path, rubric: RubricIR) -> None:
    faults = FaultConfig(retry_after="0", faults_by_response={
        "n1 ": ["429", "429"], "n2 ": ["500"], "n3 ": ["malformed"], "n4 ": ["drop"], "n5 ": ["529"]})
    with JudgeServer(faults=faults, latency=0.02) as server:
        rows, expected = rows_file(tmp_path / "rows.jsonl", 24)
        rows.write_text(rows.read_text().replace('"}', ' "}'))  # "n1 " must not match "n10"
        grade_dataset(openai_grader(rubric, server, "json_schema", concurrency=3), rows, tmp_path / "out.jsonl",
                      concurrency=24)
        stats = server.stats()
    assert rewards_in(tmp_path / "out.jsonl") == pytest.approx(expected)
    assert stats["faults"] == {"429": 2, "500": 1, "malformed": 1, "drop": 1, "529": 1}
    assert stats["requests"] == 24 + 6  # each fault cost exactly one more request
    assert stats["peak_concurrency"] <= 3  # the grader's semaphore, not the 24 rows in flight


@pytest.mark.parametrize("given, sent", [(None, "json_schema"), ("tools", "tools"), ("json", "json")])
def test_the_command_defaults_to_json_schema_for_a_server_of_ones_own(tmp_path: Path, server: JudgeServer,
                                                                      given: str | None, sent: str) -> None:
    (tmp_path / "judged.rubric").write_text(JUDGED)
    rows, expected = rows_file(tmp_path / "rows.jsonl", 4)
    out = tmp_path / "out.jsonl"
    args = ["grade", str(tmp_path / "judged.rubric"), "--judge", "openai/judge-7b", "--base-url", server.url + "/v1",
            "--responses", str(rows), "--out", str(out), "--no-cache", *(["--mode", given] if given else [])]
    env = {"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": None, "RUBRICDSL_JUDGE": None}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert rewards_in(out) == pytest.approx(expected)
    for record in server.requests:
        check_shape(record.body, sent)


def test_the_default_mode_follows_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from rubricdsl.judging.judge import default_openai_mode

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert default_openai_mode(None) == "tools"  # OpenAI itself
    assert default_openai_mode("http://localhost:8000/v1") == "json_schema"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    assert default_openai_mode(None) == "json_schema"


def test_the_python_api_defaults_like_the_command(tmp_path: Path, server: JudgeServer) -> None:
    """A Grader given a base URL, without a mode, sends `json_schema` requests, as `rubric grade` does."""
    from rubricdsl.judging import Grader

    rubric = loads("rubric r:\n    essential a: States the law.\n")
    grader = Grader(rubric, judge="openai/local", api_key="test", base_url=server.url + "/v1")
    assert grader.grade("[a]").reward == 1.0
    assert server.requests[-1].body["response_format"]["type"] == "json_schema"
