"""Reliability: retries and what is never retried, undecided items, token usage, load, OpenAI, pickling.

Faults are injected by the fake judge over real sockets (429 with retry-after, 500, 529, dropped
connections, slow replies, malformed tool input, 401, 400), and the grader is driven through the real
anthropic/openai SDKs and instructor. Retry policies and timeouts are short so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import pickle
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from judging_helpers import ENERGY_ITEMS, RUBRICS, energy, variant

import rubricdsl
from rubricdsl.judging import Grader, InstructorJudge, JudgeConfigError, JudgeError, RetryPolicy
from rubricdsl.scoring import GradingError
from rubricdsl.testing import Fault, FaultConfig, JudgeServer, OracleContext, RecordedRequest, marker_oracle

WEIGHTS = {"energy_conserved": 5.0, "numeric_breakdown": 3.0, "pendulum_example": 1.0, "friction_ignored": -1.0}
FAST = RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05, deadline=20.0)


def make_judge(server: JudgeServer, *, model: str = "anthropic/claude-test", retry: RetryPolicy = FAST,
               timeout: float = 10.0, max_retries: int = 2, api_key: str = "test", **options: Any) -> InstructorJudge:
    base_url = server.url + "/v1" if model.startswith("openai/") else server.url
    return InstructorJudge(model, api_key=api_key, base_url=base_url, retry=retry, timeout=timeout,
                           max_retries=max_retries, **options)


def expected_reward(response: str) -> float:
    """The energy rubric's reward from the markers alone (default scoring: weighted, positive, zero gate).

    Worked out here with plain arithmetic, independently of the scorer: the word limit (a hard rule) gates,
    S is the weighted sum of the items that hold, P the positive weights.
    """
    if len(response.split()) > 250:
        return 0.0
    s = sum(w for name, w in WEIGHTS.items() if f"[{name}]" in response)
    return min(max(s / 9.0, 0.0), 1.0)


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


# --- the retry policy itself ------------------------------------------------------------------------


class StatusError(Exception):
    """An error shaped like the SDKs' (`status_code`, `response.headers`), for the policy on its own."""

    def __init__(self, status: int, retry_after: str | None = None):
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.response = SimpleNamespace(headers={"retry-after": retry_after} if retry_after else {})


def run_policy(policy: RetryPolicy, failures: list[Exception]) -> tuple[str, list[float], int]:
    waits: list[float] = []
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        if failures:
            raise failures.pop(0)
        return "ok"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return asyncio.run(policy.run(call, sleep=sleep)), waits, calls


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(7)
    for attempt in range(8):
        full = min(4.0, 0.5 * 2**attempt)
        assert [full / 2 <= policy.delay(attempt, None, rng) <= full for _ in range(20)] == [True] * 20
    draws = {round(policy.delay(2, None, random.Random(seed)), 6) for seed in range(10)}
    assert len(draws) == 10  # jitter: concurrent requests do not retry in lockstep
    assert policy.delay(5, 7.0, rng) == 7.0  # retry-after wins over the backoff


def test_policy_retries_transient_errors_and_stops_on_others() -> None:
    policy = RetryPolicy(attempts=4, base_delay=0.1, max_delay=1.0, max_retry_after=60.0)
    result, waits, calls = run_policy(policy, [StatusError(503), StatusError(529), StatusError(429, "2")])
    assert (result, calls) == ("ok", 4)
    assert 0.05 <= waits[0] <= 0.1 and 0.1 <= waits[1] <= 0.2 and waits[2] == 2.0

    with pytest.raises(JudgeError, match="gave up after 4 attempt"):
        run_policy(policy, [StatusError(500)] * 5)
    for status in (400, 401, 403, 404):
        with pytest.raises(JudgeConfigError):
            run_policy(policy, [StatusError(status)])
    # An hour's retry-after is not slept: the request ends at once and the item is undecided.
    with pytest.raises(JudgeError, match="HTTP 429"):
        _, waits, calls = run_policy(policy, [StatusError(429, "3600")])


# --- transient faults through the real stack ---------------------------------------------------------


@pytest.mark.parametrize("script", [["429", "429"], ["500"], ["529", "500"], ["drop", "drop"]])
def test_transient_faults_are_retried(script: list[str]) -> None:
    response = "[flaky] [energy_conserved] [numeric_breakdown]"
    with JudgeServer(faults=FaultConfig(faults_by_response={"[flaky]": script})) as server:
        result = Grader(energy(), judge=make_judge(server)).grade(response)
        records = server.requests
    assert [r.fault for r in records] == [*script, None]
    assert records[-1].status == 200
    assert result.reward == pytest.approx(expected_reward(response)) == pytest.approx(8 / 9)
    assert result.judge_calls == len(script) + 1  # every attempt is a call, failed ones included


