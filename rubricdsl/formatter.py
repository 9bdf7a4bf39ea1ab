"""Formatting: syntax tree → canonical `.rubric` text (LANGUAGE.md "Formatting").

4-space indentation, fields first in the table's order, one blank line between the fields and the items
and between declarations, default weights omitted, canonical check spelling, comments kept with the
statement they were written above (or after, for trailing comments). `parse(format(x)) == parse(x)`.
"""

from __future__ import annotations

from .checks import render
from .parser import parse
from .source import BLOCK_QUOTE
from .syntax import Check, Declaration, Field, File, Import, Item, Level, Setting, Text, Use

INDENT = "    "


def format_text(text: str, path: str | None = None) -> str:
    """Parse and format; raises RubricError when the text does not parse."""
    return format_file(parse(text, path))


def format_file(file: File) -> str:
    chunks: list[list[str]] = []
    if file.imports:
        chunks.append([line for node in file.imports for line in _import(node)])
    chunks.extend(_declaration(d) for d in file.declarations)
    if file.trailing_comments:
        chunks.append(list(file.trailing_comments))
    return "\n\n".join("\n".join(chunk) for chunk in chunks) + ("\n" if chunks else "")


def _with_comments(comments: tuple[str, ...], indent: str, line: str, trailing: str | None = None) -> list[str]:
    suffix = f"  {trailing}" if trailing else ""
    return [f"{indent}{c}" for c in comments] + [f"{indent}{line}{suffix}"]


def _import(node: Import) -> list[str]:
    return _with_comments(node.comments, "", f'import "{node.path}"', node.trailing_comment)


def _declaration(node: Declaration) -> list[str]:
    lines = _with_comments(node.comments, "", f"{node.kind} {node.name}:", node.trailing_comment)
    fields = [line for field in node.fields for line in _field(field, INDENT)]
    body = [line for child in node.body for line in _body(child, INDENT)]
    lines.extend(fields)
    if fields and body:
        lines.append("")
    lines.extend(body)
    return lines


def _field(field: Field, indent: str) -> list[str]:
    if isinstance(field.value, Text):
        return _texted(field.comments, indent, f"{field.key}:", field.value)
    if field.key == "tags":
        labels = ", ".join(str(label) for label in field.value)
        return _with_comments(field.comments, indent, f"tags: {labels}")
    lines = _with_comments(field.comments, indent, f"{field.key}:", field.trailing_comment)
    for entry in field.value:
        assert isinstance(entry, Setting)
        lines.extend(_with_comments(entry.comments, indent + INDENT, f"{entry.key}: {entry.value}",
                                    entry.trailing_comment))
    return lines


def _texted(comments: tuple[str, ...], indent: str, head: str, text: Text) -> list[str]:
    """`head text`, or `head \"\"\"` with the text indented one level deeper when it needs a block."""
    if not (text.block or "\n" in text.value or text.value.strip() != text.value or text.value == BLOCK_QUOTE):
        return _with_comments(comments, indent, f"{head} {text.value}")
    inner = indent + INDENT
    body = [f"{inner}{line}" if line.strip() else "" for line in text.value.split("\n")]
    return [*_with_comments(comments, indent, f'{head} {BLOCK_QUOTE}'), *body, f"{inner}{BLOCK_QUOTE}"]


def _body(node: Item | Use, indent: str) -> list[str]:
    if isinstance(node, Use):
        return _with_comments(node.comments, indent, f"use {node.name}", node.trailing_comment)
    return _item(node, indent)


def format_weight(weight: float) -> str:
    return str(int(weight)) if weight == int(weight) else repr(weight)


def _item(item: Item, indent: str) -> list[str]:
    head = item.kind
    if item.weight is not None:
        head += f" {format_weight(item.weight)}"
    if item.name is not None:
        head += f" {item.name}"
    lines = _texted(item.comments, indent, f"{head}:", item.text)
    inner = indent + INDENT
    for check in (item.check, *item.extra_checks) if item.check else ():
        lines.extend(_check(check, inner))
    for level in item.levels:
        lines.extend(_level(level, inner))
    for child in item.children:
        lines.extend(_body(child, inner))
    return lines


def _check(check: Check, indent: str) -> list[str]:
    return _with_comments(check.comments, indent, f"check: {render(check.expr)}", check.trailing_comment)


def _level(level: Level, indent: str) -> list[str]:
    return _texted(level.comments, indent, f"{level.level}:", level.text)
