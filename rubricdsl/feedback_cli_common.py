"""What the feedback commands share: the judging options and their resolution, failures as exit 2, running
the work on one event loop, `@PATH` values, the progress bar and JSON output.

Imported when the commands register: everything that reaches a model is imported inside the functions.
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
        click.option(
            "--temperature",
            type=click.FloatRange(0, 2),
            default=None,
            help="Sampling temperature (default 0; with --rubric, the rubric's judge block).",
        ),
        click.option("--cache", type=click.Path(dir_okay=False), default=None, help="The judge cache file (SQLite)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the judge cache."),
        click.option(
            "--mode",
            type=click.Choice(["tools", "json_schema", "json"]),
            default=None,
            help="Structured-output mode for openai/ judges.",
        ),
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
        self.shared = {
            "base_url": options["base_url"],
            "mode": options["mode"],
            "concurrency": self.concurrency,
            "cache": self.cache,
        }
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
