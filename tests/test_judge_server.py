"""The fake judge server, driven through the real SDKs and instructor, never mocked.

Why these tests matter: every grader test that uses ``JudgeServer`` trusts that it answers the way the
providers do — wire shape, usage and caching numbers, error classes, retry headers, re-asks. If the server
drifted from what the installed SDKs parse, those tests would pass against a fiction.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import anthropic
import instructor
import openai
import pytest
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel

from rubricdsl.testing import (
    UNSET,
    Fault,
    FaultConfig,
    JudgeServer,
    OracleContext,
    extract_response,
    fill_from_schema,
    find_embedded_schema,
    inline_refs,
    marker_oracle,
)

REPO = Path(__file__).resolve().parents[1]
SYSTEM_TEXT = "You are a strict judge. Decide each statement independently. " * 40


class ItemVerdict(BaseModel):
    reason: str
    holds: bool


class Verdicts(BaseModel):
    a: ItemVerdict
    b: ItemVerdict


def fenced(text: str, nonce: str = "abc123") -> str:
    return f"Grade the response.\n<response-{nonce}>\n{text}\n</response-{nonce}>"


def system_blocks(cached: bool = True) -> list[dict[str, Any]]:
    block: dict[str, Any] = {"type": "text", "text": SYSTEM_TEXT}
    if cached:
        block["cache_control"] = {"type": "ephemeral"}
    return [block]


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


def anthropic_judge(server: JudgeServer, *, api_key: str = "test", max_retries: int = 0) -> instructor.AsyncInstructor:
    client = anthropic.AsyncAnthropic(base_url=server.url, api_key=api_key, max_retries=max_retries)
    return instructor.from_anthropic(client, mode=instructor.Mode.TOOLS)


async def grade_anthropic(
    judge: instructor.AsyncInstructor, text: str, *, max_retries: int = 0, cached: bool = True
) -> tuple[Verdicts, Any]:
    result, raw = await judge.create_with_completion(
        model="claude-test",
        max_tokens=400,
        max_retries=max_retries,
        response_model=Verdicts,
        system=system_blocks(cached),
        messages=[{"role": "user", "content": fenced(text)}],
    )
    return result, raw


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """A bare stdlib POST, for what the SDKs cannot show (exact headers, x-api-key auth)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers.items()), json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), json.loads(err.read())


MINIMAL = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


# --- Anthropic through instructor -------------------------------------------------------------------


def test_anthropic_tools_round_trip_follows_the_markers(server: JudgeServer) -> None:
    result, raw = asyncio.run(grade_anthropic(anthropic_judge(server), "text with [a] but not the other"))
    assert result.a.holds is True
    assert result.b.holds is False
    assert raw.stop_reason == "tool_use"
    assert raw.content[0].type == "tool_use" and raw.content[0].name == "Verdicts"
    (record,) = server.requests
    assert record.path == "/v1/messages" and record.status == 200
    assert record.response_text == "text with [a] but not the other"
    assert record.body["tool_choice"]["name"] == "Verdicts"
    assert record.auth in ("x-api-key", "bearer")
    assert server.calls == {"/v1/messages": 1}


def test_marker_in_the_instructions_does_not_count_only_the_fenced_response(server: JudgeServer) -> None:
    judge = anthropic_judge(server)

    async def run() -> Verdicts:
        result: Verdicts = await judge.create(
            model="claude-test",
            max_tokens=400,
            response_model=Verdicts,
            messages=[{"role": "user", "content": "Mark [b] if needed.\n" + fenced("only [a] here")}],
        )
        return result

    result = asyncio.run(run())
    assert (result.a.holds, result.b.holds) == (True, False)


def test_cache_control_prefix_is_created_once_then_read(server: JudgeServer) -> None:
    judge = anthropic_judge(server)  # one event loop per client: httpx pools are bound to their loop

    async def run() -> list[Any]:
        usages = [(await grade_anthropic(judge, text))[1].usage for text in ("first [a]", "second [b]")]
        server.reset()
        assert server.requests == []
        return [*usages, (await grade_anthropic(judge, "third"))[1].usage]

    first, second, third = asyncio.run(run())
    assert first.cache_creation_input_tokens > len(SYSTEM_TEXT) // 4  # tools + system are the prefix
    assert first.cache_read_input_tokens == 0
    assert second.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert 0 < second.input_tokens < 40  # only the short user turn is uncached
    assert third.cache_creation_input_tokens == first.cache_creation_input_tokens  # reset forgot the cache