def test_retry_after_is_honoured() -> None:
    faults = FaultConfig(faults_by_response={"[limited]": ["429"]}, retry_after="0.6")
    with JudgeServer(faults=faults) as server:
        started = time.monotonic()
        result = Grader(energy(), judge=make_judge(server)).grade("[limited] [energy_conserved]")
        elapsed = time.monotonic() - started
        assert [r.status for r in server.requests] == [429, 200]
        assert server.requests[0].reply_headers["retry-after"] == "0.6"
    assert elapsed >= 0.6  # the backoff alone would wait at most 0.01 s
    assert result.reward == pytest.approx(5 / 9)


def test_a_retry_after_beyond_the_limit_gives_up_promptly() -> None:
    faults = FaultConfig(faults_by_response={"[busy]": "429"}, retry_after="3600")
    with JudgeServer(faults=faults) as server:
        grader = Grader(energy(), judge=make_judge(server, retry=RetryPolicy(max_retry_after=30.0)))
        grader.grade("warm-up: the SDKs are imported on first use")
        server.reset()
        started = time.monotonic()
        with pytest.raises(GradingError) as caught:
            grader.grade("[busy] [energy_conserved]")
        assert time.monotonic() - started < 5.0
        assert len(server.requests) == 1
    assert sorted(caught.value.items) == sorted(ENERGY_ITEMS)
    assert "HTTP 429" in str(caught.value)


def test_slow_replies_time_out_and_are_retried() -> None:
    faults = FaultConfig(faults_by_response={"[slow]": ["slow"]}, slow_seconds=1.5)
    with JudgeServer(faults=faults) as server:
        grader = Grader(energy(), judge=make_judge(server, timeout=0.3))
        grader.grade("warm-up: the SDKs are imported on first use")
        server.reset()
        started = time.monotonic()
        result = grader.grade("[slow] [pendulum_example]")
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 5
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the slow handler records its request only once it has slept
        assert sorted(str(r.fault) for r in server.requests) == ["None", "slow"]
    assert elapsed < 1.5  # the client did not wait for the slow reply
    assert result.reward == pytest.approx(1 / 9)
    assert result.judge_calls == 2


# --- invalid structured output ------------------------------------------------------------------------


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_persistently_malformed_replies_are_asked_max_retries_plus_one_times(max_retries: int) -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"[bad]": "malformed"})) as server:
        grader = Grader(energy(), judge=make_judge(server, max_retries=max_retries))
        with pytest.raises(GradingError) as caught:
            grader.grade("[bad] [energy_conserved]")
        records = server.requests
    assert len(records) == max_retries + 1
    assert sorted(caught.value.items) == sorted(ENERGY_ITEMS)
    assert "invalid structured output" in str(caught.value)
    # each re-ask carries the bad tool call and the validation error back to the judge (instructor's re-ask)
    for number, record in enumerate(records):
        assert [m["role"] for m in record.body["messages"]] == ["user"] + ["assistant", "user"] * number


def failing_items(*names: str) -> Any:
    """An oracle that always answers malformed for the (granularity: item) requests about `names`."""

    def oracle(ctx: OracleContext) -> dict[str, Any]:
        if set(ctx.field_names) & set(names):
            raise Fault("malformed")
        return marker_oracle(ctx)

    return oracle


@pytest.mark.parametrize(
    ("on_error", "reward"),
    [
        # energy_conserved (+5) and friction_ignored (−1) fail; numeric (+3) and pendulum (+1) hold.
        ("skip", 4 / 4),  # both leave S, P and N: S = 4, P = 4
        ("zero", 4 / 9),  # credit 0 each: S = 4, P = 9
        ("fail", 3 / 9),  # the worst case: energy 0, friction (a pitfall) 1 → S = 4 − 1 = 3
    ],
)
def test_undecided_items_follow_on_error(on_error: str, reward: float) -> None:
    rubric = variant(energy(), judge={"granularity": "item"}, scoring={"on_error": on_error})
    with JudgeServer(oracle=failing_items("energy_conserved", "friction_ignored")) as server:
        result = Grader(rubric, judge=make_judge(server, max_retries=1)).grade("[numeric_breakdown] [pendulum_example]")
        per_item = Counter(next(iter(r.body["tools"][0]["input_schema"]["properties"])) for r in server.requests)
    assert per_item == {"energy_conserved": 2, "friction_ignored": 2, "numeric_breakdown": 1, "pendulum_example": 1}
    assert result.reward == pytest.approx(reward)
    assert set(result.undecided) == {"energy_conserved", "friction_ignored"}
    assert result.verdicts["energy_conserved"].undecided == "error"


