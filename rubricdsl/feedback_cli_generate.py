"""`rubric generate`: an LLM writes a rubric in a published style, for one prompt or a JSONL file of them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .feedback_cli_common import _Bar, _failures, _judge_options, _Judging, _run, _text


@click.command(name="generate")
@click.option("--prompt", default=None, help="The task: text, or @PATH.")
@click.option("--reference", default=None, help="A reference answer: text, or @PATH.")
@click.option(
    "--prompts",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSONL rows (prompt, reference, id): one rubric per row, into --out.",
)
@click.option(
    "--from-pairs",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSONL rows (prompt, chosen, rejected): contrastive generation, into --out.",
)
@click.option("--style", type=click.Choice(["rar", "openrubrics", "checklist"]), default="rar", show_default=True)
@click.option("--name", default=None, help="The rubric's name (default: from the prompt).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the rubric here.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Records for --prompts/--from-pairs.")
@_judge_options
def generate_command(
    prompt: str | None,
    reference: str | None,
    prompts: str | None,
    from_pairs: str | None,
    style: str,
    name: str | None,
    output: str | None,
    out: str | None,
    **options: Any,
) -> None:
    """An LLM writes a rubric in a published style; printed (or written) as linted `.rubric` text."""
    if sum(x is not None for x in (prompt, prompts, from_pairs)) != 1:
        raise click.UsageError("give exactly one of --prompt, --prompts and --from-pairs")
    if prompt is None and (out is None or output is not None or reference is not None or name is not None):
        raise click.UsageError("--prompts and --from-pairs need --out (and take references and names from the rows)")
    with _failures():
        judging = _Judging(None, options)
        if prompt is None:
            from .feedback.generate import agenerate_file

            bar, model = _Bar.make(), judging.model()
            try:
                counts = _run(
                    agenerate_file(
                        prompts or from_pairs or "",
                        out or "",
                        style=style,
                        model=model,
                        contrastive=from_pairs is not None,
                        lint_config=judging.lint,
                        concurrency=judging.concurrency,
                        progress=bar,
                    ),
                    model,
                )
            finally:
                _Bar.close(bar)
            click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))
            sys.exit(1 if counts["failed"] else 0)
        _generate_one(judging, _text(prompt), _text(reference) if reference is not None else None, style, name, output)


def _generate_one(
    judging: _Judging, prompt: str, reference: str | None, style: str, name: str | None, output: str | None
) -> None:
    from .feedback.generate import GenerateError, agenerate
    from .judging.retry import JudgeError
    from .render import render_many_text

    model = judging.model()
    try:
        made = _run(agenerate(prompt, reference, style=style, model=model, name=name, lint_config=judging.lint), model)
    except JudgeError as exc:  # the model never gave a usable reply: the run failed, as a failed row would
        click.echo(f"error: no rubric from the model: {exc}", err=True)
        sys.exit(1)
    except GenerateError as exc:
        click.echo(f"error: {exc}", err=True)
        text = exc.text
        if text:
            click.echo(render_many_text(exc.diagnostics, lambda _p: text), err=True)
        sys.exit(1)
    for note in made.notes:
        click.echo(f"note: {note}", err=True)
    if made.warnings:
        click.echo(render_many_text(made.warnings, lambda _p: made.text), err=True)
    if output is None:
        click.echo(made.text, nl=False)
    else:
        Path(output).write_text(made.text, encoding="utf-8")
        click.echo(f"wrote {output} ({len(made.warnings)} lint warning(s))", err=True)
