"""OpenRLHF's custom reward: `reward_func(queries, prompts, labels)`, and the grading behind `rubric serve`.

OpenRLHF loads `reward_func` from a Python file given as `--reward.remote_url /path/to/file.py` (older
releases: `--remote_rm_url`), runs it in a worker thread, and expects

    {"rewards": tensor (one per query), "scores": tensor (for --dynamic_filtering), "extra_logs": {name: scalar}}

This file can be given directly (it only uses absolute imports, so it also works when loaded by path):
`--reward.remote_url "$(python -c 'import rubricdsl.rewards.openrlhf as m; print(m.__file__)')"`. Its
configuration then comes from the environment: RUBRICDSL_RUBRICS (rubric files), RUBRICDSL_JUDGE, and
optionally RUBRICDSL_RUBRIC (a fixed rubric for rows without a label) and RUBRICDSL_FAILURE_REWARD.

Each query is the prompt and the response decoded together with their chat-template tokens; the response
is what follows the prompt, with trailing end-of-turn and padding tokens removed. Each label (OpenRLHF's
`--data.label_key`, e.g. a `rubric` column) is the row's rubric: a name in the rubric files or a rubric's
text. A failed grade gets a neutral reward (`failure_reward`, 0.0 by default) and `judge_failed` 1 in the
logs, because OpenRLHF cannot train on a missing reward; a configuration error stops the run.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from rubricdsl.ir import RubricIR
from rubricdsl.judging.retry import JudgeConfigError
from rubricdsl.rewards import RubricReward
from rubricdsl.rewards.source import RubricLookupError, prompt_text
from rubricdsl.rewards.verl import RewardConfigAbort, item_credits

__all__ = ["BackgroundLoop", "QueryGrade", "RewardService", "background_loop", "prompt_for_judge", "response_text",
           "reward_func"]

T = TypeVar("T")

# End-of-turn, end-of-text and padding tokens that a decode with skip_special_tokens=False leaves after the
# response: `<|im_end|>`, `<|eot_id|>`, `<|endoftext|>`, DeepSeek's full-width `<｜end▁of▁sentence｜>`, `</s>`...
_SPECIAL = r"<\|[^<>|\s]{1,40}\|>|<｜[^<>\s]{1,40}｜>|</s>|<eos>|<pad>|<end_of_turn>|<\|end\|>"
_TRAILING_SPECIAL = re.compile(rf"(?:\s*(?:{_SPECIAL}))+\s*$")
# Where an assistant turn starts, in the common chat templates: used when the prompt is not found verbatim.
_ASSISTANT_HEADERS = (
    "<|im_start|>assistant\n",
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|assistant|>\n",
    "<｜Assistant｜>",
    "<start_of_turn>model\n",
    "[/INST]",
)


def response_text(query: str, prompt: str | None = None) -> str:
    """The response inside a decoded `query` (prompt + response + special tokens).

    The prompt is searched for rather than assumed to be a prefix: a decode may add a BOS token before it.
    Without a usable prompt, the text after the last assistant header of a known chat template is taken.
    """
    start = -1
    if prompt:
        found = query.find(prompt)
        start = found + len(prompt) if found != -1 else -1
    if start == -1:
        for header in _ASSISTANT_HEADERS:
            found = query.rfind(header)
            if found != -1:
                start = found + len(header)
                break
    rest = query[start:] if start != -1 else query
    return _TRAILING_SPECIAL.sub("", rest).strip()


def prompt_for_judge(prompt: Any) -> str | None:
    """The templated prompt without its special tokens: the judge reads the task, not the template."""
    if not isinstance(prompt, str):
        return prompt_text(prompt)
    text = re.sub(_SPECIAL, "", prompt).strip()
    return text or None


class BackgroundLoop:
    """An event loop on a daemon thread. OpenRLHF calls `reward_func` from many threads at once, and the
    HTTP server answers on many threads: one loop shared by all of them keeps the judge's clients, its
    connection pool and its concurrency bound (a per-loop semaphore) shared too."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="rubricdsl-rewards", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


