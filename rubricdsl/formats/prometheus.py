"""`prometheus`: Prometheus score rubrics, `{criteria, score1_description, ..., score5_description}`.

Each rubric object becomes one rubric holding one `scale` item: the criteria is its text and each
`scoreN_description` its level N (any consecutive numbers are read; Prometheus judges use 1 to 5). The
task and the score-5 reference answer, when the object carries them (`instruction`, `reference_answer`,
or Feedback-Collection's `orig_` spellings), become `prompt:` and `reference:`. A file may hold one object,
a JSON array of them, or JSON Lines. The item's name comes from the criteria text.
"""

from __future__ import annotations

import re

from ..ir import ItemIR
from ..syntax import Declaration
from .base import Exported, Format, FormatError, Imported, JSONDict, Notes, Origin, Source, dump_json, load_json
from .build import clean_text, declaration, item, levels, text_field, text_node
from .exporting import checks_lost, fields_lost, flat_items, item_lost, names_lost
from .names import text_names

KEY = "prometheus"
SCORE_KEY = re.compile(r"(?:orig_)?score(-?\d+)_description\Z")
PROMPT_KEYS = ("instruction", "orig_instruction")
REFERENCE_KEYS = ("reference_answer", "orig_reference_answer")
CRITERIA_KEYS = ("criteria", "orig_criteria")


def read(data: str, origin: Origin) -> Imported:
    loaded = load_json(data, origin.path)
    rows = loaded if isinstance(loaded, list) else [loaded]
    imported = Imported([])
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise FormatError(f"{origin.path}: rubric {index} is not a JSON object")
        imported.declarations.append(_rubric(row, origin.rubric_name(index, len(rows)), imported.notes))
    return imported


def _first(row: JSONDict, keys: tuple[str, ...]) -> str | None:
    return next((row[k] for k in keys if isinstance(row.get(k), str)), None)


def _rubric(row: JSONDict, name: str, notes: Notes) -> Declaration:
    criteria = _first(row, CRITERIA_KEYS)
    if criteria is None or not clean_text(criteria):
        raise FormatError(f"{name}: no `criteria` text")
    scores = {int(m.group(1)): value for key, value in row.items() if (m := SCORE_KEY.match(key))}
    numbers = sorted(scores)
    if len(numbers) < 2 or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise FormatError(f"{name}: expected consecutive `score1_description` ... `score5_description`")
    if any(not isinstance(scores[n], str) or not clean_text(scores[n]) for n in numbers):
        raise FormatError(f"{name}: every score description must be a non-empty text")
    used = {*PROMPT_KEYS, *REFERENCE_KEYS, *CRITERIA_KEYS}
    for key in sorted(k for k in row if k not in used and not SCORE_KEY.match(k)):
        notes.add(f"`{key}` not carried (not part of a rubric)", name)
    item_name = text_names([clean_text(criteria)], fallback="score")[0]
    scale = item("scale", None, item_name, text_node(criteria, f"{name}.{item_name}", notes),
                 levels=levels([(n, scores[n]) for n in numbers], f"{name}.{item_name}", notes))
    fields = [text_field("prompt", _first(row, PROMPT_KEYS), name, notes),
              text_field("reference", _first(row, REFERENCE_KEYS), name, notes)]
    return declaration(name, fields, [scale])


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    objects = [_object(source, exported.notes) for source in sources]
    exported.text = dump_json(objects[0] if len(objects) == 1 else objects)
    return exported


def _object(source: Source, notes: Notes) -> JSONDict:
    ir = source.ir
    fields_lost(ir, notes, carried=("prompt", "reference"))
    scales = [it for it in flat_items(ir.items, notes, ir.name) if _keep(it, ir.name, notes)]
    if not scales:
        raise FormatError(f"rubric `{ir.name}` has no scale item, which is what a Prometheus rubric holds")
    scale = scales[0]
    for extra in scales[1:]:
        notes.add("a Prometheus rubric holds one scale: further scales left out", f"{ir.name}.{extra.name}")
    if scale.weight != 1.0:
        notes.add("scale weights not carried", f"{ir.name}.{scale.name}")
    names_lost([scale], text_names([scale.text], fallback="score"), notes, ir.name, "criteria text")
    out: JSONDict = {"criteria": scale.text}
    out.update({f"score{lv.level}_description": lv.text for lv in scale.levels or ()})
    if ir.prompt is not None:
        out["instruction"] = ir.prompt
    if ir.reference is not None:
        out["reference_answer"] = ir.reference
    return out


def _keep(it: ItemIR, rubric: str, notes: Notes) -> bool:
    if it.kind != "scale":
        item_lost(it, notes, rubric, "a Prometheus rubric")
        return False
    checks_lost(it, notes, rubric)
    return True


FORMAT = Format(KEY, "Prometheus score rubrics: a criteria and one description per score (JSON)", read, write,
                several=True, suffix=".json")
