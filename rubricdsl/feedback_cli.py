"""`rubric prefer`, `generate`, `revise`, `agree` and `diff` (docs/feedback.md).

Exit status: 0 done; 1 some rows failed (prefer, revise, generate over a file), the generated rubric has lint
errors, the agreement is below `--fail-under`, or the two rubrics differ (diff, like diff(1)); 2 bad usage,
unreadable input, a rubric file with errors, or a configuration problem (no judge, a refused API key).
Everything that reaches a model (and through it any provider SDK) is imported inside the commands, so that
registering them costs `rubric lint` nothing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from .feedback.llm import LLM

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Failure(click.ClickException):
    exit_code = 2


def _judge_options(command: F) -> F:
    options = [
        click.option("--judge", default=None, help="provider/model; default: [tool.rubricdsl] judge, RUBRICDSL_JUDGE."),
        click.option("--base-url", default=None, help="The judge's server (Anthropic or OpenAI-compatible)."),
        click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Requests (and rows) in flight."),
        click.option("--temperature", type=click.FloatRange(0, 2), default=None,
                     help="Sampling temperature (default 0; with --rubric, the rubric's judge block)."),
        click.option("--cache", type=click.Path(dir_okay=False), default=None, help="The judge cache file (SQLite)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the judge cache."),
        click.option("--mode", type=click.Choice(["tools", "json_schema", "json"]), default=None,
                     help="Structured-output mode for openai/ judges."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class _Judging:
    """The judging options resolved against `[tool.rubricdsl]` (found from `anchor`)."""

    def __init__(self, anchor: str | None, options: dict[str, Any]):
        from .config import load_config

        config = load_config(Path(anchor) if anchor else None)
        if options["cache"] is not None and options["no_cache"]:
            raise click.UsageError("--cache and --no-cache exclude each other")
        self.judge = options["judge"] or config.judge  # None: RUBRICDSL_JUDGE, or the rubric's own judge block
        self.concurrency = options["concurrency"] or config.concurrency or 16
        configured = str(Path(config.source).parent / config.cache) if config.cache and config.source else None
        self.cache: str | bool = False if options["no_cache"] else options["cache"] or configured or True
        self.shared = {"base_url": options["base_url"], "mode": options["mode"], "concurrency": self.concurrency,
                       "cache": self.cache}
        if options["temperature"] is not None:
            self.shared["temperature"] = options["temperature"]
        self.lint = config.lint

    def model(self) -> LLM:
        from .feedback.llm import LLM, as_model

        model = as_model(self.judge, **self.shared)
        assert isinstance(model, LLM)
        return model


@contextlib.contextmanager
def _failures() -> Iterator[None]:
    """Configuration and input problems become a message and exit 2, never a traceback."""
    import logging

    from .config import ConfigError
    from .dataset_io import DatasetError
    from .diagnostics import RubricError
    from .judging.retry import JudgeConfigError

    logging.getLogger("instructor").addHandler(logging.NullHandler())  # re-asks are recorded, not logged
    try:
        yield
    except RubricError as exc:
        from .render import render_many_text

        click.echo(render_many_text(exc.diagnostics, lambda _path: None), err=True)
        sys.exit(2)
    except (ConfigError, JudgeConfigError, DatasetError, ValueError, KeyError) as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None


def _run(coroutine: Coroutine[Any, Any, T], *owners: Any) -> T:
    """Run the command's work, then close the clients of `owners` on the same event loop."""
    from .feedback.llm import closing
    from .judging.run import run_sync

    return run_sync(closing(coroutine, *owners))


def _text(value: str) -> str:
    """TEXT, @PATH, @- (stdin) or @@TEXT (a literal starting with @)."""
    if value.startswith("@@") or not value.startswith("@"):
        return value[1:] if value.startswith("@@") else value
    if value == "@-":
        return sys.stdin.read()
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot read {value[1:]}: {exc.strerror}") from None


class _Bar:
    """A one-line progress bar on stderr, redrawn at most ten times a second (only on a terminal)."""

    def __init__(self) -> None:
        self.started, self.drawn = time.monotonic(), 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.drawn < 0.1:
            return
        self.drawn = now
        filled = 30 * done // total if total else 30
        rate = done / max(now - self.started, 1e-9)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} rows  {rate:.1f}/s ")
        sys.stderr.flush()

    @staticmethod
    def make() -> _Bar | None:
        return _Bar() if sys.stderr.isatty() else None

    @staticmethod
    def close(bar: _Bar | None) -> None:
        if bar is not None:
            sys.stderr.write("\r\x1b[K")


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# ------------------------------------------------------------------------------------------- prefer


@click.command(name="prefer")
@click.argument("principles_file", required=False, type=click.Path(dir_okay=False))
@click.option("--pairs", required=True, type=click.Path(dir_okay=False), help="JSONL rows: prompt, a, b, id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Preference records (appended).")
@click.option("--rubric", "rubric_file", type=click.Path(dir_okay=False), default=None,
              help="Prefer by grading both responses with this rubric instead of principles.")