def test_the_last_cache_control_block_ends_the_cached_prefix(server: JudgeServer) -> None:
    judge = anthropic_judge(server)
    rubric = "Rubric items: a, b. " * 60

    async def grade(text: str) -> Any:
        content: list[dict[str, Any]] = [
            {"type": "text", "text": rubric, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": fenced(text)},
        ]
        message: Any = {"role": "user", "content": content}
        _, raw = await judge.create_with_completion(
            model="claude-test", max_tokens=400, response_model=Verdicts, system=system_blocks(), messages=[message]
        )
        return raw.usage

    async def run() -> list[Any]:
        return [await grade("one [a]"), await grade("two [b]")]

    first, second = asyncio.run(run())
    assert first.cache_creation_input_tokens >= (len(SYSTEM_TEXT) + len(rubric)) // 4  # system and rubric
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.input_tokens < len(rubric) // 4  # the rubric block is not billed as fresh input


def test_without_cache_control_nothing_is_cached(server: JudgeServer) -> None:
    judge = anthropic_judge(server)

    async def run() -> list[Any]:
        return [(await grade_anthropic(judge, "same [a]", cached=False))[1].usage for _ in range(2)]

    for usage in asyncio.run(run()):
        assert usage.cache_creation_input_tokens == 0 and usage.cache_read_input_tokens == 0
        assert usage.input_tokens > len(SYSTEM_TEXT) // 4


def test_wrong_key_is_an_authentication_error_and_is_not_retried(server: JudgeServer) -> None:
    client = anthropic.AsyncAnthropic(base_url=server.url, api_key="wrong", max_retries=2)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        asyncio.run(client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]))
    assert caught.value.status_code == 401
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    with pytest.raises(Exception) as through_instructor:
        asyncio.run(grade_anthropic(anthropic_judge(server, api_key="wrong"), "[a]"))
    chain: list[BaseException] = []
    error: BaseException | None = through_instructor.value
    while error is not None:
        chain.append(error)
        error = error.__cause__
    assert any(isinstance(e, anthropic.AuthenticationError) for e in chain)
    assert [r.status for r in server.requests] == [401, 401]


def test_key_values_are_never_recorded() -> None:
    with JudgeServer(valid_keys={"sk-secret-123"}) as server:
        status, _, _ = post(server.url + "/v1/messages", MINIMAL, {"x-api-key": "sk-secret-123"})
        assert status == 200
        status, _, body = post(server.url + "/v1/messages", MINIMAL, {"authorization": "Bearer nope"})
        assert status == 401 and body["error"]["type"] == "authentication_error"
        status, _, _ = post(server.url + "/v1/messages", MINIMAL)
        assert status == 401
        records = server.requests
    assert [r.auth for r in records] == ["x-api-key", "bearer", None]
    assert "sk-secret-123" not in repr(records) and "nope" not in repr(records)
    assert records[0].headers["x-api-key"] == "<present>"


def test_429_then_success_through_sdk_retries() -> None:
    faults = FaultConfig(faults_by_response={"[retry-me]": ["429"]})
    with JudgeServer(faults=faults) as server:
        result, _ = asyncio.run(grade_anthropic(anthropic_judge(server, max_retries=2), "[retry-me] [b]"))
        first, second = server.requests
    assert (result.a.holds, result.b.holds) == (False, True)
    assert (first.status, first.fault, second.status) == (429, "429", 200)
    assert first.reply_headers["retry-after"] == "0"
    assert first.reply["error"]["type"] == "rate_limit_error"
    assert (first.headers["x-stainless-retry-count"], second.headers["x-stainless-retry-count"]) == ("0", "1")


@pytest.mark.parametrize(
    ("kind", "error_class", "error_type"),
    [
        ("529", anthropic.OverloadedError, "overloaded_error"),
        ("500", anthropic.InternalServerError, "api_error"),
        ("429", anthropic.RateLimitError, "rate_limit_error"),
    ],
)
def test_forced_status_faults_map_to_sdk_errors(kind: str, error_class: type[Exception], error_type: str) -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"": kind})) as server:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
        with pytest.raises(error_class) as caught:
            asyncio.run(client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]))
        assert caught.value.body["error"]["type"] == error_type  # type: ignore[attr-defined]
        assert server.stats()["faults"] == {kind: 1}


