"""The Ray engine: Ray Data reads the rows, actors grade them, and the output is the local engine's, row for row.

Why: a user moves a run from one process to a cluster by adding `--engine ray`; nothing about the results
may change — not the rows' ids (line numbers included), not the failures of odd lines, not the rewards, and
not the resume rules. One local Ray (2 CPUs) is started for the module (`address="local"`, so an outside
RAY_ADDRESS is never joined) and kept, since starting Ray and its actors is most of the cost; the
`xdist_group` mark with pyproject's `--dist loadgroup` keeps the module on one xdist worker, so a run with
`-n 2` starts one Ray, not two. Expected rewards come from markers in the responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from click.testing import CliRunner
from dataset_rubrics import JUDGED

import rubricdsl.ray
from rubricdsl import loads
from rubricdsl.cli import main
from rubricdsl.dataset import DatasetError
from rubricdsl.dataset import grade_dataset as grade_locally
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, JudgeConfigError
from rubricdsl.testing import JudgeServer

# S = 3·accurate + 1·polite − 1·rambles over P = 4, clipped to [0, 1]; more than 30 words closes the gate.
# S = 2·cites + 1·brief over P = 3.
SECOND = """rubric second:
    title: Second
    important 2 cites: Cites a source.
    optional brief: Is brief.
"""

# Starts a local Ray: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.integrations]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def rubrics() -> dict[str, RubricIR]:
    return {"judged": loads(JUDGED), "second": loads(SECOND)}


def factory(rubrics: dict[str, RubricIR], server: JudgeServer, key: str = "test") -> Any:
    """A grader factory; it is pickled into every actor, so it captures the server's URL, not the server."""
    url = server.url

    def make(name: str | None) -> Grader:
        return Grader(rubrics[name or "judged"], judge="anthropic/test-model", api_key=key, base_url=url,
                      cache=False, concurrency=4)

    return make


def expected(text: str, rubric: str = "judged") -> float:
    if rubric == "second":
        return (2 * ("[cites]" in text) + ("[brief]" in text)) / 3
    if len(text.split()) > 30:
        return 0.0
    return min(max((3 * ("[accurate]" in text) + ("[polite]" in text) - ("[rambles]" in text)) / 4, 0.0), 1.0)


def dataset(path: Path, count: int = 40) -> tuple[Path, dict[Any, float | None]]:
    """Rows of every shape the local engine reads, and each row's expected reward (None: a failed row)."""
    lines: list[bytes] = []
    rewards: dict[Any, float | None] = {}
    for i in range(count):
        text = "[accurate]" * (i % 2 == 0) + " [polite]" * (i % 3 == 0) + " [rambles]" * (i % 5 == 0) + f" n{i}"
        row: dict[str, Any] = {"id": f"r{i}" if i % 4 else i, "response": text}
        if i % 7 == 0:
            row["response"] = [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]
        if i % 6 == 1:
            row["rubric"], text = "second", text.replace("accurate", "cites").replace("polite", "brief")
            row["response"] = text
        rewards[row["id"]] = expected(text, row.get("rubric", "judged"))
        lines.append(json.dumps(row, ensure_ascii=False).encode())
    odd = [
        ('\ufeff{"response": "[polite] with a BOM on line one"}', 0.25),  # no id: the line number is the id
        ('{"id": "sep", "response": "[accurate]\u2028[polite] on one JSON line"}', 1.0),  # U+2028 is no newline
        ('{"id": "tail", "response": "' + " ".join(["[accurate]"] * 31) + '"}', 0.0),  # gate closed
        ("not json", None),
        ('{"id": "nobody", "response": "x", "rubric": "missing"}', None),  # an unknown rubric fails the row
        ('{"id": "num", "response": 42}', None),
    ]
    body = [odd[0][0].encode("utf-8")] + lines + [b"", b"   "] + [t.encode() for t, _ in odd[1:]] + [b"\xff\xfe bad"]
    path.write_bytes(b"\n".join(body))  # no newline after the last line
    rewards[1] = 0.25
    for text, value in odd[1:]:
        rewards[json.loads(text)["id"] if text.startswith("{") else body.index(text.encode()) + 1] = value
    rewards[len(body)] = None  # the last line is not UTF-8
    return path, rewards