_LOOP: BackgroundLoop | None = None
_LOOP_PID: int | None = None
_LOCK = threading.Lock()


def background_loop() -> BackgroundLoop:
    """The process's loop, made on first use (and again in a forked child, where the thread is gone)."""
    global _LOOP, _LOOP_PID
    with _LOCK:
        if _LOOP is None or os.getpid() != _LOOP_PID:
            _LOOP, _LOOP_PID = BackgroundLoop(), os.getpid()
        return _LOOP


class QueryGrade:
    """One query's outcome: the reward to train on, whether the judge failed, the items' credits.

    A plain class, not a dataclass: OpenRLHF executes this file by path without registering it in
    `sys.modules`, where `dataclasses` looks up the module of string annotations.
    """

    __slots__ = ("credits", "error", "judge_failed", "reward")

    def __init__(self, reward: float, judge_failed: bool, credits: dict[str, float] | None = None,
                 error: str | None = None):
        self.reward, self.judge_failed, self.credits, self.error = reward, judge_failed, credits or {}, error

    def __repr__(self) -> str:
        return f"QueryGrade(reward={self.reward!r}, judge_failed={self.judge_failed!r})"


class RewardService:
    """The grading shared by `reward_func` and `rubric serve`: a row's rubric from its label (or the fixed
    `rubric`), the response from its query, one GradeResult per query, failures made neutral."""

    def __init__(self, *, rubrics: str | None = None, judge: str | Sequence[str] | None = None,
                 rubric: str | None = None, base_url: str | None = None, samples: int | None = None,
                 concurrency: int = 16, cache: str | bool | None = None, root: str | None = None,
                 failure_reward: float = 0.0, item_logs: bool = False):
        self.reward = RubricReward(judge=judge, rubrics=rubrics, base_url=base_url, samples=samples,
                                   concurrency=concurrency, cache=cache, root=root, name="rubricdsl")
        self.fixed, self.failure_reward, self.item_logs = rubric, failure_reward, item_logs
        self._fixed_text: str | None = None

    def rubric_for(self, label: Any) -> RubricIR:
        if isinstance(label, str) and label.strip():
            return self.reward.library.get(label)
        if self.fixed is None:
            raise RubricLookupError("a query has no rubric: give labels (--data.label_key rubric) or a fixed "
                                    "rubric (RUBRICDSL_RUBRIC, --rubric)")
        if self._fixed_text is None:
            self._fixed_text = _read_fixed(self.fixed)
        return self.reward.library.get(self._fixed_text)

    def check(self) -> None:
        """Fail fast on a rubric library that does not load, or a fixed rubric that is not in it."""
        try:
            if self.reward.library.source is not None:
                self.reward.library._load_names()
            if self.fixed is not None:
                self.rubric_for(None)
        except RubricLookupError as exc:
            raise RewardConfigAbort(f"rubricdsl: {exc}") from exc

    async def agrade(self, queries: Sequence[str], prompts: Sequence[Any] | None = None,
                     labels: Sequence[Any] | None = None) -> list[QueryGrade]:
        prompts = list(prompts) if prompts is not None else [None] * len(queries)
        labels = list(labels) if labels is not None else [None] * len(queries)
        if not len(queries) == len(prompts) == len(labels):
            raise ValueError(f"{len(queries)} queries, {len(prompts)} prompts and {len(labels)} labels")
        try:
            rubrics = [self.rubric_for(label) for label in labels]
            results = await asyncio.gather(*(
                self.reward.grader(rubric).agrade(response_text(query, prompt), prompt_for_judge(prompt),
                                                  raise_on_error=False)
                for rubric, query, prompt in zip(rubrics, queries, prompts, strict=True)))
        except (JudgeConfigError, RubricLookupError) as exc:
            # A BaseException, so that OpenRLHF's `except Exception` around the reward cannot make it a reward.
            raise RewardConfigAbort(f"rubricdsl: {exc}") from exc
        grades = []
        for rubric, result in zip(rubrics, results, strict=True):
            reward = result.reward
            grades.append(QueryGrade(reward=self.failure_reward if reward is None else float(reward),
                                     judge_failed=reward is None, error=result.error,
                                     credits=item_credits(rubric, result) if self.item_logs else {}))
        return grades

    def grade(self, queries: Sequence[str], prompts: Sequence[Any] | None = None,
              labels: Sequence[Any] | None = None) -> list[QueryGrade]:
        return background_loop().run(self.agrade(queries, prompts, labels))


