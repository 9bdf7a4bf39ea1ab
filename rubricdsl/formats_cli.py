"""`rubric import` and `rubric export`: convert between `.rubric` files and other rubric formats.

Both print what they could not carry over on stderr (one line per kind of loss, naming the rubrics and
items) and still write the result; `--strict` makes any such loss an error (exit 1, nothing written).
Exit status as INTERFACE.md: 0 done, 1 the data cannot be converted (or a loss under `--strict`, or an
invalid `.rubric` file), 2 bad usage or unreadable input. Conversion code is imported only when run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .formats import FORMAT_NAMES


class UsageFailure(click.ClickException):
    exit_code = 2


def _read(file: str) -> str:
    path = Path(file)
    if not path.is_file():
        raise UsageFailure(f"no such file: {file}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageFailure(f"{file} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageFailure(f"cannot read {file}: {exc.strerror}") from None


def _write(output: str | None, text: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageFailure(f"cannot write {output}: {exc.strerror}") from None


def _report(notes: list[str], heading: str, strict: bool) -> None:
    for note in notes:
        click.echo(f"{heading}: {note}", err=True)
    if notes and strict:
        click.echo("nothing written (--strict)", err=True)
        sys.exit(1)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", required=True, type=click.Choice(FORMAT_NAMES), help="The format of FILE.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here, not to stdout.")
@click.option("--name", default=None, help="Rubric name (default: from the data, else from the file name).")
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if anything cannot be carried over.")
def import_command(file: str, fmt: str, output: str | None, name: str | None, strict: bool) -> None:
    """Convert rubrics from another format into canonical .rubric text."""
    from .formats import FormatError, Origin, import_data
    from .formats.names import is_valid

    if name is not None and not is_valid(name):
        raise UsageFailure(f"`{name}` is not a valid rubric name ([a-z][a-z0-9_]*, at most 64, not a keyword)")
    data = _read(file)
    try:
        result = import_data(fmt, data, Origin(file, name))
    except FormatError as exc:
        _fail(str(exc))
        return
    _report(result.notes, f"{file}: not carried over", strict)
    _write(output, result.text)


@click.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", "fmt", required=True, type=click.Choice(FORMAT_NAMES), help="The format to write.")
@click.option("--rubric", "rubric", default=None, help="Which rubric, when the file has several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here, not to stdout.")
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if anything cannot be carried over.")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Import root.")
def export_command(file: str, fmt: str, rubric: str | None, output: str | None, strict: bool, root: str | None) -> None:
    """Convert the rubrics of a .rubric file into another format."""
    from .api import compile_file, pick
    from .config import ConfigError, configured_root, load_config
    from .diagnostics import RubricError
    from .formats import FormatError, export_sources, get_format, sources_from
    from .render import render_many_text

    if not Path(file).is_file():
        raise UsageFailure(f"no such file: {file}")
    try:
        config_root = configured_root(load_config(Path(file)))  # `[tool.rubricdsl] root`, as `compile` reads it
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None
    result = compile_file(file, root or config_root, use_cache=False)  # export reads the syntax tree
    loaded, compiled = result.loaded, result.rubrics
    assert loaded is not None
    try:
        if result.errors:
            raise RubricError(result.errors)
        if rubric is not None or not get_format(fmt).several:
            names = [pick(compiled, rubric, loaded.display).name]
        else:
            names = list(compiled) or [pick(compiled, None, loaded.display).name]
    except RubricError as exc:
        click.echo(render_many_text(exc.diagnostics, lambda p: result.texts.get(p or "")), err=True)
        sys.exit(1)
    try:
        exported = export_sources(fmt, sources_from(fmt, loaded, compiled, names))
    except FormatError as exc:
        _fail(str(exc))
        return
    _report(exported.notes.lines(), f"{file}: not carried over to {fmt}", strict)
    _write(output, exported.text)


COMMANDS = [import_command, export_command]
