"""`openrubrics`: OpenRubrics rubrics, numbered text lists whose items end with `[Hard Rule]` or `[Principle]`.

```
1. The response includes exactly five distinct artifacts. [Hard Rule]
2. The response communicates clearly, in a well-organized manner. [Principle]
```
`[Hard Rule]` items become `hard` items and `[Principle]` items `principle` items (weight 1); the tag is
dropped from the text. An item may wrap onto following lines, which are joined with single spaces (a
numbered list has no other way to tell a line break inside an item from a wrapped line). Text before the
first item is not a criterion and is left out. Also accepted: JSON rows with the list in `rubric` and the
task in `instruction` or `prompt`. Names come from the item texts.
"""

from __future__ import annotations

import re
from typing import Any

from ..ir import ItemIR
from ..syntax import Item
from .base import Exported, Format, FormatError, Imported, JSONDict, Notes, Origin, Source, load_json
from .build import clean_text, declaration, item, text_field, text_node
from .exporting import checks_lost, fields_lost, flat_items, item_lost, kind_changed, names_lost
from .names import text_names

ITEM_START = re.compile(r"\s*(?:[-*]\s*)?(?:\*\*)?(\d+)\s*[.)](?:\*\*)?\s+(.*)")
TAG = re.compile(r"\s*\[(hard rule|principle)\]\s*\.?\s*\Z", re.IGNORECASE)
TAGS = {"hard": "[Hard Rule]", "principle": "[Principle]"}
PROMPT_KEYS = ("instruction", "prompt")


def read(data: str, origin: Origin) -> Imported:
    imported = Imported([])
    rows = _rows(data, origin)
    for index, row in enumerate(rows, start=1):
        name = origin.rubric_name(index, len(rows))
        prompt = next((row[k] for k in PROMPT_KEYS if isinstance(row.get(k), str)), None)
        items = _items(str(row["rubric"]), name, imported.notes)
        if not items:
            raise FormatError(f"{origin.path}: no numbered items in rubric {index}")
        imported.declarations.append(declaration(name, [text_field("prompt", prompt, name, imported.notes)], items))
    return imported


def _rows(data: str, origin: Origin) -> list[JSONDict]:
    if not data.lstrip().startswith(("{", "[")):
        return [{"rubric": data}]
    loaded: Any = load_json(data, origin.path)
    rows = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(r, dict) and isinstance(r.get("rubric"), str) for r in rows):
        raise FormatError(f"{origin.path}: JSON rows need the rubric text in `rubric`")
    return rows


def _items(text: str, rubric: str, notes: Notes) -> list[Item]:
    entries = _entries(text, rubric, notes)
    parsed = [_tagged(body, f"{rubric} item {number}", notes) for number, body in entries]
    if any(not body for body, _ in parsed):
        notes.add("items with no text left out", rubric)
        parsed = [(body, kind) for body, kind in parsed if body]
    names = text_names([body for body, _ in parsed])
    return [item(kind, None, name, text_node(body, f"{rubric}.{name}"))
            for name, (body, kind) in zip(names, parsed, strict=True)]


def _entries(text: str, rubric: str, notes: Notes) -> list[tuple[str, str]]:
    """(number, text) per list item, wrapped lines joined with a space."""
    entries: list[tuple[str, list[str]]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        start = ITEM_START.match(line)
        if start:
            entries.append((start.group(1), [start.group(2).strip()]))
        elif line.strip() and entries:
            entries[-1][1].append(line.strip())
        elif line.strip():
            notes.add("text before the first numbered item left out", rubric)
    return [(number, " ".join(part for part in parts if part)) for number, parts in entries]


def _tagged(body: str, where: str, notes: Notes) -> tuple[str, str]:
    tag = TAG.search(body)
    if tag is None:
        notes.add("items with no [Hard Rule] or [Principle] tag imported as principles", where)
        return clean_text(body), "principle"
    kind = "hard" if tag.group(1).lower() == "hard rule" else "principle"
    return clean_text(body[: tag.start()]), kind


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    ir = sources[0].ir
    fields_lost(ir, exported.notes)
    written = [it for it in flat_items(ir.items, exported.notes, ir.name) if _writable(it, ir.name, exported.notes)]
    if not written:
        raise FormatError(f"rubric `{ir.name}` has no item OpenRubrics can hold")
    texts = [" ".join(it.text.split()) if "\n" in it.text else it.text for it in written]
    for it, text in zip(written, texts, strict=True):
        if text != it.text:
            exported.notes.add("line breaks inside item texts not carried (joined with spaces)", f"{ir.name}.{it.name}")
    names_lost(written, text_names(texts), exported.notes, ir.name, "item text")
    exported.text = "".join(f"{n}. {text} {TAGS.get(it.kind, TAGS['principle'])}\n"
                            for n, (it, text) in enumerate(zip(written, texts, strict=True), start=1))
    return exported


def _writable(it: ItemIR, rubric: str, notes: Notes) -> bool:
    if it.kind in ("pitfall", "scale") or (it.kind == "criterion" and (it.weight or 0) < 0):
        item_lost(it, notes, rubric, "OpenRubrics")
        return False
    if it.kind not in TAGS:
        kind_changed(it, "[Principle] items", notes, rubric)
    elif it.kind == "principle" and it.weight != 1.0:
        notes.add("principle weights other than 1 not carried", f"{rubric}.{it.name}")
    checks_lost(it, notes, rubric)
    return True


FORMAT = Format("openrubrics", "OpenRubrics numbered lists of [Hard Rule] and [Principle] items (text)", read, write,
                several=False, suffix=".txt")
