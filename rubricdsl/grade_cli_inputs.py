"""`rubric grade`'s inputs: a text option's value, the rubric file, and the judging options as a Grader.

Imported by the command's module when it registers, so the judging machinery (and any provider SDK) is
imported inside the functions only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .config import Config
    from .ir import RubricIR
    from .judging.grader import Grader


class ConfigFailure(click.ClickException):
    exit_code = 2


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
    from .api import compile_file
    from .config import configured_root
    from .render import render_many_text

    if not Path(file).is_file():
        raise ConfigFailure(f"no such file: {file}")
    result = compile_file(file, root or configured_root(config))
    if result.errors:
        click.echo(render_many_text(result.errors, lambda p: result.texts.get(p or "")), err=True)
        sys.exit(2)
    return result.rubrics


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

    def __init__(
        self,
        judge: str | None,
        config: Config,
        samples: int | None,
        concurrency: int | None,
        cache: str | None,
        no_cache: bool,
        base_url: str | None,
        mode: str | None,
    ):
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

        return Grader(
            rubric,
            judge=self.judge_for(rubric),
            samples=self.samples,
            concurrency=self.concurrency,
            cache=self.cache,
            base_url=self.base_url,
            mode=self.mode,
        )


class _EngineOptions:
    """Where a dataset is graded: this process, Ray actors, or Anthropic's Message Batches."""

    def __init__(self, engine: str, address: str | None, actors: int, batch: bool, poll_interval: float):
        self.engine, self.address, self.actors = engine, address, actors
        self.batch, self.poll_interval = batch, poll_interval


def _configured_cache(config: Config) -> str | None:
    if config.cache is None or config.source is None:
        return None
    return str(Path(config.source).parent / config.cache)  # relative to the pyproject.toml, like `root`
