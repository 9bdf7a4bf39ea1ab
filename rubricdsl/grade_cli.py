"""`rubric grade`: one response (a reward and a table of verdicts) or a whole JSONL dataset (resumable).

Exit status: 0 graded; 1 the grade failed (one response) or some rows failed (a dataset); 2 bad usage, a
rubric file with errors, or a configuration problem (no judge for items that need one, a refused API key).
The judging machinery (and through it any provider SDK) is imported inside the command only, so that
registering this command costs `rubric lint` nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .batch import BatchReport
    from .config import Config
    from .dataset import DatasetSummary
    from .ir import ItemIR, RubricIR
    from .judging.grader import Grader
    from .scoring import GradeResult, Verdict


class ConfigFailure(click.ClickException):
    exit_code = 2


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
@click.option("--mode", type=click.Choice(["tools", "json_schema", "json"]), default=None,
              help="Structured-output mode for openai/ judges (default: json_schema with --base-url, else tools).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              help="Who grades a dataset: this process, or a pool of Ray actors (pip install 'rubricdsl[ray]').")
@click.option("--address", default=None, help="The Ray cluster (ray://HOST:10001, auto); default: RAY_ADDRESS, "
              "else a local Ray.")
@click.option("--actors", type=click.IntRange(min=1), default=None,
              help="Ray actors (default 2); each has --concurrency rows in flight.")
@click.option("--batch", is_flag=True, help="Grade a dataset through Anthropic's Message Batches API (half price, "
              "up to a day); rerun to resume.")
@click.option("--poll-interval", type=click.FloatRange(min=0.0), default=30.0,
              help="Seconds between checks of pending batches.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def grade(file: str, name: str | None, response: str | None, prompt: str | None, responses: str | None,
          out: str | None, judge: str | None, base_url: str | None, samples: int | None, concurrency: int | None,
          cache: str | None, no_cache: bool, root: str | None, mode: str | None, engine: str, address: str | None,
          actors: int | None, batch: bool, poll_interval: float, fmt: str) -> None:
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
            _grade_one(_pick(rubrics, name, file), options, _text(response or ""),
                       _text(prompt) if prompt is not None else None, fmt)
        else:
            engine_options = _EngineOptions(engine, address, actors or 2, batch, poll_interval)
            _grade_many(rubrics, name, file, options, responses, out or "", fmt, engine_options)
    except (ConfigError, JudgeConfigError) as exc:
        raise ConfigFailure(str(exc)) from None


# ------------------------------------------------------------------------------------------- inputs


def _text(value: str) -> str:
    """TEXT, @PATH (a file), @- (stdin) or @@TEXT (a literal text starting with @)."""
    if value.startswith("@@"):
        return value[1:]
    if not value.startswith("@"):
        return value
    if value == "@-":
        return sys.stdin.read()
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFailure(f"cannot read {value[1:]}: {exc.strerror}") from None


def _load_rubrics(file: str, root: str | None, config: Config) -> dict[str, RubricIR]:
    """Every rubric of the file, or exit 2 with the diagnostics printed as `rubric lint` prints them."""
    from .api import all_problems, compile_loaded
    from .config import configured_root
    from .loader import Workspace
    from .render import render_many_text

    if not Path(file).is_file():
        raise ConfigFailure(f"no such file: {file}")
    workspace = Workspace(root or configured_root(config) or Path(file).resolve().parent)
    loaded = workspace.load_path(file)
    compiled, problems = compile_loaded(loaded)
    errors = [p for p in [*all_problems(loaded), *problems] if p.is_error]
    if errors:
        texts = {f.display: f.text for f in workspace.files.values()}
        click.echo(render_many_text(errors, lambda p: texts.get(p or "")), err=True)
        sys.exit(2)
    return compiled


def _pick(rubrics: dict[str, RubricIR], name: str | None, where: str) -> RubricIR:
    from .api import pick
    from .dataset import reason_of
    from .diagnostics import RubricError

    try:
        return pick(rubrics, name, where)
    except RubricError as exc:
        raise ConfigFailure(reason_of(exc)) from None


class _GraderOptions:
    """The command's judging options, resolved against `[tool.rubricdsl]`, turned into a Grader per rubric."""

    def __init__(self, judge: str | None, config: Config, samples: int | None, concurrency: int | None,
                 cache: str | None, no_cache: bool, base_url: str | None, mode: str | None):
        self.judge, self.config_judge = judge, config.judge
        self.samples, self.base_url, self.mode = samples, base_url, mode
        self.concurrency = concurrency or config.concurrency or 16
        self.cache = False if no_cache else cache or _configured_cache(config) or True  # True: the user cache dir

    def judge_for(self, rubric: RubricIR) -> str | None:
        """--judge, then the rubric's `judge:` block, then [tool.rubricdsl] judge, then RUBRICDSL_JUDGE."""
        if self.judge or rubric.judge.model or rubric.judge.models:
            return self.judge
        return self.config_judge  # None: the Grader falls back to RUBRICDSL_JUDGE itself

    def grader(self, rubric: RubricIR) -> Grader:
        from .judging.grader import Grader

        return Grader(rubric, judge=self.judge_for(rubric), samples=self.samples, concurrency=self.concurrency,
                      cache=self.cache, base_url=self.base_url, mode=self.mode)


class _EngineOptions:
    """Where a dataset is graded: this process, Ray actors, or Anthropic's Message Batches."""

    def __init__(self, engine: str, address: str | None, actors: int, batch: bool, poll_interval: float):
        self.engine, self.address, self.actors = engine, address, actors
        self.batch, self.poll_interval = batch, poll_interval


