"""`rubric diff`: what changed between two versions of a rubric, and how rewards and rankings move.

Items are matched by name; an item that disappears while another with the same text (spacing aside) appears
is a rename. For a matched item, each of its text, kind, weight, check, levels and enclosing group is
compared. Fields (title, prompt, reference, tags) and each `scoring:`/`judge:` setting are compared too.

With responses, each row's verdicts (a `rubric grade` result's `verdicts`, or people's `labels`: a bool, or
several people's, whose mean is the credit) score the row under both versions with the aggregator. Checks
are run again on the row's `response` text when it has one, so a changed check counts exactly; when a check
changed and a row has no response text (a `rubric grade` result carries none), the verdict it holds was
decided by only one of the two checks, so `DiffError` refuses rather than reuse it for both. A renamed
item takes the verdict of its other name; a reworded item keeps its verdict (regrade to see how the judge
reads the new wording). A row that lacks a verdict for a judge-decided item of either version is left out
and counted, never guessed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ..ir import ItemIR, RubricIR, iter_items


class DiffError(ValueError):
    """The responses cannot show how rewards move (a changed check and rows without their response text)."""


class ItemDiff(BaseModel):
    name: str
    old_name: str | None = None  # set for a renamed item
    changes: dict[str, tuple[Any, Any]] = Field(default_factory=dict)  # aspect → (old, new)


class Mover(BaseModel):
    id: str | int
    old: float
    new: float
    change: float


class Movement(BaseModel):
    rows: int  # rows scored under both versions
    left_out: int
    missing: dict[str, int] = Field(default_factory=dict)  # item → rows left out for lack of its verdict
    mean_old: float | None = None
    mean_new: float | None = None
    mean_change: float | None = None
    spearman: float | None = None  # rank correlation of the two versions' rewards
    movers: list[Mover] = Field(default_factory=list)  # the largest |change| first


class RubricDiff(BaseModel):
    old: str
    new: str
    identical: bool
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[ItemDiff] = Field(default_factory=list)  # renamed items included (with old_name)
    fields: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    settings: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    movement: Movement | None = None


def _norm(text: str) -> str:
    return " ".join(text.split())


def _parents(rubric: RubricIR) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}

    def walk(items: tuple[ItemIR, ...], parent: str | None) -> None:
        for item in items:
            parents[item.name] = parent
            walk(item.items or (), item.name)

    walk(rubric.items, None)
    return parents


def _aspects(item: ItemIR, parent: str | None) -> dict[str, Any]:
    levels = [(lv.level, lv.text) for lv in item.levels] if item.levels else None
    return {"kind": item.kind, "weight": item.weight, "text": item.text, "check": item.check, "levels": levels,
            "group": parent}


def compare(old: RubricIR, new: RubricIR) -> RubricDiff:
    before = {i.name: i for i in iter_items(old.items)}
    after = {i.name: i for i in iter_items(new.items)}
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    renamed: dict[str, str] = {}  # new name → old name
    for name in list(added):
        match = next((o for o in removed if _norm(before[o].text) == _norm(after[name].text)), None)
        if match is not None:
            renamed[name] = match
            removed.remove(match)
            added.remove(name)
    old_parents, new_parents = _parents(old), _parents(new)
    changed = []
    for name, item in after.items():
        if name in added:
            continue
        source = renamed.get(name, name)
        was = _aspects(before[source], old_parents[source])
        now = _aspects(item, new_parents[name])
        if was["group"] is not None and renamed.get(now["group"] or "") == was["group"]:
            was["group"] = now["group"]  # the group itself was renamed: the item did not move
        changes = {key: (was[key], now[key]) for key in now if was[key] != now[key]}
        if changes or name in renamed:
            changed.append(ItemDiff(name=name, old_name=renamed.get(name), changes=changes))
    fields = {key: (getattr(old, key), getattr(new, key)) for key in ("name", "title", "prompt", "reference", "tags")
              if getattr(old, key) != getattr(new, key)}
    settings = {f"{block}.{key}": (value, getattr(getattr(new, block), key))
                for block in ("scoring", "judge") for key, value in getattr(old, block).model_dump().items()
                if value != getattr(getattr(new, block), key)}
    identical = not (added or removed or changed or fields or settings)
    return RubricDiff(old=old.name, new=new.name, identical=identical, added=added, removed=removed, changed=changed,
                      fields=fields, settings=settings)


# ------------------------------------------------------------------------------------------- reward movement


def _given(row: Mapping[str, Any]) -> dict[str, Any]:
    """Item → a value `to_verdict` reads: a result's Verdict, or the mean of people's labels."""
    from ..scoring import Verdict
    from .metaeval import person_labels

    given: dict[str, Any] = {}
    for name, value in (row.get("verdicts") or {}).items():
        if isinstance(value, Mapping):
            if value.get("source") != "group":
                given[name] = Verdict.model_validate(value)
        elif value is not None:
            given[name] = value
    for name, value in (row.get("labels") or {}).items():
        labels = person_labels(value, f"id {row.get('id')}, item {name}")
        if labels:
            given[name] = sum(labels) / len(labels)
    return given


def reward_under(rubric: RubricIR, row: Mapping[str, Any],
                 aliases: Mapping[str, str]) -> tuple[float | None, list[str]]:
    """(reward, []) or (None, items without a verdict); checks rerun on the row's `response` when it has one."""
    from ..checks import CheckContext
    from ..parser import parse_check
    from ..scoring import GradingError, aggregate

    given, response = _given(row), graded_text(row)
    verdicts: dict[str, Any] = {}
    missing = []
    for leaf in rubric.leaves():
        if leaf.check is not None and response is not None:
            verdicts[leaf.name] = CheckContext(response).evaluate(parse_check(leaf.check))
        elif leaf.name in given or aliases.get(leaf.name) in given:
            verdicts[leaf.name] = given.get(leaf.name, given.get(aliases.get(leaf.name, "")))
        else:
            missing.append(leaf.name)
    if missing:
        return None, missing
    try:
        reward = aggregate(rubric, verdicts).reward
    except (GradingError, ValueError) as exc:
        return None, [f"(no reward: {exc})"]
    return reward, []