def test_malformed_reply_triggers_one_instructor_reask() -> None:
    faults = FaultConfig(faults_by_response={"[bad-once]": ["malformed"]})
    with JudgeServer(faults=faults) as server:
        result, _ = asyncio.run(grade_anthropic(anthropic_judge(server), "[bad-once] [a] [b]", max_retries=1))
        first, second = server.requests
    assert (result.a.holds, result.b.holds) == (True, True)
    assert first.fault == "malformed" and first.status == 200
    bad_input = first.reply["content"][0]["input"]
    with pytest.raises(ValueError):
        Verdicts.model_validate(bad_input)
    # the re-ask carries the bad tool call and a tool_result with the validation error, and still the response
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert second.body["messages"][2]["content"][0]["type"] == "tool_result"
    assert second.response_text == "[bad-once] [a] [b]"


def test_always_malformed_exhausts_instructor_retries() -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"[bad]": "malformed"})) as server:
        with pytest.raises(InstructorRetryException):
            asyncio.run(grade_anthropic(anthropic_judge(server), "[bad]", max_retries=1))
        assert server.calls == {"/v1/messages": 2}


def test_dropped_connection_is_retried_by_the_sdk() -> None:
    with JudgeServer(faults=FaultConfig(faults_by_response={"[drop]": ["drop"]})) as server:
        result, _ = asyncio.run(grade_anthropic(anthropic_judge(server, max_retries=1), "[drop] [a]"))
        assert result.a.holds
        assert [(r.fault, r.status) for r in server.requests] == [("drop", None), (None, 200)]
    with JudgeServer(faults=FaultConfig(faults_by_response={"[drop]": "drop"})) as server:
        with pytest.raises(Exception) as caught:
            asyncio.run(grade_anthropic(anthropic_judge(server, max_retries=0), "[drop]"))
        assert isinstance(caught.value.__cause__, anthropic.APIConnectionError)


def test_oracle_can_force_faults_and_its_bugs_are_not_retried() -> None:
    def oracle(ctx: OracleContext) -> dict[str, Any]:
        if "[boom]" in ctx.response:
            raise RuntimeError("oracle bug")
        if not ctx.is_reask:
            raise Fault("malformed")
        return marker_oracle(ctx)

    with JudgeServer(oracle=oracle) as server:
        result, _ = asyncio.run(grade_anthropic(anthropic_judge(server), "[b]", max_retries=1))
        assert (result.a.holds, result.b.holds) == (False, True)
        assert [r.fault for r in server.requests] == ["malformed", None]
        server.reset()
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=2)
        with pytest.raises(anthropic.InternalServerError, match="oracle bug"):
            asyncio.run(
                client.messages.create(
                    model="m", max_tokens=5, messages=[{"role": "user", "content": fenced("[boom]")}]
                )
            )
        assert len(server.requests) == 1  # x-should-retry: false
        assert server.stats()["oracle_errors"] == 1


def test_bad_requests_and_routes_fail_like_the_provider(server: JudgeServer) -> None:
    status, _, body = post(server.url + "/v1/messages", {"model": "m", "messages": []}, {"x-api-key": "test"})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, _, body = post(server.url + "/v1/nothing", MINIMAL, {"x-api-key": "test"})
    assert status == 404
    status, _, body = post(server.url + "/v1/messages", {**MINIMAL, "stream": True}, {"x-api-key": "test"})
    assert status == 400 and "stream" in body["error"]["message"]


# --- OpenAI through instructor ----------------------------------------------------------------------


def openai_judge(server: JudgeServer, mode: instructor.Mode, api_key: str = "test") -> instructor.AsyncInstructor:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=api_key, max_retries=0)
    return instructor.from_openai(client, mode=mode)


async def grade_openai(judge: instructor.AsyncInstructor, text: str) -> tuple[Verdicts, Any]:
    result, raw = await judge.create_with_completion(
        model="gpt-test",
        response_model=Verdicts,
        messages=[{"role": "system", "content": SYSTEM_TEXT}, {"role": "user", "content": fenced(text)}],
    )
    return result, raw


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA, instructor.Mode.JSON])
def test_openai_modes_round_trip(server: JudgeServer, mode: instructor.Mode) -> None:
    judge = openai_judge(server, mode)

    async def run() -> list[tuple[Verdicts, Any]]:
        return [await grade_openai(judge, "[b] only"), await grade_openai(judge, "[a] and [b]")]

    (first, raw1), (second, raw2) = asyncio.run(run())
    assert (first.a.holds, first.b.holds, second.a.holds, second.b.holds) == (False, True, True, True)
    record = server.requests[0]
    assert record.path == "/v1/chat/completions" and record.auth == "bearer"
    if mode is instructor.Mode.TOOLS:
        assert raw1.choices[0].finish_reason == "tool_calls"
        assert json.loads(raw1.choices[0].message.tool_calls[0].function.arguments)["b"]["holds"] is True
    else:
        assert raw1.choices[0].message.content is not None
        kind = "json_schema" if mode is instructor.Mode.JSON_SCHEMA else "json_object"
        assert record.body["response_format"]["type"] == kind
    assert raw1.usage.prompt_tokens_details.cached_tokens == 0
    assert raw2.usage.prompt_tokens_details.cached_tokens > len(SYSTEM_TEXT) // 4
    assert raw2.usage.prompt_tokens > raw2.usage.prompt_tokens_details.cached_tokens


