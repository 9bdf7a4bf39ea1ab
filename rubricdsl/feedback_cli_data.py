"""`rubric prefer` and `rubric revise`: training data from a principles set (or, for prefer, a rubric):
DPO-ready preference records, and SFT records from critique–revision rounds.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .feedback_cli_common import _Bar, _failures, _json, _judge_options, _Judging, _run

# ------------------------------------------------------------------------------------------- prefer


@click.command(name="prefer")
@click.argument("principles_file", required=False, type=click.Path(dir_okay=False))
@click.option("--pairs", required=True, type=click.Path(dir_okay=False), help="JSONL rows: prompt, a, b, id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Preference records (appended).")
@click.option(
    "--rubric",
    "rubric_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Prefer by grading both responses with this rubric instead of principles.",
)
@click.option("--rubric-name", default=None, help="Which rubric, when --rubric's file has several.")
@click.option("--set", "set_name", default=None, help="Which principles set, when the file has several.")
@click.option(
    "--principles",
    "k",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Principles drawn per comparison.",
)
@click.option(
    "--samples",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Comparisons per pair (each in both orders); the share of votes is a soft label.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the principle draws.")
@_judge_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def prefer_command(
    principles_file: str | None,
    pairs: str,
    out: str,
    rubric_file: str | None,
    rubric_name: str | None,
    set_name: str | None,
    k: int,
    samples: int,
    seed: int,
    fmt: str,
    **options: Any,
) -> None:
    """Pairwise preferences with a principles set (Constitutional AI) or a rubric, as DPO-ready JSONL."""
    if (principles_file is None) == (rubric_file is None):
        raise click.UsageError("give a PRINCIPLES_FILE or --rubric FILE (one of them)")
    with _failures():
        from .feedback.pairwise import Preferrer, aprefer_file, render_summary

        judging = _Judging(principles_file or rubric_file, options)
        if rubric_file is not None:
            from .api import load_rubric

            rubric = load_rubric(rubric_file, rubric_name)
            # As `rubric grade`: --judge, then the rubric's judge block, then [tool.rubricdsl], then RUBRICDSL_JUDGE.
            own = rubric.judge.model or rubric.judge.models
            judge = options["judge"] or (None if own else judging.judge)
            preferrer = Preferrer(rubric=rubric, judge=judge, samples=samples, **judging.shared)
        else:
            assert principles_file is not None
            preferrer = Preferrer(
                principles_file, judge=judging.model(), k=k, samples=samples, seed=seed, set_name=set_name
            )
        bar = _Bar.make()
        try:
            summary = _run(
                aprefer_file(preferrer, pairs, out, concurrency=judging.concurrency, progress=bar), preferrer
            )
        finally:
            _Bar.close(bar)
    click.echo(summary.model_dump_json(indent=2) if fmt == "json" else render_summary(summary))
    sys.exit(1 if summary.failed else 0)


# ------------------------------------------------------------------------------------------- revise


@click.command(name="revise")
@click.argument("principles_file", type=click.Path(dir_okay=False))
@click.option("--responses", required=True, type=click.Path(dir_okay=False), help="JSONL rows: prompt, response, id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="SFT records (appended).")
@click.option("--rounds", type=click.IntRange(1, 20), default=1, show_default=True)
@click.option("--set", "set_name", default=None, help="Which principles set, when the file has several.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the principle draws.")
@_judge_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def revise_command(
    principles_file: str,
    responses: str,
    out: str,
    rounds: int,
    set_name: str | None,
    seed: int,
    fmt: str,
    **options: Any,
) -> None:
    """Constitutional AI's critique–revision rounds: SFT data from responses and a principles set."""
    with _failures():
        from .feedback.critique import Reviser, arevise_file

        judging = _Judging(principles_file, options)
        reviser = Reviser(principles_file, judge=judging.model(), rounds=rounds, seed=seed, set_name=set_name)
        bar = _Bar.make()
        try:
            summary = _run(
                arevise_file(reviser, responses, out, concurrency=judging.concurrency, progress=bar), reviser
            )
        finally:
            _Bar.close(bar)
    if fmt == "json":
        click.echo(_json(summary))
    else:
        click.echo(
            f"rows {summary['rows']}: revised {summary['revised']} ({summary['changed']} changed), failed "
            f"{summary['failed']} ({summary['resumed']} resumed), {summary['rounds']} round(s), "
            f"judge calls {summary['judge_calls']}"
        )
        for key, why in list(summary["errors"].items())[:20]:
            click.echo(f"  id {key}: {why}")
    sys.exit(1 if summary["failed"] else 0)
