"""Import and export: rubricdsl as the hub between rubric formats (docs/formats.md).

One registry maps each format's name to its module; a module is imported only when its format is used.
`import_data` turns foreign data into canonical `.rubric` text (built as a syntax tree, printed by the
formatter, then read back and compiled to prove it means what was built); `export_sources` turns compiled
rubrics into foreign data, then re-imports that data to make sure every difference was reported as a note.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Exported, Format, FormatError, Imported, Notes, Origin, Source

if TYPE_CHECKING:
    from ..ir import RubricIR
    from ..loader import LoadedFile
    from ..syntax import File

FORMAT_MODULES: dict[str, str] = {
    "rar": "rubricdsl.formats.rar",
    "healthbench": "rubricdsl.formats.healthbench",
    "paperbench": "rubricdsl.formats.paperbench",
    "openrubrics": "rubricdsl.formats.openrubrics",
    "prometheus": "rubricdsl.formats.prometheus",
    "autorubric": "rubricdsl.formats.autorubric",
    "json": "rubricdsl.formats.irjson",
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMAT_MODULES)


def get_format(name: str) -> Format:
    if name not in FORMAT_MODULES:
        raise FormatError(f"unknown format `{name}`; formats: {', '.join(FORMAT_NAMES)}")
    module = importlib.import_module(FORMAT_MODULES[name])
    fmt: Format = module.FORMAT
    return fmt


@dataclass
class ImportResult:
    text: str
    file: File
    rubrics: dict[str, RubricIR]
    notes: list[str]


def import_data(fmt: str, data: str, origin: Origin | None = None) -> ImportResult:
    """Foreign data → canonical `.rubric` text, compiled. Raises FormatError when it cannot be converted."""
    origin = origin or Origin()
    reader = get_format(fmt).read
    try:
        imported = reader(data.removeprefix("\ufeff"), origin)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise FormatError(f"{origin.path}: not valid {fmt} data ({type(exc).__name__}: {exc})") from exc
    if not imported.declarations:
        raise FormatError(f"{origin.path}: no rubric found")
    return _render(imported, origin)


def import_path(fmt: str, path: str | os.PathLike[str], name: str | None = None) -> ImportResult:
    text = Path(path).read_text(encoding="utf-8")
    return import_data(fmt, text, Origin(str(path), name))


def _render(imported: Imported, origin: Origin) -> ImportResult:
    from ..api import all_problems, compile_loaded
    from ..formatter import format_file
    from ..loader import Workspace
    from ..syntax import File

    empty = [d.name for d in imported.declarations if not d.body]
    if empty:
        raise FormatError(f"{origin.path}: nothing the language can hold in rubric {', '.join(empty)}")
    file = File((), tuple(imported.declarations))
    text = format_file(file)
    loaded = Workspace(Path.cwd()).load_text(text, origin.path)
    problems = all_problems(loaded)
    compiled, compile_problems = compile_loaded(loaded) if loaded.file is not None else ({}, [])
    errors = [p for p in [*problems, *compile_problems] if p.is_error]
    if errors:
        first = errors[0]
        raise FormatError(f"{origin.path}: the converted rubric is not valid: line {first.span.line}: {first.message}")
    if loaded.file != file:
        raise FormatError(f"{origin.path}: the converted rubric does not read back as it was built")
    return ImportResult(text, file, compiled, imported.notes.lines())


def sources_from(fmt: str, loaded: LoadedFile, compiled: dict[str, RubricIR], names: list[str]) -> list[Source]:
    """The chosen compiled rubrics with the annotations written for `fmt` above them and their items."""
    from .build import item_annotations, read_annotation

    declarations = {d.name: d for d in loaded.file.declarations} if loaded.file else {}
    sources = []
    for name in names:
        declaration = declarations[name]
        sources.append(Source(compiled[name], read_annotation(declaration.comments, fmt),
                              item_annotations(declaration.body, fmt)))
    return sources


def export_text(fmt: str, text: str, rubric: str | None = None, *, path: str = "<string>") -> Exported:
    """`.rubric` text → foreign data: every rubric of the text, or the one named. Raises RubricError for an
    invalid rubric file and FormatError for what the format cannot hold at all."""
    from ..api import all_problems, compile_loaded, pick
    from ..diagnostics import RubricError
    from ..loader import Workspace

    loaded = Workspace(Path.cwd()).load_text(text, path)
    compiled, problems = compile_loaded(loaded)
    errors = [p for p in [*all_problems(loaded), *problems] if p.is_error]
    if errors:
        raise RubricError(errors)
    names = [pick(compiled, rubric, path).name] if rubric is not None or len(compiled) < 2 else list(compiled)
    return export_sources(fmt, sources_from(fmt, loaded, compiled, names))


def export_sources(fmt: str, sources: list[Source], *, verify: bool = True) -> Exported:
    """Compiled rubrics → foreign data, with a note for everything the format cannot hold."""
    if not sources:
        raise FormatError("nothing to export")
    target = get_format(fmt)
    if len(sources) > 1 and not target.several:
        raise FormatError(f"{fmt} holds one rubric a file; choose one of: {', '.join(s.ir.name for s in sources)}")
    exported = target.write(sources)
    if verify and not exported.notes:
        _verify_round_trip(fmt, sources, exported)
    return exported


def _verify_round_trip(fmt: str, sources: list[Source], exported: Exported) -> None:
    """A safety net: an export with no notes must re-import to the same rubrics (names of rubrics aside,
    since several formats take them from the file name)."""
    try:
        again = list(import_data(fmt, exported.text, Origin(f"exported{get_format(fmt).suffix}")).rubrics.values())
    except FormatError as exc:
        exported.notes.add(f"the exported data does not import again ({exc})")
        return
    if [_unnamed_hash(s.ir) for s in sources] != [_unnamed_hash(ir) for ir in again]:
        exported.notes.add(f"a round trip through {fmt} changes the rubric (its content hash differs)")


def _unnamed_hash(ir: RubricIR) -> str:
    title = "_" if ir.title == ir.name else ir.title
    return ir.model_copy(update={"name": "_", "title": title}).compute_hash()


__all__ = [
    "FORMAT_NAMES",
    "Exported",
    "Format",
    "FormatError",
    "ImportResult",
    "Notes",
    "Origin",
    "Source",
    "export_sources",
    "export_text",
    "get_format",
    "import_data",
    "import_path",
    "sources_from",
]
