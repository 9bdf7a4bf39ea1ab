"""Grading a dataset: JSONL rows in, one GradeResult line per row out, resumable, then a summary.

```python
from rubricdsl.dataset import grade_dataset

summary = grade_dataset(lambda name: Grader(rubrics[name or "default"], judge=...), "rows.jsonl", "out.jsonl",
                        concurrency=16)
```

A rerun with the same output grades only the rows whose id has no successful result there yet: rows that
failed (reward null) are graded again, their old line being dropped first, so each id appears once. Rows
are read twice (once to plan, once to grade), so a large input never sits in memory. An authentication or
configuration error (`JudgeConfigError`) stops the run at once and is raised: it is never a reward.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .dataset_io import (
    DatasetError,
    Repair,
    ResultWriter,
    Row,
    open_output,
    read_rows,
    result_line,
)
from .diagnostics import RubricError
from .ir import RubricIR
from .judging.grader import Grader
from .judging.retry import JudgeConfigError
from .judging.run import run_sync
from .judging.schema import judged_items
from .scoring import GradeResult, Usage, failed_result, summarize
from .scoring.stats import RESAMPLES, SEED

__all__ = ["DatasetError", "DatasetSummary", "Plan", "agrade_dataset", "grade_dataset", "plan_run", "require_judge"]

GraderFactory = Callable[[str | None], Grader]
Progress = Callable[[int, int], None]  # (rows done, rows to grade in this run)
_MAX_ERRORS = 20  # failed rows listed in the summary; the output file has them all
# What a factory may raise for a rubric it cannot give (an unknown name): that row fails, the run goes on.
NO_RUBRIC = (RubricError, LookupError, ValueError)


class RunCounts(BaseModel):
    """What this invocation did (the rest of the summary covers the whole dataset, resumed rows included)."""

    rows: int = 0
    judge_calls: int = 0
    usage: Usage = Field(default_factory=Usage)


class DatasetSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int  # rows in the input
    graded: int  # rows with a reward
    failed: int  # rows whose grade failed (reward null in the output)
    resumed: int  # rows whose result was already in the output
    mean: float | None
    stderr: float | None  # bootstrap standard error of the mean
    gate_pass_rate: float | None
    hold_rates: dict[str, float | None]
    judge_calls: int  # over every result of the dataset
    usage: Usage
    this_run: RunCounts
    stale: int = 0  # resumed results graded with another version of the rubric (a different content hash)
    errors: dict[str, str] = Field(default_factory=dict)  # id (as JSON) → error, for the first failed rows
    resamples: int = RESAMPLES
    seed: int = SEED


@dataclass
class Plan:
    """The input's ids in order (with each row's rubric) and the results the output already holds."""

    rubric_of: dict[str, str | None]  # id key → the row's `rubric` field
    done: dict[str, GradeResult]  # id key → earlier successful result, for ids in the input
    repair: Repair

    @property
    def pending(self) -> set[str]:
        return {key for key in self.rubric_of if key not in self.done}


def plan_run(rows_path: str | os.PathLike[str], repair: Repair) -> Plan:
    """Read the input's ids; duplicate ids are an error, since the output could not tell the rows apart."""
    rubric_of: dict[str, str | None] = {}
    first_line: dict[str, int] = {}
    for row in read_rows(rows_path):
        if row.key in first_line:
            raise DatasetError(f"{rows_path}:{row.line}: id {row.key} was already used on line {first_line[row.key]}")
        first_line[row.key], rubric_of[row.key] = row.line, row.rubric
    done = {key: result for key, (_, result) in repair.kept.items() if key in rubric_of}
    return Plan(rubric_of, done, repair)