def graded_text(row: Mapping[str, Any]) -> str | None:
    """The text a check reads: the row's `response` (its last assistant turn for a chat), None without one."""
    from ..dataset_io import response_text

    value = row.get("response")
    if value is None:
        return None
    try:
        return response_text(value)[0]
    except ValueError as exc:
        raise DiffError(f"responses: id {row.get('id')}: {exc}") from None


def require_response_text(diff: RubricDiff, rows: list[Mapping[str, Any]]) -> None:
    """Refuse when a check changed and some row has no response text to run it on.

    Such a row's verdict for the item came from one version's check (or from the judge, when the check is
    new or gone); used for both versions it would make the item look unchanged, silently.
    """
    changed = [d for d in diff.changed if "check" in d.changes]
    if not changed:
        return
    textless = [row.get("id") for row in rows if graded_text(row) is None]
    if not textless:
        return
    checks = "; ".join(f"`{d.name}`: {d.changes['check'][0]} → {d.changes['check'][1]}" for d in changed)
    shown = ", ".join(str(i) for i in textless[:5]) + (", ..." if len(textless) > 5 else "")
    raise DiffError(
        f"a check changed ({checks}) and {len(textless)} row(s) have no `response` text to run it on "
        f"(id {shown}); their verdicts were decided under one version only. Pass --responses rows that carry "
        "`response` as well as `verdicts` or `labels` (a `rubric grade` result has no response text: add the "
        "`response` of its input row, matched by `id`)")


