"""The `rubric` command. Language commands live here; grading and the rest register from their modules.

`lint`, `fmt` and `compile` import nothing that talks to a model, so they start fast and work offline.
Exit status: 0 success, 1 findings (errors, or files that would change), 2 bad usage or unreadable input.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path

import click

from . import ir_cache
from .api import compile_file, pick
from .codes import CODES
from .codes import lookup as lookup_code
from .config import ConfigError, LintConfig, configured_root, load_config
from .diagnostics import Diagnostic, RubricError
from .formatter import format_text
from .lint import RULES, collect_files, lint_paths
from .lint.fixes import fix_files
from .render import render_github, render_json, render_many_text


class UsageFailure(click.ClickException):
    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rubricdsl")
@click.option(
    "--no-ir-cache", is_flag=True, help="Parse every rubric afresh instead of reading the compiled-IR cache."
)
def main(no_ir_cache: bool) -> None:
    """rubricdsl: rubrics as a language — lint, format, compile and grade."""
    if no_ir_cache:  # an environment variable, so that worker processes (Ray actors, serve) see it too
        os.environ[ir_cache.ENV_SWITCH] = "0"


def _config(start: str | None = None) -> tuple[LintConfig, Path | None]:
    try:
        config = load_config(Path(start) if start else None)
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None
    return config.lint, configured_root(config)


def _print_errors(exc: RubricError, texts: dict[str, str]) -> None:
    click.echo(render_many_text(exc.diagnostics, lambda p: texts.get(p or "")), err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--select", default="", help="Comma-separated code prefixes to report.")
@click.option("--ignore", default="", help="Comma-separated code prefixes to leave out.")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Import root.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes some warnings carry, then report what is left.")
def lint(
    paths: tuple[str, ...], fmt: str, strict: bool, select: str, ignore: str, root: str | None, fix: bool
) -> None:
    """Parse and check .rubric files or directories."""
    config, config_root = _config(paths[0])
    if select:
        config = config.model_copy(update={"select": [s.strip() for s in select.split(",") if s.strip()]})
    if ignore:
        config = config.model_copy(update={"ignore": [*config.ignore, *(s.strip() for s in ignore.split(","))]})
    files, missing = collect_files(paths)
    if missing:
        raise UsageFailure("no such file or directory: " + ", ".join(missing))
    if not files:  # as ruff does: nothing to lint is not a failure, but silence would look like a pass
        click.echo("warning: no .rubric files found under " + ", ".join(paths), err=True)
    diagnostics, texts = lint_paths(paths, config, root or config_root)
    if fix:
        diagnostics, texts = _fix(diagnostics, texts, paths, config, root or config_root)
    if fmt == "json":
        click.echo(render_json(diagnostics))
    elif fmt == "github":
        for d in diagnostics:
            click.echo(render_github(d))
    elif diagnostics:
        click.echo(render_many_text(diagnostics, lambda p: texts.get(p or "")))
        errors = sum(d.is_error for d in diagnostics)
        click.echo(f"\nFound {errors} error(s) and {len(diagnostics) - errors} warning(s).", err=True)
    failing = [d for d in diagnostics if d.is_error or strict]
    sys.exit(1 if failing else 0)


def _fix(
    diagnostics: list[Diagnostic], texts: dict[str, str], paths: tuple[str, ...], config: LintConfig,
    root: str | Path | None,
) -> tuple[list[Diagnostic], dict[str, str]]:
    """Apply the fixes, say how many, and lint again: what is reported is what is left."""
    fixed = fix_files(diagnostics, texts)
    click.echo(f"Fixed {fixed} finding(s).", err=True)
    return lint_paths(paths, config, root) if fixed else (diagnostics, texts)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="List files that would change; exit 1 if any.")
@click.option("--diff", is_flag=True, help="Print a diff instead of rewriting.")
def fmt(paths: tuple[str, ...], check: bool, diff: bool) -> None:
    """Rewrite files in canonical form."""
    files, missing = collect_files(paths)
    if missing:
        raise UsageFailure("no such file or directory: " + ", ".join(missing))
    changed, broken = 0, 0
    for path, _ in files:
        text = path.read_text(encoding="utf-8-sig")
        try:
            formatted = format_text(text, str(path))
        except RubricError as exc:
            _print_errors(exc, {str(path): text})
            broken += 1
            continue
        if formatted == text:
            continue
        changed += 1
        if diff:
            click.echo(
                "".join(
                    difflib.unified_diff(
                        text.splitlines(True), formatted.splitlines(True), f"{path}", f"{path} (formatted)"
                    )
                ),
                nl=False,
            )
        elif check:
            click.echo(f"would reformat {path}")
        else:
            path.write_text(formatted, encoding="utf-8")
            click.echo(f"reformatted {path}")
    if broken:
        sys.exit(2)
    sys.exit(1 if changed and (check or diff) else 0)


@main.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rubric", "name", default=None, help="Which rubric, when the file has several.")
@click.option("--format", "fmt", type=click.Choice(["ir", "prompt", "schema"]), default="ir")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Import root.")
def compile_command(file: str, name: str | None, fmt: str, root: str | None) -> None:
    """Print the compiled IR, the judge request, or the JSON schema of the judge's reply."""
    if not Path(file).is_file():
        raise UsageFailure(f"no such file: {file}")
    _, config_root = _config(file)
    result = compile_file(file, root or config_root)
    try:
        if result.errors:
            raise RubricError(result.errors)
        rubric = pick(result.rubrics, name, result.display)
    except RubricError as exc:
        _print_errors(exc, result.texts)
        sys.exit(1)
    if fmt == "ir":
        click.echo(rubric.dumps())
        return
    from .judging.request import render_prompt_document, reply_schema

    document = render_prompt_document(rubric) if fmt == "prompt" else reply_schema(rubric)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.command()
@click.argument("code", required=False)
def rules(code: str | None) -> None:
    """List the lint rules and error codes, or explain one rule or error code."""
    if code is None:
        for rule in RULES:
            click.echo(f"{rule.code}  {rule.name:28} {rule.summary}")
        for entry in CODES:
            click.echo(f"{entry.code}  {entry.message}")
        return
    for rule in RULES:
        if rule.code == code.upper() or rule.name == code:
            click.echo(f"{rule.code} {rule.name}\n\n{rule.doc}")
            return
    error_code = lookup_code(code)
    if error_code is not None:
        click.echo(error_code.describe())
        return
    raise UsageFailure(f"no rule or error code {code}; `rubric rules` lists them")


def _register_optional_commands() -> None:
    """Commands that grade live in their own modules; they import provider SDKs only when run."""
    from . import commands

    commands.register(main)


_register_optional_commands()