def _configured_cache(config: Config) -> str | None:
    if config.cache is None or config.source is None:
        return None
    return str(Path(config.source).parent / config.cache)  # relative to the pyproject.toml, like `root`


# ------------------------------------------------------------------------------------------- one response


def _grade_one(rubric: RubricIR, options: _GraderOptions, response: str, prompt: str | None, fmt: str) -> None:
    from .dataset import require_judge
    from .judging.run import run_sync

    grader = options.grader(rubric)
    require_judge(grader)
    result = run_sync(grader.agrade(response, prompt, raise_on_error=False))
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_result(rubric, result))
    sys.exit(0 if result.reward is not None else 1)


def render_result(rubric: RubricIR, result: GradeResult) -> str:
    reward = "none (the grade failed)" if result.reward is None else f"{result.reward:.4f}"
    lines = [f"{rubric.name}: reward {reward}   gate {result.gate}   S={result.S:g} P={result.P:g} N={result.N:g}"]
    if result.error:
        lines.append(f"error: {result.error}")
    rows: list[tuple[str, ...]] = [("item", "kind", "verdict", "source", "reason")]
    depth = _depths(rubric)
    for item in rubric.all_items():
        verdict = result.verdicts.get(item.name)
        if verdict is not None:
            rows.append(("  " * depth[item.name] + item.name, item.kind, _verdict_text(verdict),
                         verdict.source, " ".join(verdict.reason.split())[:120]))
    lines += ["", *_table(rows)]
    if result.undecided:
        lines += ["", "undecided:", *(f"  {item}: {why}" for item, why in result.undecided.items())]
    if result.model:
        usage = result.usage
        lines += ["", f"judge {result.model}: {result.judge_calls} call(s), tokens in {usage.input_tokens} "
                      f"(cached {usage.cached_input_tokens}) out {usage.output_tokens}"]
    return "\n".join(lines)


def _depths(rubric: RubricIR) -> dict[str, int]:
    depths: dict[str, int] = {}

    def walk(items: Sequence[ItemIR], depth: int) -> None:
        for item in items:
            depths[item.name] = depth
            walk(item.items or (), depth + 1)

    walk(rubric.items, 0)
    return depths


def _verdict_text(verdict: Verdict) -> str:
    if not verdict.decided:
        return f"undecided ({verdict.undecided})"
    if verdict.level is not None:
        return f"level {verdict.level}"
    if verdict.credit not in (0.0, 1.0):
        return f"credit {verdict.credit:.2f}"
    return "holds" if verdict.holds else "does not"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]).rstrip()
            for row in rows]


# ------------------------------------------------------------------------------------------- a dataset


def _grade_many(rubrics: dict[str, RubricIR], default: str | None, file: str, options: _GraderOptions,
                responses: str, out: str, fmt: str, engine: _EngineOptions) -> None:
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


def _run_engine(engine: _EngineOptions, factory: Callable[[str | None], Grader], responses: str, out: str,
                concurrency: int, bar: _ProgressBar | None) -> tuple[DatasetSummary, BatchReport | None]:
    if engine.batch:  # polls until every batch has ended; Ctrl-C keeps the batch ids for a rerun
        from .batch import grade_dataset as grade_batch

        run = grade_batch(factory, responses, out, concurrency=concurrency, poll_interval=engine.poll_interval,
                          progress=bar, log=lambda message: click.echo(message, err=True))
        return run.summary, run.report
    if engine.engine == "ray":
        try:
            from .ray import grade_dataset as grade_ray
        except ImportError as exc:
            raise ConfigFailure(str(exc)) from None
        return grade_ray(factory, responses, out, address=engine.address, actors=engine.actors,
                         concurrency=concurrency, progress=bar, verbose=False), None
    from .dataset import grade_dataset

    return grade_dataset(factory, responses, out, concurrency=concurrency, progress=bar), None


def render_batch_report(report: BatchReport) -> str:
    results = ", ".join(f"{n} {kind}" for kind, n in sorted(report.results.items())) or "none needed"
    lines = [f"batches {len(report.batches)} ({report.submitted} requests submitted now, {report.reused} from an "
             f"earlier run): {results}",
             f"answered from batches {report.answered}; tokens in batches (half price): input "
             f"{report.usage.input_tokens}, cached input {report.usage.cached_input_tokens}, "
             f"output {report.usage.output_tokens}"]
    if report.live:
        lines.append("asked live instead: " + ", ".join(f"{n} {why}" for why, n in sorted(report.live.items())))
    lines += [f"  {error}" for error in report.errors]
    return "\n".join(lines)


def render_summary(summary: DatasetSummary, out: str) -> str:
    run = summary.this_run
    lines = [f"rows {summary.rows}: graded {summary.graded}, failed {summary.failed} "
             f"({summary.resumed} already in {out}, {run.rows} graded now)"]
    if summary.mean is not None:
        lines.append(f"mean reward {summary.mean:.4f} ± {summary.stderr or 0.0:.4f} "
                     f"(bootstrap standard error, {summary.resamples} resamples)")
    if summary.gate_pass_rate is not None:
        lines.append(f"gate pass rate {summary.gate_pass_rate:.4f}")
    usage = summary.usage
    lines.append(f"judge calls {summary.judge_calls} ({run.judge_calls} now); tokens: input {usage.input_tokens}, "
                 f"cached input {usage.cached_input_tokens}, output {usage.output_tokens}")
    if summary.stale:
        lines.append(f"warning: {summary.stale} earlier result(s) were graded with another version of the rubric; "
                     "delete the output to grade everything again")
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


COMMANDS = [grade]
