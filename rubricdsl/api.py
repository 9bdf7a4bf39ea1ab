"""The library's front door for the language: load and compile rubrics from files or strings.

Every function raises `RubricError` (with all diagnostics) for bad input and nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .compiler import compile_resolved
from .diagnostics import Diagnostic, RubricError, Span, error, unique
from .ir import RubricIR
from .loader import LoadedFile, Workspace
from .parser import collector_paused
from .resolve import resolve
from .syntax import Declaration

PathLike = str | os.PathLike[str]


def all_problems(loaded: LoadedFile) -> list[Diagnostic]:
    """Problems of a file and of everything it imports, each file once."""
    seen: set[int] = set()
    problems: list[Diagnostic] = []
    stack = [loaded]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        problems.extend(current.problems)
        stack.extend(current.imports)
    return problems


def compile_loaded(loaded: LoadedFile) -> tuple[dict[str, RubricIR], list[Diagnostic]]:
    """Compile every rubric of a loaded file; also resolve principles sets so their `use`s are checked."""
    compiled: dict[str, RubricIR] = {}
    problems: list[Diagnostic] = []
    with collector_paused():
        for declaration in loaded.file.declarations if loaded.file else ():
            _compile_one(declaration, loaded, compiled, problems)
    return compiled, problems


def _compile_one(
    declaration: Declaration, loaded: LoadedFile, compiled: dict[str, RubricIR], problems: list[Diagnostic]
) -> None:
    resolved = resolve(declaration, loaded)
    if declaration.kind != "rubric":
        problems.extend(resolved.problems)
        return
    try:
        compiled[declaration.name] = compile_resolved(resolved)
    except RubricError as exc:
        problems.extend(exc.diagnostics)


def _compile_or_raise(loaded: LoadedFile) -> dict[str, RubricIR]:
    compiled, problems = compile_loaded(loaded)
    problems = [*all_problems(loaded), *problems]
    errors = [p for p in problems if p.is_error]
    if errors:
        raise RubricError(unique(errors))
    return compiled


@dataclass
class CompiledFile:
    """A file compiled for a command: its rubrics, its errors (and its imports'), and every file's text so
    that the errors can be rendered with their source lines."""

    loaded: LoadedFile
    rubrics: dict[str, RubricIR]
    errors: list[Diagnostic]
    texts: dict[str, str]


def compile_file(path: PathLike, root: PathLike | None = None) -> CompiledFile:
    """Load and compile one file with imports resolved against `root` (default: the file's directory)."""
    workspace = Workspace(root if root is not None else Path(path).resolve().parent)
    loaded = workspace.load_path(path)
    rubrics, problems = compile_loaded(loaded)
    errors = unique([p for p in [*all_problems(loaded), *problems] if p.is_error])
    texts = {f.display: f.text for f in workspace.files.values()}
    return CompiledFile(loaded, rubrics, errors, texts)


def load(path: PathLike, *, root: PathLike | None = None) -> dict[str, RubricIR]:
    """Every rubric in the file, by name, compiled."""
    return _compile_or_raise(Workspace(root).load_path(path))


def load_rubric(path: PathLike, name: str | None = None, *, root: PathLike | None = None) -> RubricIR:
    return pick(load(path, root=root), name, str(path))


def loads(text: str, name: str | None = None, *, root: PathLike | None = None, path: str = "<string>") -> RubricIR:
    """Compile a rubric from a string; imports resolve against `root` (default: the working directory)."""
    workspace = Workspace(root if root is not None else Path.cwd())
    return pick(_compile_or_raise(workspace.load_text(text, path)), name, path)


def loads_all(text: str, *, root: PathLike | None = None, path: str = "<string>") -> dict[str, RubricIR]:
    workspace = Workspace(root if root is not None else Path.cwd())
    return _compile_or_raise(workspace.load_text(text, path))


def pick(rubrics: dict[str, RubricIR], name: str | None, where: str) -> RubricIR:
    """One rubric by name, or the only one; an error listing the names otherwise."""
    listed = ", ".join(f"`{n}`" for n in rubrics) or "none"
    if name is not None:
        if name in rubrics:
            return rubrics[name]
        raise RubricError(
            error("E225", Span.point(1, 1, where), f"no rubric named `{name}`", f"rubrics here: {listed}")
        )
    if len(rubrics) == 1:
        return next(iter(rubrics.values()))
    if not rubrics:
        raise RubricError(
            error("E224", Span.point(1, 1, where), "the file declares no rubric", "declare one with `rubric NAME:`")
        )
    raise RubricError(
        error(
            "E224",
            Span.point(1, 1, where),
            "the file declares several rubrics",
            f"choose one with --rubric NAME (or name=): {listed}",
        )
    )