def output(path: Path) -> dict[Any, dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return {line["id"]: line for line in map(json.loads, raw.decode().splitlines())}


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    """A result line with its token usage reduced to totals: the provider's prompt cache makes the split
    between cache writes and reads depend on which request of a group arrived first, which is no property
    of either engine."""
    usage = line["usage"]
    total = usage["input_tokens"] + usage["cached_input_tokens"] + usage["cache_creation_input_tokens"]
    return {**line, "usage": (total, usage["output_tokens"])}


def test_the_ray_engine_writes_the_local_engines_results_row_for_row(
        tmp_path: Path, server: JudgeServer, rubrics: dict[str, RubricIR]) -> None:
    rows, rewards = dataset(tmp_path / "rows.jsonl")
    local = grade_locally(factory(rubrics, server), rows, tmp_path / "local.jsonl", concurrency=8)
    server.reset()
    progress: list[tuple[int, int]] = []
    summary = rubricdsl.ray.grade_dataset(factory(rubrics, server), rows, tmp_path / "ray.jsonl", actors=2,
                                          concurrency=4, batch_size=8, progress=lambda d, t: progress.append((d, t)),
                                          verbose=False)
    on_ray, locally = output(tmp_path / "ray.jsonl"), output(tmp_path / "local.jsonl")
    assert {key: line["reward"] for key, line in on_ray.items()} == pytest.approx(rewards)
    assert {k: comparable(v) for k, v in on_ray.items()} == {k: comparable(v) for k, v in locally.items()}
    assert server.calls["/v1/messages"] == sum(1 for v in rewards.values() if v is not None)  # once per judged row
    numbers = {"resamples", "seed", "rows", "graded", "failed", "resumed", "mean", "stderr", "gate_pass_rate",
               "hold_rates", "judge_calls", "errors", "stale"}
    assert summary.model_dump(include=numbers) == local.model_dump(include=numbers)
    assert summary.this_run.rows == len(rewards) and progress[0] == (0, len(rewards))
    assert progress[-1] == (len(rewards), len(rewards))


def test_a_ray_run_resumes_like_a_local_one(tmp_path: Path, server: JudgeServer,
                                           rubrics: dict[str, RubricIR]) -> None:
    rows, rewards = dataset(tmp_path / "rows.jsonl", count=12)
    out = tmp_path / "out.jsonl"
    grade_locally(factory(rubrics, server), rows, out, concurrency=1)
    first = out.read_bytes().splitlines(keepends=True)
    kept = [line for line in first if json.loads(line)["reward"] is not None][:5]
    out.write_bytes(b"".join(kept) + first[-1][:10])  # five results kept, then a torn line
    server.reset()
    summary = rubricdsl.ray.grade_dataset(factory(rubrics, server), rows, out, actors=1, concurrency=4,
                                          verbose=False)
    graded = sum(1 for v in rewards.values() if v is not None)
    assert server.calls["/v1/messages"] == graded - 5  # the five kept results were not graded again
    assert (summary.resumed, summary.this_run.rows, summary.rows) == (5, len(rewards) - 5, len(rewards))
    assert {key: line["reward"] for key, line in output(out).items()} == pytest.approx(rewards)


def test_the_command_runs_on_ray(tmp_path: Path, server: JudgeServer, rubrics: dict[str, RubricIR]) -> None:
    (tmp_path / "both.rubric").write_text(JUDGED + "\n" + SECOND)
    rows, rewards = dataset(tmp_path / "rows.jsonl", count=10)
    out = tmp_path / "out.jsonl"
    env = {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None,
           "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    args = ["grade", str(tmp_path / "both.rubric"), "--rubric", "judged", "--judge", "anthropic/test-model",
            "--responses", str(rows), "--out", str(out), "--engine", "ray", "--actors", "2", "--concurrency", "4",
            "--format", "json"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output  # exit 1: some rows failed, as locally
    summary = json.loads(result.stdout)
    assert summary["rows"] == len(rewards) and summary["failed"] == sum(v is None for v in rewards.values())
    assert {key: line["reward"] for key, line in output(out).items()} == pytest.approx(rewards)


def test_an_invalid_key_stops_the_ray_run(tmp_path: Path, server: JudgeServer, rubrics: dict[str, RubricIR]) -> None:
    rows, _ = dataset(tmp_path / "rows.jsonl", count=8)
    with pytest.raises(JudgeConfigError, match="refused the credentials"):
        rubricdsl.ray.grade_dataset(factory(rubrics, server, key="wrong"), rows, tmp_path / "out.jsonl", actors=1,
                                    verbose=False)
    assert all(line["reward"] is None for line in output_or_empty(tmp_path / "out.jsonl"))  # never a reward


def output_or_empty(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_source_that_cannot_be_pickled_is_refused_clearly(tmp_path: Path, server: JudgeServer,
                                                             rubrics: dict[str, RubricIR]) -> None:
    rows, _ = dataset(tmp_path / "rows.jsonl", count=2)

    def holds_the_server(name: str | None) -> Grader:
        return Grader(rubrics["judged"], judge="anthropic/test-model", api_key="test", base_url=server.url)

    with pytest.raises(TypeError, match="is sent to each Ray actor, so it must pickle"):
        rubricdsl.ray.grade_dataset(holds_the_server, rows, tmp_path / "out.jsonl", verbose=False)


def test_duplicate_ids_stop_a_ray_run_before_grading(tmp_path: Path, server: JudgeServer,
                                                     rubrics: dict[str, RubricIR]) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": 1, "response": "a"}\n{"id": 2, "response": "b"}\n{"response": "c"}\n')
    server.reset()
    with pytest.raises(DatasetError, match=r"rows.jsonl:3: id 3 was already used on line 2") as caught:
        rows.write_text('{"id": 1, "response": "a"}\n{"id": 3, "response": "b"}\n{"response": "c"}\n')
        rubricdsl.ray.grade_dataset(factory(rubrics, server), rows, tmp_path / "out.jsonl", verbose=False)
    assert caught.value is not None and not server.requests
