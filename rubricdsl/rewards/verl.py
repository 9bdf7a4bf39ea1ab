"""verl's custom reward function: `compute_score` grades one response against its row's rubric.

verl's reward loop (verl 0.9, `verl.experimental.reward_loop`) loads it with

    reward.custom_reward_function.path=pkg://rubricdsl.rewards.verl
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.rubrics=/path/to/rubrics     # or RUBRICDSL_RUBRICS
    +reward.custom_reward_function.reward_kwargs.judge=anthropic/claude-...   # or RUBRICDSL_JUDGE
    reward.reward_manager.name=rate_limited
    +reward.max_concurrent=32

and awaits it once per response (it is a coroutine function, so the reward managers await it on their own
event loop instead of running it in a thread). The row's rubric is `extra_info["rubric"]`: a rubric's name
(looked up in `rubrics`) or the text of a rubric.

The returned dict always has `score`, `judge_failed` and one `item/<name>` credit per item of the rubric, the
same keys for every sample of a rubric even when its grade failed: verl collects the keys of the first
sample of a batch and reads them from every other one. Rows with different rubrics in one batch therefore
need `item_credits=False`. A failed grade scores `failure_score` (never None: verl puts the score into a
tensor) with `judge_failed` 1.0 and NaN credits for the items nobody decided.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from typing import Any

from rubricdsl.ir import RubricIR
from rubricdsl.judging.retry import JudgeConfigError
from rubricdsl.rewards import RubricReward
from rubricdsl.rewards.source import RubricLookupError, completion_text, prompt_text
from rubricdsl.scoring import GradeResult

__all__ = ["RewardConfigAbort", "compute_score", "item_credits", "score_dict"]


class RewardConfigAbort(BaseException):
    """A configuration error (unknown rubric, no judge, a refused API key) that must stop the run.

    It derives from BaseException on purpose: verl's `rate_limited` manager (and OpenRLHF's executor) turn
    every `Exception` raised by a reward function into a reward of 0, which would make an invalid API key
    train the policy on zeros. SCORING.md: a configuration error is never a reward.
    """


_REWARDS: dict[tuple[Any, ...], RubricReward] = {}
_LOCK = threading.Lock()


def shared_reward(*, rubrics: str | None, judge: str | None, base_url: str | None = None,
                  samples: int | None = None, concurrency: int = 16, cache: str | bool | None = None,
                  root: str | None = None) -> RubricReward:
    """One RubricReward per configuration and process: graders, compiled rubrics and clients are reused
    across calls (verl calls once per response), and its concurrency bound covers all of them."""
    key = (rubrics, judge, base_url, samples, concurrency, cache, root)
    with _LOCK:
        reward = _REWARDS.get(key)
        if reward is None:
            reward = RubricReward(judge=judge, rubrics=rubrics, base_url=base_url, samples=samples,
                                  concurrency=concurrency, cache=cache, root=root, name="rubricdsl")
            _REWARDS[key] = reward
        return reward


async def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                        extra_info: Mapping[str, Any] | None = None, *, rubrics: str | None = None,
                        judge: str | None = None, rubric: str | None = None, base_url: str | None = None,
                        samples: int | None = None, concurrency: int = 16, cache: str | bool | None = None,
                        root: str | None = None, failure_score: float = 0.0, item_credits: bool = True,
                        **kwargs: Any) -> dict[str, float]:
    """Grade `solution_str` against the row's rubric; see the module's documentation for the keys.

    `rubrics` and `judge` default to the environment variables RUBRICDSL_RUBRICS and RUBRICDSL_JUDGE;
    `rubric` is a fixed rubric for rows without `extra_info["rubric"]`. Other keyword arguments that verl
    passes (`reward_router_address`, `reward_model_tokenizer`) are accepted and ignored.
    """
    info = dict(extra_info or {})
    reward = shared_reward(rubrics=rubrics or os.environ.get("RUBRICDSL_RUBRICS"),
                           judge=judge or os.environ.get("RUBRICDSL_JUDGE"), base_url=base_url, samples=samples,
                           concurrency=concurrency, cache=cache, root=root)
    try:
        compiled = reward.library.get(_row_rubric(info, rubric))
        result = await reward.grader(compiled).agrade(completion_text(solution_str), _prompt(info),
                                                      raise_on_error=False)
    except (JudgeConfigError, RubricLookupError) as exc:
        raise RewardConfigAbort(f"rubricdsl: {exc}") from exc
    return score_dict(compiled, result, failure_score=failure_score, with_items=item_credits)


def score_dict(rubric: RubricIR, result: GradeResult, *, failure_score: float = 0.0,
               with_items: bool = True) -> dict[str, float]:
    """`score`, `judge_failed`, then `item/<name>` for every item of the rubric (groups included, rubric
    order), whatever the result holds, so that every sample of the rubric has the same keys."""
    reward = result.reward
    out = {"score": float(failure_score if reward is None else reward), "judge_failed": float(reward is None)}
    return {**out, **item_credits(rubric, result)} if with_items else out


def item_credits(rubric: RubricIR, result: GradeResult) -> dict[str, float]:
    """`item/<name>` → credit for every item of the rubric (groups included, in rubric order); NaN for an
    item nobody decided, so that the keys depend on the rubric only, never on how its grade went."""
    credits = {}
    for item in rubric.all_items():
        verdict = result.verdicts.get(item.name)
        credit = verdict.credit if verdict is not None and verdict.decided else None
        credits[f"item/{item.name}"] = math.nan if credit is None else float(credit)
    return credits


def _row_rubric(info: Mapping[str, Any], fixed: str | None) -> Any:
    value = info.get("rubric")
    if value is None or (isinstance(value, str) and not value.strip()):
        value = fixed
    if value is None:
        raise RubricLookupError('the row has no extra_info["rubric"] and no rubric= was given in reward_kwargs')
    return value


def _prompt(info: Mapping[str, Any]) -> str | None:
    """verl does not pass the prompt to a reward function; data sets often keep it in extra_info."""
    for key in ("prompt", "question"):
        value = info.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return prompt_text(value.tolist() if hasattr(value, "tolist") else value)  # numpy arrays from parquet
    return None
