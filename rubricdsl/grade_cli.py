"""`rubric grade`: one response (a reward and a table of verdicts) or a whole JSONL dataset (resumable).

Exit status: 0 graded; 1 the grade failed (one response) or some rows failed (a dataset); 2 bad usage, a
rubric file with errors, or a configuration problem (no judge for items that need one, a refused API key).
The judging machinery (and through it any provider SDK) is imported inside the command only, so that
registering this command costs `rubric lint` nothing.

The command and its checks of the options are here; the rest is in grade_cli_inputs.py (reading the inputs,
building the Grader), grade_cli_response.py (one response and its table of verdicts) and grade_cli_dataset.py
(a dataset on an engine, and its summary).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from .grade_cli_dataset import _grade_many, render_batch_report, render_summary
from .grade_cli_dataset import _ProgressBar as _ProgressBar  # re-exported: the tests draw it
from .grade_cli_inputs import ConfigFailure, _EngineOptions, _GraderOptions, _load_rubrics, _pick, _text
from .grade_cli_response import _grade_one, render_result

__all__ = ["COMMANDS", "ConfigFailure", "grade", "render_batch_report", "render_result", "render_summary"]


@click.command(name="grade")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rubric", "name", default=None, help="Which rubric, when the file has several (a row's `rubric` wins).")
@click.option("--response", default=None, help="The response: text, or @PATH to read it from a file (@- stdin).")
@click.option("--prompt", default=None, help="The task it answers (text or @PATH); default: the rubric's prompt.")
@click.option("--responses", type=click.Path(dir_okay=False), default=None, help="A JSONL dataset to grade.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Where dataset results go (appended).")
@click.option("--judge", default=None, help="provider/model[,provider/model...]; default: the rubric's judge block.")
@click.option("--base-url", default=None, help="The judge's server (an OpenAI-compatible or Anthropic endpoint).")
@click.option("--samples", type=click.IntRange(1, 100), default=None, help="Judge samples per response.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Requests (and rows) in flight.")
@click.option("--cache", type=click.Path(dir_okay=False), default=None, help="The judge cache file (SQLite).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the judge cache.")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Import root.")
@click.option(
    "--mode",
    type=click.Choice(["tools", "json_schema", "json"]),
    default=None,
    help="Structured-output mode for openai/ judges (default: json_schema with --base-url, else tools).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    help="Who grades a dataset: this process, or a pool of Ray actors (pip install 'rubricdsl[ray]').",
)
@click.option(
    "--address", default=None, help="The Ray cluster (ray://HOST:10001, auto); default: RAY_ADDRESS, else a local Ray."
)
@click.option(
    "--actors",
    type=click.IntRange(min=1),
    default=None,
    help="Ray actors (default 2); each has --concurrency rows in flight.",
)
@click.option(
    "--batch",
    is_flag=True,
    help="Grade a dataset through Anthropic's Message Batches API (half price, up to a day); rerun to resume.",
)
@click.option(
    "--poll-interval", type=click.FloatRange(min=0.0), default=30.0, help="Seconds between checks of pending batches."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def grade(
    file: str,
    name: str | None,
    response: str | None,
    prompt: str | None,
    responses: str | None,
    out: str | None,
    judge: str | None,
    base_url: str | None,
    samples: int | None,
    concurrency: int | None,
    cache: str | None,
    no_cache: bool,
    root: str | None,
    mode: str | None,
    engine: str,
    address: str | None,
    actors: int | None,
    batch: bool,
    poll_interval: float,
    fmt: str,
) -> None:
    """Grade one response (--response) or a dataset (--responses DATA.jsonl --out RESULTS.jsonl)."""
    if (response is None) == (responses is None):
        raise click.UsageError("give exactly one of --response and --responses")
    if responses is not None and (out is None or prompt is not None):
        raise click.UsageError("--responses needs --out (and takes prompts from the rows, not --prompt)")
    if cache is not None and no_cache:
        raise click.UsageError("--cache and --no-cache exclude each other")
    if (engine != "local" or batch) and responses is None:
        raise click.UsageError("--engine ray and --batch grade a dataset: give --responses and --out")
    if batch and engine != "local":
        raise click.UsageError("--batch runs on the provider's batch engine: it excludes --engine ray")
    if engine != "ray" and (address is not None or actors is not None):
        raise click.UsageError("--address and --actors need --engine ray")
    from .config import ConfigError, load_config
    from .judging.retry import JudgeConfigError

    # instructor logs each exhausted re-ask at ERROR level; the result already records it (as the item's
    # undecided reason, or the row's error), and stray log lines would tear the progress bar.
    logging.getLogger("instructor").addHandler(logging.NullHandler())
    try:
        config = load_config(Path(file))
        rubrics = _load_rubrics(file, root, config)
        options = _GraderOptions(judge, config, samples, concurrency, cache, no_cache, base_url, mode)
        if responses is None:
            _grade_one(
                _pick(rubrics, name, file),
                options,
                _text(response or ""),
                _text(prompt) if prompt is not None else None,
                fmt,
            )
        else:
            engine_options = _EngineOptions(engine, address, actors or 2, batch, poll_interval)
            _grade_many(rubrics, name, file, options, responses, out or "", fmt, engine_options)
    except (ConfigError, JudgeConfigError) as exc:
        raise ConfigFailure(str(exc)) from None


COMMANDS = [grade]