class GraderPool:
    """One grader per rubric name, built once; a name that cannot be built is remembered as its error."""

    def __init__(self, source: Grader | GraderFactory):
        self._source = source
        self._built: dict[str | None, Grader | Exception] = {}

    def get(self, name: str | None) -> Grader:
        if name not in self._built:
            self._built[name] = self._build(name)
        built = self._built[name]
        if isinstance(built, Exception):
            raise built.with_traceback(None)  # raised once per row: do not let its traceback grow each time
        return built

    def _build(self, name: str | None) -> Grader | Exception:
        if isinstance(self._source, Grader):
            if name is None or name == self._source.rubric.name:
                return self._source
            return ValueError(f"this run grades rubric `{self._source.rubric.name}`, not `{name}`")
        try:
            grader = self._source(name)
        except NO_RUBRIC as exc:
            return exc
        same = next((g for g in self._built.values() if isinstance(g, Grader) and g.rubric is grader.rubric), None)
        return same or grader  # `--rubric x` and rows naming `x` share one grader (and its semaphore)

    async def aclose(self) -> None:
        for grader in {id(g): g for g in self._built.values() if isinstance(g, Grader)}.values():
            await grader.aclose()

    def rubrics(self) -> list[RubricIR]:
        return list({id(g.rubric): g.rubric for g in self._built.values() if isinstance(g, Grader)}.values())


def require_judge(grader: Grader) -> None:
    """Raise JudgeConfigError, naming the items, when the rubric needs a judge and the grader has none."""
    needed = judged_items(grader.rubric.leaves())
    if needed and not grader.judges:
        raise JudgeConfigError(
            f"rubric `{grader.rubric.name}` needs a judge for: {', '.join(i.name for i in needed)} "
            "(give --judge provider/model, or set `judge: model:` in the rubric, `judge` in [tool.rubricdsl] "
            "or RUBRICDSL_JUDGE)")


def require_judges(graders: GraderPool, names: set[str | None]) -> None:
    """Stop before grading anything when a rubric to be graded needs a judge and none is configured."""
    for name in sorted(names, key=str):
        try:
            grader = graders.get(name)
        except NO_RUBRIC:
            continue  # its rows fail one by one, with the reason
        require_judge(grader)


def reason_of(exc: Exception) -> str:
    """A one-line reason: a RubricError's first message and hint, else the exception's text."""
    if isinstance(exc, RubricError) and exc.diagnostics:
        first = exc.diagnostics[0]
        return f"{first.message} ({first.hint})" if first.hint else first.message
    return str(exc) or type(exc).__name__


def _row_failure(row: Row, why: str, rubric: RubricIR | None) -> GradeResult:
    if rubric is not None:
        return failed_result(rubric, why)
    return GradeResult(reward=None, gate="closed", S=0.0, P=0.0, N=0.0, verdicts={}, content_hash="",
                       rubric=row.rubric or "", error=why)


async def grade_row(graders: GraderPool, row: Row) -> GradeResult:
    """The result of one row; every failure but a configuration error becomes a failed result."""
    try:
        grader = graders.get(row.rubric)
    except NO_RUBRIC as exc:
        return _row_failure(row, row.error or reason_of(exc), None)
    if row.error is not None or row.response is None:
        return _row_failure(row, row.error or "no response", grader.rubric)
    try:
        return await grader.agrade(row.response, row.prompt, raise_on_error=False)
    except JudgeConfigError:
        raise
    except Exception as exc:  # one odd row must not end a long run: it is recorded, and retried on rerun
        return failed_result(grader.rubric, f"{type(exc).__name__}: {exc}")


@dataclass
class _Run:
    writer: ResultWriter
    total: int
    progress: Progress | None
    new: dict[str, GradeResult] = field(default_factory=dict)
    counts: RunCounts = field(default_factory=RunCounts)

    def record(self, row: Row, result: GradeResult) -> None:
        self.writer.write(result_line(row.id, result))  # as soon as it is known: a kill loses only rows in flight
        self.new[row.key] = result
        self.counts.rows += 1
        self.counts.judge_calls += result.judge_calls
        self.counts.usage = self.counts.usage + result.usage
        if self.progress is not None:
            self.progress(len(self.new), self.total)


