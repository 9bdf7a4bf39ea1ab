"""Running the lint rules over files and directories, with selection and `# rubric: ignore[CODE]`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..api import all_problems, compile_loaded
from ..codes import is_reading_or_syntax
from ..config import LintConfig
from ..diagnostics import Diagnostic, unique
from ..loader import LoadedFile, Workspace
from ..resolve import resolve
from .context import LintContext
from .rules import RULES

_SUPPRESS = re.compile(r"#\s*rubric:\s*ignore\[([A-Z0-9, ]+)\]")


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, import root) for every `*.rubric` file under the given paths, recursively and sorted; and the
    paths that do not exist. The root is the directory given, or the directory of the file given."""
    files: list[tuple[Path, Path]] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend((p, path) for p in sorted(path.rglob("*.rubric")) if p.is_file())
        elif path.is_file():
            files.append((path, path.parent))
        else:
            missing.append(str(raw))
    return files, missing


def lint_loaded(loaded: LoadedFile, config: LintConfig) -> list[Diagnostic]:
    """Syntax and meaning errors of the file itself, then the selected lint rules' findings."""
    problems = [p for p in all_problems(loaded) if p.is_error or p.span.path == loaded.display]
    if loaded.file is not None and not any(p.is_error and is_reading_or_syntax(p.code) for p in problems):
        context = LintContext(loaded, config=config)
        for declaration in loaded.file.declarations:
            context.resolved[declaration.name] = resolve(declaration, loaded)
        context.compiled, compile_problems = compile_loaded(loaded)
        problems.extend(p for p in compile_problems if p.span.path in (None, loaded.display))
        for rule in RULES:
            if selected(rule.code, config):
                problems.extend(rule.check(context))
    return _unsuppressed(_dedupe(problems), loaded.text)


def selected(code: str, config: LintConfig) -> bool:
    if config.select and not any(code.startswith(prefix) for prefix in config.select):
        return False
    return not any(code.startswith(prefix) for prefix in config.ignore)


def _dedupe(problems: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(unique(problems), key=lambda p: (p.span.line, p.span.column, p.code))


def _unsuppressed(problems: list[Diagnostic], text: str) -> list[Diagnostic]:
    """Drop warnings named in `# rubric: ignore[CODE]` on their line or on the comment line(s) above it.

    Errors are never suppressed: a file with errors does not compile, whatever a comment says.
    """
    lines = text.split("\n")

    def codes_for(line: int) -> set[str]:
        found: set[str] = set()
        index = line - 1
        candidates = [index] if 0 <= index < len(lines) else []
        above = index - 1
        while 0 <= above < len(lines) and lines[above].strip().startswith("#"):
            candidates.append(above)
            above -= 1
        for i in candidates:
            for match in _SUPPRESS.finditer(lines[i]):
                found.update(code.strip() for code in match.group(1).split(","))
        return found

    return [p for p in problems if p.is_error or not (codes_for(p.span.line) & {p.code, "ALL"})]


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    config: LintConfig | None = None,
    root: str | os.PathLike[str] | None = None,
) -> tuple[list[Diagnostic], dict[str, str]]:
    """Lint files and directories; returns the diagnostics and each file's text (for rendering)."""
    config = config or LintConfig()
    files, _ = collect_files(paths)
    workspaces: dict[Path, Workspace] = {}
    diagnostics: list[Diagnostic] = []
    texts: dict[str, str] = {}
    for path, default_root in files:
        file_root = Path(root) if root is not None else default_root
        space = workspaces.setdefault(file_root.resolve(), Workspace(file_root))
        loaded = space.load_path(path)
        texts.update({f.display: f.text for f in space.files.values()})
        diagnostics.extend(lint_loaded(loaded, config))
    return unique(diagnostics), texts  # an imported file's errors come with every importer
