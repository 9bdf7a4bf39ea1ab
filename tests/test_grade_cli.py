"""`rubric grade` as a user runs it: one response offline or judged, a dataset, exit codes, and kill -9.

Why: the command is where configuration problems must become a message and exit 2 (never a traceback, never
a reward), and where a dataset run is killed and rerun. Most tests run the click command in-process (fast);
the kill test runs the real `python -m rubricdsl` in a subprocess and SIGKILLs it mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from dataset_rubrics import JUDGED

from rubricdsl.cli import main
from rubricdsl.grade_cli import _ProgressBar
from rubricdsl.testing import FaultConfig, JudgeServer

# S = 3·greets + 2·thanks − 1·shouts over P = 5; more than 50 words closes the gate.
OFFLINE = """rubric offline:
    title: Offline
    hard short: At most 50 words.
        check: words <= 50
    essential 3 greets: Greets.
        check: contains "hello" ignorecase
    important 2 thanks: Thanks.
        check: contains "thanks"
    pitfall shouts: Shouts.
        check: contains "!!"
"""
# S = 3·accurate + 1·polite − 1·rambles over P = 4, clipped to [0, 1].
JUDGE = ["--judge", "anthropic/test-model"]


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


@pytest.fixture
def env(tmp_path: Path, server: JudgeServer) -> dict[str, str | None]:
    """The judge server stands in for Anthropic; the default cache lives in tmp_path, never the user's."""
    return {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None,
            "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": None}


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def run(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, ["grade", *args], env=env or {"RUBRICDSL_JUDGE": None})


