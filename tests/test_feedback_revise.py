"""`rubric revise` (Constitutional AI's critique–revision rounds) against the real judge server.

The oracle critiques by naming the principle it was shown and the response it read (the server extracts the
response from its `<response-CODE>` fence), and revises by appending `[revised:PRINCIPLE]`; so the final
completion and the whole chain follow from the seeded principle draws, exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from rubricdsl.cli import main
from rubricdsl.dataset_io import id_key
from rubricdsl.feedback import load_principles, revise
from rubricdsl.feedback.common import draw
from rubricdsl.testing import JudgeServer, OracleContext
from rubricdsl.testing.oracles import message_text

CONSTITUTION = Path(__file__).resolve().parent.parent / "rubrics" / "constitution" / "helpful_harmless.rubric"


def principle_of(ctx: OracleContext) -> str:
    user = message_text(ctx.body["messages"][0]["content"])
    return user.split("<principle>\n", 1)[1].split(":", 1)[0]


def critic(ctx: OracleContext) -> dict[str, Any]:
    if ctx.tool_name == "Critique":
        return {"critique": f"{principle_of(ctx)} is not met by: {ctx.response}"}
    assert ctx.tool_name == "Revision"
    user = message_text(ctx.body["messages"][0]["content"])
    assert f"<critique>\n{principle_of(ctx)} is not met by: {ctx.response}\n</critique>" in user
    return {"revision": f"{ctx.response} [revised:{principle_of(ctx)}]"}


def expected_chain(original: str, key: str, rounds: int, seed: int = 0) -> list[dict[str, str]]:
    items = load_principles(CONSTITUTION)
    chain, current = [], original
    for round_ in range(rounds):
        name = draw(items, 1, seed, key, round_)[0].name
        revised = f"{current} [revised:{name}]"
        chain.append({"principle": name, "critique": f"{name} is not met by: {current}", "revision": revised})
        current = revised
    return chain


def test_rounds_chain_critiques_and_revisions() -> None:
    rows = [{"id": "r1", "prompt": "How do I reset my router?", "response": "Unplug it."},
            {"id": 2, "response": [{"role": "user", "content": "Name a prime."},
                                   {"role": "assistant", "content": "9"}]}]
    with JudgeServer(oracle=critic) as server:
        records = revise(rows, CONSTITUTION, judge="anthropic/critic", rounds=3, api_key="test", base_url=server.url)
        assert len(server.requests) == 12  # 2 rows × 3 rounds × (critique + revision)
    for row, record in zip(rows, records, strict=True):
        original = "Unplug it." if row["id"] == "r1" else "9"
        chain = expected_chain(original, id_key(row["id"]), 3)
        assert record["chain"] == chain
        if row["id"] == "r1":  # text in, text out: TRL's standard prompt–completion format
            prompt, completion = row["prompt"], chain[-1]["revision"]
        else:  # a chat's turns before the answer are the prompt, and the completion a turn: the conversational format
            prompt = [{"role": "user", "content": "Name a prime."}]
            completion = [{"role": "assistant", "content": chain[-1]["revision"]}]
        assert (record["completion"], record["original"], record["prompt"]) == (completion, original, prompt)
        assert record["judge_calls"] == 6
    assert len({step["principle"] for r in records for step in r["chain"]}) > 1  # a fresh draw per round


def test_the_command_writes_sft_rows_and_resumes(tmp_path: Path) -> None:
    rows = [{"id": i, "prompt": f"q{i}", "response": f"a{i}"} for i in range(3)] + [{"id": "bad", "prompt": "x"}]
    data, out = tmp_path / "data.jsonl", tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {"ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None, "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    with JudgeServer(oracle=critic) as server:
        args = ["revise", str(CONSTITUTION), "--responses", str(data), "--out", str(out), "--rounds", "2", "--seed",
                "3", "--judge", "anthropic/critic", "--base-url", server.url]
        first = CliRunner().invoke(main, args, env=env)
        assert first.exit_code == 1, first.output  # the row without a response failed
        assert "rows 4: revised 3 (3 changed), failed 1 (0 resumed), 2 round(s), judge calls 12" in first.stdout
        again = CliRunner().invoke(main, [*args, "--format", "json"], env=env)
        assert json.loads(again.stdout)["resumed"] == 3 and len(server.requests) == 12  # nothing redone
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records[1]["chain"] == expected_chain("a1", id_key(1), 2, seed=3)
    assert records[1]["completion"] == records[1]["chain"][-1]["revision"] and "error" in records["bad"]
    assert list(records[0])[:4] == ["id", "prompt", "completion", "original"]


def test_an_unchanged_conversational_completion_counts_as_unchanged(tmp_path: Path) -> None:
    def keeper(ctx: OracleContext) -> dict[str, Any]:
        return {"critique": "Fine."} if ctx.tool_name == "Critique" else {"revision": ctx.response}

    data, out = tmp_path / "data.jsonl", tmp_path / "sft.jsonl"
    data.write_text(json.dumps({"id": 1, "prompt": [{"role": "user", "content": "q"}], "response": "a"}) + "\n")
    env = {"ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None, "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    with JudgeServer(oracle=keeper) as server:
        result = CliRunner().invoke(main, ["revise", str(CONSTITUTION), "--responses", str(data), "--out", str(out),
                                           "--judge", "anthropic/critic", "--base-url", server.url], env=env)
    assert result.exit_code == 0, result.output
    assert "rows 1: revised 1 (0 changed)" in result.stdout  # the completion turn's text is the original
    (record,) = map(json.loads, out.read_text().splitlines())
    assert record["completion"] == [{"role": "assistant", "content": "a"}] and record["original"] == "a"
