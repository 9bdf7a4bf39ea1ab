"""`rubric prefer` and `rubricdsl.feedback.prefer` against the real judge server.

The oracle reads the two fenced responses (`<response-A-CODE>`, `<response-B-CODE>`) and the principles listed
in the request, and answers from markers in the texts, so every vote, winner, margin and soft label is known
in advance: a marker oracle shows that answers given in the swapped order are mapped back, a position-biased
oracle (always "A") that the two orders then disagree and the pair is a tie, and a principle-dependent oracle
with several samples that the votes follow the seeded draws.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rubricdsl.cli import main
from rubricdsl.dataset_io import id_key
from rubricdsl.feedback import load_principles, prefer
from rubricdsl.feedback.common import draw
from rubricdsl.feedback.pairwise import decide, plurality
from rubricdsl.testing import JudgeServer, OracleContext, marker_oracle
from rubricdsl.testing.oracles import message_text

FENCE = re.compile(r"<response-([AB])-([0-9a-f]{12})>\n(.*?)\n</response-\1-\2>", re.S)
GREEK = """principles greek:
    principle alpha: The response is alpha.
    principle beta: The response is beta.
    principle gamma: The response is gamma.
"""
JUDGED = """rubric judged:
    essential 3 accurate: The answer is accurate.
    optional polite: The answer is polite.
    pitfall rambles: The answer rambles.