def spearman(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None with fewer than two rows or a constant side."""
    if len(x) < 2:
        return None
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # ties share the mean of their ranks
        same = values == value
        ranks[same] = ranks[same].mean()
    return ranks


def movement(old: RubricIR, new: RubricIR, rows: Iterable[Mapping[str, Any]], diff: RubricDiff,
             top: int = 5) -> Movement:
    rows = list(rows)
    require_response_text(diff, rows)
    to_old = {d.name: d.old_name for d in diff.changed if d.old_name}
    to_new = {o: n for n, o in to_old.items()}
    scored: list[tuple[Any, float, float]] = []
    missing: dict[str, int] = {}
    left_out = 0
    for index, row in enumerate(rows, start=1):
        before, lack_old = reward_under(old, row, to_new)
        after, lack_new = reward_under(new, row, to_old)
        if before is None or after is None:
            left_out += 1
            for name in dict.fromkeys([*lack_old, *lack_new]):
                missing[name] = missing.get(name, 0) + 1
            continue
        scored.append((row.get("id", index), before, after))
    if not scored:
        return Movement(rows=0, left_out=left_out, missing=missing)
    x = np.array([s[1] for s in scored])
    y = np.array([s[2] for s in scored])
    movers = sorted(scored, key=lambda s: -abs(s[2] - s[1]))[:top]
    return Movement(rows=len(scored), left_out=left_out, missing=missing, mean_old=float(x.mean()),
                    mean_new=float(y.mean()), mean_change=float((y - x).mean()), spearman=spearman(x, y),
                    movers=[Mover(id=i, old=a, new=b, change=b - a) for i, a, b in movers if b != a])


def diff_rubrics(old: RubricIR | str | os.PathLike[str], new: RubricIR | str | os.PathLike[str], *,
                 rubric: str | None = None,
                 responses: str | os.PathLike[str] | Iterable[Mapping[str, Any]] | None = None,
                 top: int = 5) -> RubricDiff:
    """The changes from `old` to `new` (compiled rubrics or files; `rubric` picks one in a file with several),
    and with `responses` (rows with `verdicts` or `labels`, and `response` for checks) how rewards move.

    Raises `DiffError` when a check changed and a row has no `response` text to run it on."""
    from ..api import load_rubric
    from .metaeval import read_jsonl

    before = old if isinstance(old, RubricIR) else load_rubric(old, rubric)
    after = new if isinstance(new, RubricIR) else load_rubric(new, rubric)
    diff = compare(before, after)
    if responses is not None:
        diff.movement = movement(before, after, read_jsonl(responses, "responses"), diff, top)
    return diff


def render_diff(diff: RubricDiff) -> str:
    def show(value: Any) -> str:
        text = repr(value) if not isinstance(value, str) else value
        return text if len(text) <= 100 else text[:97] + "..."

    lines = [f"{diff.old} → {diff.new}: " + ("no change" if diff.identical else
             f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed")]
    lines += [f"+ {name}" for name in diff.added] + [f"- {name}" for name in diff.removed]
    for item in diff.changed:
        lines.append(f"~ {item.name}" + (f" (renamed from {item.old_name})" if item.old_name else ""))
        for aspect, (was, now) in item.changes.items():
            label = "reworded" if aspect == "text" else "reweighted" if aspect == "weight" else f"{aspect} changed"
            if aspect == "text" and _norm(str(was)) == _norm(str(now)):
                label = "respaced"
            lines.append(f"    {label}: {show(was)}  →  {show(now)}")
    for key, (was, now) in {**diff.fields, **diff.settings}.items():
        lines.append(f"* {key}: {show(was)}  →  {show(now)}")
    move = diff.movement
    if move is not None:
        lines.append("")
        lines.append(f"rewards over {move.rows} response(s) ({move.left_out} left out"
                     + (": no verdict for " + ", ".join(f"{n} ({c})" for n, c in move.missing.items()) if move.missing
                        else "") + ")")
        if move.rows:
            rho = "-" if move.spearman is None else f"{move.spearman:.4f}"
            lines.append(f"mean {move.mean_old:.4f} → {move.mean_new:.4f} (change {move.mean_change:+.4f}); "
                         f"Spearman rank correlation {rho}")
            lines += [f"  id {m.id}: {m.old:.4f} → {m.new:.4f} ({m.change:+.4f})" for m in move.movers]
    return "\n".join(lines)
