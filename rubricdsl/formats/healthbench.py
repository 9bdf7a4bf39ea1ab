"""`healthbench`: HealthBench rows, JSON Lines with `prompt` (chat messages), `rubrics` and `example_tags`.

One rubric per row. Criteria with positive points become `criterion` items weighted by their points, those
with negative points `pitfall` items; the texts are kept exactly (see build.clean_text). The row's
`example_tags` become `tags:`, the conversation becomes `prompt:` (one user message is its text; more become
a transcript of `Role: content` turns separated by blank lines), and `scoring: normalize: healthbench`
reproduces HealthBench's per-example score. Item tags and the `prompt_id` are kept in `# @healthbench`
annotations. Item names come from the criterion text; the rubric name is the `prompt_id` when it is already
a valid name, else `hb_` and the id's first eight letters and digits.
"""

from __future__ import annotations

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
    dump_jsonl,
    load_json,
    number,
)
from .build import clean_tags, cleaned, declaration, item, settings_field, tags_field, text_field, text_node
from .exporting import checks_lost, fields_lost, flat_items, item_lost, kind_changed, names_lost, weight_of
from .names import NameAllocator, text_names, words_of

KEY = "healthbench"
ROW_KEYS = {"prompt_id", "prompt", "rubrics", "example_tags"}
ROLES = ("User", "Assistant", "System", "Developer", "Tool")
_TURN_START = re.compile(rf"(?:{'|'.join(ROLES)}): ")
_TURN_SPLIT = re.compile(rf"\n\n(?=(?:{'|'.join(ROLES)}): )")


def read(data: str, origin: Origin) -> Imported:
    loaded = load_json(data, origin.path)
    rows = loaded if isinstance(loaded, list) else [loaded]
    imported = Imported([])
    allocator = NameAllocator()
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not isinstance(row.get("rubrics"), list):
            raise FormatError(f"{origin.path}: row {index} has no `rubrics` list")
        name = _rubric_name(row.get("prompt_id"), index, len(rows), origin, allocator)
        imported.declarations.append(_rubric(row, name, imported.notes))
    return imported


def _rubric_name(prompt_id: Any, index: int, total: int, origin: Origin, allocator: NameAllocator) -> str:
    if origin.name is None and isinstance(prompt_id, str) and prompt_id:
        return allocator.claim_exact(prompt_id) or allocator.claim("hb_" + "".join(words_of(prompt_id))[:8])
    return allocator.claim(origin.rubric_name(index, total))


def _rubric(row: JSONDict, name: str, notes: Notes) -> Declaration:
    for key in sorted(set(row) - ROW_KEYS):
        if row[key] not in (None, "", [], {}):
            notes.add(f"`{key}` not carried (not part of a rubric)", name)
    prompt_id = row.get("prompt_id")
    fields = [
        text_field("prompt", conversation_text(row.get("prompt"), name, notes), name, notes),
        tags_field(clean_tags(row.get("example_tags") or [], name, notes)),
        settings_field("scoring", {"normalize": "healthbench"}),
    ]
    meta = {"prompt_id": prompt_id} if prompt_id is not None and prompt_id != name else None
    return declaration(name, fields, _items(row["rubrics"], name, notes), annotation=meta, key=KEY)


def _items(entries: list[Any], rubric: str, notes: Notes) -> list[Item]:
    kept: list[tuple[str, float, list[Any]]] = []
    for number_, entry in enumerate(entries, start=1):
        where = f"{rubric} criterion {number_}"
        if not isinstance(entry, dict) or not isinstance(entry.get("criterion"), str):
            raise FormatError(f"{where}: expected an object with a `criterion` text")
        points = entry.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)):
            raise FormatError(f"{where}: `points` must be a number")
        text = cleaned(entry["criterion"], where, notes)
        if points == 0 or not text:
            notes.add("criteria with 0 points or no text left out (the language has no such item)", where)
            continue
        tags = entry.get("tags") or []
        if not isinstance(tags, list):
            raise FormatError(f"{where}: `tags` must be a list")
        kept.append((text, float(points), tags))
    names = text_names([text for text, _, _ in kept])
    return [item("criterion" if points > 0 else "pitfall", points, name, text_node(text, f"{rubric}.{name}"),
                 annotation={"tags": tags} if tags else None, key=KEY)
            for name, (text, points, tags) in zip(names, kept, strict=True)]


def conversation_text(messages: Any, where: str, notes: Notes) -> str | None:
    """One user message is its text; other conversations become `Role: content` turns."""
    if messages is None or messages == []:
        return None
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list) or not all(isinstance(m, dict) and isinstance(m.get("role"), str)
                                                 for m in messages):
        raise FormatError(f"{where}: `prompt` must be a list of messages with a `role` and a `content`")
    turns = [(str(m["role"]), _content(m.get("content"), where, notes)) for m in messages]
    if len(turns) == 1 and turns[0][0] == "user":
        return turns[0][1]
    return "\n\n".join(f"{role.capitalize()}: {content}" for role, content in turns)


def _content(content: Any, where: str, notes: Notes) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") == "text"]
        if len(texts) != len(content):
            notes.add("message parts other than text not carried", where)
        return "\n".join(texts)
    raise FormatError(f"{where}: a message's `content` must be text or a list of parts")


def messages_of(prompt: str | None) -> list[JSONDict]:
    """The inverse of `conversation_text` (a text that is not a transcript is one user message)."""
    if prompt is None:
        return []
    if _TURN_START.match(prompt):
        turns = [chunk.split(": ", 1) for chunk in _TURN_SPLIT.split(prompt)]
        messages = [{"role": role.lower(), "content": content} for role, content in turns]
        if not (len(messages) == 1 and messages[0]["role"] == "user"):
            return messages
    return [{"role": "user", "content": prompt}]


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    exported.text = dump_jsonl([_row(source, exported.notes) for source in sources])
    return exported


def _row(source: Source, notes: Notes) -> JSONDict:
    ir = source.ir
    fields_lost(ir, notes, carried=("prompt", "tags"), scoring={"normalize": "healthbench"})
    written: list[ItemIR] = []
    for it in flat_items(ir.items, notes, ir.name):
        if it.kind in ("hard", "scale"):
            item_lost(it, notes, ir.name, "HealthBench")
            continue
        if not ((it.kind == "criterion" and weight_of(it) > 0) or it.kind == "pitfall"):
            kind_changed(it, "criteria with signed points", notes, ir.name)
        checks_lost(it, notes, ir.name)
        written.append(it)
    names_lost(written, text_names([it.text for it in written]), notes, ir.name, "criterion text")
    rubrics = [{"criterion": it.text, "points": number(weight_of(it)),
                "tags": source.item_meta.get(it.name, {}).get("tags", [])} for it in written]
    return {"prompt_id": source.meta.get("prompt_id", ir.name), "prompt": messages_of(ir.prompt),
            "rubrics": rubrics, "example_tags": list(ir.tags)}


FORMAT = Format(KEY, "HealthBench rows (JSON Lines): prompt messages, signed-point criteria, example tags", read,
                write, several=True, suffix=".jsonl")
