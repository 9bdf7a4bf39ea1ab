"""`rubric prefer` and `rubric revise` output with chat prompts loads in TRL, through TRL's own code.

Each command runs against the real judge server and writes its JSONL; the file is loaded with `datasets` and
every row goes through `trl.data_utils.maybe_apply_chat_template` with a tokenizer built here (word-level, no
hub) whose chat template is ChatML. TRL reads a row only when all its columns are in one format (strings, or
lists of messages), so the rendered strings below, worked out by hand from the template, show both that the
rows are conversational and that the assistant turns are where TRL expects them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rubricdsl.cli import main
from rubricdsl.testing import JudgeServer, OracleContext
from rubricdsl.testing.oracles import message_text

# Needs datasets, transformers and TRL: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations

CONSTITUTION = Path(__file__).resolve().parent.parent / "rubrics" / "constitution" / "helpful_harmless.rubric"
FENCE = re.compile(r"<response-([AB])-([0-9a-f]{12})>\n(.*?)\n</response-\1-\2>", re.S)
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def chatml_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<unk>", "<|im_start|>", "<|im_end|>"]
    backend = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(specials)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>",
                                        unk_token="<unk>", additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = CHATML
    return tokenizer


def judge(ctx: OracleContext) -> dict[str, Any]:
    """Prefers the response holding `[good]`; critiques and revises by appending ` (revised)`."""
    if ctx.tool_name == "Critique":
        return {"critique": "Say more."}
    if ctx.tool_name == "Revision":
        return {"revision": f"{ctx.response} (revised)"}
    user = message_text([m for m in ctx.body["messages"] if m["role"] == "user"][-1]["content"])
    good = [m.group(1) for m in FENCE.finditer(user) if "[good]" in m.group(3)]
    return {"reason": "marker", "preferred": good[0] if len(good) == 1 else "tie"}


def run(args: list[str], rows: list[dict[str, Any]], tmp_path: Path) -> tuple[Result, Path]:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = {"ANTHROPIC_API_KEY": "test", "RUBRICDSL_JUDGE": None, "RUBRICDSL_CACHE_DIR": str(tmp_path / "cache")}
    with JudgeServer(oracle=judge) as server:
        result = CliRunner().invoke(main, [*args, str(source), "--out", str(out), "--judge", "anthropic/j",
                                           "--base-url", server.url], env=env)
    return result, out


def rendered(out: Path, keep: Any = None) -> dict[str, dict[str, Any]]:
    """Each row of the output file as TRL renders it for training, by id."""
    from datasets import load_dataset
    from trl.data_utils import maybe_apply_chat_template

    dataset = load_dataset("json", data_files=str(out), split="train")
    if keep is not None:
        dataset = dataset.filter(keep)
    tokenizer = chatml_tokenizer()
    return {row["id"]: maybe_apply_chat_template(row, tokenizer) for row in dataset}


def test_prefer_rows_with_a_chat_prompt_render_with_trl(tmp_path: Path) -> None:
    user = {"role": "user", "content": "Name a prime."}
    rows = [{"id": "text", "prompt": [user], "a": "9", "b": "7 [good]"},  # a chat prompt, text responses
            {"id": "chat", "prompt": [user], "a": [user, {"role": "assistant", "content": "2 [good]"}],
             "b": [user, {"role": "assistant", "content": "4"}]},  # chat responses repeating the prompt's turns
            {"id": "even", "prompt": [user], "a": "1", "b": "0"}]
    result, out = run(["prefer", str(CONSTITUTION), "--pairs"], rows, tmp_path)
    assert result.exit_code == 0, result.output
    done = rendered(out, keep=lambda row: not row["tie"])  # ties carry no pair, as the docs say to filter
    prompt = "<|im_start|>user\nName a prime.<|im_end|>\n<|im_start|>assistant\n"
    assert {key: (row["prompt"], row["chosen"], row["rejected"]) for key, row in done.items()} == {
        "text": (prompt, "7 [good]<|im_end|>\n", "9<|im_end|>\n"),
        "chat": (prompt, "2 [good]<|im_end|>\n", "4<|im_end|>\n")}


def test_revise_rows_with_a_chat_prompt_render_with_trl(tmp_path: Path) -> None:
    rows = [{"id": "given", "prompt": [{"role": "user", "content": "Reset my router?"}], "response": "Unplug it."},
            {"id": "turns", "response": [{"role": "user", "content": "Name a prime."},
                                         {"role": "assistant", "content": "9"}]}]  # the chat's first turn: the prompt
    result, out = run(["revise", str(CONSTITUTION), "--responses"], rows, tmp_path)
    assert result.exit_code == 0, result.output
    assert "revised 2 (2 changed)" in result.stdout
    done = rendered(out)
    assert {key: (row["prompt"], row["completion"]) for key, row in done.items()} == {
        "given": ("<|im_start|>user\nReset my router?<|im_end|>\n<|im_start|>assistant\n",
                  "Unplug it. (revised)<|im_end|>\n"),
        "turns": ("<|im_start|>user\nName a prime.<|im_end|>\n<|im_start|>assistant\n", "9 (revised)<|im_end|>\n")}
