"""The Grader: one response → requests → judge replies (or cache hits) → verdicts → `GradeResult`.

Checks are decided locally; everything else goes to the judge(s) in one structured call per (response,
sample) (or per item with `granularity: item`), concurrently under a semaphore. A rubric whose items are
all checks grades offline with no judge at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..checks import CheckContext
from ..ir import RubricIR
from ..scoring import GradeResult, GradingError, Usage, Verdict, aggregate
from ..scoring.aggregate import failed_result
from ..syntax import CheckExpr
from .cache import JudgeCache, cache_for
from .judge import InstructorJudge, Judge, JudgeReply
from .request import JudgeRequest, build_requests
from .retry import JudgeConfigError, JudgeError
from .run import run_sync
from .schema import judged_items
from .votes import combine_judges, samples_verdict, vote_of

JudgeSpec = str | Judge | Sequence[str | Judge] | None
T = TypeVar("T")


class Grader:
    def __init__(
        self,
        rubric: RubricIR | str | os.PathLike[str],
        judge: JudgeSpec = None,
        *,
        samples: int | None = None,
        concurrency: int = 16,
        cache: str | os.PathLike[str] | bool | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 2,
        temperature: float | None = None,
        mode: str | None = None,
    ):
        self.rubric = _as_rubric(rubric)
        self.samples = samples
        self.temperature = temperature
        self.concurrency = concurrency
        options = {"api_key": api_key, "base_url": base_url, "max_retries": max_retries, "mode": mode}
        self.judges = _make_judges(judge, self.rubric, concurrency=concurrency, **options)
        self._cache_spec = cache
        self._cache: JudgeCache | None = None
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self._checks = {leaf.name: _parse_check(leaf.check) for leaf in self.rubric.leaves() if leaf.check}

    # -------------------------------------------------------------- public API

    def grade(self, response: str, prompt: str | None = None) -> GradeResult:
        return run_sync(self._closing(self.agrade(response, prompt)))

    def grade_many(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None) -> list[GradeResult]:
        return run_sync(self._closing(self.agrade_many(responses, prompts)))

    async def aclose(self) -> None:
        """Close the judges' clients of the running event loop (the sync API does so for the loop it runs)."""
        for judge in self.judges:
            close = getattr(judge, "aclose", None)
            if close is not None:
                await close()

    async def _closing(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            return await work
        finally:  # the sync API's loop ends here: a client left open on it fails noisily when collected later
            await self.aclose()

    async def agrade_many(
        self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
    ) -> list[GradeResult]:
        prompts = list(prompts) if prompts is not None else [None] * len(responses)
        if len(prompts) != len(responses):
            raise ValueError(f"{len(responses)} responses but {len(prompts)} prompts")
        return list(
            await asyncio.gather(
                *(self.agrade(r, p, raise_on_error=False) for r, p in zip(responses, prompts, strict=True))
            )
        )

    async def agrade(self, response: str, prompt: str | None = None, *, raise_on_error: bool = True) -> GradeResult:
        verdicts: dict[str, Verdict] = {
            name: self._check_verdict(expr, response) for name, expr in self._checks.items()
        }
        usage, calls, model = Usage(), 0, None
        if judged_items(self.rubric.leaves()):
            if not self.judges:
                names = ", ".join(i.name for i in judged_items(self.rubric.leaves()))
                raise JudgeConfigError(
                    f"rubric `{self.rubric.name}` needs a judge for: {names} "
                    "(give --judge provider/model, or set `judge: model:` in the rubric)"
                )
            judged, usage, calls = await self._judge(response, prompt)
            verdicts.update(judged)
            model = ",".join(j.name for j in self.judges)
        try:
            return aggregate(self.rubric, verdicts, model=model, usage=usage, judge_calls=calls)
        except GradingError as exc:
            if raise_on_error:
                raise
            return failed_result(self.rubric, exc, verdicts=verdicts, model=model, usage=usage, judge_calls=calls)

    # -------------------------------------------------------------- internals

    def _check_verdict(self, expr: CheckExpr, response: str) -> Verdict:
        return Verdict(holds=CheckContext(response).evaluate(expr), source="check")

    async def _judge(self, response: str, prompt: str | None) -> tuple[dict[str, Verdict], Usage, int]:
        requests = build_requests(self.rubric, response, prompt, samples=self.samples, temperature=self.temperature)
        jobs = [(judge, request) for judge in self.judges for request in requests]
        outcomes = await asyncio.gather(*(self._ask(judge, request) for judge, request in jobs))
        per_judge: dict[str, dict[str, tuple[list[Any], list[str], list[str]]]] = {}
        usage, calls = Usage(), 0
        for (judge, request), outcome in zip(jobs, outcomes, strict=True):
            table = per_judge.setdefault(judge.name, {})
            for item in request.items:
                votes, reasons, errors = table.setdefault(item.name, ([], [], []))
                if isinstance(outcome, JudgeError):
                    errors.append(str(outcome))
                    continue
                decision = outcome.decisions[item.name]
                votes.append(vote_of(decision))
                reasons.append(str(decision.get("reason", "")))
            if isinstance(outcome, JudgeReply) and not outcome.cached:  # a cache hit made no call, spent no token
                usage, calls = usage + outcome.usage, calls + outcome.calls
        verdicts = {}
        for item in judged_items(self.rubric.leaves()):
            by_judge = {name: samples_verdict(item, *table[item.name]) for name, table in per_judge.items()}
            verdicts[item.name] = combine_judges(by_judge, self.rubric.judge.combine)
        return verdicts, usage, calls

    async def _ask(self, judge: Judge, request: JudgeRequest) -> JudgeReply | JudgeError:
        cache = self._open_cache()
        key = request.cache_key(judge.name) if cache is not None else None
        if cache is not None and key is not None:
            hit = cache.get(key)
            if hit is not None:
                return hit
        # A judge with its own bound (InstructorJudge) is limited there, across every grader sharing it.
        limit = contextlib.nullcontext() if getattr(judge, "bounds_concurrency", False) else self._semaphore()
        async with limit:
            try:
                reply = await judge.decide(request)
                _check_complete(reply, request)  # inside: a reply missing items leaves them undecided
            except JudgeError as exc:
                return exc
        if cache is not None and key is not None:
            cache.put(key, reply)
        return reply

    def _semaphore(self) -> asyncio.Semaphore:
        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._semaphores:
            self._semaphores = {loop_id: asyncio.Semaphore(self.concurrency)}
        return self._semaphores[loop_id]

    def _open_cache(self) -> JudgeCache | None:
        if self._cache is None:
            self._cache = cache_for(self._cache_spec)
        return self._cache

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"], state["_semaphores"] = None, {}
        return state


def _check_complete(reply: JudgeReply, request: JudgeRequest) -> None:
    missing = [item.name for item in request.items if item.name not in reply.decisions]
    if missing:  # a judge object that skipped items: never score them as "not met"
        raise JudgeError(f"the judge gave no decision for: {', '.join(missing)}")


def _parse_check(source: str) -> CheckExpr:
    from ..parser import parse_check

    return parse_check(source)


def _as_rubric(rubric: RubricIR | str | os.PathLike[str]) -> RubricIR:
    if isinstance(rubric, RubricIR):
        return rubric
    from ..api import load_rubric, loads

    if isinstance(rubric, str) and ("\n" in rubric or not Path(rubric).exists()):
        return loads(rubric)
    return load_rubric(rubric)


def judge_specs(spec: JudgeSpec, rubric: RubricIR) -> list[str | Judge]:
    """The judges to use: the argument, else the rubric's `judge:` block, else `RUBRICDSL_JUDGE`."""
    if spec is None:
        spec = list(rubric.judge.models) or rubric.judge.model or os.environ.get("RUBRICDSL_JUDGE")
    if spec is None:
        return []
    if isinstance(spec, str):
        return [s.strip() for s in spec.split(",") if s.strip()]
    if isinstance(spec, Sequence):
        return list(spec)
    return [spec]


def _make_judges(spec: JudgeSpec, rubric: RubricIR, **options: Any) -> list[Judge]:
    judges = [InstructorJudge(s, **options) if isinstance(s, str) else s for s in judge_specs(spec, rubric)]
    names = [j.name for j in judges]
    if len(set(names)) != len(names):
        raise JudgeConfigError(f"the same judge is named twice: {', '.join(names)}")
    return judges