async def _work(graders: GraderPool, rows: Iterator[Row], run: _Run) -> None:
    for row in rows:  # workers share one iterator: next() never awaits, so each row goes to one worker
        run.record(row, await grade_row(graders, row))


async def _grade_pending(graders: GraderPool, rows: Iterator[Row], run: _Run, concurrency: int) -> None:
    tasks = [asyncio.ensure_future(_work(graders, rows, run)) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*tasks)
    finally:  # on a configuration error, stop every other row at once instead of failing each in turn
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def agrade_dataset(source: Grader | GraderFactory, rows_path: str | os.PathLike[str],
                         out_path: str | os.PathLike[str], *, concurrency: int = 16,
                         progress: Progress | None = None) -> DatasetSummary:
    """Grade the rows of `rows_path` missing from `out_path`, append their results, summarise the whole set.

    `source` is a Grader (every row uses its rubric) or a factory from a row's `rubric` (None when the row
    names none) to a Grader. Raises DatasetError for unusable input and JudgeConfigError for a run that
    cannot be judged; results already written stay valid either way.
    """
    if not os.path.isfile(rows_path):
        raise DatasetError(f"no such file: {rows_path}")
    writer, repair = open_output(out_path)
    with writer:
        plan = plan_run(rows_path, repair)
        pending = plan.pending
        graders = GraderPool(source)
        require_judges(graders, {plan.rubric_of[key] for key in pending})
        run = _Run(writer, len(pending), progress)
        if progress is not None:
            progress(0, len(pending))
        rows = (row for row in read_rows(rows_path) if row.key in pending)
        try:
            await _grade_pending(graders, rows, run, concurrency)
        finally:  # the judges' clients belong to this loop: closed here, not by the garbage collector later
            await graders.aclose()
    return summarize_run(plan, run.new, run.counts, graders)


def grade_dataset(source: Grader | GraderFactory, rows_path: str | os.PathLike[str],
                  out_path: str | os.PathLike[str], *, concurrency: int = 16,
                  progress: Progress | None = None) -> DatasetSummary:
    """The synchronous form of `agrade_dataset`."""
    return run_sync(agrade_dataset(source, rows_path, out_path, concurrency=concurrency, progress=progress))


def summarize_run(plan: Plan, new: dict[str, GradeResult], counts: RunCounts, graders: GraderPool) -> DatasetSummary:
    """Statistics over every input row's result, earlier ones included (SCORING.md "Data-set statistics")."""
    results = {key: new.get(key) or plan.done.get(key) for key in plan.rubric_of}
    present = [r for r in results.values() if r is not None]
    rubrics = graders.rubrics()
    stats = summarize(present, rubrics[0] if len(rubrics) == 1 else None)  # healthbench clipping needs the rubric
    errors = {key: r.error or "" for key, r in results.items() if r is not None and r.reward is None}
    usage = Usage()
    for result in present:
        usage = usage + result.usage
    return DatasetSummary(
        rows=len(plan.rubric_of), graded=len(present) - stats.failed, failed=stats.failed,
        resumed=sum(key not in new for key in plan.done), mean=stats.mean, stderr=stats.stderr,
        gate_pass_rate=stats.gate_pass_rate, hold_rates=stats.hold_rates,
        judge_calls=sum(r.judge_calls for r in present), usage=usage, this_run=counts,
        stale=_stale(plan, graders), errors=dict(list(errors.items())[:_MAX_ERRORS]),
        resamples=stats.resamples, seed=stats.seed)


def _stale(plan: Plan, graders: GraderPool) -> int:
    """Earlier results whose rubric has changed since: kept (not regraded), but counted so it is not silent."""
    stale = 0
    for key, result in plan.done.items():
        try:
            current = graders.get(plan.rubric_of[key]).rubric.content_hash
        except (*NO_RUBRIC, JudgeConfigError):
            continue
        stale += result.content_hash != current
    return stale