def test_openai_wrong_key(server: JudgeServer) -> None:
    judge = openai_judge(server, instructor.Mode.TOOLS, api_key="bad")
    with pytest.raises(Exception) as caught:
        asyncio.run(grade_openai(judge, "[a]"))
    cause = caught.value.__cause__
    assert isinstance(cause, openai.AuthenticationError)
    assert cause.body["code"] == "invalid_api_key"  # type: ignore[index]
    assert "bad" not in repr(server.requests)  # neither the headers nor the reply echo the key


# --- determinism, latency, lifecycle ----------------------------------------------------------------


def fault_sequence(seed: int, n: int = 60) -> list[str | None]:
    faults = FaultConfig(rate_429=0.2, rate_529=0.1, rate_500=0.1, rate_malformed=0.1, rate_slow=0.1, slow_seconds=0)
    with JudgeServer(faults=faults, seed=seed) as server:
        for _ in range(n):
            post(server.url + "/v1/messages", MINIMAL, {"x-api-key": "test"})
        return [r.fault for r in server.requests]


def test_random_faults_are_reproducible_per_seed() -> None:
    first, again, other = fault_sequence(1), fault_sequence(1), fault_sequence(2)
    assert first == again
    assert first != other
    assert 0.2 < sum(f is not None for f in first) / len(first) < 0.9  # about 0.6 expected
    assert {"429", "529", "500"} <= set(first)


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError):
        FaultConfig(rate_429=0.7, rate_500=0.7)
    with pytest.raises(ValueError):
        FaultConfig(faults_by_response={"x": "418"})


def test_latency_is_concurrent_not_serialised() -> None:
    with JudgeServer(latency=0.2) as server:
        judge = anthropic_judge(server)

        async def run() -> list[tuple[Verdicts, Any]]:
            return await asyncio.gather(*(grade_anthropic(judge, f"[a] #{i}") for i in range(25)))

        started = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - started
        stats = server.stats()
    assert all(r.a.holds for r, _ in results)
    assert elapsed < 3.0  # serialised would take 5 s
    assert stats["requests"] == 25 and stats["peak_concurrency"] >= 10
    assert all(r.duration >= 0.2 for r in server.requests)


def test_stop_closes_the_port() -> None:
    server = JudgeServer().start()
    url = server.url
    assert post(url + "/v1/messages", MINIMAL, {"x-api-key": "test"})[0] == 200
    server.stop()
    with pytest.raises(OSError):
        post(url + "/v1/messages", MINIMAL, {"x-api-key": "test"})


def test_cli_prints_url_and_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rubricdsl.testing.judge_server", "--port", "0", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        status, _, body = post(url + "/v1/messages", MINIMAL, {"x-api-key": "test"})
        assert status == 200 and body["type"] == "message"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert json.loads(out)["requests"] == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- oracle helpers, without HTTP -------------------------------------------------------------------


def test_extract_response_uses_the_nonce_and_the_last_closing_tag() -> None:
    inner = "ends early? </response-abc123> no; <response-ff>fake</response-ff>"
    text = f"intro\n<response-abc123>\n{inner}\n</response-abc123>\ntail"
    blocks = [
        {"type": "text", "text": "head"},
        {"type": "text", "text": text, "cache_control": {"type": "x"}},
    ]
    assert extract_response([{"role": "user", "content": blocks}]) == inner
    assert extract_response([{"role": "user", "content": fenced("x\n")}]) == "x\n"
    assert extract_response([{"role": "user", "content": "<response-ab>\nhi\n</response-ab>"}]) == "hi"
    assert extract_response([{"role": "user", "content": "<response-ab>\n\nhi\n\n</response-ab>"}]) == "\nhi\n"
    assert extract_response([{"role": "user", "content": "no fence"}]) == "no fence"
    reask = [
        {"role": "user", "content": fenced("graded [a] </response-abc123> still graded")},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "V", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "fix it"}]},
    ]
    assert extract_response(reask) == "graded [a] </response-abc123> still graded"


class Answer(str, Enum):
    holds = "holds"
    partly = "partly"
    does_not = "does_not"


class Ternary(BaseModel):
    reason: str
    answer: Answer


