"""OpenRLHF: `reward_func(queries, prompts, labels)` and `rubric serve`'s POST /get_reward, over loopback.

OpenRLHF (0.11) is not installed here (it needs ray, vllm and deepspeed); what it does with a reward is
replayed from its source: it loads `reward_func` from a Python file by path, calls it in a worker thread
with one decoded query (prompt + response + chat-template tokens), its prompt and its label, and reads
`rewards`, `scores` and `extra_logs`; or it POSTs `{"query", "prompts", "labels"}` with aiohttp, raises on
an HTTP error status and reads the JSON. The judge is the fake judge server, answering from markers.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import torch
from marker_rewards import BREAK, ENERGY, INLINE, PHYSICS, oracle_reward

import rubricdsl.rewards.openrlhf as openrlhf_module
from rubricdsl import loads
from rubricdsl.rewards.openrlhf import RewardService, response_text, reward_func
from rubricdsl.rewards.verl import RewardConfigAbort
from rubricdsl.serve import RewardServer
from rubricdsl.testing import FaultConfig, JudgeServer

# Needs torch and aiohttp: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations


def qwen_prompt(question: str) -> str:
    return (f"<|im_start|>system\nYou are a physicist.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            "<|im_start|>assistant\n")


def qwen_query(question: str, response: str) -> str:
    """What OpenRLHF decodes with skip_special_tokens=False: prompt, response, end of turn, end of text."""
    return qwen_prompt(question) + response + "<|im_end|><|endoftext|>"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeServer]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    with JudgeServer(faults=FaultConfig(faults_by_response={BREAK: "malformed"})) as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
        monkeypatch.setenv("RUBRICDSL_RUBRICS", str(PHYSICS))
        monkeypatch.setenv("RUBRICDSL_JUDGE", "anthropic/claude-test")
        monkeypatch.delenv("RUBRICDSL_RUBRIC", raising=False)
        monkeypatch.delenv("RUBRICDSL_FAILURE_REWARD", raising=False)
        yield srv


RESPONSES = [
    "Energy is conserved [energy_conserved]; 196 J at the top and bottom [numeric_breakdown].",
    "A pendulum swings [pendulum_example] back and forth.",
    "[energy_conserved] but friction is never mentioned [friction_ignored]",
]


# --- finding the response in a query -----------------------------------------------------------------


def test_response_text_strips_the_prompt_and_the_end_tokens() -> None:
    assert response_text(qwen_query("Why?", "Because [x]."), qwen_prompt("Why?")) == "Because [x]."
    # a BOS token the decode put before the prompt
    assert response_text("<s>" + qwen_query("Why?", "Because."), qwen_prompt("Why?")) == "Because."
    llama = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
             "<|start_header_id|>assistant<|end_header_id|>\n\nIt falls.<|eot_id|><|end_of_text|>")
    assert response_text(llama, None) == "It falls."  # no prompt: the last assistant header
    assert response_text(llama, "a prompt that was re-tokenized differently") == "It falls."
    assert response_text("[INST] Why? [/INST] It falls.</s>", None) == "It falls."
    deepseek = "<｜begin▁of▁sentence｜><｜User｜>Why?<｜Assistant｜>It falls.<｜end▁of▁sentence｜>"
    assert response_text(deepseek, None) == "It falls."
    assert response_text("plain text, no template", None) == "plain text, no template"
    # tokens in the middle of a response are the response's own
    assert response_text(qwen_query("Q", "a <|im_end|> b"), qwen_prompt("Q")) == "a <|im_end|> b"


# --- reward_func ---------------------------------------------------------------------------------------


def test_reward_func_follows_openrlhfs_documented_return(server: JudgeServer) -> None:
    queries = [qwen_query("Explain the energy.", r) for r in RESPONSES]
    prompts = [qwen_prompt("Explain the energy.")] * len(RESPONSES)
    out = reward_func(queries, prompts, ["energy_conservation"] * len(RESPONSES))

    assert set(out) == {"rewards", "scores", "extra_logs"}
    expected = [oracle_reward(ENERGY, r) for r in RESPONSES]
    assert isinstance(out["rewards"], torch.Tensor) and out["rewards"].shape == (len(RESPONSES),)
    assert out["rewards"].tolist() == pytest.approx(expected)
    assert out["scores"].tolist() == pytest.approx(expected)
    assert out["extra_logs"] == {"judge_failed": 0.0}
    # the judge saw the response alone, and the question without the template's tokens
    assert sorted(r.response_text or "" for r in server.requests) == sorted(RESPONSES)
    assert all("<|im_start|>" not in json.dumps(r.body) for r in server.requests)
    assert all("Explain the energy." in json.dumps(r.body) for r in server.requests)


def test_reward_func_loaded_from_its_file_as_openrlhf_loads_it(server: JudgeServer) -> None:
    """OpenRLHF: spec_from_file_location("reward_func", path); the module must import by path."""
    path = openrlhf_module.__file__
    spec = importlib.util.spec_from_file_location("reward_func", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    async def executor() -> list[Any]:  # SingleTurnAgentExecutor._fetch_rewards_via_func: one query a thread
        return await asyncio.gather(*(asyncio.to_thread(module.reward_func, [qwen_query("Q", r)], [qwen_prompt("Q")],
                                                        ["energy_conservation"]) for r in RESPONSES))

    results = asyncio.run(executor())
    got = [info["rewards"] for info in results]
    assert [t.tolist() for t in got] == [pytest.approx([oracle_reward(ENERGY, r)]) for r in RESPONSES]
    # what OpenRLHF then builds from it: torch.tensor([reward]) per sample, extra_logs as tensors
    for info in results:
        torch.tensor([info["rewards"]])
        assert {k: torch.tensor([v]) for k, v in info["extra_logs"].items()}


def test_a_failed_grade_is_a_neutral_reward_with_a_flag(server: JudgeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUBRICDSL_FAILURE_REWARD", "0.25")
    queries = [qwen_query("Q", RESPONSES[0]), qwen_query("Q", f"{BREAK} [energy_conserved]")]
    out = reward_func(queries, [qwen_prompt("Q")] * 2, ["energy_conservation"] * 2)
    assert out["rewards"].tolist() == pytest.approx([oracle_reward(ENERGY, RESPONSES[0]), 0.25])
    assert out["extra_logs"]["judge_failed"] == pytest.approx(0.5)


def test_labels_hold_rubric_names_or_texts_and_a_fixed_rubric_covers_missing_ones(
        server: JudgeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUBRICDSL_RUBRIC", "energy_conservation")
    responses = ["[names_energy] kinetic", RESPONSES[0]]
    out = reward_func([qwen_query("Q", r) for r in responses], [qwen_prompt("Q")] * 2, [INLINE, None])
    assert out["rewards"].tolist() == pytest.approx([oracle_reward(loads(INLINE), responses[0]),
                                                     oracle_reward(ENERGY, responses[1])])


def test_item_logs_for_a_single_rubric(server: JudgeServer) -> None:
    queries = [qwen_query("Q", r) for r in RESPONSES[:2]]
    out = reward_func(queries, [qwen_prompt("Q")] * 2, ["energy_conservation"] * 2, item_logs=True)
    logs = out["extra_logs"]
    assert list(logs) == ["judge_failed", *(f"item/{item.name}" for item in ENERGY.all_items())]
    assert logs["item/energy_conserved"] == pytest.approx(0.5)
    assert logs["item/word_limit"] == pytest.approx(1.0)


@pytest.mark.parametrize("label", ["no_such_rubric", None])
def test_configuration_errors_escape_openrlhfs_except_exception(server: JudgeServer, label: str | None) -> None:
    """OpenRLHF's executor logs any Exception from the reward and trains on None; this one must stop it."""
    async def execute() -> Any:
        try:
            return await asyncio.to_thread(reward_func, [qwen_query("Q", "x")], [qwen_prompt("Q")], [label])
        except Exception:  # what SingleTurnAgentExecutor.execute does
            return None

    with pytest.raises(RewardConfigAbort, match="no_such_rubric" if label else "no rubric"):
        asyncio.run(execute())


