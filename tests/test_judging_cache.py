"""The persistent judge cache: SQLite in WAL mode, keyed by the request, shared between processes, keyless.

A cache hit must make no call at all, which the fake judge's request log shows; two processes grading
against one file must both finish; and the bytes on disk must never hold the API key.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

import rubricdsl
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, SqliteCache, build_requests, open_cache
from rubricdsl.judging.cache import default_cache_path
from rubricdsl.testing import FaultConfig, JudgeServer

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"
SECRET = "sk-ant-test-5ecret-do-not-store-0123456789"


def energy() -> RubricIR:
    return rubricdsl.load_rubric(RUBRICS / "physics.rubric")


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer(valid_keys={"test", SECRET}) as srv:
        yield srv


def cached_grader(server: JudgeServer, path: Path, **options: object) -> Grader:
    return Grader(energy(), judge="anthropic/claude-test", api_key="test", base_url=server.url, cache=path,
                  **options)  # type: ignore[arg-type]


def test_a_second_grade_of_the_same_response_makes_no_call(server: JudgeServer, tmp_path: Path) -> None:
    path = tmp_path / "judge.sqlite3"
    grader = cached_grader(server, path)
    first = grader.grade("[energy_conserved] [pendulum_example]")
    again = grader.grade("[energy_conserved] [pendulum_example]")
    assert len(server.requests) == 1
    assert first.judge_calls == 1 and again.judge_calls == 0
    assert first.usage.input_tokens > 0 and again.usage.input_tokens == 0  # a hit spends no tokens
    assert again.reward == first.reward == pytest.approx(6 / 9)
    assert again.verdicts["energy_conserved"] == first.verdicts["energy_conserved"]
    # A new Grader (a rerun of the same command) reads the same file: still no call.
    rerun = cached_grader(server, path).grade("[energy_conserved] [pendulum_example]")
    assert rerun.reward == first.reward and len(server.requests) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM replies").fetchone()[0] == 1


def test_samples_are_cached_one_by_one(server: JudgeServer, tmp_path: Path) -> None:
    grader = cached_grader(server, tmp_path / "c.sqlite3", samples=3)
    grader.grade("[numeric_breakdown]")
    assert len(server.requests) == 3
    grader.grade("[numeric_breakdown]")
    assert len(server.requests) == 3
    assert len(SqliteCache(tmp_path / "c.sqlite3")) == 3


def test_keys_differ_by_model_sample_temperature_and_response_not_by_nonce() -> None:
    rubric = energy()
    first, second = build_requests(rubric, "a response"), build_requests(rubric, "a response")
    assert first[0].nonce != second[0].nonce
    key = first[0].cache_key("anthropic/m")
    assert second[0].cache_key("anthropic/m") == key  # the nonce only guards the fence
    assert first[0].cache_key("anthropic/other") != key
    assert build_requests(rubric, "another response")[0].cache_key("anthropic/m") != key
    assert build_requests(rubric, "a response", temperature=0.7)[0].cache_key("anthropic/m") != key
    assert dataclasses.replace(first[0], sample=1).cache_key("anthropic/m") != key  # same order, other sample
    assert build_requests(rubric, "a response", prompt="Another task.")[0].cache_key("anthropic/m") != key
    assert len(key) == 64 and int(key, 16) >= 0  # a SHA-256 in hex


def test_temperature_and_model_are_part_of_the_key_end_to_end(server: JudgeServer, tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cached_grader(server, path).grade("[energy_conserved]")
    cached_grader(server, path, temperature=0.5).grade("[energy_conserved]")
    Grader(energy(), judge="anthropic/claude-other", api_key="test", base_url=server.url, cache=path).grade(
        "[energy_conserved]")
    assert len(server.requests) == 3
    assert [r.body.get("temperature") for r in server.requests] == [None, 0.5, None]


def test_failed_calls_are_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with JudgeServer(faults=FaultConfig(faults_by_response={"[bad]": ["malformed"] * 2})) as faulty:
        grader = Grader(energy(), judge="anthropic/claude-test", api_key="test", base_url=faulty.url, cache=path,
                        max_retries=1)
        (failed,) = grader.grade_many(["[bad] [energy_conserved]"])
        assert failed.reward is None
        assert grader.grade("[bad] [energy_conserved]").reward == pytest.approx(5 / 9)  # asked again
        assert len(faulty.requests) == 3


def test_no_cache_unless_asked(server: JudgeServer) -> None:
    grader = Grader(energy(), judge="anthropic/claude-test", api_key="test", base_url=server.url)
    grader.grade("same")
    grader.grade("same")
    assert len(server.requests) == 2
    off = Grader(energy(), judge="anthropic/claude-test", api_key="test", base_url=server.url, cache=False)
    off.grade("same")
    assert len(server.requests) == 3


def test_the_default_location_is_the_user_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           server: JudgeServer) -> None:
    monkeypatch.delenv("RUBRICDSL_CACHE_DIR", raising=False)
    assert default_cache_path() == Path(platformdirs.user_cache_dir("rubricdsl")) / "judge-cache.sqlite3"
    monkeypatch.setenv("RUBRICDSL_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_path() == tmp_path / "elsewhere" / "judge-cache.sqlite3"
    grader = Grader(energy(), judge="anthropic/claude-test", api_key="test", base_url=server.url, cache=True)
    grader.grade("x")
    grader.grade("x")
    assert len(server.requests) == 1
    assert (tmp_path / "elsewhere" / "judge-cache.sqlite3").is_file()


def test_the_api_key_never_reaches_the_cache_file(server: JudgeServer, tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    grader = Grader(energy(), judge="anthropic/claude-test", api_key=SECRET, base_url=server.url, cache=path)
    grader.grade_many([f"response {n} [energy_conserved]" for n in range(5)])
    assert len(server.requests) == 5  # the key was accepted: it was really used
    files = sorted(tmp_path.glob("c.sqlite3*"))  # the database, and its -wal and -shm files while open
    data = b"".join(f.read_bytes() for f in files)
    assert b"marker oracle: energy_conserved" in data  # the replies are in there...
    for needle in (SECRET, SECRET[-12:], "x-api-key", "authorization"):
        assert needle.encode() not in data  # ...and no key, nor any header
    assert len(open_cache(path)) == 5


# --- two processes, one cache file ---------------------------------------------------------------------


def grade_in_a_worker(grader: Grader, responses: list[str]) -> tuple[int, list[float | None]]:
    """Runs in a spawned process: the Grader arrives pickled, opens the cache file itself."""
    return os.getpid(), [r.reward for r in grader.grade_many(responses)]


def test_two_processes_share_one_cache_file(server: JudgeServer, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    grader = cached_grader(server, path)
    responses = [f"answer {n} " + ("[energy_conserved]" if n % 2 else "[numeric_breakdown]") for n in range(40)]
    halves = [responses[:25], responses[15:]]  # ten responses are graded by both processes at once
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        outcomes = pool.starmap(grade_in_a_worker, [(grader, half) for half in halves])
    assert len({pid for pid, _ in outcomes} | {os.getpid()}) == 3  # two worker processes did the grading
    expected = {r: 5 / 9 if "[energy_conserved]" in r else 3 / 9 for r in responses}
    for half, (_, got) in zip(halves, outcomes, strict=True):
        assert got == pytest.approx([expected[r] for r in half])
    assert 40 <= len(server.requests) <= 50  # the overlap may be asked twice, never more
    assert len(SqliteCache(path)) == 40
    # Everything is in the shared file now: this process grades all of it without a call.
    before = len(server.requests)
    results = grader.grade_many(responses)
    assert len(server.requests) == before
    assert [r.judge_calls for r in results] == [0] * 40
