"""`rar`: Rubrics-as-Rewards rubrics, JSON arrays of `{title, description, weight}`, and their row files.

A description's prefix gives the kind ("Essential Criteria: ..." → `essential`, likewise Important, Optional,
Pitfall) and is dropped from the text; `weight` is kept (a positive pitfall weight is negated: a pitfall
holds when the mistake is made). The title gives the item's name; when the name differs from it, the title
is kept in a `# @rar` annotation. Row files (a JSON array or JSON Lines of rows with `question`,
`reference_answer`, `rubric`, ...) give one rubric per row: `question` → `prompt:`, `reference_answer` →
`reference:`, `question_source` → annotation; `rubric_list` and `rubric_count` are derived from `rubric`
and written again on export. Scoring keeps the default (`normalize: positive`); RaR's own aggregations
are `scoring: method: rar_explicit` and `normalize: sum`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..ir import ItemIR
from ..syntax import Declaration, Item
from .base import (
    Exported,
    Format,
    FormatError,
    Imported,
    JSONDict,
    Notes,
    Origin,
    Source,
    dump_json,
    dump_jsonl,
    load_json,
    number,
)
from .build import cleaned, declaration, item, text_field, text_node
from .exporting import checks_lost, fields_lost, flat_items, item_lost, kind_changed, weight_of
from .names import title_names

KEY = "rar"
PREFIX = re.compile(r"\s*(essential|important|optional|pitfall)\s+criteri(?:a|on)\s*:\s*", re.IGNORECASE)
LABELS = {"essential": "Essential", "important": "Important", "optional": "Optional", "pitfall": "Pitfall"}
ROW_KEYS = {"question", "reference_answer", "question_source", "rubric", "rubric_list", "rubric_count"}


def read(data: str, origin: Origin) -> Imported:
    loaded = load_json(data, origin.path)
    rows = _rows(loaded, origin)
    imported = Imported([])
    for index, row in enumerate(rows, start=1):
        imported.declarations.append(_rubric(row, origin.rubric_name(index, len(rows)), imported.notes))
    return imported


def _rows(loaded: Any, origin: Origin) -> list[JSONDict]:
    """A bare criteria array is one row; otherwise each object (or JSON line) is a row with a `rubric`."""
    if isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list) or not loaded or not all(isinstance(r, dict) for r in loaded):
        raise FormatError(f"{origin.path}: expected a RaR rubric (an array of criteria) or rows with a `rubric`")
    if all("rubric" not in r and "description" in r for r in loaded):
        return [{"rubric": loaded}]
    for index, row in enumerate(loaded, start=1):
        if "rubric" not in row:
            raise FormatError(f"{origin.path}: row {index} has no `rubric`")
    return loaded


def _rubric(row: JSONDict, name: str, notes: Notes) -> Declaration:
    for key in sorted(set(row) - ROW_KEYS):
        notes.add(f"`{key}` not carried (not part of a rubric)", name)
    criteria = row["rubric"]
    if isinstance(criteria, str):
        criteria = json.loads(criteria)
    if not isinstance(criteria, list):
        raise FormatError(f"{name}: `rubric` must be an array of criteria")
    fields = [text_field("prompt", _text(row.get("question")), name, notes),
              text_field("reference", _text(row.get("reference_answer")), name, notes)]
    source = row.get("question_source")
    meta = {"question_source": source} if source not in (None, "") else None
    return declaration(name, fields, _items(criteria, name, notes), annotation=meta, key=KEY)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _items(criteria: list[Any], rubric: str, notes: Notes) -> list[Item]:
    kept: list[tuple[str, str, float, str]] = []
    for number_, entry in enumerate(criteria, start=1):
        where = f"{rubric} criterion {number_}"
        if not isinstance(entry, dict) or not isinstance(entry.get("description"), str):
            raise FormatError(f"{where}: expected an object with a `description`")
        parsed = _criterion(entry, where, notes)
        if parsed is not None:
            kept.append(parsed)
    names = title_names([title or text for title, text, _, _ in kept])
    return [item(kind, weight, name, text_node(text, f"{rubric}.{name}"),
                 annotation={"title": title} if title and title != name else None, key=KEY)
            for name, (title, text, weight, kind) in zip(names, kept, strict=True)]


def _criterion(entry: JSONDict, where: str, notes: Notes) -> tuple[str, str, float, str] | None:
    match = PREFIX.match(entry["description"])
    kind = match.group(1).lower() if match else "criterion"
    text = cleaned(entry["description"][match.end():] if match else entry["description"], where, notes)
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight == 0 or not text:
        notes.add("criteria with no text, or a missing or zero weight, left out", where)
        return None
    if not match:
        notes.add("descriptions with no category prefix imported as `criterion`", where)
    if (kind == "pitfall") != (weight < 0) and kind != "criterion":
        notes.add("weights of the wrong sign for their category negated", where)
        weight = -weight
    return str(entry.get("title") or "").strip(), text, float(weight), kind


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    rows = [_row(source, exported.notes) for source in sources]
    bare = len(rows) == 1 and set(rows[0]) == {"rubric", "rubric_list", "rubric_count"}
    exported.text = dump_json(rows[0]["rubric"]) if bare else dump_jsonl(rows)
    return exported


def _row(source: Source, notes: Notes) -> JSONDict:
    ir = source.ir
    fields_lost(ir, notes, carried=("prompt", "reference"))
    criteria = [_entry(it, source, notes) for it in flat_items(ir.items, notes, ir.name)]
    written = [c for c in criteria if c is not None]
    _titles(source, written, notes)
    row: JSONDict = {}
    if ir.prompt is not None:
        row["question"] = ir.prompt
    if ir.reference is not None:
        row["reference_answer"] = ir.reference
    if "question_source" in source.meta:
        row["question_source"] = source.meta["question_source"]
    row["rubric"] = [entry for _, entry in written]
    row["rubric_list"] = [entry["description"] for _, entry in written]
    row["rubric_count"] = len(written)
    return row


def _entry(it: ItemIR, source: Source, notes: Notes) -> tuple[ItemIR, JSONDict] | None:
    rubric = source.ir.name
    if it.kind in ("hard", "scale"):
        item_lost(it, notes, rubric, "RaR")
        return None
    if it.kind == "criterion":
        notes.add("`criterion` items written with no category prefix (RaR criteria always have one)",
                  f"{rubric}.{it.name}")
    elif it.kind not in LABELS:
        kind_changed(it, "criteria with no category prefix", notes, rubric)
    checks_lost(it, notes, rubric)
    label = LABELS.get(it.kind)
    description = f"{label} Criteria: {it.text}" if label else it.text
    title = source.item_meta.get(it.name, {}).get("title", it.name)
    return it, {"title": title, "description": description, "weight": number(weight_of(it))}


def _titles(source: Source, written: list[tuple[ItemIR, JSONDict]], notes: Notes) -> None:
    """Titles from which re-import derives each item's name: the kept title, else the name itself."""
    derived = title_names([entry["title"] for _, entry in written])
    for (it, entry), again in zip(written, derived, strict=True):
        if it.name != again:
            entry["title"] = it.name
    derived = title_names([entry["title"] for _, entry in written])
    for (it, _), again in zip(written, derived, strict=True):
        if it.name != again:
            notes.add("item names not carried (re-import derives them from the title)",
                      f"{source.ir.name}.{it.name} → {again}")


FORMAT = Format(KEY, "Rubrics-as-Rewards criteria arrays and row files (question, reference_answer, rubric)", read,
                write, several=True, suffix=".jsonl")
