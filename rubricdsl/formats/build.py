"""Building syntax-tree nodes from foreign data, so that imported text is canonical formatter output.

Texts are normalised only as far as the language needs (LANGUAGE.md "Text"): `\\r\\n` and a lone `\\r`
become `\\n`, whitespace-only lines become empty, and blank lines and whitespace around the whole text are
dropped. Everything else is kept exactly: inner spacing, trailing spaces inside the text, tabs, Markdown.
A text with several lines is written as block text by the formatter.

Data the language has no place for (HealthBench item tags, PaperBench node ids) is kept in annotation
comments, `# @FORMAT {json}`, above the rubric or the item; the exporter of that format reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..source import BLOCK_QUOTE
from ..syntax import DEFAULT_WEIGHTS, Comments, Declaration, Field, Item, Level, Setting, Text, Use
from .base import FormatError, JSONDict, Notes

ANNOTATION = "# @"
NORMALISED = "texts trimmed of surrounding blank space (or with `\\r` line ends made `\\n`)"


def clean_text(value: str) -> str:
    """The text as the language can hold it ('' when nothing is left)."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line if line.strip() else "" for line in lines).strip()


def cleaned(value: str, where: str, notes: Notes | None) -> str:
    """clean_text, noting (when given notes) that the text changed."""
    text = clean_text(value)
    if notes is not None and text and text != value:
        notes.add(NORMALISED, where)
    return text


def representable(text: str) -> bool:
    """A line holding only `\"\"\"` would close a block text early: such a text has no spelling."""
    return bool(text) and not any(line.strip() == BLOCK_QUOTE for line in text.split("\n"))


def text_node(value: str, where: str, notes: Notes | None = None) -> Text:
    text = cleaned(value, where, notes)
    if not text:
        raise FormatError(f"{where}: empty text")
    if not representable(text):
        raise FormatError(f'{where}: a line holding only """ cannot be written in a .rubric file')
    return Text(text, block="\n" in text)


def canonical_weight(kind: str, weight: float | None) -> float | None:
    """None when the weight is the kind's default (LANGUAGE.md: default weights are omitted)."""
    if weight is None:
        return None
    weight = float(weight)
    return None if DEFAULT_WEIGHTS[kind] == weight else weight


def item(kind: str, weight: float | None, name: str, text: Text, *, levels: tuple[Level, ...] = (),
         children: tuple[Item | Use, ...] = (), annotation: JSONDict | None = None, key: str = "") -> Item:
    return Item(kind, canonical_weight(kind, weight), name, text, levels=levels, children=children,
                comments=annotation_comments(key, annotation))


def levels(pairs: list[tuple[int, str]], where: str, notes: Notes | None = None) -> tuple[Level, ...]:
    return tuple(Level(level, text_node(text, f"{where}, level {level}", notes)) for level, text in sorted(pairs))


def text_field(key: str, value: str | None, where: str, notes: Notes | None = None) -> Field | None:
    if value is None or not clean_text(value):
        return None
    return Field(key, text_node(value, f"{where}.{key}", notes))


def tags_field(labels: list[str]) -> Field | None:
    return Field("tags", tuple(labels), raw=", ".join(labels)) if labels else None


def clean_tags(raw: list[Any], where: str, notes: Notes) -> list[str]:
    """Labels as a `tags:` line holds them: trimmed, non-empty, one line, no comma."""
    labels = []
    for label in raw:
        text = str(label).strip()
        if not text or "," in text or "\n" in text:
            notes.add("tags a `tags:` line cannot hold (empty, or with a comma or line break)", f"{where}: {text!r}")
            continue
        labels.append(text)
    return labels


def settings_field(key: str, values: Mapping[str, str]) -> Field | None:
    return Field(key, tuple(Setting(k, v) for k, v in values.items())) if values else None


def declaration(name: str, fields: list[Field | None], body: list[Item], *, annotation: JSONDict | None = None,
                key: str = "") -> Declaration:
    from ..syntax import FIELD_ORDER

    present = sorted((f for f in fields if f is not None), key=lambda f: FIELD_ORDER.index(f.key))
    return Declaration("rubric", name, tuple(present), tuple(body), comments=annotation_comments(key, annotation))


# ---------------------------------------------------------------- annotations


def annotation_comments(key: str, data: JSONDict | None) -> Comments:
    if not data:
        return Comments()
    return Comments((f"{ANNOTATION}{key} {json.dumps(data, ensure_ascii=False, sort_keys=True)}",))


def read_annotation(comments: tuple[str, ...], key: str) -> JSONDict:
    """The `# @KEY {...}` comment of a node, merged when there are several ({} when none or unreadable)."""
    found: JSONDict = {}
    prefix = f"{ANNOTATION}{key} "
    for comment in comments:
        if comment.startswith(prefix):
            try:
                value = json.loads(comment[len(prefix):])
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found.update(value)
    return found


def item_annotations(body: tuple[Item | Use, ...], key: str) -> dict[str, JSONDict]:
    """Annotations of the named items written in a declaration (used items have their own file's)."""
    return {node.name: meta for node in _walk(body) if node.name and (meta := read_annotation(node.comments, key))}


def _walk(body: tuple[Item | Use, ...]) -> Iterator[Item]:
    for node in body:
        if isinstance(node, Item):
            yield node
            yield from _walk(node.children)
