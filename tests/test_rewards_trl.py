"""A real TRL run: GRPOTrainer (and RLOOTrainer) for 2 steps on the CPU, rewarded by RubricReward.

The policy is a tiny randomly initialised Llama with a word-level tokenizer built here (nothing is
downloaded: HF_HUB_OFFLINE=1). Its vocabulary holds the rubric items' markers (`[energy_conserved]`...) as
single tokens, so random completions hold random sets of markers; the fake judge server decides each item
by its marker, so the reward of every completion is known: `aggregate` over those verdicts. The test
checks that the rewards TRL logged for each completion, the per-step means in `log_history`, and the
per-item columns RubricReward sent through `log_extra` are exactly those. One prompt's rubric is named
(looked up in rubrics/physics.rubric), the other's is given as text, so each batch mixes two rubrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from marker_rewards import ENERGY, INLINE, PHYSICS, oracle_reward

from rubricdsl import loads
from rubricdsl.rewards import RubricReward
from rubricdsl.testing import JudgeServer

# Needs torch and TRL: deselect with `pytest -m "not integrations"` for a fast inner loop.
pytestmark = pytest.mark.integrations

SHORT = loads(INLINE)
MARKERS = [f"[{leaf.name}]" for rubric in (ENERGY, SHORT) for leaf in rubric.leaves() if not leaf.check]
WORDS = ["energy", "ball", "falls", "the", "is", "kinetic", "potential", "joules"]
CHAT_TEMPLATE = ("{% for m in messages %}{{ '<' + m['role'] + '> ' + m['content'] + ' ' }}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<assistant> ' }}{% endif %}")


def tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<unk>", "<user>", "<assistant>"]
    vocab = {token: i for i, token in enumerate([*specials, *MARKERS, *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>",
                                        unk_token="<unk>", additional_special_tokens=["<user>", "<assistant>"])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(vocab_size: int) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0,
                         eos_token_id=1, bos_token_id=None, tie_word_embeddings=False)
    return LlamaForCausalLM(config)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")
    monkeypatch.setenv("WANDB_MODE", "disabled")


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with JudgeServer() as srv:
        yield srv


@pytest.mark.parametrize("trainer_kind", ["grpo", "rloo"])
def test_a_two_step_run_logs_the_rewards_the_oracle_implies(trainer_kind: str, offline: None, server: JudgeServer,
                                                             tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import TrainerCallback

    if trainer_kind == "grpo":
        from trl import GRPOConfig as Config
        from trl import GRPOTrainer as Trainer
    else:
        from trl import RLOOConfig as Config  # type: ignore[assignment]
        from trl import RLOOTrainer as Trainer  # type: ignore[assignment]

    tokenizer = tiny_tokenizer()
    rubric_of = {"What happens to the energy of the ball": ENERGY, "Name the energy at the bottom": SHORT}
    dataset = Dataset.from_list([
        {"prompt": [{"role": "user", "content": "What happens to the energy of the ball"}],
         "rubric": "energy_conservation"},
        {"prompt": [{"role": "user", "content": "Name the energy at the bottom"}], "rubric": INLINE},
    ] * 4)
    reward = RubricReward(judge="anthropic/claude-test", rubrics=PHYSICS, api_key="test", base_url=server.url)

    class Snapshots(TrainerCallback):
        """Each step's logged batch: TRL keeps the last generation batch in `_logs` (prompts, completions,
        rewards per function, and the `log_extra` columns)."""

        def __init__(self) -> None:
            self.trainer: Any = None
            self.steps: list[dict[str, list[Any]]] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            logs = self.trainer._logs
            self.steps.append({"prompt": list(logs["prompt"]), "completion": list(logs["completion"]),
                               "reward": list(logs["rewards"][reward.__name__]),
                               **{name: list(values) for name, values in logs["extra"].items()}})

    snapshots = Snapshots()
    args = Config(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8, num_generations=4,
                  max_completion_length=8, logging_steps=1, report_to="none", use_cpu=True, save_strategy="no",
                  seed=0, learning_rate=1e-3, bf16=False, disable_tqdm=True, log_completions=False,
                  beta=0.0)  # no KL term: RLOO would otherwise load a reference model by the policy's (absent) path
    trainer = Trainer(model=tiny_model(len(tokenizer)), reward_funcs=[reward], args=args, train_dataset=dataset,
                      processing_class=tokenizer, callbacks=[snapshots])
    snapshots.trainer = trainer
    trainer.train()

    assert len(snapshots.steps) == 2
    step_logs = [entry for entry in trainer.state.log_history if f"rewards/{reward.__name__}/mean" in entry]
    assert len(step_logs) == 2
    graded = 0
    rewards_seen: set[float] = set()
    for step, logged in zip(snapshots.steps, step_logs, strict=True):
        assert len(step["completion"]) == 8
        expected = []
        for index, (prompt, completion) in enumerate(zip(step["prompt"], step["completion"], strict=True)):
            rubric = rubric_of[prompt[-1]["content"]]
            text = completion[-1]["content"]
            expected.append(oracle_reward(rubric, text))
            for leaf in rubric.leaves():  # the per-item columns RubricReward logged through log_extra
                if not leaf.check:
                    assert step[f"rubric/{leaf.name}"][index] == float(f"[{leaf.name}]" in text)
        # TRL keeps rewards as float32
        assert step["reward"] == pytest.approx(expected, rel=1e-6, abs=1e-6)
        assert None not in expected  # the hard rule (a word limit) holds for 8-token completions
        mean = sum(e for e in expected if e is not None) / len(expected)
        assert logged[f"rewards/{reward.__name__}/mean"] == pytest.approx(mean, rel=1e-5, abs=1e-6)
        assert logged["rubric/judge_failure_rate"] == 0.0
        graded += len(expected)
        rewards_seen.update(round(e, 6) for e in expected if e is not None)
    assert len(server.requests) == graded  # one judge call per completion
    assert len(rewards_seen) > 2, rewards_seen  # the random policy's completions really earn different rewards


def test_item_columns_of_a_rubric_missing_from_a_batch_are_empty_not_stale(offline: None, server: JudgeServer,
                                                                           tmp_path: Path) -> None:
    """One prompt (so one rubric) per step: the completions table (`log_completions`) must show None, not
    the previous batch's credits, in the other rubric's item columns."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    tokenizer = tiny_tokenizer()
    dataset = Dataset.from_list([
        {"prompt": [{"role": "user", "content": "What happens to the energy of the ball"}],
         "rubric": "energy_conservation"},
        {"prompt": [{"role": "user", "content": "Name the energy at the bottom"}], "rubric": INLINE},
    ])
    reward = RubricReward(judge="anthropic/claude-test", rubrics=PHYSICS, api_key="test", base_url=server.url)
    args = GRPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=6, logging_steps=1, report_to="none", use_cpu=True, save_strategy="no",
                      seed=0, bf16=False, disable_tqdm=True, log_completions=True, beta=0.0)
    trainer = GRPOTrainer(model=tiny_model(len(tokenizer)), reward_funcs=[reward], args=args,
                          train_dataset=dataset, processing_class=tokenizer)
    trainer.train()

    import pandas as pd

    tables = sorted((tmp_path / "completions").glob("*.parquet"))
    assert len(tables) == 2
    for table in map(pd.read_parquet, tables):
        (question,) = set(table["prompt"].map(lambda p: p[-1]["content"]))
        rubric, other = (ENERGY, SHORT) if "ball" in question else (SHORT, ENERGY)
        for leaf in rubric.leaves():
            if not leaf.check:
                texts = table["completion"].map(lambda c: c[-1]["content"])
                assert table[f"rubric/{leaf.name}"].tolist() == [float(f"[{leaf.name}]" in t) for t in texts]
        for leaf in other.leaves():
            column = f"rubric/{leaf.name}"
            assert column not in table or table[column].isna().all(), (column, table[column].tolist())