@click.option("--rubric-name", default=None, help="Which rubric, when --rubric's file has several.")
@click.option("--set", "set_name", default=None, help="Which principles set, when the file has several.")
@click.option("--principles", "k", type=click.IntRange(min=1), default=2, show_default=True,
              help="Principles drawn per comparison.")
@click.option("--samples", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Comparisons per pair (each in both orders); the share of votes is a soft label.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the principle draws.")
@_judge_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def prefer_command(principles_file: str | None, pairs: str, out: str, rubric_file: str | None,
                   rubric_name: str | None, set_name: str | None, k: int, samples: int, seed: int, fmt: str,
                   **options: Any) -> None:
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
            preferrer = Preferrer(principles_file, judge=judging.model(), k=k, samples=samples, seed=seed,
                                  set_name=set_name)
        bar = _Bar.make()
        try:
            summary = _run(aprefer_file(preferrer, pairs, out, concurrency=judging.concurrency, progress=bar),
                           preferrer)
        finally:
            _Bar.close(bar)
    click.echo(summary.model_dump_json(indent=2) if fmt == "json" else render_summary(summary))
    sys.exit(1 if summary.failed else 0)


# ------------------------------------------------------------------------------------------- generate


@click.command(name="generate")
@click.option("--prompt", default=None, help="The task: text, or @PATH.")
@click.option("--reference", default=None, help="A reference answer: text, or @PATH.")
@click.option("--prompts", type=click.Path(dir_okay=False), default=None,
              help="JSONL rows (prompt, reference, id): one rubric per row, into --out.")
@click.option("--from-pairs", type=click.Path(dir_okay=False), default=None,
              help="JSONL rows (prompt, chosen, rejected): contrastive generation, into --out.")
@click.option("--style", type=click.Choice(["rar", "openrubrics", "checklist"]), default="rar", show_default=True)
@click.option("--name", default=None, help="The rubric's name (default: from the prompt).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the rubric here.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Records for --prompts/--from-pairs.")
@_judge_options
def generate_command(prompt: str | None, reference: str | None, prompts: str | None, from_pairs: str | None,
                     style: str, name: str | None, output: str | None, out: str | None, **options: Any) -> None:
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
                counts = _run(agenerate_file(prompts or from_pairs or "", out or "", style=style, model=model,
                                             contrastive=from_pairs is not None, lint_config=judging.lint,
                                             concurrency=judging.concurrency, progress=bar), model)
            finally:
                _Bar.close(bar)
            click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))
            sys.exit(1 if counts["failed"] else 0)
        _generate_one(judging, _text(prompt), _text(reference) if reference is not None else None, style, name,
                      output)


def _generate_one(judging: _Judging, prompt: str, reference: str | None, style: str, name: str | None,
                  output: str | None) -> None:
    from .feedback.generate import GenerateError, agenerate
    from .render import render_many_text

    model = judging.model()
    try:
        made = _run(agenerate(prompt, reference, style=style, model=model, name=name, lint_config=judging.lint),
                    model)
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
def revise_command(principles_file: str, responses: str, out: str, rounds: int, set_name: str | None, seed: int,
                   fmt: str, **options: Any) -> None:
    """Constitutional AI's critique–revision rounds: SFT data from responses and a principles set."""
    with _failures():
        from .feedback.critique import Reviser, arevise_file

        judging = _Judging(principles_file, options)
        reviser = Reviser(principles_file, judge=judging.model(), rounds=rounds, seed=seed, set_name=set_name)
        bar = _Bar.make()
        try:
            summary = _run(arevise_file(reviser, responses, out, concurrency=judging.concurrency, progress=bar),
                           reviser)
        finally:
            _Bar.close(bar)
    if fmt == "json":
        click.echo(_json(summary))
    else:
        click.echo(f"rows {summary['rows']}: revised {summary['revised']} ({summary['changed']} changed), failed "
                   f"{summary['failed']} ({summary['resumed']} resumed), {summary['rounds']} round(s), "
                   f"judge calls {summary['judge_calls']}")
        for key, why in list(summary["errors"].items())[:20]:
            click.echo(f"  id {key}: {why}")
    sys.exit(1 if summary["failed"] else 0)


# ------------------------------------------------------------------------------------------- agree and diff


@click.command(name="agree")
@click.argument("results", type=click.Path(dir_okay=False))
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--resamples", type=click.IntRange(0, 100_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--fail-under", type=click.FloatRange(0, 1), default=None, help="Exit 1 when the overall MF1 is lower.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def agree_command(results: str, labels: str, resamples: int, seed: int, confidence: float, fail_under: float | None,
                  fmt: str) -> None:
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
@click.option("--responses", type=click.Path(dir_okay=False), default=None,
              help="JSONL rows with verdicts (rubric grade output) or labels: how rewards move.")
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


COMMANDS = [prefer_command, generate_command, revise_command, agree_command, diff_command]
