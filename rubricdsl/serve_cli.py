"""`rubric serve`: the HTTP reward server for OpenRLHF (`rubricdsl.serve`), as a command.

Exit status: 0 when stopped (Ctrl-C, SIGTERM); 2 for bad usage or a configuration problem found at start (rubric
files that do not compile, a fixed rubric that is not found, a port in use). The server and the judging
machinery are imported inside the command, so registering it costs `rubric lint` nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .config import Config


class ConfigFailure(click.ClickException):
    exit_code = 2


@click.command(name="serve")
@click.option("--rubrics", envvar="RUBRICDSL_RUBRICS", type=click.Path(exists=True), default=None,
              help="A .rubric file or a directory of them: where the labels' rubric names are looked up.")
@click.option("--rubric", envvar="RUBRICDSL_RUBRIC", default=None,
              help="A fixed rubric (a name, a .rubric file or a rubric's text) for queries without a label.")
@click.option("--judge", envvar="RUBRICDSL_JUDGE", default=None,
              help="provider/model[,provider/model...]; default: each rubric's judge block, then [tool.rubricdsl].")
@click.option("--base-url", default=None, help="The judge's server (an OpenAI-compatible or Anthropic endpoint).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True, help="0: any free port.")
@click.option("--samples", type=click.IntRange(1, 100), default=None, help="Judge samples per response.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Judge requests in flight.")
@click.option("--cache", type=click.Path(dir_okay=False), default=None, help="The judge cache file (SQLite).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the judge cache.")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Import root.")
@click.option("--failure-reward", type=float, default=0.0, show_default=True,
              help="The reward of a response whose grade failed (OpenRLHF needs a number).")
@click.option("--item-logs", is_flag=True,
              help="Add each item's credit to extra_logs (only for runs with a single rubric).")
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def serve(rubrics: str | None, rubric: str | None, judge: str | None, base_url: str | None, host: str, port: int,
          samples: int | None, concurrency: int | None, cache: str | None, no_cache: bool, root: str | None,
          failure_reward: float, item_logs: bool, verbose: bool) -> None:
    """Serve rewards over HTTP for OpenRLHF: POST /get_reward {"query", "prompts", "labels"}."""
    if cache is not None and no_cache:
        raise click.UsageError("--cache and --no-cache exclude each other")
    from .config import ConfigError, load_config
    from .rewards.openrlhf import RewardService
    from .rewards.verl import RewardConfigAbort
    from .serve import RewardServer

    try:
        config = load_config(Path(rubrics) if rubrics else None)
    except ConfigError as exc:
        raise ConfigFailure(str(exc)) from None
    service = RewardService(
        rubrics=rubrics, rubric=rubric, judge=judge or config.judge, base_url=base_url, samples=samples,
        concurrency=concurrency or config.concurrency or 16, root=root,
        cache=False if no_cache else cache or _configured_cache(config) or True,  # True: the user cache dir
        failure_reward=failure_reward, item_logs=item_logs)
    try:
        service.check()
    except RewardConfigAbort as exc:
        raise ConfigFailure(str(exc)) from None
    server = RewardServer(service, host, port, verbose=verbose)
    try:
        server.bind()
    except OSError as exc:
        raise ConfigFailure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if not (judge or config.judge):
        click.echo("rubric serve: no --judge given: each rubric's judge block (or RUBRICDSL_JUDGE) must name one",
                   err=True)
    click.echo(f"rubric serve: listening on {server.url}")
    sys.stdout.flush()
    if threading.current_thread() is threading.main_thread():
        # A supervisor (systemd, Kubernetes, Ray) stops with SIGTERM: close the socket and exit 0 as for Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _configured_cache(config: Config) -> str | None:
    if config.cache is None or config.source is None:
        return None
    return str(Path(config.source).parent / config.cache)  # relative to the pyproject.toml, as `rubric grade` reads it


COMMANDS = [serve]