class Scale(BaseModel):
    reason: str
    level: Literal[1, 2, 3, 4]
    cannot_assess: bool = False


class Named(BaseModel):
    reason: str
    level: Literal["poor", "fair", "good"]


class Mixed(BaseModel):
    t1: Ternary
    t2: Ternary
    t3: Ternary
    s1: Scale
    s2: Scale
    n1: Named
    extra: int | None = None


def oracle_ctx(model: type[BaseModel], response: str) -> OracleContext:
    schema = model.model_json_schema()
    return OracleContext(
        response=response,
        body={},
        schema=inline_refs(schema),
        field_names=tuple(schema["properties"]),
        raw_schema=schema,
    )


def test_marker_oracle_handles_ternary_levels_and_cannot_assess() -> None:
    answer = marker_oracle(oracle_ctx(Mixed, "[t1] [t2~] [s1=3] [s2=9] [s2?] [n1=good]"))
    parsed = Mixed.model_validate(answer)
    assert [parsed.t1.answer, parsed.t2.answer, parsed.t3.answer] == [
        Answer.holds,
        Answer.partly,
        Answer.does_not,
    ]
    assert (parsed.s1.level, parsed.s1.cannot_assess) == (3, False)
    assert (parsed.s2.level, parsed.s2.cannot_assess) == (1, True)  # 9 is no level: the lowest
    assert parsed.n1.level == "good"
    assert marker_oracle(oracle_ctx(Mixed, ""))["n1"]["level"] == "poor"


def test_marker_oracle_without_schema_field_uses_the_embedded_one() -> None:
    prompt = "Answer in JSON matching:\n" + json.dumps(Verdicts.model_json_schema(), indent=2) + "\nthanks"
    body = {"messages": [{"role": "system", "content": prompt}, {"role": "user", "content": fenced("[b] {x}")}]}
    ctx = OracleContext(response="[b] {x}", body=body, schema=None, field_names=())
    assert Verdicts.model_validate(marker_oracle(ctx)).b.holds is True
    assert find_embedded_schema('{not json} {"a": 1}') is None
    assert marker_oracle(OracleContext(response="", body={"messages": []}, schema=None, field_names=())) == {}


class Preference(BaseModel):
    reason: str
    winner: Literal["A", "B", "tie"]
    principles: list[str]
    confidence: float | None = None


def test_fill_from_schema_builds_valid_instances_in_a_few_lines() -> None:
    schema = Preference.model_json_schema()
    default = Preference.model_validate(fill_from_schema(schema))
    assert default.winner == "A"

    def decide(path: tuple[str | int, ...], node: Any) -> Any:
        return {("winner",): "B", ("reason",): "B cites sources"}.get(path, UNSET)  # type: ignore[arg-type]

    chosen = Preference.model_validate(fill_from_schema(schema, decide))
    assert (chosen.winner, chosen.reason) == ("B", "B cites sources")
    nested = Mixed.model_json_schema()
    assert Mixed.model_validate(fill_from_schema(nested)).s1.level == 1
    assert "$ref" not in json.dumps(inline_refs(nested)["properties"])


def test_a_preference_oracle_end_to_end() -> None:
    def prefer_b(ctx: OracleContext) -> dict[str, Any]:
        assert ctx.schema is not None and ctx.field_names == ("reason", "winner", "principles", "confidence")
        winner = "B" if "better" in ctx.response else "tie"
        return dict(fill_from_schema(ctx.schema, lambda path, node: winner if path == ("winner",) else UNSET))

    with JudgeServer(oracle=prefer_b) as server:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="test", max_retries=0)
        judge = instructor.from_anthropic(client, mode=instructor.Mode.TOOLS)

        async def ask(text: str) -> Preference:
            result: Preference = await judge.create(
                model="claude-test",
                max_tokens=200,
                response_model=Preference,
                messages=[{"role": "user", "content": fenced(text)}],
            )
            return result

        async def run() -> list[Preference]:
            return [await ask("A: meh\nB: better"), await ask("A: same\nB: same")]

        better, same = asyncio.run(run())
    assert (better.winner, same.winner) == ("B", "tie")


def test_an_oracle_returning_garbage_is_reported_not_answered() -> None:
    with JudgeServer(oracle=lambda ctx: 42) as server:  # type: ignore[arg-type,return-value]
        status, headers, body = post(server.url + "/v1/messages", MINIMAL, {"x-api-key": "test"})
        assert status == 500 and headers["x-should-retry"] == "false"
        assert "dict or a str" in body["error"]["message"]
        assert server.requests[0].error is not None
