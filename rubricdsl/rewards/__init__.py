"""Graders as reward functions for RL trainers (INTERFACE.md "Reward functions").

`RubricReward` is TRL's (GRPOTrainer, RLOOTrainer): an async callable taking `prompts`, `completions` and
every dataset column by keyword, returning one `float | None` per completion. Submodules adapt the same
grading to verl (`rewards.verl.compute_score`), OpenRLHF (`rewards.openrlhf.reward_func`, `rubric serve`)
and Inspect AI (`rewards.inspect.rubric_scorer`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..ir import RubricIR
from ..scoring import GradeResult
from .source import PathLike, RubricLibrary, RubricLookupError, completion_text, prompt_text

__all__ = ["RubricLookupError", "RubricReward", "completion_text", "prompt_text"]


class RubricReward:
    """A rubric-graded reward. Holds configuration only: graders and clients are made inside the running
    event loop, so the object pickles into a trainer's worker process.

    The rubric of each row comes from the dataset column `rubric_column` (a rubric name looked up in
    `rubrics=`, or a rubric's text), or is fixed with `rubric=`. A failed grade gives `on_failure`
    (default None: TRL leaves the completion out); an authentication or configuration error raises.
    """

    def __init__(
        self,
        judge: str | Sequence[str] | Any | None = None,
        *,
        rubric: RubricIR | PathLike | None = None,
        rubric_column: str = "rubric",
        rubrics: PathLike | None = None,
        root: PathLike | None = None,
        samples: int | None = None,
        concurrency: int = 16,
        cache: PathLike | bool | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        on_failure: float | None = None,
        name: str = "rubric_reward",
    ):
        self.judge, self.samples, self.concurrency, self.cache = judge, samples, concurrency, cache
        self.api_key, self.base_url, self.on_failure = api_key, base_url, on_failure
        self.rubric_column = rubric_column
        self.library = RubricLibrary(rubrics, root)
        self.fixed = rubric
        self.__name__ = name  # TRL names the reward's metrics after it
        self._graders: dict[str, Any] = {}
        self._judges: dict[str, Any] = {}
        self._columns: dict[str, None] = {}  # every item column logged so far, in first-seen order

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_graders": {}, "_judges": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"_columns": {}, **state})

    async def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        results = await self.grade_batch(prompts, completions, **columns)
        _report(results, columns, self._columns)
        return [r.reward if r.reward is not None else self.on_failure for r in results]

    async def grade_batch(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any] | None, **columns: Any
    ) -> list[GradeResult]:
        completions = list(completions or [])
        prompts = list(prompts) if prompts is not None else [None] * len(completions)
        rubrics = self._rubrics(len(completions), columns)
        jobs = [
            self.grader(rubric).agrade(completion_text(c), prompt_text(p), raise_on_error=False)
            for rubric, p, c in zip(rubrics, prompts, completions, strict=True)
        ]
        return list(await asyncio.gather(*jobs))

    def _rubrics(self, count: int, columns: dict[str, Any]) -> list[RubricIR]:
        if self.fixed is not None:
            fixed = self.fixed if isinstance(self.fixed, RubricIR) else self.library.get(_read(self.fixed))
            return [fixed] * count
        values = columns.get(self.rubric_column)
        if values is None:
            raise RubricLookupError(f"no `{self.rubric_column}` column in the batch and no fixed rubric= given")
        return [self.library.get(v) for v in values]

    def _pooled(self, spec: Any) -> Any:
        """One judge object per model name, shared by every rubric's grader: the judge's semaphore then
        bounds this reward function's calls to that model, however many rubrics a batch holds."""
        if not isinstance(spec, str):
            return spec
        if spec not in self._judges:
            from ..judging import InstructorJudge

            self._judges[spec] = InstructorJudge(
                spec, api_key=self.api_key, base_url=self.base_url, concurrency=self.concurrency
            )
        return self._judges[spec]

    def grader(self, rubric: RubricIR) -> Any:
        """One Grader per rubric (by content hash), made on first use."""
        grader = self._graders.get(rubric.content_hash)
        if grader is None:
            from ..judging import Grader
            from ..judging.grader import judge_specs

            judges = [self._pooled(spec) for spec in judge_specs(self.judge, rubric)]
            grader = Grader(
                rubric,
                judge=judges,
                samples=self.samples,
                concurrency=self.concurrency,
                cache=self.cache,
                api_key=self.api_key,
                base_url=self.base_url,
            )
            self._graders[rubric.content_hash] = grader
        return grader


def _read(rubric: PathLike) -> str:
    """A fixed rubric given as a path is read once; as a string it may also be a rubric's text or name."""
    from pathlib import Path

    text = str(rubric)
    if "\n" not in text and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8")
    return text


def _report(results: list[GradeResult], columns: dict[str, Any], logged: dict[str, None]) -> None:
    """Per-item credits as completion-table columns (`log_extra`), failure rate and tokens as metrics.

    Every column logged before is logged again (None where no row has the item): TRL extends only the
    columns a batch logs, so a column left out would keep showing an earlier batch's credits."""
    log_extra, log_metric = columns.get("log_extra"), columns.get("log_metric")
    if callable(log_extra):
        logged.update(dict.fromkeys(sorted({name for r in results for name in r.verdicts})))
        for name in logged:
            log_extra(f"rubric/{name}", [_credit(r, name) for r in results])
    if callable(log_metric) and results:
        failed = sum(r.reward is None for r in results)
        log_metric("rubric/judge_failure_rate", failed / len(results))
        log_metric("rubric/input_tokens", float(sum(r.usage.input_tokens for r in results)))
        log_metric("rubric/cached_input_tokens", float(sum(r.usage.cached_input_tokens for r in results)))
        log_metric("rubric/output_tokens", float(sum(r.usage.output_tokens for r in results)))


def _credit(result: GradeResult, name: str) -> float | None:
    verdict = result.verdicts.get(name)
    return verdict.credit if verdict is not None else None
