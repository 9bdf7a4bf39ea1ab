"""`rubric agree` and `rubric diff`: how well the judge agrees with people, and what changed between two
versions of a rubric.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .feedback_cli_common import Failure, _failures


@click.command(name="agree")
@click.argument("results", type=click.Path(dir_okay=False))
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--resamples", type=click.IntRange(0, 100_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--fail-under", type=click.FloatRange(0, 1), default=None, help="Exit 1 when the overall MF1 is lower.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def agree_command(
    results: str, labels: str, resamples: int, seed: int, confidence: float, fail_under: float | None, fmt: str
) -> None:
    """How well the judge agrees with people: accuracy, Cohen's kappa, HealthBench's MF1, per item."""
    with _failures():
        from .feedback.metaeval import agree, render_report

        for path in (results, labels):
            if not Path(path).is_file():
                raise Failure(f"no such file: {path}")
        report = agree(results, labels, resamples=resamples, seed=seed, confidence=confidence)
    click.echo(report.model_dump_json(indent=2) if fmt == "json" else render_report(report))
    headline = report.overall.mf1.value
    sys.exit(1 if report.overall.pairs == 0 or (fail_under is not None and (headline or 0.0) < fail_under) else 0)


@click.command(name="diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--rubric", "name", default=None, help="Which rubric, when the files have several.")
@click.option(
    "--responses",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSONL rows with verdicts (rubric grade output) or labels: how rewards move.",
)
@click.option("--top", type=click.IntRange(min=0), default=5, show_default=True, help="Responses that moved most.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def diff_command(old: str, new: str, name: str | None, responses: str | None, top: int, fmt: str) -> None:
    """What changed between two versions of a rubric, and how rewards and rankings move."""
    with _failures():
        from .feedback.diff import diff_rubrics, render_diff

        for path in (old, new, *([responses] if responses else [])):
            if not Path(path).is_file():
                raise Failure(f"no such file: {path}")
        diff = diff_rubrics(old, new, rubric=name, responses=responses, top=top)
    click.echo(diff.model_dump_json(indent=2) if fmt == "json" else render_diff(diff))
    sys.exit(0 if diff.identical else 1)
