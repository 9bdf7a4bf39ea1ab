"""A batch run from end to end: collect the batch results the pending rows need, then grade with them.

The rows are planned, graded and written by the local engine itself, so both engines refuse, plan and
grade rows identically; only the Anthropic judges are swapped for `BatchJudge`s.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from ..dataset import (
    NO_RUBRIC,
    DatasetSummary,
    GraderFactory,
    GraderPool,
    Progress,
    agrade_dataset,
    plan_run,
    require_judges,
)
from ..dataset_io import DatasetError, Repair, open_output
from ..judging.grader import Grader
from ..judging.judge import InstructorJudge
from ..judging.retry import JudgeConfigError
from ..judging.run import run_sync
from ..judging.schema import judged_items
from .collect import MAX_BATCH_BYTES, MAX_BATCH_REQUESTS, Log, ResultCollector
from .judge import is_batchable, with_batches
from .results import BatchReport, BatchResults
from .state import BatchState, state_path


@dataclass
class BatchRun:
    summary: DatasetSummary
    report: BatchReport


async def agrade_dataset_batch(
    source: Grader | GraderFactory,
    rows_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    concurrency: int = 16,
    poll_interval: float = 30.0,
    max_wait: float | None = None,
    max_requests: int = MAX_BATCH_REQUESTS,
    max_bytes: int = MAX_BATCH_BYTES,
    progress: Progress | None = None,
    log: Log | None = None,
) -> BatchRun:
    """Grade the rows of `rows_path` missing from `out_path` through Message Batches (see the package doc).

    `concurrency` bounds the live re-asks; `max_wait` (seconds, None: no limit) stops polling with
    `BatchesPending`, leaving the batches to a rerun. Raises as the local engine does for bad input and
    configuration, and JudgeConfigError when no judge of the pending rows is an Anthropic one.
    """
    say: Log = log or (lambda _message: None)
    if not os.path.isfile(rows_path):
        raise DatasetError(f"no such file: {rows_path}")
    state = BatchState(state_path(out_path))
    report = BatchReport(state=str(state.path))
    results = BatchResults(report)
    graders = GraderPool(source)
    writer, repair = open_output(out_path)  # holds the output's lock while batches are submitted and polled
    try:
        pending = _pending(rows_path, repair)
        names = set(pending.values())
        require_judges(graders, names)
        judges = _batch_judges(graders, names)
        collector = ResultCollector(
            graders,
            judges,
            rows_path,
            set(pending),
            state,
            report,
            poll_interval=poll_interval,
            max_wait=max_wait,
            max_requests=max_requests,
            max_bytes=max_bytes,
            log=say,
        )
        try:
            await collector.run(results)
        except (KeyboardInterrupt, asyncio.CancelledError):
            if state.batches:
                say(f"interrupted: the batch ids are kept in {state.path}; rerun the same command to resume")
            raise
    finally:
        writer.close()

    summary = await _grade_with_results(graders, results, rows_path, out_path, concurrency, progress)
    if summary.failed == 0 and summary.graded == summary.rows:
        state.remove()  # all graded: nothing left for a rerun to collect
    return BatchRun(summary, report)


async def _grade_with_results(
    graders: GraderPool,
    results: BatchResults,
    rows_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    concurrency: int,
    progress: Progress | None,
) -> DatasetSummary:
    """The local engine's run, with each grader's Anthropic judges answering from the batch results."""
    made: list[Grader] = []

    def batched(name: str | None) -> Grader:
        made.append(with_batches(graders.get(name), results))
        return made[-1]

    try:
        return await agrade_dataset(batched, rows_path, out_path, concurrency=concurrency, progress=progress)
    finally:  # the live judges' clients belong to this loop: closed here, not by the garbage collector later
        for grader in made:
            await grader.aclose()


def _pending(rows_path: str | os.PathLike[str], repair: Repair) -> dict[str, str | None]:
    """Pending id key → the row's rubric name (the local engine's plan, which also refuses duplicate ids)."""
    plan = plan_run(rows_path, repair)
    return {key: plan.rubric_of[key] for key in plan.pending}


def _batch_judges(graders: GraderPool, names: set[str | None]) -> dict[str, InstructorJudge]:
    """The Anthropic judges of the rubrics to grade, by name; an error when judges exist but none is one."""
    found: dict[str, InstructorJudge] = {}
    others: set[str] = set()
    for name in names:
        try:
            grader = graders.get(name)
        except NO_RUBRIC:
            continue
        if not judged_items(grader.rubric.leaves()):
            continue
        for judge in grader.judges:
            if isinstance(judge, InstructorJudge) and is_batchable(judge):
                found[judge.name] = judge
            else:
                others.add(judge.name)
    if others and not found:
        raise JudgeConfigError(
            f"--batch uses Anthropic's Message Batches API, but the judge is "
            f"{', '.join(sorted(others))}: give an anthropic/MODEL judge, or grade without --batch"
        )
    return found


def grade_dataset(
    source: Grader | GraderFactory,
    rows_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    concurrency: int = 16,
    poll_interval: float = 30.0,
    max_wait: float | None = None,
    max_requests: int = MAX_BATCH_REQUESTS,
    max_bytes: int = MAX_BATCH_BYTES,
    progress: Progress | None = None,
    log: Log | None = None,
) -> BatchRun:
    """The synchronous form of `agrade_dataset_batch`."""
    return run_sync(
        agrade_dataset_batch(
            source,
            rows_path,
            out_path,
            concurrency=concurrency,
            poll_interval=poll_interval,
            max_wait=max_wait,
            max_requests=max_requests,
            max_bytes=max_bytes,
            progress=progress,
            log=log,
        )
    )