def assert_clean_exit(result: Result, code: int) -> None:
    """The expected status, and no traceback: the only exception may be the SystemExit carrying it."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def judged_rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "response": "[accurate]" * (i % 2 == 0) + " [polite]" * (i % 3 == 0)
             + " [rambles]" * (i % 5 == 0)} for i in range(n)]


def oracle_reward(row: dict[str, Any]) -> float:
    text = row["response"]
    score = 3 * ("[accurate]" in text) + ("[polite]" in text) - ("[rambles]" in text)
    return min(max(score / 4, 0.0), 1.0)


def jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_offline_grade_prints_reward_and_verdict_table(tmp_path: Path) -> None:
    rubric = write(tmp_path / "off.rubric", OFFLINE)
    result = run([rubric, "--response", "Hello there!! thanks"])
    assert_clean_exit(result, 0)
    # greets 3 + thanks 2 − shouts 1 = 4 of P = 5
    assert "offline: reward 0.8000   gate open   S=4 P=5 N=-1" in result.stdout
    table = result.stdout.splitlines()
    assert table[2].split() == ["item", "kind", "verdict", "source", "reason"]
    assert table[3].split() == ["short", "hard", "holds", "check"]
    assert table[5].split() == ["thanks", "important", "holds", "check"]
    assert table[6].split() == ["shouts", "pitfall", "holds", "check"]


def test_offline_grade_as_json_from_a_file(tmp_path: Path) -> None:
    rubric = write(tmp_path / "off.rubric", OFFLINE)
    (tmp_path / "r.txt").write_text("hello, " + "word " * 60)
    closed = json.loads(run([rubric, "--response", f"@{tmp_path / 'r.txt'}", "--format", "json"]).stdout)
    assert closed["reward"] == 0.0 and closed["gate"] == "closed"  # 61 words: the hard rule fails
    result = run([rubric, "--response", "Hello", "--format", "json"])
    assert_clean_exit(result, 0)
    graded = json.loads(result.stdout)
    assert graded["reward"] == pytest.approx(3 / 5) and (graded["S"], graded["P"], graded["N"]) == (3, 5, -1)
    assert graded["verdicts"]["thanks"]["holds"] is False and graded["judge_calls"] == 0


def test_the_changelog_rubric_grades_offline() -> None:
    import rubricdsl

    path = Path(__file__).resolve().parents[1] / "rubrics" / "checks" / "changelog.rubric"
    reference = rubricdsl.load_rubric(path, "changelog_markdown").reference or ""
    # The reference entry meets every item and makes no mistake: S = P = 5+5+3+3+3+1+1+1 = 22.
    graded = json.loads(run([str(path), "--rubric", "changelog_markdown", "--response", reference,
                             "--format", "json"]).stdout)
    assert (graded["reward"], graded["S"], graded["P"], graded["N"]) == (1.0, 22, 22, -5)
    # Without "#" the fix no longer cites issue #412: the essential item (5) is lost, 17/22.
    result = run([str(path), "--rubric", "changelog_markdown", "--response", reference.replace("(#412)", "(412)")])
    assert_clean_exit(result, 0)
    assert f"reward {17 / 22:.4f}" in result.stdout
    assert next(line for line in result.stdout.splitlines() if line.startswith("issue_ref")).split()[:3] == [
        "issue_ref", "essential", "does"]


def test_a_rubric_needing_a_judge_without_one_exits_2_naming_the_items(tmp_path: Path) -> None:
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    single = run([rubric, "--response", "x"])
    assert_clean_exit(single, 2)
    assert "rubric `judged` needs a judge for: accurate, polite, rambles" in single.stderr
    rows = jsonl(tmp_path / "rows.jsonl", [{"response": "x"}])
    many = run([rubric, "--responses", rows, "--out", str(tmp_path / "out.jsonl")])
    assert_clean_exit(many, 2)
    assert "needs a judge for: accurate" in many.stderr and (tmp_path / "out.jsonl").read_text() == ""


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    rubric = write(tmp_path / "off.rubric", OFFLINE)
    assert_clean_exit(run([rubric]), 2)
    assert_clean_exit(run([rubric, "--response", "x", "--responses", "y"]), 2)
    assert_clean_exit(run([rubric, "--responses", "rows.jsonl"]), 2)  # no --out
    assert_clean_exit(run([str(tmp_path / "missing.rubric"), "--response", "x"]), 2)
    assert_clean_exit(run([rubric, "--response", "@" + str(tmp_path / "missing.txt")]), 2)
    broken = run([write(tmp_path / "bad.rubric", "rubric r:\n    Hard h: H.\n"), "--response", "x"])
    assert_clean_exit(broken, 2)
    assert "E106" in broken.stderr
    assert_clean_exit(run([rubric, "--responses", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]), 2)
    rows = str(tmp_path / "rows.jsonl")
    Path(rows).write_text('{"response": "x"}\n')
    misspelt = run([rubric, "--rubric", "ofline", "--responses", rows, "--out", str(tmp_path / "o")])
    assert_clean_exit(misspelt, 2)
    assert "no rubric named `ofline` (rubrics here: `offline`)" in misspelt.stderr


def test_judged_grade_uses_the_default_cache(tmp_path: Path, server: JudgeServer, env: dict[str, str | None]) -> None:
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    (tmp_path / "prompt.txt").write_text("Is water wet?")
    args = [rubric, *JUDGE, "--response", "[accurate] [rambles]", "--prompt", f"@{tmp_path / 'prompt.txt'}"]
    result = run(args, env)
    assert_clean_exit(result, 0)
    assert "judged: reward 0.5000" in result.stdout  # (3 − 1) / 4
    assert "judge anthropic/test-model: 1 call(s)" in result.stdout
    assert "Is water wet?" in json.dumps(server.requests[0].body)
    assert (tmp_path / "cache" / "judge-cache.sqlite3").is_file()
    again = run([*args, "--format", "json"], env)
    assert json.loads(again.stdout)["reward"] == 0.5 and len(server.requests) == 1  # answered from the cache


def test_a_failed_grade_lists_undecided_items_and_exits_1(tmp_path: Path, env: dict[str, str | None]) -> None:
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    with JudgeServer(faults=FaultConfig(faults_by_response={"BROKEN": "malformed"})) as broken:
        result = run([rubric, *JUDGE, "--response", "BROKEN", "--no-cache"], {**env, "ANTHROPIC_BASE_URL": broken.url})
    assert_clean_exit(result, 1)
    assert "judged: reward none (the grade failed)" in result.stdout and "error: " in result.stdout
    undecided = result.stdout.split("undecided:\n", 1)[1].splitlines()
    assert [line.split(":")[0].strip() for line in undecided[:3]] == ["accurate", "polite", "rambles"]
    assert "invalid structured output" in undecided[0]
    assert any(line.split()[:3] == ["accurate", "essential", "undecided"] for line in result.stdout.splitlines())


def test_the_judge_can_come_from_pyproject(tmp_path: Path, server: JudgeServer, env: dict[str, str | None]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.rubricdsl]\njudge = "anthropic/test-model"\n')
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    result = run([rubric, "--response", "[polite]", "--no-cache", "--format", "json"], env)
    assert_clean_exit(result, 0)
    assert json.loads(result.stdout)["reward"] == 0.25 and len(server.requests) == 1


def test_dataset_run_and_summary(tmp_path: Path, server: JudgeServer, env: dict[str, str | None]) -> None:
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    rows = [*judged_rows(6), {"id": "bad", "response": 42}]
    data, out = jsonl(tmp_path / "rows.jsonl", rows), tmp_path / "out.jsonl"
    result = run([rubric, *JUDGE, "--responses", data, "--out", str(out), "--cache", str(tmp_path / "c.db")], env)
    assert_clean_exit(result, 1)  # one row failed
    assert "rows 7: graded 6, failed 1 (0 already in" in result.stdout
    mean = sum(oracle_reward(r) for r in rows[:6]) / 6
    assert f"mean reward {mean:.4f} ± " in result.stdout and "judge calls 6 (6 now)" in result.stdout
    assert 'id "bad": line 7: `response` must be' in result.stdout
    again = run([rubric, *JUDGE, "--responses", data, "--out", str(out), "--format", "json", "--no-cache"], env)
    summary = json.loads(again.stdout)
    assert again.exit_code == 1 and summary["resumed"] == 6 and summary["this_run"]["rows"] == 1
    assert summary["mean"] == pytest.approx(mean) and summary["hold_rates"]["accurate"] == pytest.approx(3 / 6)
    assert len(server.requests) == 6
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(r["id"] for r in rows)


def test_an_invalid_api_key_stops_with_exit_2(tmp_path: Path, env: dict[str, str | None]) -> None:
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    data, out = jsonl(tmp_path / "rows.jsonl", judged_rows(5)), tmp_path / "out.jsonl"
    secret = "sk-ant-not-a-real-key-SECRET"
    result = run([rubric, *JUDGE, "--responses", data, "--out", str(out), "--no-cache"],
                 {**env, "ANTHROPIC_API_KEY": secret})
    assert_clean_exit(result, 2)
    assert "refused the credentials (HTTP 401)" in result.stderr and secret not in result.output
    assert out.read_text() == ""  # no reward, not even a failed row: the run never happened


def test_kill_9_mid_run_then_rerun(tmp_path: Path, env: dict[str, str | None]) -> None:
    rows = judged_rows(30)
    rubric = write(tmp_path / "judged.rubric", JUDGED)
    data, out = jsonl(tmp_path / "rows.jsonl", rows), tmp_path / "out.jsonl"
    args = [rubric, *JUDGE, "--responses", data, "--out", str(out), "--no-cache", "--concurrency", "2"]
    with JudgeServer(latency=0.15) as slow:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("RUBRICDSL_", "ANTHROPIC_"))}
        child_env.update({k: v for k, v in env.items() if v is not None}, ANTHROPIC_BASE_URL=slow.url)
        child = subprocess.Popen([sys.executable, "-m", "rubricdsl", "grade", *args], env=child_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while (not out.exists() or out.read_bytes().count(b"\n") < 3) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        survivors = out.read_bytes().count(b"\n")
        assert 3 <= survivors < 30
        _wait_for_quiet(slow)  # requests the killed run left in flight are recorded before we count afresh
        slow.reset()
        rerun = run(args, {**env, "ANTHROPIC_BASE_URL": slow.url})
        assert_clean_exit(rerun, 0)
        assert len(slow.requests) == 30 - survivors  # only the rows with no line were graded again
    lines = [json.loads(line) for line in out.read_text().splitlines()]  # every line parses
    assert sorted(line["id"] for line in lines) == sorted(r["id"] for r in rows)  # each id exactly once
    expected = {r["id"]: oracle_reward(r) for r in rows}
    assert {line["id"]: line["reward"] for line in lines} == pytest.approx(expected)


def _wait_for_quiet(server: JudgeServer, quiet: float = 0.4) -> None:
    count, since = len(server.requests), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(server.requests) != count:
            count, since = len(server.requests), time.monotonic()


def test_progress_bar_draws_and_clears() -> None:
    written: list[str] = []
    bar = _ProgressBar(width=10, write=written.append)
    bar(0, 4)
    bar(1, 4)  # within 0.1 s of the last draw: skipped
    bar(4, 4)  # the last one is always drawn
    bar.close()
    assert written[0].startswith("\r[..........] 0/4 rows") and len(written) == 3
    assert written[1].startswith("\r[##########] 4/4 rows") and written[2] == "\r\x1b[K"
