"""`paperbench`: PaperBench rubric trees (`id`, `requirements`, `weight`, `sub_tasks`, `task_category`, ...).

The root becomes the rubric (its `requirements` the title), inner nodes `group` items and leaves `criterion`
items, each with its node's weight and in the tree's order, under `scoring: normalize: sum`: a group's credit
is then the weighted mean of its children, as PaperBench computes scores. A leaf of weight 0 is left out
(the language has no zero-weight leaf, and it moves neither the sum nor the weights of its siblings); a
zero-weight inner node stays a `group 0`. Node ids and the other node fields are kept in `# @paperbench`
annotations; the grading results of judge_eval trees (`score`, `explanation`, ...) are not a rubric's and
are left out. A node is named by a short slug of its requirements and six hex digits of the SHA-256 of its
id (its position when it has none), or by its id itself when that is already a valid name.
"""

from __future__ import annotations

from typing import Any

from ..ir import ItemIR
from ..syntax import Item
from .base import Exported, Format, FormatError, Imported, JSONDict, Notes, Origin, Source, dump_json, load_json, number
from .build import cleaned, declaration, item, settings_field, text_field, text_node
from .exporting import checks_lost, fields_lost, item_lost, kind_changed, weight_of
from .names import NameAllocator, is_free, short_hash, slug

KEY = "paperbench"
STRUCTURE = ("requirements", "weight", "sub_tasks")
GRADING = ("score", "valid_score", "explanation", "judge_metadata")
PLACEHOLDER = "(no requirements text in the source)"


def read(data: str, origin: Origin) -> Imported:
    root = load_json(data, origin.path)
    if not isinstance(root, dict) or not isinstance(root.get("sub_tasks"), list):
        raise FormatError(f"{origin.path}: expected a PaperBench tree, an object with `sub_tasks`")
    imported = Imported([])
    allocator = NameAllocator()
    root_id = root.get("id")
    name = origin.name or (root_id if isinstance(root_id, str) and is_free(root_id) else origin.base_name())
    items = [it for it in (_node(child, (i,), allocator, imported.notes) for i, child in enumerate(root["sub_tasks"]))
             if it is not None]
    if not items:
        raise FormatError(f"{origin.path}: the tree has no weighted leaf")
    title = text_field("title", _requirements(root, name, imported.notes), name) if root.get("requirements") else None
    fields = [title, settings_field("scoring", {"normalize": "sum"})]
    meta = _meta(root, name, imported.notes)
    if root.get("weight", 1) != 1:
        meta["weight"] = root.get("weight")
    imported.declarations.append(declaration(name, fields, items, annotation=meta, key=KEY))
    return imported


def _node(node: Any, path: tuple[int, ...], allocator: NameAllocator, notes: Notes) -> Item | None:
    where = "node " + ".".join(str(i + 1) for i in path)
    if not isinstance(node, dict):
        raise FormatError(f"{where}: expected an object")
    weight = node.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise FormatError(f"{where}: `weight` must be a number of at least 0")
    children = node.get("sub_tasks") or []
    if not children and weight == 0:
        notes.add("leaves of weight 0 left out (they change no score)", str(node.get("id", where)))
        return None
    name = _name(node, where, allocator)
    text = text_node(_requirements(node, where, notes), name)
    meta = _meta(node, name, notes)
    if not children:
        return item("criterion", float(weight), name, text, annotation=meta, key=KEY)
    kids = [k for k in (_node(c, (*path, i), allocator, notes) for i, c in enumerate(children)) if k is not None]
    if not kids:
        notes.add("inner nodes whose leaves all have weight 0 left out", str(node.get("id", where)))
        return None
    return item("group", float(weight), name, text, children=tuple(kids), annotation=meta, key=KEY)


def _name(node: JSONDict, where: str, allocator: NameAllocator) -> str:
    node_id = node.get("id")
    if isinstance(node_id, str) and (exact := allocator.claim_exact(node_id)):
        return exact
    key = str(node_id) if node_id is not None else where
    base = slug(str(node.get("requirements") or ""), 32, drop_filler=True) or "node"
    return allocator.claim(f"{base}_{short_hash(key)}")


def _requirements(node: JSONDict, where: str, notes: Notes) -> str:
    text = cleaned(str(node.get("requirements") or ""), where, notes)
    if not text:
        notes.add(f"nodes with no requirements text get the text {PLACEHOLDER!r}", where)
        return PLACEHOLDER
    return text


def _meta(node: JSONDict, name: str, notes: Notes) -> JSONDict:
    """Every field but the tree's structure and grading results (kept as an annotation)."""
    if any(key in node for key in GRADING):
        notes.add("grading results (`score`, `explanation`, ...) are not part of a rubric: left out")
    meta = {k: v for k, v in node.items() if k not in STRUCTURE and k not in GRADING}
    if meta.get("id") == name:
        del meta["id"]
    return meta


def write(sources: list[Source]) -> Exported:
    exported = Exported("")
    source = sources[0]
    ir = source.ir
    fields_lost(ir, exported.notes, carried=("title",), scoring={"normalize": "sum"})
    root = {"id": source.meta.get("id", ir.name), "requirements": ir.title, "weight": source.meta.get("weight", 1),
            "sub_tasks": _nodes(ir.items, source, exported.notes), "task_category": None}
    root.update({k: v for k, v in source.meta.items() if k not in root})
    if not root["sub_tasks"]:
        raise FormatError(f"rubric `{ir.name}` has no item PaperBench can hold")
    exported.text = dump_json(root)
    return exported


def _nodes(items: tuple[ItemIR, ...], source: Source, notes: Notes) -> list[JSONDict]:
    out = []
    for it in items:
        rubric = source.ir.name
        if it.kind in ("hard", "scale"):
            item_lost(it, notes, rubric, "PaperBench")
            continue
        if it.kind not in ("group", "criterion") or weight_of(it) < 0:
            kind_changed(it, "weighted nodes", notes, rubric)
        checks_lost(it, notes, rubric)
        meta = source.item_meta.get(it.name, {})
        children = _nodes(it.items or (), source, notes) if it.kind == "group" else []
        if it.kind == "group" and not children:
            notes.add("groups with nothing PaperBench can hold left out", f"{rubric}.{it.name}")
            continue
        node = {"id": meta.get("id", it.name), "requirements": it.text, "weight": number(weight_of(it)),
                "sub_tasks": children, "task_category": meta.get("task_category")}
        if "finegrained_task_category" in meta or "task_category" not in meta:
            node["finegrained_task_category"] = meta.get("finegrained_task_category")
        node.update({k: v for k, v in meta.items() if k not in node})
        if not children and "task_category" not in meta:
            notes.add("leaves with no `task_category` written with null", f"{rubric}.{it.name}")
        out.append(node)
    return out


FORMAT = Format(KEY, "PaperBench rubric trees (JSON): weighted requirement nodes, scored as recursive weighted means",
                read, write, several=False, suffix=".json")
