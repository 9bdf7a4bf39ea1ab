"""Inspect AI: `rubric_scorer`, a scorer that grades a sample's output against its rubric.

    from inspect_ai import Task, task
    from rubricdsl.rewards.inspect import rubric_scorer

    @task
    def physics() -> Task:
        return Task(dataset=..., solver=generate(), scorer=rubric_scorer(judge="anthropic/claude-...",
                                                                       rubrics="rubrics/"))

Each Score's value is a dict: `reward`, and `item/<name>` with each item's credit (NaN when the judge could
not decide it: Inspect leaves NaN out of a key's metrics). The default metrics are the mean and standard
error of every key. A failed grade is `Score.unscored(reason="grader_failed")` (excluded from the metrics,
counted as unscored); a configuration error (unknown rubric, no judge, a refused API key) raises, which
fails the sample instead of scoring it.

The sample's rubric is `rubric=` (fixed for the task) or its metadata field `rubric_field` (default
`rubric`): a rubric's name, looked up in `rubrics=`, or a rubric's text. Samples with different rubrics
give different item keys, and Inspect's key metrics need the keys of every sample: with mixed rubrics in
one task, pass `item_credits=False`.

This module shares its name with the standard library's `inspect`; every import in the package is
absolute, so nothing else picks it up by mistake.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from rubricdsl.ir import RubricIR
from rubricdsl.rewards import RubricReward
from rubricdsl.rewards.source import RubricLookupError
from rubricdsl.rewards.verl import item_credits as credits_of
from rubricdsl.scoring import GradeResult

__all__ = ["rubric_scorer", "score_from_result"]


@scorer(metrics={"*": [mean(), stderr()]})
def rubric_scorer(rubric: str | None = None, *, judge: str | None = None, rubrics: str | None = None,
                  rubric_field: str = "rubric", base_url: str | None = None, samples: int | None = None,
                  concurrency: int = 16, cache: str | bool | None = None, root: str | None = None,
                  item_credits: bool = True) -> Scorer:
    """Grade `state.output.completion` (with `state.input_text` as the prompt) against the sample's rubric.

    There is no `api_key` parameter on purpose: Inspect writes a scorer's arguments into the eval log. The
    judge's key comes from the environment (ANTHROPIC_API_KEY, OPENAI_API_KEY).
    """
    reward = RubricReward(judge=judge, rubrics=rubrics, base_url=base_url, samples=samples,
                          concurrency=concurrency, cache=cache, root=root, name="rubric_scorer")

    async def score(state: TaskState, target: Target) -> Score:
        value = rubric if rubric is not None else (state.metadata or {}).get(rubric_field)
        if value is None:
            raise RubricLookupError(f"sample {state.sample_id!r} has no `{rubric_field}` in its metadata "
                                    "and the scorer has no rubric=")
        compiled = reward.library.get(_read(value))
        result = await reward.grader(compiled).agrade(state.output.completion, state.input_text,
                                                      raise_on_error=False)
        return score_from_result(compiled, result, answer=state.output.completion, item_credits=item_credits)

    return score


def score_from_result(rubric: RubricIR, result: GradeResult, *, answer: str | None = None,
                      item_credits: bool = True) -> Score:
    """A dict-valued Score of a GradeResult, or an unscored one when the grade failed."""
    metadata: dict[str, Any] = {
        "rubric": result.rubric, "content_hash": result.content_hash, "gate": result.gate,
        "S": result.S, "P": result.P, "N": result.N, "undecided": dict(result.undecided),
        "judge": result.model, "judge_calls": result.judge_calls, "usage": result.usage.model_dump(),
    }
    if result.reward is None:
        return Score.unscored(reason="grader_failed", answer=answer, explanation=result.error, metadata=metadata)
    value: dict[str, float] = {"reward": float(result.reward)}
    if item_credits:
        value.update(credits_of(rubric, result))
    return Score(value=value, answer=answer, explanation=_explain(rubric, result), metadata=metadata)


def _explain(rubric: RubricIR, result: GradeResult) -> str:
    """One line per item: what was decided and the judge's reason."""
    lines = []
    for item in rubric.all_items():
        verdict = result.verdicts.get(item.name)
        if verdict is None:
            continue
        if not verdict.decided:
            decision = f"undecided ({verdict.undecided})"
        elif verdict.credit in (0.0, 1.0):
            decision = "holds" if verdict.holds else "does not hold"
        else:
            decision = f"credit {verdict.credit:.2f}"
        reason = " ".join(verdict.reason.split())
        lines.append(f"{item.name} ({item.kind}): {decision}" + (f" — {reason}" if reason else ""))
    return "\n".join(lines)


def _read(value: Any) -> Any:
    """A fixed rubric may be given as the path of a .rubric file holding one rubric."""
    from pathlib import Path

    if isinstance(value, str) and "\n" not in value and value.endswith(".rubric") and Path(value).is_file():
        return Path(value).read_text(encoding="utf-8")
    return value
