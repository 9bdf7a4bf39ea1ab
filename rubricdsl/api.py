"""The library's front door for the language: load and compile rubrics from files or strings.

Every function raises `RubricError` (with all diagnostics) for bad input and nothing else. `load`,
`load_rubric`, `loads`, `loads_all` and `compile_file` read unchanged sources from the compiled-IR cache
(`ir_cache.py`); lint and fmt never do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .compiler import compile_resolved
from .diagnostics import Diagnostic, RubricError, Span, error, unique
from .ir import RubricIR
from .ir_cache import Dependency, IRCache, default_cache, text_digest
from .loader import LoadedFile, Workspace, display_path
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
    that the errors can be rendered with their source lines. `loaded` is None when the rubrics came from the
    compiled-IR cache (then there are no errors and no texts)."""

    loaded: LoadedFile | None
    rubrics: dict[str, RubricIR]
    errors: list[Diagnostic]
    texts: dict[str, str]
    display: str


def compile_file(path: PathLike, root: PathLike | None = None, *, use_cache: bool = True) -> CompiledFile:
    """Load and compile one file with imports resolved against `root` (default: the file's directory).
    `use_cache=False` for callers that need the syntax tree (`loaded`), such as export."""
    resolved, root_path = _file_key(path, root)
    cache = default_cache() if use_cache else None
    hit = cache.get(str(resolved), root_path) if cache else None
    if hit is not None:
        return CompiledFile(None, hit, [], {}, display_path(resolved))
    workspace = Workspace(root_path)
    loaded = workspace.load_path(path)
    rubrics, problems = compile_loaded(loaded)
    errors = unique([p for p in [*all_problems(loaded), *problems] if p.is_error])
    texts = {f.display: f.text for f in workspace.files.values()}
    if cache and not errors:
        cache.put(str(resolved), root_path, _dependencies(workspace), rubrics)
    return CompiledFile(loaded, rubrics, errors, texts, loaded.display)


def load(path: PathLike, *, root: PathLike | None = None) -> dict[str, RubricIR]:
    """Every rubric in the file, by name, compiled."""
    resolved, root_path = _file_key(path, root)
    return _cached(default_cache(), str(resolved), root_path, lambda ws: ws.load_path(path))


def load_rubric(path: PathLike, name: str | None = None, *, root: PathLike | None = None) -> RubricIR:
    return pick(load(path, root=root), name, str(path))


def loads(text: str, name: str | None = None, *, root: PathLike | None = None, path: str = "<string>") -> RubricIR:
    """Compile a rubric from a string; imports resolve against `root` (default: the working directory)."""
    return pick(loads_all(text, root=root, path=path), name, path)


def loads_all(text: str, *, root: PathLike | None = None, path: str = "<string>") -> dict[str, RubricIR]:
    """Every rubric of a string, by name; imports resolve against `root` (default: the working directory)."""
    root_path = Path(root if root is not None else Path.cwd()).resolve()
    source = f"text:{text_digest(text)}"
    return _cached(default_cache(), source, root_path, lambda ws: ws.load_text(text, path))


def _cached(
    cache: IRCache | None, source: str, root: Path, load_into: Callable[[Workspace], LoadedFile]
) -> dict[str, RubricIR]:
    """The compiled rubrics of one source: from the cache when current, else compiled (raising on errors)
    and stored."""
    hit = cache.get(source, root) if cache else None
    if hit is not None:
        return hit
    workspace = Workspace(root)
    compiled = _compile_or_raise(load_into(workspace))
    if cache:
        cache.put(source, root, _dependencies(workspace), compiled)
    return compiled


def _file_key(path: PathLike, root: PathLike | None) -> tuple[Path, Path]:
    """A file's resolved path and its import root (by default its directory, as `Workspace` decides)."""
    resolved = Path(path).resolve()
    return resolved, Path(root).resolve() if root is not None else resolved.parent


def _dependencies(workspace: Workspace) -> list[Dependency]:
    """Every file the workspace read, with the digest of the text it compiled."""
    return [Dependency(path=str(f.path), digest=text_digest(f.text)) for f in workspace.files.values() if f.path]


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
