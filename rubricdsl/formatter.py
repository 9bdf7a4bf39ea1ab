"""Formatting: syntax tree → canonical `.rubric` text (LANGUAGE.md "Formatting").

4-space indentation, fields first in the table's order, one blank line between the fields and the items
and between declarations, default weights omitted, canonical check spelling, comments kept with the
statement they were written above (or after, for trailing comments). `parse(format(x)) == parse(x)`.
"""

from __future__ import annotations

from collections.abc import Callable

from .checks import render
from .parser import parse
from .source import BLOCK_QUOTE
from .syntax import Declaration, Field, File, Import, Item, Setting, Text, Use

INDENT = "    "


def format_text(text: str, path: str | None = None) -> str:
    """Parse and format; raises RubricError when the text does not parse."""
    return format_file(parse(text, path))


def format_file(file: File) -> str:
    chunks: list[list[str]] = []
    if file.imports:
        chunks.append(_lines(lambda out: _imports(out, file.imports)))
    chunks.extend(_lines(lambda out, d=d: _declaration(out, d)) for d in file.declarations)  # type: ignore[misc]
    if file.trailing_comments:
        chunks.append(_lines(lambda out: _comments(out, file.trailing_comments, "")))
    return "\n\n".join("\n".join(chunk) for chunk in chunks) + ("\n" if chunks else "")


def _lines(write: Callable[[list[str]], object]) -> list[str]:
    out: list[str] = []
    write(out)
    while out and out[-1] == "":
        out.pop()
    return out


def _comments(out: list[str], comments: tuple[str, ...], indent: str) -> None:
    """Comment lines; an empty entry is a blank line the author left, kept once and never at the top."""
    for comment in comments:
        if comment:
            out.append(f"{indent}{comment}")
        elif out and out[-1] != "":
            out.append("")


def _statement(out: list[str], comments: tuple[str, ...], indent: str, line: str, trailing: str | None = None) -> None:
    _comments(out, comments, indent)
    out.append(f"{indent}{line}" + (f"  {trailing}" if trailing else ""))


def _imports(out: list[str], nodes: tuple[Import, ...]) -> None:
    for node in nodes:
        _import(out, node)


def _import(out: list[str], node: Import) -> None:
    _statement(out, node.comments, "", f'import "{node.path}"', node.trailing_comment)


def _declaration(out: list[str], node: Declaration) -> None:
    _statement(out, node.comments, "", f"{node.kind} {node.name}:", node.trailing_comment)
    for field in node.fields:
        _field(out, field, INDENT)
    if node.fields and node.body:
        out.append("")
    for child in node.body:
        _body(out, child, INDENT)


def _field(out: list[str], field: Field, indent: str) -> None:
    if isinstance(field.value, Text):
        _texted(out, field.comments, indent, f"{field.key}:", field.value)
        return
    if field.key == "tags":
        labels = ", ".join(str(label) for label in field.value)
        _statement(out, field.comments, indent, f"tags: {labels}")
        return
    _statement(out, field.comments, indent, f"{field.key}:", field.trailing_comment)
    for entry in field.value:
        assert isinstance(entry, Setting)
        _statement(out, entry.comments, indent + INDENT, f"{entry.key}: {entry.value}", entry.trailing_comment)


def _texted(out: list[str], comments: tuple[str, ...], indent: str, head: str, text: Text) -> None:
    """`head text`, or `head \"\"\"` with the text indented one level deeper when it needs a block."""
    if not (text.block or "\n" in text.value or text.value.strip() != text.value or text.value == BLOCK_QUOTE):
        _statement(out, comments, indent, f"{head} {text.value}")
        return
    inner = indent + INDENT
    _statement(out, comments, indent, f"{head} {BLOCK_QUOTE}")
    out.extend(f"{inner}{line}" if line.strip() else "" for line in text.value.split("\n"))
    out.append(f"{inner}{BLOCK_QUOTE}")


def _body(out: list[str], node: Item | Use, indent: str) -> None:
    if isinstance(node, Use):
        _statement(out, node.comments, indent, f"use {node.name}", node.trailing_comment)
    else:
        _item(out, node, indent)


def format_weight(weight: float) -> str:
    return str(int(weight)) if weight == int(weight) else repr(weight)


def _item(out: list[str], item: Item, indent: str) -> None:
    head = item.kind
    if item.weight is not None:
        head += f" {format_weight(item.weight)}"
    if item.name is not None:
        head += f" {item.name}"
    _texted(out, item.comments, indent, f"{head}:", item.text)
    inner = indent + INDENT
    for check in (item.check, *item.extra_checks) if item.check else ():
        _statement(out, check.comments, inner, f"check: {render(check.expr)}", check.trailing_comment)
    for level in item.levels:
        _texted(out, level.comments, inner, f"{level.level}:", level.text)
    for child in item.children:
        _body(out, child, inner)
