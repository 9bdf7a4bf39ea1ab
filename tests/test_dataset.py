"""Dataset grading through the Python API: real judge server, real SDK path, resumable append-only output.

Why: a long grading run gets killed, rate-limited or rerun; the output must then hold every id exactly once,
never a torn line, and a rerun must pay only for what is missing. Expected rewards come from markers in the
responses (`marker_oracle`), so every number below is computed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dataset_rubrics import JUDGED

from rubricdsl import loads
from rubricdsl.dataset import DatasetError, grade_dataset, plan_run
from rubricdsl.dataset_io import (
    ResultWriter,
    conversation_text,
    parse_row,
    repair_output,
    response_text,
    result_line,
)
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader
from rubricdsl.judging.retry import JudgeConfigError
from rubricdsl.scoring import failed_result
from rubricdsl.testing import FaultConfig, JudgeServer

# S = 3·accurate + 1·polite − 1·rambles over P = 4, clipped to [0, 1]; more than 30 words closes the gate (→ 0).
LONG = " ".join(["word"] * 40)


@pytest.fixture
def rubric() -> RubricIR:
    return loads(JUDGED)


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer(faults=FaultConfig(faults_by_response={"BROKEN": "malformed"})) as srv:
        yield srv


def grader(rubric: RubricIR, server: JudgeServer, **options: Any) -> Grader:
    return Grader(rubric, judge="anthropic/test-model", api_key="test", base_url=server.url, cache=False, **options)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def output(path: Path) -> list[dict[str, Any]]:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the output must end with a newline"
    return [json.loads(line) for line in lines[:-1]]


def judge_calls(server: JudgeServer) -> int:
    return server.calls.get("/v1/messages", 0)


def test_summary_numbers_match_a_hand_computation(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [
        {"id": "r1", "response": "[accurate] [polite]"},  # S = 4 → 1.0
        {"id": "r2", "response": "[accurate]", "prompt": "What is 2+2?"},  # 3/4 → 0.75
        {"id": "r3", "response": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "[rambles]"}]},
        {"id": "r4", "response": "[polite] " + LONG},  # gate closed → 0.0
        {"id": "r5"},  # no response: failed, not graded
    ])  # r3: −1/4 clipped → 0.0
    out = tmp_path / "out.jsonl"
    seen: list[tuple[int, int]] = []
    summary = grade_dataset(grader(rubric, server), rows, out, concurrency=3, progress=lambda d, t: seen.append((d, t)))
    rewards = np.array([1.0, 0.75, 0.0, 0.0])
    assert (summary.rows, summary.graded, summary.failed, summary.resumed) == (5, 4, 1, 0)
    assert summary.mean == pytest.approx(0.4375)
    bootstrap = rewards[np.random.default_rng(0).integers(0, 4, size=(1000, 4))].mean(axis=1)
    assert summary.stderr == pytest.approx(bootstrap.std())  # 1000 resamples, seed 0, population std
    assert summary.gate_pass_rate == pytest.approx(3 / 4)
    assert summary.hold_rates == pytest.approx({"short": 3 / 4, "accurate": 2 / 4, "polite": 2 / 4, "rambles": 1 / 4})
    assert summary.judge_calls == summary.this_run.judge_calls == judge_calls(server) == 4
    assert summary.usage.input_tokens == server.stats()["usage"]["input_tokens"] > 0
    assert summary.usage.output_tokens == server.stats()["usage"]["output_tokens"] > 0
    assert list(summary.errors) == ['"r5"'] and "response" in summary.errors['"r5"']
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    lines = {line["id"]: line for line in output(out)}
    assert {k: v["reward"] for k, v in lines.items()} == {"r1": 1.0, "r2": 0.75, "r3": 0.0, "r4": 0.0, "r5": None}
    assert lines["r5"]["error"] and lines["r4"]["gate"] == "closed"


def test_a_judge_failure_is_a_failed_row_not_a_stop(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"response": "BROKEN [accurate]"}, {"response": "[accurate]"}])
    summary = grade_dataset(grader(rubric, server, max_retries=0), rows, tmp_path / "out.jsonl", concurrency=2)
    assert (summary.graded, summary.failed) == (1, 1)
    lines = {line["id"]: line for line in output(tmp_path / "out.jsonl")}  # ids are line numbers here
    assert lines[1]["reward"] is None and "accurate" in lines[1]["error"] and lines[2]["reward"] == 0.75


def test_resume_grades_only_what_is_missing(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": f"r{i}", "response": "[accurate]" * (i % 2)} for i in range(6)])
    out = tmp_path / "out.jsonl"
    grade_dataset(grader(rubric, server), rows, out, concurrency=2)
    first = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(first[:2]) + first[2][: len(first[2]) // 2])  # two lines kept, the third torn
    server.reset()
    summary = grade_dataset(grader(rubric, server), rows, out, concurrency=2)
    assert judge_calls(server) == 4  # the two complete lines were not graded again
    assert (summary.resumed, summary.this_run.rows, summary.graded) == (2, 4, 6)
    lines = output(out)
    assert [line["id"] for line in lines[:2]] == [json.loads(raw)["id"] for raw in first[:2]]
    assert sorted(line["id"] for line in lines) == [f"r{i}" for i in range(6)]
    assert {line["id"]: line["reward"] for line in lines} == {f"r{i}": 0.75 * (i % 2) for i in range(6)}
    server.reset()
    assert grade_dataset(grader(rubric, server), rows, out).this_run.rows == 0 and judge_calls(server) == 0


def test_failed_rows_are_graded_again_and_kept_once(tmp_path: Path, rubric: RubricIR, server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": "a", "response": "[polite]"},
                                                {"id": "b", "response": "[accurate]"}])
    out = tmp_path / "out.jsonl"
    out.write_bytes(result_line("b", failed_result(rubric, "judge down")))
    summary = grade_dataset(grader(rubric, server), rows, out)
    assert (summary.resumed, summary.this_run.rows, summary.failed) == (0, 2, 0)
    assert {line["id"]: line["reward"] for line in output(out)} == {"a": 0.25, "b": 0.75}


def test_an_invalid_key_stops_the_run_and_writes_no_reward(tmp_path: Path, rubric: RubricIR,
                                                           server: JudgeServer) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"response": f"[accurate] {i}"} for i in range(8)])
    bad = Grader(rubric, judge="anthropic/test-model", api_key="wrong", base_url=server.url, cache=False)
    with pytest.raises(JudgeConfigError, match="credentials"):
        grade_dataset(bad, rows, tmp_path / "out.jsonl", concurrency=2)
    assert (tmp_path / "out.jsonl").read_bytes() == b""
    assert judge_calls(server) <= 2  # stopped at the first refusal, not once per row


def test_a_rubric_needing_a_judge_without_one_stops_before_grading(tmp_path: Path, rubric: RubricIR,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUBRICDSL_JUDGE", raising=False)
    rows = write_rows(tmp_path / "rows.jsonl", [{"response": "x"}])
    with pytest.raises(JudgeConfigError, match="needs a judge for: accurate, polite, rambles"):
        grade_dataset(Grader(rubric), rows, tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_rows_choose_their_rubric_by_name(tmp_path: Path) -> None:
    rubrics = {"words": loads("rubric words:\n    hard few: Few words.\n        check: words <= 3\n"),
               "hello": loads('rubric hello:\n    essential hi: Says hello.\n        check: contains "hello"\n')}

    def factory(name: str | None) -> Grader:
        return Grader(rubrics[name or "words"])

    rows = write_rows(tmp_path / "rows.jsonl", [{"response": "a b c d"}, {"response": "hello", "rubric": "hello"},
                                                {"response": "x", "rubric": "nope"}])
    summary = grade_dataset(factory, rows, tmp_path / "out.jsonl")
    lines = output(tmp_path / "out.jsonl")
    assert [(line["rubric"], line["reward"]) for line in lines] == [("words", 0.0), ("hello", 1.0), ("nope", None)]
    assert summary.failed == 1 and summary.judge_calls == 0


def test_repair_drops_torn_failed_duplicate_and_unreadable_lines(tmp_path: Path, rubric: RubricIR) -> None:
    good = result_line("a", failed_result(rubric, "x").model_copy(update={"reward": 0.5, "error": None}))
    failed = result_line("b", failed_result(rubric, "judge down"))
    out = tmp_path / "out.jsonl"
    out.write_bytes(good + failed + good + b"garbage\n" + good[:10])
    repair = repair_output(out)
    assert (repair.torn, repair.failed, repair.duplicates, repair.unreadable, repair.rewritten) == (True, 1, 1, 1, True)
    assert list(repair.kept) == ['"a"'] and out.read_bytes() == good
    out.write_bytes(good + good[:7])  # only a torn tail: truncated in place
    repair = repair_output(out)
    assert repair.torn and not repair.rewritten and out.read_bytes() == good


def test_plan_rejects_duplicate_ids(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", [{"id": 2, "response": "x"}, {"response": "y"}])  # line 2 → id 2
    with pytest.raises(DatasetError, match="already used on line 1"):
        plan_run(rows, repair_output(tmp_path / "none.jsonl"))


def test_a_second_writer_on_the_same_output_is_refused(tmp_path: Path) -> None:
    with ResultWriter(tmp_path / "out.jsonl"), pytest.raises(DatasetError, match="another run"):
        ResultWriter(tmp_path / "out.jsonl")


def test_row_parsing() -> None:
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}, {"role": "user", "content": "bye"}]
    assert response_text(chat) == ("hello", "System: Be brief.\n\nUser: hi")
    assert conversation_text([{"role": "user", "content": "just this"}]) == "just this"
    row = parse_row(json.dumps({"id": "x", "response": chat, "prompt": "P", "rubric": "r"}), 7)
    assert (row.id, row.response, row.prompt, row.rubric, row.error) == ("x", "hello", "P", "r", None)
    assert parse_row('{"response": "r"}', 4).id == 4
    assert "no assistant message" in (parse_row('{"response": [{"role": "user", "content": "q"}]}', 1).error or "")
    assert "`id`" in (parse_row('{"id": 1.5, "response": "r"}', 3).error or "")
    assert "not valid JSON" in (parse_row("{", 9).error or "")


def test_results_from_another_rubric_version_are_kept_but_counted(tmp_path: Path) -> None:
    old = loads('rubric r:\n    essential hi: Says hello.\n        check: contains "hello"\n')
    new = loads('rubric r:\n    essential hi: Says hello.\n        check: contains "hello" ignorecase\n')
    rows = write_rows(tmp_path / "rows.jsonl", [{"response": "Hello"}, {"response": "hello"}])
    out = tmp_path / "out.jsonl"
    assert grade_dataset(Grader(old), rows, out).mean == 0.5
    summary = grade_dataset(Grader(new), rows, out)
    assert (summary.stale, summary.resumed, summary.this_run.rows, summary.mean) == (2, 2, 0, 0.5)


def test_unreadable_lines_fail_alone_with_their_reason(tmp_path: Path) -> None:
    """A line that is not UTF-8, not JSON, not an object or with a bad id fails as its own row; the rest read."""
    from rubricdsl.dataset_io import read_rows

    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(b'{"id": "a", "response": "ok"}\n\n\xff\xfe\nnot json\n[1]\n{"id": true}\n{"response": "x"}\n')
    read = list(read_rows(rows))
    assert [(r.line, r.id) for r in read] == [(1, "a"), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7)]
    assert read[0].error is None and read[5].error is None and read[5].response == "x"
    assert "not UTF-8" in (read[1].error or "") and "not valid JSON" in (read[2].error or "")
    assert "JSON object" in (read[3].error or "") and "`id`" in (read[4].error or "")
