"""`autorubric`: the autorubric library's criteria lists, JSON or YAML (`weight`, `requirement`, `name`, `options`).

A binary criterion becomes a `criterion` item with its weight (autorubric's default 10 when none is given),
or a `pitfall` when the weight is negative; autorubric's score (positive points earned, clipped to [0, 1])
is rubricdsl's default `normalize: positive`. A criterion with `options` becomes a `scale` whose levels
are the options in ascending value (1, 2, ...): exact when the scale is ordinal and the values are evenly
spaced from 0 to 1, as a scale credits its levels; otherwise the differences are noted. Options marked `na`
are dropped and set `judge: allow_na: true`. Sections (`{"sections": ...}` or `{"name", "criteria"}` entries)
are flattened, each item's section kept in a `# @autorubric` annotation. Names are kept when valid, else
derived from the requirement.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from ..ir import ItemIR
from ..syntax import Item
from .base import Exported, Format, FormatError, Imported, JSONDict, Notes, Origin, Source, dump_json, number
from .build import clean_text, declaration, item, levels, settings_field, text_node
from .exporting import checks_lost, fields_lost, flat_items, item_lost, kind_changed, weight_of
from .names import NameAllocator, slug

KEY = "autorubric"
CRITERION_KEYS = {"weight", "requirement", "name", "options", "scale_type", "section"}
DEFAULT_WEIGHT = 10.0


def read(data: str, origin: Origin) -> Imported:
    imported = Imported([])
    entries = _criteria(_load(data, origin), origin.path)
    names = _names(entries)
    built = (_item(c, section, n, imported.notes) for (section, c), n in zip(entries, names, strict=True))
    items = [i for i in built if i is not None]
    if not items:
        raise FormatError(f"{origin.path}: no criterion with a non-zero weight")
    allow_na = any(o.get("na") for _, c in entries for o in c.get("options") or [] if isinstance(o, dict))
    judge = settings_field("judge", {"allow_na": "true"} if allow_na else {})
    imported.declarations.append(declaration(origin.base_name(), [judge], items))
    return imported


def _load(data: str, origin: Origin) -> Any:
    suffix = PurePath(origin.path).suffix.lower()
    if suffix not in (".yaml", ".yml"):
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            if suffix == ".json":
                raise FormatError(f"{origin.path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        import yaml
    except ImportError:
        raise FormatError(f"{origin.path}: reading YAML needs PyYAML (pip install pyyaml)") from None
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise FormatError(f"{origin.path}: not JSON or YAML ({exc})") from None


def _criteria(data: Any, where: str) -> list[tuple[str | None, JSONDict]]:
    """(section, criterion) pairs in order, from any of the shapes autorubric accepts."""
    if isinstance(data, dict):
        data = data.get("rubric", data)
    if isinstance(data, dict):
        data = data.get("sections", data)
    if isinstance(data, dict):
        data = [{"name": name, "criteria": criteria} for name, criteria in data.items()]
    if not isinstance(data, list) or not data:
        raise FormatError(f"{where}: expected a list of criteria, or sections of criteria")
    pairs: list[tuple[str | None, JSONDict]] = []
    for entry in data:
        if isinstance(entry, dict) and isinstance(entry.get("criteria"), list):
            pairs.extend((entry.get("name") or entry.get("section"), c) for c in entry["criteria"])
        else:
            pairs.append((None, entry))
    for number_, (_, criterion) in enumerate(pairs, start=1):
        if not isinstance(criterion, dict) or not isinstance(criterion.get("requirement"), str):
            raise FormatError(f"{where}: criterion {number_} has no `requirement` text")
    return pairs


def _names(entries: list[tuple[str | None, JSONDict]]) -> list[str]:
    """Valid given names first (so a derived name never takes one), then names derived for the rest."""
    allocator = NameAllocator()
    given = [allocator.claim_exact(c["name"]) if isinstance(c.get("name"), str) else None for _, c in entries]
    return [name or allocator.claim(slug(str(c.get("name") or c["requirement"]), 40, drop_filler=not c.get("name")))
            for name, (_, c) in zip(given, entries, strict=True)]


def _item(criterion: JSONDict, section: str | None, name: str, notes: Notes) -> Item | None:
    weight = criterion.get("weight", DEFAULT_WEIGHT)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight == 0:
        notes.add("criteria with a zero or missing weight left out", name)
        return None
    for key in sorted(set(criterion) - CRITERION_KEYS):
        notes.add(f"criterion setting `{key}` not carried", name)
    meta: JSONDict | None = {"section": section} if section is not None else None
    text = text_node(criterion["requirement"], name, notes)
    if not criterion.get("options"):
        return item("criterion" if weight > 0 else "pitfall", float(weight), name, text, annotation=meta, key=KEY)
    if weight < 0:
        notes.add("multi-choice criteria with a negative weight left out (a scale's weight is positive)", name)
        return None
    pairs = _levels(criterion["options"], criterion.get("scale_type", "ordinal"), name, notes)
    na_options = [o for o in criterion["options"] if o.get("na")]
    if na_options:
        meta = {**(meta or {}), "na_options": na_options}
    return item("scale", float(weight), name, text, levels=levels(pairs, name, notes), annotation=meta, key=KEY)


def _levels(options: Any, scale_type: Any, where: str, notes: Notes) -> list[tuple[int, str]]:
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise FormatError(f"{where}: `options` must be a list of objects")
    scored = [o for o in options if not o.get("na")]
    if len(scored) < 2 or not all(isinstance(o.get("value"), (int, float)) and clean_text(str(o.get("label", "")))
                                  for o in scored):
        raise FormatError(f"{where}: a multi-choice criterion needs two or more options with a `label` and a `value`")
    if len(scored) < len(options):
        notes.add("NA options become `judge: allow_na: true`, which lets the judge abstain on every item", where)
    order = sorted(range(len(scored)), key=lambda i: (float(scored[i]["value"]), i))
    if scale_type != "ordinal":
        notes.add("nominal options imported as an ordinal scale, ordered by value", where)
    elif order not in (list(range(len(scored))), list(range(len(scored)))[::-1]):
        notes.add("options not listed in value order: levels follow the values", where)
    even = [j / (len(scored) - 1) for j in range(len(scored))]
    values = [float(scored[i]["value"]) for i in order]
    if any(abs(v - e) > 1e-9 for v, e in zip(values, even, strict=True)):
        notes.add("option values not evenly spaced from 0 to 1: a scale credits its levels evenly", where)
    return [(j + 1, str(scored[i]["label"])) for j, i in enumerate(order)]


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    source = sources[0]
    entries = [(source.item_meta.get(it.name, {}).get("section"), criterion)
               for it in flat_items(source.ir.items, exported.notes, source.ir.name)
               if (criterion := _criterion(it, source, exported.notes)) is not None]
    if not entries:
        raise FormatError(f"rubric `{source.ir.name}` has no item autorubric can hold")
    has_na = any(o.get("na") for _, c in entries for o in c.get("options", []))
    fields_lost(source.ir, exported.notes, judge={"allow_na": True} if has_na else None)
    exported.text = dump_json(_sectioned(entries))
    return exported


def _criterion(it: ItemIR, source: Source, notes: Notes) -> JSONDict | None:
    rubric = source.ir.name
    if it.kind == "hard":
        item_lost(it, notes, rubric, "autorubric")
        return None
    if it.kind == "criterion" and weight_of(it) < 0:
        kind_changed(it, "negative-weight criteria (pitfalls on import)", notes, rubric)
    elif it.kind not in ("criterion", "pitfall", "scale"):
        kind_changed(it, "weighted criteria", notes, rubric)
    checks_lost(it, notes, rubric)
    out: JSONDict = {"name": it.name, "weight": number(weight_of(it)), "requirement": it.text}
    if it.kind == "scale" and it.levels and it.credit_span:
        low, high = it.credit_span
        if low != 1:
            notes.add("scale levels renumbered from 1 on import", f"{rubric}.{it.name}")
        out["scale_type"] = "ordinal"
        out["options"] = [{"label": lv.text, "value": (lv.level - low) / (high - low)} for lv in it.levels]
        if source.ir.judge.allow_na:
            out["options"].extend(source.item_meta.get(it.name, {}).get("na_options", []))
    return out


def _sectioned(entries: list[tuple[str | None, JSONDict]]) -> list[JSONDict]:
    """Runs of criteria with the same section become `{"name", "criteria"}` entries; others stay plain."""
    out: list[JSONDict] = []
    for section, criterion in entries:
        if section is None:
            out.append(criterion)
        elif out and out[-1].get("name") == section and "criteria" in out[-1]:
            out[-1]["criteria"].append(criterion)
        else:
            out.append({"name": section, "criteria": [criterion]})
    return out


FORMAT = Format(KEY, "autorubric criteria lists (JSON or YAML): weight, requirement, name, options", read, write,
                several=False, suffix=".json")
