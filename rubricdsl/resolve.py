"""Resolving a declaration: expand `use`, lend settings, and name every item.

Output is a `Resolved` declaration whose items are plain `Item` nodes (no `Use` left), each with a name,
in rubric order; spans still point at the file each item was written in, so errors name both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .diagnostics import Diagnostic, Span, error
from .loader import LoadedFile
from .settings import read_settings
from .syntax import Declaration, Item, Setting, Use


@dataclass
class Resolved:
    declaration: Declaration
    source: LoadedFile
    items: tuple[Item, ...]
    scoring: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def resolve(declaration: Declaration, source: LoadedFile) -> Resolved:
    resolved = Resolved(declaration, source, ())
    expanded = _expand(declaration.body, source, [declaration.name], resolved.problems)
    resolved.items = _name_items(expanded, resolved.problems)
    resolved.scoring, resolved.judge = _settings(declaration, source, [declaration.name])
    return resolved


def _expand(
    body: tuple[Item | Use, ...], source: LoadedFile, stack: list[str], problems: list[Diagnostic]
) -> list[Item]:
    items: list[Item] = []
    for node in body:
        if isinstance(node, Item):
            children = _expand(node.children, source, stack, problems) if node.children else []
            items.append(replace(node, children=tuple(children)))
            continue
        target = _lookup(node, source, problems)
        if target is None:
            continue
        declaration, owner = target
        if declaration.name in stack:
            cycle = " → ".join([*stack[stack.index(declaration.name) :], declaration.name])
            problems.append(error("E206", node.name_span, f"`use` cycle: {cycle}", "remove one of these `use` lines"))
            continue
        items.extend(_expand(declaration.body, owner, [*stack, declaration.name], problems))
    return items


def _lookup(node: Use, source: LoadedFile, problems: list[Diagnostic]) -> tuple[Declaration, LoadedFile] | None:
    visible = source.visible()
    if node.name in visible:
        return visible[node.name]
    names = ", ".join(f"`{n}`" for n in sorted(visible)) or "none"
    hint = f"visible names: {names}" + ("" if source.imports else "; import the file that declares it")
    problems.append(error("E201", node.name_span, f"unknown name `{node.name}`", hint))
    return None


def _name_items(items: list[Item], problems: list[Diagnostic]) -> tuple[Item, ...]:
    """Give unnamed items `KIND_N` (N counts items of that kind, depth-first) and check names are unique."""
    counts: dict[str, int] = {}
    seen: dict[str, Item] = {}

    def visit(item: Item) -> Item:
        counts[item.kind] = counts.get(item.kind, 0) + 1
        name = item.name or f"{item.kind}_{counts[item.kind]}"
        children = tuple(visit(c) for c in item.children if isinstance(c, Item))
        named = replace(item, name=name, children=children)
        earlier = seen.get(name)
        if earlier is not None:
            span = (item.name_span or item.kind_span) if item.name else item.kind_span
            generated = "" if item.name else f" (the name generated for this unnamed `{item.kind}`)"
            problems.append(
                error(
                    "E208" if not item.name or not earlier.name else "E207",
                    span,
                    f"item name `{name}`{generated} is already used",
                    f"first used at {_where(earlier.name_span or earlier.kind_span)}; rename one of them",
                )
            )
        else:
            seen[name] = item
        return named

    # Count in depth-first pre-order: a group is counted before its children.
    return tuple(visit(item) for item in items)


def _settings(declaration: Declaration, source: LoadedFile, stack: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Own settings, then those lent by used rubrics (first `use` wins, transitively)."""
    own = {}
    for block in ("scoring", "judge"):
        fields = [f for f in declaration.fields if f.key == block]
        entries = tuple(s for f in fields for s in f.value if isinstance(s, Setting))  # type: ignore[union-attr]
        own[block] = read_settings(block, entries)[0]
    for use in _uses(declaration.body):
        target = source.visible().get(use.name)
        if target is None or target[0].name in stack or target[0].kind != "rubric":
            continue
        lent_scoring, lent_judge = _settings(target[0], target[1], [*stack, target[0].name])
        for key, value in lent_scoring.items():
            own["scoring"].setdefault(key, value)
        for key, value in lent_judge.items():
            own["judge"].setdefault(key, value)
    return own["scoring"], own["judge"]


def _uses(body: tuple[Item | Use, ...]) -> list[Use]:
    found: list[Use] = []
    for node in body:
        if isinstance(node, Use):
            found.append(node)
        else:
            found.extend(_uses(node.children))
    return found


def _where(span: Span) -> str:
    return f"{span.path or '<string>'}:{span.line}:{span.column}"