def test_on_error_raise_names_only_the_undecided_items() -> None:
    rubric = variant(energy(), judge={"granularity": "item"})  # on_error: raise, the library's default
    with JudgeServer(oracle=failing_items("friction_ignored")) as server:
        grader = Grader(rubric, judge=make_judge(server, max_retries=0))
        with pytest.raises(GradingError) as caught:
            grader.grade("[numeric_breakdown]")
        assert list(caught.value.items) == ["friction_ignored"]
        (result,) = grader.grade_many(["[numeric_breakdown]"])  # in a batch: no reward, the error kept
    assert result.reward is None and "friction_ignored" in (result.error or "")


# --- what is never retried ----------------------------------------------------------------------------


def test_a_wrong_api_key_stops_at_once_and_is_never_a_reward() -> None:
    with JudgeServer() as server:
        grader = Grader(energy(), judge=make_judge(server, api_key="wrong"))
        with pytest.raises(JudgeConfigError, match="API key") as caught:
            grader.grade("[energy_conserved]")
        assert "HTTP 401" in str(caught.value)
        assert len(server.requests) == 1
        with pytest.raises(JudgeConfigError):  # a batch stops too instead of recording reward None or 0
            grader.grade_many(["a", "b", "c"])
        assert [r.status for r in server.requests] == [401] * len(server.requests)


def test_a_rejected_request_stops_at_once() -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"[rejected]": "400"})) as server:
        with pytest.raises(JudgeConfigError, match=r"rejected the request \(HTTP 400\)"):
            Grader(energy(), judge=make_judge(server)).grade("[rejected]")
        assert len(server.requests) == 1


def test_no_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, server: JudgeServer) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    grader = Grader(energy(), judge="anthropic/claude-test", base_url=server.url)
    with pytest.raises(JudgeConfigError, match="ANTHROPIC_API_KEY"):
        grader.grade("x")
    assert server.requests == []


# --- token usage --------------------------------------------------------------------------------------


def test_usage_is_summed_across_reasks_with_cache_tokens() -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"[reask]": ["malformed"]})) as server:
        result = Grader(energy(), judge=make_judge(server)).grade("[reask] [energy_conserved]")
        replies = [r.reply["usage"] for r in server.requests]
    assert len(replies) == 2
    assert result.judge_calls == 2
    assert result.usage.input_tokens == sum(u["input_tokens"] for u in replies)
    assert result.usage.output_tokens == sum(u["output_tokens"] for u in replies)
    assert result.usage.cache_creation_input_tokens == replies[0]["cache_creation_input_tokens"] > 0
    # the re-ask repeats the rubric prefix, which the first call wrote to the prompt cache
    assert result.usage.cached_input_tokens == replies[1]["cache_read_input_tokens"] > 0
    assert result.reward == pytest.approx(5 / 9)


# --- no judge ----------------------------------------------------------------------------------------


def test_a_checks_only_rubric_grades_offline_with_no_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUBRICDSL_JUDGE", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    manifest = rubricdsl.load_rubric(RUBRICS / "checks" / "changelog.rubric", "release_manifest")
    grader = Grader(manifest)
    assert grader.judges == []
    good = '{"name": "tidyfeed", "version": "2.4.0", "date": "2024-05-14", "changes": ["a", "b", "c"]}'
    wrapped = "```json\n" + good + "\n```"
    result, fenced = grader.grade_many([good, wrapped])
    assert result.reward == 1.0 and result.judge_calls == 0 and result.model is None  # method: all
    assert fenced.reward == 0.0 and fenced.gate == "closed"  # not one JSON document: a hard rule fails
    assert {v.source for v in result.verdicts.values()} == {"check"}


def test_a_rubric_that_needs_a_judge_without_one_names_the_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUBRICDSL_JUDGE", raising=False)
    with pytest.raises(JudgeConfigError) as caught:
        Grader(energy()).grade("x")
    message = str(caught.value)
    assert all(name in message for name in ENERGY_ITEMS) and "word_limit" not in message


# --- load: many responses, many faults ------------------------------------------------------------------


