"""`rubric grade --responses`: grade a JSONL dataset on an engine (this process, Ray actors or Message
Batches), with a progress bar on a terminal, then print the summary (and the batches' report).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .grade_cli_inputs import ConfigFailure, _pick

if TYPE_CHECKING:
    from .batch import BatchReport
    from .dataset import DatasetSummary
    from .grade_cli_inputs import _EngineOptions, _GraderOptions
    from .ir import RubricIR
    from .judging.grader import Grader


def _grade_many(
    rubrics: dict[str, RubricIR],
    default: str | None,
    file: str,
    options: _GraderOptions,
    responses: str,
    out: str,
    fmt: str,
    engine: _EngineOptions,
) -> None:
    from .api import pick
    from .dataset import DatasetError

    def factory(name: str | None) -> Grader:  # a RubricError from `pick` fails that row only, with its reason
        return options.grader(pick(rubrics, name or default, file))

    if default is not None:
        _pick(rubrics, default, file)  # a misspelt --rubric is bad usage, not a failure of every row
    bar = _ProgressBar() if sys.stderr.isatty() else None
    report = None
    try:
        summary, report = _run_engine(engine, factory, responses, out, options.concurrency, bar)
    except DatasetError as exc:
        raise ConfigFailure(str(exc)) from None
    except OSError as exc:  # an unreadable input, an output that is a directory, a full disk
        raise ConfigFailure(f"{exc.filename or out}: {exc.strerror or exc}") from None
    finally:
        if bar is not None:
            bar.close()
    if report is None:
        click.echo(summary.model_dump_json(indent=2) if fmt == "json" else render_summary(summary, out))
    elif fmt == "json":
        click.echo(json.dumps({**summary.model_dump(mode="json"), "batch": report.model_dump(mode="json")}, indent=2))
    else:
        click.echo(render_summary(summary, out) + "\n" + render_batch_report(report))
    sys.exit(1 if summary.failed else 0)


def _run_engine(
    engine: _EngineOptions,
    factory: Callable[[str | None], Grader],
    responses: str,
    out: str,
    concurrency: int,
    bar: _ProgressBar | None,
) -> tuple[DatasetSummary, BatchReport | None]:
    if engine.batch:  # polls until every batch has ended; Ctrl-C keeps the batch ids for a rerun
        from .batch import grade_dataset as grade_batch

        run = grade_batch(
            factory,
            responses,
            out,
            concurrency=concurrency,
            poll_interval=engine.poll_interval,
            progress=bar,
            log=lambda message: click.echo(message, err=True),
        )
        return run.summary, run.report
    if engine.engine == "ray":
        try:
            from .ray import grade_dataset as grade_ray
        except ImportError as exc:
            raise ConfigFailure(str(exc)) from None
        return grade_ray(
            factory,
            responses,
            out,
            address=engine.address,
            actors=engine.actors,
            concurrency=concurrency,
            progress=bar,
            verbose=False,
        ), None
    from .dataset import grade_dataset

    return grade_dataset(factory, responses, out, concurrency=concurrency, progress=bar), None


def render_batch_report(report: BatchReport) -> str:
    results = ", ".join(f"{n} {kind}" for kind, n in sorted(report.results.items())) or "none needed"
    lines = [
        f"batches {len(report.batches)} ({report.submitted} requests submitted now, {report.reused} from an "
        f"earlier run): {results}",
        f"answered from batches {report.answered}; tokens in batches (half price): input "
        f"{report.usage.input_tokens}, cached input {report.usage.cached_input_tokens}, "
        f"output {report.usage.output_tokens}",
    ]
    if report.live:
        lines.append("asked live instead: " + ", ".join(f"{n} {why}" for why, n in sorted(report.live.items())))
    lines += [f"  {error}" for error in report.errors]
    return "\n".join(lines)


def render_summary(summary: DatasetSummary, out: str) -> str:
    run = summary.this_run
    lines = [
        f"rows {summary.rows}: graded {summary.graded}, failed {summary.failed} "
        f"({summary.resumed} already in {out}, {run.rows} graded now)"
    ]
    if summary.mean is not None:
        lines.append(
            f"mean reward {summary.mean:.4f} ± {summary.stderr or 0.0:.4f} "
            f"(bootstrap standard error, {summary.resamples} resamples)"
        )
    if summary.gate_pass_rate is not None:
        lines.append(f"gate pass rate {summary.gate_pass_rate:.4f}")
    usage = summary.usage
    lines.append(
        f"judge calls {summary.judge_calls} ({run.judge_calls} now); tokens: input {usage.input_tokens}, "
        f"cached input {usage.cached_input_tokens}, output {usage.output_tokens}"
    )
    if summary.stale:
        lines.append(
            f"warning: {summary.stale} earlier result(s) were graded with another version of the rubric; "
            "delete the output to grade everything again"
        )
    if summary.hold_rates:
        lines.append("hold rates:")
        width = max(len(n) for n in summary.hold_rates)
        lines += [f"  {n.ljust(width)}  {'-' if r is None else f'{r:.3f}'}" for n, r in summary.hold_rates.items()]
    if summary.errors:
        lines.append("failed rows (graded again on the next run):")
        lines += [f"  id {key}: {error}" for key, error in summary.errors.items()]
    return "\n".join(lines)


class _ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second (only used when stderr is a terminal)."""

    def __init__(self, width: int = 30, write: Callable[[str], Any] = sys.stderr.write):
        self.width, self._write = width, write
        self._started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._drawn < 0.1:
            return
        self._drawn = now
        filled = self.width * done // total if total else self.width
        rate = done / max(now - self._started, 1e-9)
        self._write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} rows  {rate:.1f}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        self._write("\r\x1b[K")
        sys.stderr.flush()