"""
CONSTITUTION = Path(__file__).resolve().parent.parent / "rubrics" / "constitution" / "helpful_harmless.rubric"


def shown(ctx: OracleContext) -> tuple[dict[str, str], list[str]]:
    """The responses shown as A and B, and the names of the principles listed in the request."""
    user = user_text(ctx.body)
    responses = {m.group(1): m.group(3) for m in FENCE.finditer(user)}
    block = user.split("<principles>\n", 1)[1].split("\n</principles>", 1)[0]
    return responses, [line[2:].split(":", 1)[0] for line in block.splitlines()]


def user_text(body: dict[str, Any]) -> str:
    """The last user message (OpenAI bodies put the system message first)."""
    return message_text([m for m in body["messages"] if m["role"] == "user"][-1]["content"])


def by_marker(ctx: OracleContext) -> dict[str, Any]:
    """`A`/`B` for the one response holding `[good]`, `tie` otherwise; rubric grading falls to the marker oracle."""
    if "preferred" not in ctx.field_names:
        return marker_oracle(ctx)
    responses, _ = shown(ctx)
    good = [label for label, text in responses.items() if "[good]" in text]
    return {"reason": "marker", "preferred": good[0] if len(good) == 1 else "tie"}


def always_a(ctx: OracleContext) -> dict[str, Any]:
    return {"reason": "the first one", "preferred": "A"}


def by_principle(ctx: OracleContext) -> dict[str, Any]:
    """The response holding the marker of the (one) principle shown."""
    responses, names = shown(ctx)
    holder = [label for label, text in responses.items() if f"[{names[0]}]" in text]
    return {"reason": names[0], "preferred": holder[0] if holder else "tie"}


def run_prefer(oracle: Callable[[OracleContext], Any], pairs: list[dict[str, Any]], principles: Any = CONSTITUTION,
               **options: Any) -> tuple[list[dict[str, Any]], JudgeServer]:
    with JudgeServer(oracle=oracle) as server:
        records = prefer(pairs, principles, judge="anthropic/judge-test", api_key="test", base_url=server.url,
                         **options)
    return records, server


def test_the_marked_response_wins_in_both_orders_and_answers_map_back() -> None:
    pairs = [{"id": "p1", "prompt": "Say hi.", "a": "hello", "b": "hello [good]"},
             {"id": "p2", "prompt": "Say bye.", "a": "bye [good]", "b": "ciao"}]
    records, server = run_prefer(by_marker, pairs, k=2)
    first, second = records
    assert (first["winner"], first["chosen"], first["rejected"], first["tie"]) == ("b", "hello [good]", "hello", False)
    assert (second["winner"], second["chosen"], second["rejected"]) == ("a", "bye [good]", "ciao")
    for record in records:
        assert record["votes"] == {"a": 2, "b": 0, "tie": 0} if record["winner"] == "a" else {"a": 0, "b": 2, "tie": 0}
        assert (record["margin"], record["soft_label"], record["consistent"]) == (1.0, 1.0, True)
        assert record["judge_calls"] == 2 and len(record["principles"]) == 2
    assert list(first)[:4] == ["id", "prompt", "chosen", "rejected"]  # DPO-ready: prompt, chosen, rejected first
    # Each pair was shown in both orders: the marked response once as A and once as B.
    positions = sorted(label for r in server.requests for label, text in fence_texts(r.body) if "[good]" in text)
    assert positions == ["A", "A", "B", "B"] and len(server.requests) == 4


def fence_texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(3)) for m in FENCE.finditer(user_text(body))]


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
def test_an_openai_compatible_judge_gives_the_same_records(mode: str) -> None:
    pairs = [{"id": "p1", "prompt": "Say hi.", "a": "hello [good]", "b": "hello"}]
    with JudgeServer(oracle=by_marker) as server:
        (record,) = prefer(pairs, CONSTITUTION, judge="openai/gpt-test", api_key="test", base_url=f"{server.url}/v1",
                           mode=mode)
        assert server.requests[0].path == "/v1/chat/completions"
    assert (record["winner"], record["votes"], record["judge_calls"]) == ("a", {"a": 2, "b": 0, "tie": 0}, 2)
    assert record["usage"]["input_tokens"] > 0


def test_a_position_biased_judge_gives_inconsistent_ties() -> None:
    records, _ = run_prefer(always_a, [{"prompt": "p", "a": "x", "b": "y"}])
    (record,) = records
    assert record["tie"] is True and record["winner"] is None and record["consistent"] is False
    assert "chosen" not in record and "rejected" not in record and "soft_label" not in record
    assert (record["votes"], record["margin"]) == ({"a": 1, "b": 1, "tie": 0}, 0.0)
    assert [s["ab"] for s in record["samples"]] == ["a"] and [s["ba"] for s in record["samples"]] == ["b"]


def test_both_orders_saying_tie_is_a_consistent_tie() -> None:
    records, _ = run_prefer(by_marker, [{"prompt": "p", "a": "x", "b": "y"}])
    record = records[0]
    assert (record["tie"], record["consistent"], record["votes"]) == (True, True, {"a": 0, "b": 0, "tie": 2})


def test_samples_draw_fresh_seeded_principles_and_give_a_soft_label(tmp_path: Path) -> None:
    path = tmp_path / "greek.rubric"
    path.write_text(GREEK)
    pairs = [{"id": i, "prompt": "p", "a": "[alpha] [beta]", "b": "[gamma]"} for i in range(1, 4)]
    records, _ = run_prefer(by_principle, pairs, principles=str(path), k=1, samples=5, seed=7)
    items = load_principles(str(path))
    for record in records:
        draws = [draw(items, 1, 7, id_key(record["id"]), s)[0].name for s in range(5)]
        assert [s["principles"] for s in record["samples"]] == [[name] for name in draws]
        for_a = sum(name in ("alpha", "beta") for name in draws)
        assert record["votes"] == {"a": 2 * for_a, "b": 2 * (5 - for_a), "tie": 0}
        winner = "a" if for_a >= 3 else "b"
        share = max(for_a, 5 - for_a) / 5
        assert (record["winner"], record["consistent"]) == (winner, True)
        assert record["soft_label"] == pytest.approx(share) and record["margin"] == pytest.approx(2 * share - 1)
        assert all(s["ab"] == s["ba"] for s in record["samples"])  # each sample's two orders agree
    all_draws = [[s["principles"][0] for s in r["samples"]] for r in records]
    assert len({tuple(d) for d in all_draws}) > 1 and any(len(set(d)) > 1 for d in all_draws)  # fresh draws
    again, _ = run_prefer(by_principle, pairs, principles=str(path), k=1, samples=5, seed=7)
    assert [r["samples"] for r in again] == [r["samples"] for r in records]  # seeded: the same draws and votes


def test_decision_rule() -> None:
    assert plurality(["a", "a", "b"]) == "a" and plurality(["a", "b"]) == "tie"
    assert plurality(["tie", "a", "tie"]) == "tie"
    assert decide(["a"], ["a"]) == ("a", True)
    assert decide(["a"], ["b"]) == (None, False)
    assert decide(["tie"], ["tie"]) == (None, True)
    assert decide(["a", "b", "a"], ["a", "a", "tie"]) == ("a", True)


# --- the command ---------------------------------------------------------------------------------------


def cli(args: list[str], server: JudgeServer, tmp_path: Path) -> Result:
    env = {"ANTHROPIC_API_KEY": "test", "ANTHROPIC_BASE_URL": server.url, "RUBRICDSL_JUDGE": None,
           "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    return CliRunner().invoke(main, args, env=env)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_command_writes_dpo_lines_resumes_and_summarises(tmp_path: Path) -> None:
    rows = [{"id": "win", "prompt": "p", "a": "[good] a", "b": "b"},
            {"id": "lose", "prompt": [{"role": "user", "content": "q"}], "a": "a", "b": "[good] b"},
            {"id": "even", "prompt": "r", "a": "a", "b": "b"},
            {"id": "broken", "prompt": "s", "a": "a"}]
    pairs, out = write_jsonl(tmp_path / "pairs.jsonl", rows), tmp_path / "prefs.jsonl"
    with JudgeServer(oracle=by_marker) as server:
        args = ["prefer", str(CONSTITUTION), "--pairs", pairs, "--out", str(out), "--judge", "anthropic/j"]
        result = cli([*args, "--format", "json"], server, tmp_path)
        assert result.exit_code == 1, result.output  # the broken row failed
        summary = json.loads(result.stdout)
        assert (summary["pairs"], summary["judged"], summary["failed"]) == (4, 3, 1)
        assert (summary["a_wins"], summary["b_wins"], summary["ties"]) == (1, 1, 1)
        assert summary["win_rate"] == pytest.approx(1 / 3) and summary["tie_rate"] == pytest.approx(1 / 3)
        assert summary["consistency_rate"] == 1.0 and summary["judge_calls"] == 6
        assert "`b` must be a string" in summary["errors"]['"broken"']
        lines = read_jsonl(out)
        assert [line["id"] for line in lines].count("win") == 1
        lose = next(line for line in lines if line["id"] == "lose")
        assert lose["prompt"] == [{"role": "user", "content": "q"}]  # a chat prompt: TRL's conversational format
        assert (lose["chosen"], lose["rejected"]) == ([{"role": "assistant", "content": "[good] b"}],
                                                      [{"role": "assistant", "content": "a"}])
        tasks = [user_text(r.body).split("\n</task>")[0] for r in server.requests]
        assert tasks.count("<task>\nq") == 2  # a chat prompt is shown as its text
        # A kill can tear the last line: the rerun cuts it, redoes the failed row only, and keeps each id once.
        with out.open("a") as handle:
            handle.write('{"id": "even", "tie": tr')
        server.reset()
        write_jsonl(tmp_path / "pairs.jsonl", [*rows[:3], {"id": "broken", "prompt": "s", "a": "a", "b": "[good]"}])
        again = cli(args, server, tmp_path)
        assert again.exit_code == 0, again.output
        assert "pairs 4: judged 4, failed 0 (3 resumed)" in again.stdout
        assert "win rate (a) 0.250   tie rate 0.250   order consistency 1.000" in again.stdout
        assert len(server.requests) == 2  # only the row that had failed was judged again
    ids = [line["id"] for line in read_jsonl(out)]
    assert sorted(ids) == ["broken", "even", "lose", "win"]


def test_prefer_by_rubric_grades_both_and_the_higher_reward_wins(tmp_path: Path) -> None:
    rubric = tmp_path / "judged.rubric"
    rubric.write_text(JUDGED)
    rows = [{"id": 1, "prompt": "p", "a": "[accurate] [polite]", "b": "[accurate] [rambles]"},
            {"id": 2, "prompt": "p", "a": "[polite]", "b": "[polite]"}]
    pairs, out = write_jsonl(tmp_path / "pairs.jsonl", rows), tmp_path / "prefs.jsonl"
    with JudgeServer(oracle=by_marker) as server:
        result = cli(["prefer", "--rubric", str(rubric), "--pairs", pairs, "--out", str(out), "--judge", "anthropic/j",
                      "--no-cache"], server, tmp_path)
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 4
    first, second = sorted(read_jsonl(out), key=lambda line: line["id"])  # lines come in the order rows finish
    # (3 + 1) / 4 = 1.0 against (3 − 1) / 4 = 0.5; then 0.25 against 0.25: a tie.
    assert first["rewards"] == {"a": 1.0, "b": 0.5} and first["winner"] == "a" and first["margin"] == 0.5
    assert first["chosen"] == "[accurate] [polite]" and first["rubric"] == "judged"
    assert second["tie"] is True and second["rewards"] == {"a": 0.25, "b": 0.25} and "chosen" not in second
    assert "order consistency -" in result.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"a": "x", "b": "y"}])
    with JudgeServer(oracle=by_marker) as server:
        neither = cli(["prefer", "--pairs", pairs, "--out", str(tmp_path / "o.jsonl")], server, tmp_path)
        no_judge = cli(["prefer", str(CONSTITUTION), "--pairs", pairs, "--out", str(tmp_path / "o.jsonl")], server,
                       tmp_path)
        two_sets = tmp_path / "two.rubric"
        two_sets.write_text(GREEK + "\n" + GREEK.replace("greek", "latin"))
        ambiguous = cli(["prefer", str(two_sets), "--pairs", pairs, "--out", str(tmp_path / "o.jsonl"), "--judge",
                         "anthropic/j"], server, tmp_path)
    assert neither.exit_code == 2 and no_judge.exit_code == 2 and "no judge" in no_judge.stderr
    assert ambiguous.exit_code == 2 and "--set NAME" in ambiguous.stderr and "`greek`, `latin`" in ambiguous.stderr
    assert "Traceback" not in neither.output + no_judge.output + ambiguous.output


def test_the_cache_answers_a_repeated_comparison_and_a_refused_key_stops_the_run(tmp_path: Path) -> None:
    pairs = [{"id": 1, "prompt": "p", "a": "[good]", "b": "n"}]
    cache = tmp_path / "cache.sqlite3"
    first, server = run_prefer(by_marker, pairs, cache=str(cache))
    again, other = run_prefer(by_marker, pairs, cache=str(cache))
    assert len(server.requests) == 2 and len(other.requests) == 0  # the fence code is blanked in the key
    assert again[0]["samples"] == first[0]["samples"] and again[0]["judge_calls"] == 0
    out = tmp_path / "prefs.jsonl"
    rows = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    with JudgeServer(oracle=by_marker) as server:
        refused = CliRunner().invoke(main, ["prefer", str(CONSTITUTION), "--pairs", rows, "--out", str(out),
                                            "--judge", "anthropic/j", "--base-url", server.url, "--no-cache"],
                                     env={"ANTHROPIC_API_KEY": "wrong", "RUBRICDSL_JUDGE": None})
    assert refused.exit_code == 2 and "refused the credentials (HTTP 401)" in refused.stderr
    assert out.read_text() == ""  # an authentication error is never a failed row