def test_many_responses_with_faults_are_each_graded_once_with_the_oracles_reward() -> None:
    rng = random.Random(2024)
    responses = []
    for n in range(300):
        markers = " ".join(f"[{name}]" for name in ENERGY_ITEMS if rng.random() < 0.5)
        padding = " word" * (300 if rng.random() < 0.1 else 5)  # about one in ten breaks the word limit
        responses.append(f"response {n}: {markers}{padding}")
    faults = FaultConfig(rate_429=0.1, rate_500=0.05, rate_529=0.05, rate_drop=0.05, rate_malformed=0.1)
    with JudgeServer(faults=faults, seed=11) as server:
        grader = Grader(energy(), judge=make_judge(server, max_retries=5, retry=RetryPolicy(
            attempts=10, base_delay=0.005, max_delay=0.05, deadline=60.0)), concurrency=16)
        results = grader.grade_many(responses)
        records = server.requests
        stats = server.stats()
    assert stats["peak_concurrency"] <= 16
    assert {"429", "500", "529", "drop", "malformed"} <= set(stats["faults"])
    answered = Counter(r.response_text for r in records if r.status == 200 and r.fault is None)
    assert all(answered[response] == 1 for response in responses)  # each judged once, none twice
    assert len(answered) == 300
    expected = [rubricdsl.aggregate(energy(), {**{n: f"[{n}]" in r for n in ENERGY_ITEMS},
                                               "word_limit": len(r.split()) <= 250}).reward for r in responses]
    assert [r.reward for r in results] == pytest.approx(expected)
    assert [r.reward for r in results] == pytest.approx([expected_reward(r) for r in responses])
    assert sum(r.judge_calls for r in results) == len(records)  # every call is accounted to its response


# --- OpenAI-compatible servers -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
def test_openai_judges(mode: str) -> None:
    with JudgeServer() as server:
        grader = Grader(energy(), judge=make_judge(server, model="openai/gpt-test", mode=mode))
        first, second = grader.grade_many(["[energy_conserved] [numeric_breakdown]", "[friction_ignored]"])
        records = server.requests
    assert {r.path for r in records} == {"/v1/chat/completions"}
    body = records[0].body
    assert body["model"] == "gpt-test" and body["temperature"] == 0.0
    assert body["messages"][0]["role"] == "system" and "<rubric>" in body["messages"][0]["content"]
    assert re.search(r"<response-[0-9a-f]{12}>\n", body["messages"][-1]["content"])
    if mode == "tools":
        assert body["tools"][0]["function"]["name"] == "RubricVerdicts"
    else:
        assert body["response_format"]["type"] == "json_schema"
    assert first.reward == pytest.approx(8 / 9) and second.reward == 0.0
    # OpenAI caches automatically: one of the two reads the other's prefix
    assert sorted(r.usage.cached_input_tokens > 0 for r in (first, second)) == [False, True]


# --- pickling: a trainer's worker process gets a copy ---------------------------------------------------


def test_a_pickled_grader_and_judge_work_in_a_fresh_event_loop(server: JudgeServer) -> None:
    grader = Grader(energy(), judge=make_judge(server), concurrency=4)
    assert grader.grade("[energy_conserved]").reward == pytest.approx(5 / 9)  # clients now exist, bound to a loop
    copy = pickle.loads(pickle.dumps(grader))

    async def in_a_new_loop() -> list[float | None]:
        results = await copy.agrade_many(["[numeric_breakdown]", "[pendulum_example]"])
        await copy.aclose()  # the async API leaves closing to the owner of the loop
        return [r.reward for r in results]

    assert asyncio.run(in_a_new_loop()) == pytest.approx([3 / 9, 1 / 9])
    assert grader.grade("[pendulum_example] [numeric_breakdown]").reward == pytest.approx(4 / 9)  # original too

    judge = pickle.loads(pickle.dumps(make_judge(server)))
    from rubricdsl.judging import build_requests

    async def decide_once() -> Any:
        try:
            return await judge.decide(build_requests(energy(), "[energy_conserved]")[0])
        finally:
            await judge.aclose()

    reply = asyncio.run(decide_once())
    assert reply.decisions["energy_conserved"]["holds"] is True and reply.calls == 1
    assert all(isinstance(r, RecordedRequest) and r.status == 200 for r in server.requests)


def test_the_sync_api_closes_its_clients_with_its_event_loop(server: JudgeServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A client left open on a finished loop makes the SDK close it, when collected, on whatever loop runs
    then: "Task exception was never retrieved ... Event loop is closed". The sync API closes its own."""
    gc.collect()  # clients other tests left behind are collected now, with no loop running: silently
    graders = [Grader(energy(), judge=make_judge(server)) for _ in range(3)]
    for grader in graders:
        grader.grade("[energy_conserved]")

    async def drop_them_while_another_loop_runs() -> None:
        graders.clear()
        gc.collect()
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        asyncio.run(drop_them_while_another_loop_runs())
        gc.collect()
    assert "never retrieved" not in caplog.text and "Event loop is closed" not in caplog.text
