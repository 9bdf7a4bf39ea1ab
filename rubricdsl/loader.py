"""Loading files: parse, validate, follow imports inside the root, and see which names each file sees.

A `Workspace` caches every file it has loaded, so a directory of rubrics that import a shared principles
set parses that set once. Problems are collected, never raised, so `rubric lint` can show them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, RubricError, Span, error
from .parser import parse
from .source import decode
from .syntax import Declaration, File
from .validate import validate


@dataclass
class LoadedFile:
    path: Path | None  # None for text given as a string
    display: str  # the path as shown in diagnostics
    file: File | None  # None when the file did not parse
    problems: list[Diagnostic] = field(default_factory=list)
    imports: list[LoadedFile] = field(default_factory=list)
    text: str = ""

    def own(self) -> dict[str, Declaration]:
        return {d.name: d for d in self.file.declarations} if self.file else {}

    def visible(self) -> dict[str, tuple[Declaration, LoadedFile]]:
        """Names this file can `use`: its own declarations and those of the files it imports directly."""
        names: dict[str, tuple[Declaration, LoadedFile]] = {}
        for source in (self, *self.imports):
            for name, declaration in source.own().items():
                names.setdefault(name, (declaration, source))
        return names


class Workspace:
    def __init__(self, root: str | os.PathLike[str] | None = None):
        self.root = Path(root).resolve() if root is not None else None
        self.files: dict[Path, LoadedFile] = {}
        self._loading: list[Path] = []

    def root_for(self, path: Path) -> Path:
        return self.root or path.resolve().parent

    def load_path(self, path: str | os.PathLike[str]) -> LoadedFile:
        resolved = Path(path).resolve()
        if resolved in self.files:
            return self.files[resolved]
        if self.root is None:
            self.root = resolved.parent
        display = display_path(resolved)
        try:
            text = decode(resolved.read_bytes(), display)
        except RubricError as exc:
            loaded = LoadedFile(resolved, display, None, exc.diagnostics)
            self.files[resolved] = loaded
            return loaded
        return self._load(text, resolved, display)

    def load_text(self, text: str, display: str = "<string>") -> LoadedFile:
        return self._load(text, None, display)

    def _load(self, text: str, path: Path | None, display: str) -> LoadedFile:
        try:
            parsed: File | None = parse(text, display)
            problems: list[Diagnostic] = []
        except RubricError as exc:
            parsed, problems = None, exc.diagnostics
        loaded = LoadedFile(path, display, parsed, problems, text=text)
        if path is not None:
            self.files[path] = loaded
        if parsed is None:
            return loaded
        loaded.problems.extend(validate(parsed))
        if path is not None:
            self._loading.append(path)
        try:
            self._follow_imports(loaded)
        finally:
            if path is not None:
                self._loading.pop()
        loaded.problems.extend(_duplicate_names(loaded))
        return loaded

    def _follow_imports(self, loaded: LoadedFile) -> None:
        assert loaded.file is not None
        base = loaded.path.parent if loaded.path else (self.root or Path.cwd())
        root = self.root or base
        for node in loaded.file.imports:
            span = node.path_span
            target = (base / node.path).resolve()
            if os.path.isabs(node.path) or not _inside(target, root):
                loaded.problems.append(
                    error(
                        "E204",
                        span,
                        f"import `{node.path}` leaves the root directory",
                        f"imports stay inside {root} (set the root with --root)",
                    )
                )
                continue
            if target in self._loading:
                cycle = [*self._loading[self._loading.index(target) :], target]
                shown = " → ".join(os.path.relpath(p, root) for p in cycle)
                loaded.problems.append(error("E203", span, f"import cycle: {shown}", "remove one of these imports"))
                continue
            if not target.is_file():
                loaded.problems.append(
                    error("E205", span, f"cannot find `{node.path}`", f"looked for {os.path.relpath(target)}")
                )
                continue
            imported = self.load_path(target)
            if imported not in loaded.imports:
                loaded.imports.append(imported)


def display_path(path: Path) -> str:
    """How diagnostics name a file: relative to the working directory when it lies below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _inside(target: Path, root: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


def _duplicate_names(loaded: LoadedFile) -> list[Diagnostic]:
    """Two visible declarations with one name: an error in this file that names both places."""
    places: dict[str, list[tuple[Declaration, LoadedFile]]] = {}
    for source in (loaded, *loaded.imports):
        for declaration in source.file.declarations if source.file else ():
            seen = places.setdefault(declaration.name, [])
            if all(declaration is not d for d, _ in seen):
                seen.append((declaration, source))
    problems: list[Diagnostic] = []
    for name, found in places.items():
        if len(found) < 2:
            continue
        local = [d for d, source in found if source is loaded]
        here, other = (local[-1], next(d for d, _ in found if d is not local[-1])) if local else (None, found[0][0])
        span = here.name_span if here is not None else _import_span(loaded, found[1][1])
        problems.append(
            error(
                "E202",
                span,
                f"`{name}` is declared twice",
                f"also declared at {_where(other.name_span)}; rename one of them",
            )
        )
    return problems


def _import_span(loaded: LoadedFile, source: LoadedFile) -> Span:
    assert loaded.file is not None
    for node in loaded.file.imports:
        if (
            source.path is not None
            and loaded.path is not None
            and (loaded.path.parent / node.path).resolve() == source.path
        ):
            return node.span
    return Span.point(1, 1, loaded.display)


def _where(span: Span) -> str:
    return f"{span.path or '<string>'}:{span.line}:{span.column}"