def per_query_payload(grades: list[QueryGrade]) -> dict[str, Any]:
    """The HTTP answer, shaped like OpenRLHF's own reward server: lists, and each log a list per query."""
    rewards = [g.reward for g in grades]
    logs: dict[str, list[float]] = {"judge_failed": [float(g.judge_failed) for g in grades]}
    for name in _log_names(grades):
        logs[name] = [g.credits.get(name, math.nan) for g in grades]
    return {"rewards": rewards, "scores": rewards, "extra_logs": logs}


def batch_payload(grades: list[QueryGrade]) -> dict[str, Any]:
    """`reward_func`'s answer as OpenRLHF documents it: tensors, and each log one scalar for the batch."""
    rewards = [g.reward for g in grades]
    logs = {"judge_failed": sum(g.judge_failed for g in grades) / len(grades) if grades else 0.0}
    for name in _log_names(grades):
        values = [g.credits[name] for g in grades if not math.isnan(g.credits.get(name, math.nan))]
        logs[name] = sum(values) / len(values) if values else math.nan
    return {"rewards": _tensor(rewards), "scores": _tensor(rewards), "extra_logs": logs}


def _log_names(grades: list[QueryGrade]) -> list[str]:
    return list(dict.fromkeys(name for g in grades for name in g.credits))


def _tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:  # outside OpenRLHF (which always has torch) a list does as well
        return values
    return torch.tensor(values, dtype=torch.float32)


def _read_fixed(value: str) -> str:
    """A fixed rubric may be a path to a .rubric file holding one rubric, a rubric's name, or its text."""
    from pathlib import Path

    if "\n" not in value and value.endswith(".rubric") and Path(value).is_file():
        return Path(value).read_text(encoding="utf-8")
    return value


_SERVICES: dict[tuple[Any, ...], RewardService] = {}


def _service(options: dict[str, Any]) -> RewardService:
    key = tuple(sorted((k, repr(v)) for k, v in options.items()))
    with _LOCK:
        service = _SERVICES.get(key)
        if service is None:
            service = _SERVICES[key] = RewardService(**options)
        return service


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def reward_func(queries: Sequence[str], prompts: Sequence[Any] | None = None, labels: Sequence[Any] | None = None,
                **options: Any) -> dict[str, Any]:
    """OpenRLHF's reward function: one reward per query (see the module's documentation).

    Keyword options (for a wrapper of your own) override the environment: `rubrics`, `judge`, `rubric`,
    `base_url`, `samples`, `concurrency`, `cache`, `root`, `failure_reward`, `item_logs` (per-item mean
    credits in `extra_logs`; only for runs with one rubric, because OpenRLHF needs the same log names for
    every sample).
    """
    settings: dict[str, Any] = {
        "rubrics": os.environ.get("RUBRICDSL_RUBRICS"),
        "judge": os.environ.get("RUBRICDSL_JUDGE"),
        "rubric": os.environ.get("RUBRICDSL_RUBRIC"),
        "failure_reward": _env_float("RUBRICDSL_FAILURE_REWARD", 0.0),
        **options,
    }
    return batch_payload(_service(settings).grade(list(queries), prompts, labels))