# --- rubric serve --------------------------------------------------------------------------------------


def post(url: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def openrlhf_post(url: str, payload: dict[str, Any]) -> Any:
    """SingleTurnAgentExecutor._fetch_rewards_via_http's request, as OpenRLHF 0.11 makes it."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=180)) as session, \
            session.post(url, json=payload) as response:
        response.raise_for_status()
        return await response.json()


@pytest.fixture
def reward_server(server: JudgeServer) -> Iterator[RewardServer]:
    service = RewardService(rubrics=str(PHYSICS), judge="anthropic/claude-test", base_url=server.url)
    with RewardServer(service) as srv:
        yield srv


def test_get_reward_over_loopback_answers_like_openrlhfs_own_server(reward_server: RewardServer) -> None:
    queries = [qwen_query("Q", r) for r in [*RESPONSES, BREAK]]
    payload = {"query": queries, "prompts": [qwen_prompt("Q")] * len(queries),
               "labels": ["energy_conservation"] * len(queries)}
    answer = asyncio.run(openrlhf_post(reward_server.url, payload))

    expected = [oracle_reward(ENERGY, r) for r in RESPONSES] + [0.0]
    assert set(answer) == {"rewards", "scores", "extra_logs"}
    assert answer["rewards"] == pytest.approx(expected)
    assert answer["scores"] == pytest.approx(expected)
    assert answer["extra_logs"] == {"judge_failed": [0.0, 0.0, 0.0, 1.0]}


def test_get_reward_takes_the_old_query_only_body_and_concurrent_requests(
        reward_server: RewardServer, server: JudgeServer) -> None:
    reward_server.service.fixed = "energy_conservation"  # older OpenRLHF sends neither prompts nor labels
    results: dict[int, Any] = {}

    def one(i: int) -> None:
        results[i] = post(reward_server.url, {"query": [qwen_query("Q", RESPONSES[i % 3])]})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for i, (status, body) in results.items():
        assert status == 200
        assert body["rewards"] == pytest.approx([oracle_reward(ENERGY, RESPONSES[i % 3])])
    assert len(results) == 9 and len(server.requests) == 9


def test_get_reward_rejects_bad_requests_and_reports_configuration_errors(reward_server: RewardServer) -> None:
    base = reward_server.url.rsplit("/", 1)[0]
    assert post(reward_server.url, b"not json")[0] == 400
    assert post(reward_server.url, {"query": "one query", "labels": ["a", "b"]})[0] == 400
    assert post(reward_server.url, {"prompts": []})[0] == 400
    assert post(base + "/other", {"query": []})[0] == 404
    with urllib.request.urlopen(base + "/health", timeout=10) as reply:
        assert json.loads(reply.read()) == {"status": "ok"}
    status, body = post(reward_server.url, {"query": ["x"], "labels": ["no_such_rubric"]})
    assert status == 500 and "no_such_rubric" in body["error"]
    assert post(reward_server.url, {"query": [], "prompts": [], "labels": []}) == (
        200, {"rewards": [], "scores": [], "extra_logs": {"judge_failed": []}})


def test_rubric_serve_command(server: JudgeServer, tmp_path: Path) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": "test", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "rubricdsl", "serve", "--rubrics", str(PHYSICS), "--judge",
               "anthropic/claude-test", "--base-url", server.url, "--port", "0", "--no-cache", "--item-logs"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, (line, process.stderr.read() if process.poll() else "")
        url = line.split("listening on ", 1)[1].strip()
        payload = {"query": [qwen_query("Q", RESPONSES[0])], "prompts": [qwen_prompt("Q")],
                   "labels": ["energy_conservation"]}
        answer = asyncio.run(openrlhf_post(url, payload))
        assert answer["rewards"] == pytest.approx([oracle_reward(ENERGY, RESPONSES[0])])
        assert answer["extra_logs"]["item/numeric_breakdown"] == [1.0]
        process.send_signal(signal.SIGTERM)  # as a supervisor stops it (SIGINT may be ignored in background jobs)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_rubric_serve_refuses_to_start_on_a_bad_configuration(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "rubricdsl", "serve", "--rubrics", str(PHYSICS), "--rubric",
                             "no_such_rubric", "--port", "0", "--no-cache"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "no_such_rubric" in result.stderr
    assert time.monotonic() - started < 60


def test_nan_free_payloads_without_item_logs(reward_server: RewardServer) -> None:
    status, body = post(reward_server.url, {"query": [qwen_query("Q", BREAK)], "labels": ["energy_conservation"]})
    assert status == 200 and not any(isinstance(v, float) and math.isnan(v) for v in body["rewards"])
