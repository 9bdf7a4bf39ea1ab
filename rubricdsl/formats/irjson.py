"""`json`: rubricdsl's own compiled form (the IR of `rubric compile`), both ways, losslessly.

Import accepts one IR object or a list of them and writes the `.rubric` text that compiles back to the
same content hash: fields and settings that differ from their defaults, weights that differ from their
kind's default, and item names unless they are the `KIND_N` name the language would generate anyway.
Export writes the IR (a list of IRs when the file holds several rubrics).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..diagnostics import RubricError
from ..ir import ItemIR, JudgeIR, RubricIR, ScoringIR
from ..parser import parse_check
from ..syntax import Check, Declaration, Field, Item, Level
from .base import Exported, Format, FormatError, Imported, Notes, Origin, Source, load_json
from .build import canonical_weight, declaration, settings_field, tags_field, text_field, text_node

SCORING_KEYS = ("method", "normalize", "gate", "on_na", "on_error")
JUDGE_KEYS = ("combine", "scale", "granularity")


def read(data: str, origin: Origin) -> Imported:
    loaded = load_json(data, origin.path)
    documents = loaded if isinstance(loaded, list) else [loaded]
    notes = Notes()
    rubrics = [_validated(doc, i, origin, notes) for i, doc in enumerate(documents, start=1)]
    if origin.name is not None and len(rubrics) == 1:
        rubrics[0] = rubrics[0].model_copy(update={"name": origin.name})
    return Imported([to_declaration(ir, notes) for ir in rubrics], notes)


def _validated(document: Any, index: int, origin: Origin, notes: Notes) -> RubricIR:
    if not isinstance(document, dict):
        raise FormatError(f"{origin.path}: rubric {index} is not a JSON object")
    try:
        ir = RubricIR.from_json(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FormatError(f"{origin.path}: rubric {index} is not a compiled rubric ({where}: {first['msg']})") from None
    if ir.schema_version != 1:
        raise FormatError(f"{origin.path}: schema_version {ir.schema_version} is not supported (1 is)")
    if ir.content_hash and ir.content_hash != ir.compute_hash():
        notes.add("content_hash does not match the content (the content was kept)", ir.name)
    return ir


def to_declaration(ir: RubricIR, notes: Notes) -> Declaration:
    fields: list[Field | None] = [
        text_field("title", ir.title, ir.name, notes) if ir.title != ir.name else None,
        text_field("prompt", ir.prompt, ir.name, notes),
        text_field("reference", ir.reference, ir.name, notes),
        tags_field(list(ir.tags)),
        settings_field("scoring", scoring_values(ir.scoring)),
        settings_field("judge", judge_values(ir.judge)),
    ]
    counts: dict[str, int] = {}
    return declaration(ir.name, fields, [_item(it, ir.name, counts, notes) for it in ir.items])


def _item(it: ItemIR, rubric: str, counts: dict[str, int], notes: Notes) -> Item:
    counts[it.kind] = counts.get(it.kind, 0) + 1
    where = f"{rubric}.{it.name}"
    children = tuple(_item(child, rubric, counts, notes) for child in it.items or ())
    levels = tuple(Level(lv.level, text_node(lv.text, f"{where}, level {lv.level}", notes)) for lv in it.levels or ())
    name = None if it.name == f"{it.kind}_{counts[it.kind]}" else it.name
    return Item(it.kind, canonical_weight(it.kind, it.weight), name, text_node(it.text, where, notes),
                check=_check(it.check, where), levels=levels, children=children)


def _check(source: str | None, where: str) -> Check | None:
    if source is None:
        return None
    try:
        return Check(parse_check(source), source=source)
    except RubricError as exc:
        raise FormatError(f"{where}: invalid check `{source}`: {exc.diagnostics[0].message}") from None


def decimal(value: float) -> str:
    """A number as settings spell it: no exponent, no needless `.0`."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


def scoring_values(scoring: ScoringIR) -> dict[str, str]:
    default = ScoringIR()
    values = {key: str(getattr(scoring, key)) for key in SCORING_KEYS[:3]
              if getattr(scoring, key) != getattr(default, key)}
    if scoring.hard_fail != scoring.range[0]:
        values["hard_fail"] = decimal(scoring.hard_fail)
    if scoring.range != default.range:
        values["range"] = f"{decimal(scoring.range[0])}..{decimal(scoring.range[1])}"
    values.update({key: str(getattr(scoring, key)) for key in SCORING_KEYS[3:]
                   if getattr(scoring, key) != getattr(default, key)})
    return values


def judge_values(judge: JudgeIR) -> dict[str, str]:
    default = JudgeIR()
    values: dict[str, str] = {}
    if judge.model is not None:
        values["model"] = judge.model
    if judge.models:
        values["models"] = ", ".join(judge.models)
    values.update(_changed(judge, default, JUDGE_KEYS[:1]))
    if judge.samples != default.samples:
        values["samples"] = str(judge.samples)
    if judge.temperature != default.temperature:
        values["temperature"] = decimal(judge.temperature)
    values.update(_changed(judge, default, JUDGE_KEYS[1:]))
    if judge.allow_na != default.allow_na:
        values["allow_na"] = "true" if judge.allow_na else "false"
    return values


def _changed(judge: JudgeIR, default: JudgeIR, keys: tuple[str, ...]) -> dict[str, str]:
    return {key: str(getattr(judge, key)) for key in keys if getattr(judge, key) != getattr(default, key)}


def write(sources: list[Source]) -> Exported:
    if len(sources) == 1:
        return Exported(sources[0].ir.dumps() + "\n")
    documents = [source.ir.to_json() for source in sources]
    return Exported(json.dumps(documents, sort_keys=True, indent=2, ensure_ascii=False) + "\n")


FORMAT = Format("json", "rubricdsl's compiled form (the IR of `rubric compile`), lossless both ways", read, write,
                several=True, suffix=".json")
