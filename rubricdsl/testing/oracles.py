"""Deterministic oracles: what the fake judge answers, computed from the request alone.

A test states the verdicts it expects *inside the graded response* (markers such as ``[clarity]``), so the
expected reward is known without a model and the grader's whole path (prompt, fence, schema, parsing,
scoring) is exercised for real. Oracles get an :class:`OracleContext` and return the tool input dict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "UNSET",
    "Fault",
    "Oracle",
    "OracleContext",
    "allowed_values",
    "deref",
    "extract_response",
    "fill_from_schema",
    "find_embedded_schema",
    "inline_refs",
    "marker_oracle",
    "message_text",
]

JSONDict = dict[str, Any]
Path = tuple[str | int, ...]

UNSET: Any = type("Unset", (), {"__repr__": lambda self: "UNSET"})()
"""Returned by a ``decide`` callback to let :func:`fill_from_schema` build the default value."""

_OPEN_FENCE = re.compile(r"<response-([0-9a-f]+)>")


class Fault(Exception):
    """Raised by an oracle to make the server answer with a fault (``"429"``, ``"malformed"``, ...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class OracleContext:
    """Everything an oracle may look at; ``schema`` is ``None`` when the request carries no schema field."""

    response: str
    body: JSONDict
    schema: JSONDict | None
    field_names: tuple[str, ...]
    provider: str = "anthropic"
    tool_name: str | None = None
    raw_schema: JSONDict | None = None
    is_reask: bool = False
    extras: JSONDict = field(default_factory=dict)


Oracle = Callable[[OracleContext], "JSONDict | str"]


def message_text(content: Any) -> str:
    """Plain text of a message's content: a string, or the ``text`` of its text blocks joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def extract_response(messages: list[Any]) -> str:
    """The fenced response of the last user message that has a fence, else the whole last user message.

    Earlier user messages are searched too because instructor's re-ask appends a ``tool_result`` turn, and
    the re-asked judge must still see the response it is grading.
    """
    texts = [message_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    for text in reversed(texts):
        opening = _OPEN_FENCE.search(text)
        if opening is None:
            continue
        start, closing = opening.end(), f"</response-{opening.group(1)}>"
        end = text.rfind(closing)
        inner = text[start:end] if end >= start else text[start:]
        inner = inner[1:] if inner.startswith("\n") else inner
        return inner[:-1] if inner.endswith("\n") else inner
    return texts[-1] if texts else ""


def deref(node: Any, root: Mapping[str, Any]) -> Any:
    """Follow ``$ref`` pointers (``#/$defs/X`` or any local JSON pointer) until a node without one."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#"):
            return node
        seen.add(ref)
        target: Any = root
        for part in ref[1:].split("/")[1:]:
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def inline_refs(schema: JSONDict) -> JSONDict:
    """A copy of ``schema`` with every non-recursive ``$ref`` replaced by its target (recursive ones kept)."""

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                if ref in stack:
                    return dict(node)
                return walk(deref(node, schema), (*stack, ref))
            return {k: walk(v, stack) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, stack) for v in node]
        return node

    out: JSONDict = walk(schema, ())
    return out


def allowed_values(node: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> list[Any] | None:
    """Finite set of values a schema admits (``enum``, ``const``, ``anyOf``/``oneOf`` of those), else None."""
    node = deref(node, root or node)
    if "const" in node:
        return [node["const"]]
    if isinstance(node.get("enum"), list):
        return list(node["enum"])
    options = node.get("anyOf") or node.get("oneOf")
    if isinstance(options, list):
        values: list[Any] = []
        for option in options:
            sub = allowed_values(option, root or node)
            if sub is None:
                return None
            values.extend(sub)
        return values
    return None


def _first_type(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return non_null[0] if non_null else "null"
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in node else None


def fill_from_schema(
    schema: Mapping[str, Any],
    decide: Callable[[Path, Mapping[str, Any]], Any] | None = None,
    *,
    root: Mapping[str, Any] | None = None,
    path: Path = (),
) -> Any:
    """Build a valid instance of ``schema``; ``decide(path, node)`` may answer any node (UNSET passes).

    Defaults are the plainest valid values (first enum/const, False, 0 or ``minimum``, a string of
    ``minLength``, every property of an object, ``minItems`` items), so oracles state only what matters.
    """
    root = root if root is not None else schema
    node = deref(schema, root)
    if decide is not None:
        chosen = decide(path, node)
        if chosen is not UNSET:
            return chosen
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    if "default" in node:
        return node["default"]
    for combinator in ("anyOf", "oneOf"):
        options = node.get(combinator)
        if isinstance(options, list) and options:
            resolved = [deref(o, root) for o in options]
            best = next((o for o in resolved if o.get("type") != "null"), resolved[0])
            return fill_from_schema(best, decide, root=root, path=path)
    if isinstance(node.get("allOf"), list) and node["allOf"]:
        return fill_from_schema(node["allOf"][0], decide, root=root, path=path)
    kind = _first_type(node)
    if kind == "object":
        props = node.get("properties") or {}
        return {name: fill_from_schema(sub, decide, root=root, path=(*path, name)) for name, sub in props.items()}
    if kind == "array":
        items = node.get("items") or {}
        count = int(node.get("minItems", 0))
        return [fill_from_schema(items, decide, root=root, path=(*path, i)) for i in range(count)]
    if kind == "string":
        return "x" * int(node.get("minLength", 0))
    if kind in ("integer", "number"):
        low = node["minimum"] if "minimum" in node else node.get("exclusiveMinimum", -1) + 1
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return False
    return None


def find_embedded_schema(text: str) -> JSONDict | None:
    """The first JSON object in ``text`` with ``properties``: JSON mode sends the schema inside a prompt."""
    decoder = json.JSONDecoder()
    index = text.find("{")
    while index != -1:
        try:
            value, _ = decoder.raw_decode(text, index)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("properties"), dict):
            return value
        index = text.find("{", index + 1)
    return None


def _lowest(values: list[Any]) -> Any:
    return min(values) if all(isinstance(v, (int, float)) for v in values) else values[0]


def _marker_item(name: str, node: Mapping[str, Any], root: Mapping[str, Any], response: str) -> Any:
    """One item verdict from the markers, or UNSET when ``node`` is not an item-shaped object."""
    props = node.get("properties")
    if not isinstance(props, dict) or "reason" not in props:
        return UNSET
    value = fill_from_schema(node, root=root)
    if "holds" in props:
        value["holds"] = f"[{name}]" in response
    elif "answer" in props:
        value["answer"] = "holds" if f"[{name}]" in response else "partly" if f"[{name}~]" in response else "does_not"
    elif "level" in props:
        level_schema = deref(props["level"], root)
        levels = allowed_values(level_schema, root)
        found = re.search(rf"\[{re.escape(name)}=([^\]]+)\]", response)
        if levels:
            picked = [v for v in levels if found and str(v) == found.group(1).strip()]
            value["level"] = picked[0] if picked else _lowest(levels)
        elif found and found.group(1).strip().lstrip("-").isdigit():
            value["level"] = int(found.group(1))
        else:
            value["level"] = fill_from_schema(level_schema, root=root)
    else:
        return UNSET
    if "cannot_assess" in props:
        value["cannot_assess"] = f"[{name}?]" in response
    value["reason"] = f"marker oracle: {name}"
    return value


def marker_oracle(ctx: OracleContext) -> JSONDict:
    """Decide items from markers in the response: ``[NAME]`` holds, ``[NAME~]`` partly, ``[NAME=K]`` level K.

    ``[NAME?]`` sets ``cannot_assess``. Without a schema field (JSON mode) the schema embedded in the
    prompt is used; with none at all the answer is ``{}``, which the client's validation rejects.
    """
    schema = ctx.raw_schema or ctx.schema
    if schema is None:
        schema = find_embedded_schema("\n".join(message_text(m.get("content")) for m in _all_messages(ctx.body)))
    if schema is None:
        return {}
    props = deref(schema, schema).get("properties") or {}
    out: JSONDict = {}
    for name, sub in props.items():
        node = deref(sub, schema)
        item = _marker_item(name, node, schema, ctx.response)
        out[name] = item if item is not UNSET else fill_from_schema(node, root=schema, path=(name,))
    return out


def _all_messages(body: Mapping[str, Any]) -> list[JSONDict]:
    """System prompt(s) first, then the messages: where JSON mode hides its schema."""
    system = body.get("system")
    head = [{"content": system}] if system else []
    return head + [m for m in body.get("messages") or [] if isinstance(m, dict)]
