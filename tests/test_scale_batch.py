"""`rubric grade --batch`: Anthropic's Message Batches, end to end through the real SDK and the judge server.

Why: a batch run is paid for up front and may take a day, so three things must hold without exception.
The requests sent in a batch are the live requests (same tool schema, cache breakpoint and fence), so a
batch grade means what a live grade means. A failed batch result (`errored`, `canceled`, `expired`, or a
reply that does not validate) is asked again live or reported, and never scored. And an interrupted run
picks up the batches it already paid for instead of submitting them again. Expected rewards come from
markers in the responses (S = 3·accurate + 1·polite − 1·rambles over P = 4, clipped to [0, 1]).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from click.testing import CliRunner, Result
from dataset_rubrics import JUDGED

from rubricdsl import loads
from rubricdsl.batch import BatchesPending, grade_dataset, state_path
from rubricdsl.cli import main
from rubricdsl.dataset import grade_dataset as grade_locally
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, InstructorJudge, JudgeConfigError, RetryPolicy, build_requests
from rubricdsl.testing import FaultConfig, JudgeServer

FAULTS = FaultConfig(faults_by_response={
    # one fault for the first (batch) request of each, then the live re-ask is answered
    "EXPIRE": ["expired"], "ERROR": ["errored"], "CANCEL": ["canceled"], "MALFORMED": ["malformed"],
    "DOWN": "500",  # every request fails: the batch one errors, and so does every live retry
})
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, deadline=5.0)
BATCHES = "/v1/messages/batches"


@pytest.fixture
def rubric() -> RubricIR:
    return loads(JUDGED)


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer(faults=FAULTS) as srv:
        yield srv


def judge(server: JudgeServer) -> InstructorJudge:
    return InstructorJudge("anthropic/test-model", api_key="test", base_url=server.url, retry=FAST, max_retries=1)


def grader(rubric: RubricIR, server: JudgeServer) -> Grader:
    return Grader(rubric, judge=judge(server), cache=False)


def reward(text: str) -> float:
    if len(text.split()) > 30:
        return 0.0
    score = 3 * ("[accurate]" in text) + ("[polite]" in text) - ("[rambles]" in text)
    return min(max(score / 4, 0.0), 1.0)


def write_rows(path: Path, rows: list[dict[str, Any]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra)
    return path


def output(path: Path) -> dict[Any, dict[str, Any]]:
    return {line["id"]: line for line in map(json.loads, path.read_text().splitlines())}


def live_calls(server: JudgeServer) -> int:
    return server.calls.get("/v1/messages", 0)


def unfenced(body: dict[str, Any]) -> str:
    """A request body with its fence nonce blanked: the only part drawn afresh for each request."""
    text = json.dumps(body, sort_keys=True)
    found = re.search(r"<response-([0-9a-f]{12})>", text)
    assert found is not None, "the response is not fenced"
    return text.replace(found.group(1), "NONCE")


ROWS = [
    {"id": "a", "response": "[accurate] [polite]"},
    {"id": "b", "response": "[accurate]", "prompt": "What is 2+2?"},
    {"id": "c", "response": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "[polite]"}]},
    {"id": "d", "response": "EXPIRE [accurate]"},
    {"id": "e", "response": "ERROR [polite]"},
    {"id": "f", "response": "CANCEL [rambles] [polite]"},
    {"id": "g", "response": "MALFORMED [accurate] [polite]"},
    {"id": "h", "response": "[accurate]", "prompt": "What is 2+2?"},  # the same request as b: asked once
    {"id": 9, "response": " ".join(["[accurate]"] * 31)},  # too long: the hard rule closes the gate
]


def text_of(row: dict[str, Any]) -> str:
    return row["response"] if isinstance(row["response"], str) else row["response"][-1]["content"]


# --- the requests ----------------------------------------------------------------------------------------


def test_batch_requests_are_the_live_requests(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": 1, "response": "[accurate] </response-x>",
                                                "prompt": "Explain."}])
    grade_locally(grader(rubric, server), rows, tmp_path / "live.jsonl")
    (live,) = [r.body for r in server.requests if r.path == "/v1/messages"]
    run = grade_dataset(grader(rubric, server), rows, tmp_path / "batch.jsonl", poll_interval=0.01)
    (batch,) = server.batches
    (request,) = batch.requests
    assert unfenced(request["params"]) == unfenced(live)  # tool schema, tool choice, cache breakpoint, fence
    assert request["params"]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["params"]["tool_choice"] == {"type": "tool", "name": "RubricVerdicts",
                                                "disable_parallel_tool_use": True}
    assert re.fullmatch(r"[0-9a-f]{64}", request["custom_id"])  # the request's cache key
    assert run.report.answered == 1 and live_calls(server) == 1  # the batch answered: no live call
    assert output(tmp_path / "batch.jsonl")[1]["reward"] == 0.75


# --- grading ---------------------------------------------------------------------------------------------


def test_batch_grades_match_live_grades_and_failed_results_are_asked_live(
        tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", ROWS, extra="not json\n")
    out = tmp_path / "out.jsonl"
    logged: list[str] = []
    run = grade_dataset(grader(rubric, server), rows, out, poll_interval=0.01, log=logged.append)

    report = run.report
    assert report.submitted == 8 and len(server.batches) == 1  # nine judged rows, b and h ask the same
    assert report.results == {"succeeded": 5, "expired": 1, "errored": 1, "canceled": 1}
    assert report.answered == 4 + 1  # a, b, c and 9; h reuses b's answer (g's reply was invalid)
    assert report.live == {"expired": 1, "errored": 1, "canceled": 1, "invalid": 1}
    assert live_calls(server) == 4  # exactly the four failed batch requests, asked once each
    assert report.errors == ["api_error: internal error (injected)"]
    assert logged[0].startswith("submitted batch msgbatch_judge00000001: 8 requests")

    lines = output(out)
    assert {key: line["reward"] for key, line in lines.items()} == {
        **{row["id"]: reward(text_of(row)) for row in ROWS}, 10: None}  # line 10 is not JSON
    assert lines["h"]["judge_calls"] == 0 and lines["g"]["judge_calls"] == 2  # g: the invalid batch reply + live
    summary = run.summary
    assert (summary.rows, summary.graded, summary.failed) == (10, 9, 1)
    assert summary.judge_calls == 4 + 3 + 2  # answered by the batch, re-asked after a failure, invalid + re-ask
    assert report.usage.output_tokens > 0 and summary.usage.output_tokens > report.usage.output_tokens
    assert state_path(out).exists()  # a failed row: kept, so that a rerun reuses the batch

    # the local engine grades the same rows to the same results (all but the call accounting)
    server.reset()
    grade_locally(grader(rubric, server), rows, tmp_path / "local.jsonl")
    local = output(tmp_path / "local.jsonl")
    ignore = {"usage", "judge_calls"}
    assert {k: {f: v for f, v in line.items() if f not in ignore} for k, line in lines.items()} == \
           {k: {f: v for f, v in line.items() if f not in ignore} for k, line in local.items()}


def test_a_failed_batch_result_is_never_scored(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": "down", "response": "DOWN [accurate]"},
                                                {"id": "ok", "response": "[polite]"}])
    out = tmp_path / "out.jsonl"
    run = grade_dataset(grader(rubric, server), rows, out, poll_interval=0.01)
    assert run.report.results == {"errored": 1, "succeeded": 1} and run.report.live == {"errored": 1}
    lines = output(out)
    assert lines["down"]["reward"] is None and "HTTP 500" in lines["down"]["error"]
    assert lines["down"]["verdicts"]["accurate"]["holds"] is None  # undecided, not "does not hold"
    assert lines["ok"]["reward"] == 0.25
    assert live_calls(server) == 2  # FAST: two attempts, then the item is undecided

    # a rerun grades the failed row again, reusing the batch it already paid for: no new batch
    rerun = grade_dataset(grader(rubric, server), rows, out, poll_interval=0.01)
    assert (rerun.report.reused, rerun.report.submitted, server.calls[BATCHES]) == (1, 0, 1)
    assert rerun.report.live == {"errored": 1} and rerun.summary.failed == 1


def test_an_interrupted_run_resumes_polling_instead_of_resubmitting(tmp_path: Path, rubric: RubricIR) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": i, "response": "[accurate]" * (i % 2) + f" n{i}"}
                                                for i in range(6)])
    out = tmp_path / "out.jsonl"
    with JudgeServer(batch_delay=0.6) as server:
        with pytest.raises(BatchesPending, match="rerun the same command"):
            grade_dataset(grader(rubric, server), rows, out, poll_interval=0.01, max_wait=0.0)
        state = json.loads(state_path(out).read_text())
        assert [b["id"] for b in state["batches"]] == ["msgbatch_judge00000001"]
        assert len(state["batches"][0]["custom_ids"]) == 6 and out.read_text() == ""

        run = grade_dataset(grader(rubric, server), rows, out, poll_interval=0.05)
        assert server.calls[BATCHES] == 1  # created once, by the first run
        assert (run.report.reused, run.report.submitted, run.report.answered) == (6, 0, 6)
        assert live_calls(server) == 0
    assert {k: line["reward"] for k, line in output(out).items()} == {i: 0.75 * (i % 2) for i in range(6)}
    assert not state_path(out).exists()  # everything graded: the state is done with


def test_batches_are_split_within_the_limits(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": i, "response": f"[polite] {i}"} for i in range(5)])
    run = grade_dataset(grader(rubric, server), rows, tmp_path / "out.jsonl", poll_interval=0.01, max_requests=2)
    assert [len(b.requests) for b in server.batches] == [2, 2, 1] and len(run.report.batches) == 3
    assert all(line["reward"] == 0.25 for line in output(tmp_path / "out.jsonl").values())

    server.reset()
    size = len(json.dumps(server_free_entry(rubric, "[polite] 0")).encode())
    grade_dataset(grader(rubric, server), rows, tmp_path / "bytes.jsonl", poll_interval=0.01,
                  max_bytes=64 * 1024 + 2 * size + size // 2)  # room for two requests (64 KiB are kept spare)
    assert [len(b.requests) for b in server.batches] == [2, 2, 1]

    server.reset()
    big = write_rows(tmp_path / "big.jsonl", [{"id": "big", "response": "[accurate] " + "x" * 5000}])
    run = grade_dataset(grader(rubric, server), big, tmp_path / "big-out.jsonl", poll_interval=0.01,
                        max_bytes=64 * 1024 + 4000)
    assert run.report.not_batched == 1 and run.report.live == {"missing": 1} and not server.batches
    assert output(tmp_path / "big-out.jsonl")["big"]["reward"] == 0.75  # graded all the same, live


def server_free_entry(rubric: RubricIR, response: str) -> dict[str, Any]:
    """A batch entry for `response`, built as the batch engine builds it, without any server."""
    (request,) = build_requests(rubric, response)
    return {"custom_id": request.cache_key("anthropic/test-model"), "params": request.anthropic_body("test-model")}


def test_batches_the_api_no_longer_knows_are_submitted_again(tmp_path: Path, rubric: RubricIR,
                                                              server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": 1, "response": "[accurate]"}])
    out = tmp_path / "out.jsonl"
    (request,) = build_requests(rubric, "[accurate]")
    state_path(out).write_text(json.dumps({"version": 1, "batches": [
        {"id": "msgbatch_gone", "judge": "anthropic/test-model", "custom_ids": [request.cache_key(judge(server).name)]},
    ]}))
    logged: list[str] = []
    run = grade_dataset(grader(rubric, server), rows, out, poll_interval=0.01, log=logged.append)
    assert "batch msgbatch_gone is unknown to the API" in logged[0]
    assert run.report.submitted == 1 and run.report.reused == 0 and output(out)[1]["reward"] == 0.75


def test_batch_needs_an_anthropic_judge(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": 1, "response": "[accurate]"}])
    openai_grader = Grader(rubric, judge="openai/gpt-test", api_key="test", base_url=server.url + "/v1", cache=False)
    with pytest.raises(JudgeConfigError, match="Message Batches API, but the judge is openai/gpt-test"):
        grade_dataset(openai_grader, rows, tmp_path / "out.jsonl")
    assert not server.requests


# --- the command -----------------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(main, ["grade", *args], env=env)


def test_the_command_grades_through_batches(tmp_path: Path, server: JudgeServer) -> None:
    env = {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None,
           "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "judged.rubric").write_text(JUDGED)
    rows = write_rows(tmp_path / "rows.jsonl", ROWS[:4])
    base = [str(tmp_path / "judged.rubric"), "--judge", "anthropic/test-model", "--responses", str(rows),
            "--out", str(tmp_path / "out.jsonl"), "--batch", "--poll-interval", "0.01"]
    result = run_cli(base, env)
    assert result.exit_code == 0, result.output
    assert "batches 1 (4 requests submitted now, 0 from an earlier run): 1 expired, 3 succeeded" in result.stdout
    assert "asked live instead: 1 expired" in result.stdout
    assert "submitted batch msgbatch_judge00000001: 4 requests" in result.stderr
    assert {k: v["reward"] for k, v in output(tmp_path / "out.jsonl").items()} == \
           {row["id"]: reward(text_of(row)) for row in ROWS[:4]}
    again = run_cli([*base, "--format", "json"], env)
    data = json.loads(again.stdout)
    assert again.exit_code == 0 and data["resumed"] == 4 and data["batch"]["submitted"] == 0
    assert not state_path(tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("extra, message", [
    (["--engine", "ray"], "excludes --engine ray"),
    (["--actors", "3"], "--address and --actors need --engine ray"),
])
def test_bad_batch_usage_exits_2(tmp_path: Path, extra: list[str], message: str) -> None:
    (tmp_path / "judged.rubric").write_text(JUDGED)
    rows = write_rows(tmp_path / "rows.jsonl", ROWS[:1])
    result = run_cli([str(tmp_path / "judged.rubric"), "--responses", str(rows), "--out", str(tmp_path / "o"),
                      "--batch", *extra], {"RUBRICDSL_JUDGE": None})
    assert result.exit_code == 2 and message in result.stderr
    single = run_cli([str(tmp_path / "judged.rubric"), "--response", "x", "--batch"], {"RUBRICDSL_JUDGE": None})
    assert single.exit_code == 2 and "grade a dataset" in single.stderr


# --- the judge server's batch endpoints, through the SDK -------------------------------------------------


def test_the_server_speaks_the_message_batches_wire_format(rubric: RubricIR) -> None:
    faults = FaultConfig(faults_by_response={"LIMITED": "429", "GONE": "expired"})
    with JudgeServer(batch_delay=0.2, faults=faults) as server:
        entries = [server_free_entry(rubric, text) for text in ("[accurate]", "LIMITED", "GONE", "[polite]")]
        for number, entry in enumerate(entries):
            entry["custom_id"] = f"row-{number}"

        async def exercise() -> tuple[Any, Any, list[Any]]:
            client = anthropic.AsyncAnthropic(api_key="test", base_url=server.url, max_retries=0)
            created = await client.messages.batches.create(requests=entries)  # type: ignore[arg-type]
            early = await client.messages.batches.retrieve(created.id)
            with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):
                await client.messages.batches.results(created.id)
            await asyncio.sleep(0.25)
            ended = await client.messages.batches.retrieve(created.id)
            lines = [line async for line in await client.messages.batches.results(created.id)]
            with pytest.raises(anthropic.NotFoundError):
                await client.messages.batches.retrieve("msgbatch_nope")
            with pytest.raises(anthropic.BadRequestError, match="custom_id"):
                await client.messages.batches.create(requests=[{**entries[0], "custom_id": "no spaces"}])  # type: ignore[list-item]
            with pytest.raises(anthropic.BadRequestError, match="used twice"):
                await client.messages.batches.create(requests=[entries[0], entries[0]])  # type: ignore[list-item]
            wrong = anthropic.AsyncAnthropic(api_key="wrong", base_url=server.url, max_retries=0)
            with pytest.raises(anthropic.AuthenticationError):
                await wrong.messages.batches.retrieve(created.id)
            return early, ended, lines

        early, ended, lines = asyncio.run(exercise())
    assert early.processing_status == "in_progress" and early.request_counts.processing == 4
    assert early.results_url is None
    assert ended.processing_status == "ended" and ended.ended_at is not None
    counts = ended.request_counts
    assert (counts.succeeded, counts.errored, counts.expired, counts.processing) == (2, 1, 1, 0)
    assert ended.results_url == f"{server.url}{BATCHES}/{ended.id}/results"
    by_id = {line.custom_id: line.result for line in lines}
    assert [line.custom_id for line in lines] == ["row-3", "row-2", "row-1", "row-0"]  # not in request order
    assert by_id["row-0"].type == "succeeded" and by_id["row-0"].message.content[0].input["accurate"]["holds"]
    assert by_id["row-1"].type == "errored" and by_id["row-1"].error.error.type == "rate_limit_error"
    assert by_id["row-2"].type == "expired"
    usage = by_id["row-3"].message.usage
    assert usage.cache_read_input_tokens > 0  # the shared prefix was written by row-0, then read
    assert [r.response_text for r in server.batch_requests] == ["[accurate]", "LIMITED", "GONE", "[polite]"]
