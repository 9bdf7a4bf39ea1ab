"""The `scoring:` and `judge:` settings: their keys, their values, and how each value is read.

One table serves validation (an unknown key or value lists the valid ones), the compiler (typed values)
and the docs. Cross-setting rules (hard_fail inside range, not both model and models) are checked after
`use` has lent settings, in `compiler.py`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic, error
from .syntax import Setting

_NUMBER = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_RANGE = re.compile(rf"({_NUMBER})[ \t]*\.\.[ \t]*({_NUMBER})\Z")


class SettingValueError(ValueError):
    """A value that does not fit its key; the message says what would."""


@dataclass(frozen=True)
class SettingSpec:
    key: str
    read: Callable[[str], Any]
    expects: str  # what a valid value looks like, in words


def _choice(*options: str) -> Callable[[str], str]:
    def read(value: str) -> str:
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1)
            guess = f"did you mean `{close[0]}`? " if close else ""
            raise SettingValueError(guess + "valid values: " + ", ".join(options))
        return value

    return read


def _number(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    def read(value: str) -> float:
        if not re.fullmatch(_NUMBER, value):
            raise SettingValueError("write a decimal number such as `0` or `0.5`")
        number = float(value)
        if (low is not None and number < low) or (high is not None and number > high):
            raise SettingValueError(f"the value must lie between {low:g} and {high:g}")
        return number

    return read


def _integer(low: int, high: int) -> Callable[[str], int]:
    def read(value: str) -> int:
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            raise SettingValueError(f"write a whole number from {low} to {high}")
        return int(value)

    return read


def _range(value: str) -> tuple[float, float]:
    match = _RANGE.match(value)
    if not match:
        raise SettingValueError("write `LO..HI`, for example `0..1` or `-1..1`")
    low, high = float(match.group(1)), float(match.group(2))
    if not low < high:
        raise SettingValueError("the range's low end must be below its high end")
    return low, high


def _bool(value: str) -> bool:
    if value not in ("true", "false"):
        raise SettingValueError("write `true` or `false`")
    return value == "true"


def _model(value: str) -> str:
    if not re.fullmatch(r"[^\s,]+", value):
        raise SettingValueError("write one model as `provider/model`, e.g. `anthropic/claude-sonnet-4-5`")
    return value


def _models(value: str) -> tuple[str, ...]:
    models = tuple(m.strip() for m in value.split(","))
    if any(not m or re.search(r"\s", m) for m in models):
        raise SettingValueError("write comma-separated `provider/model` names")
    return models


SCORING: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("method", _choice("weighted", "rar_explicit", "all", "mean"), "weighted|rar_explicit|all|mean"),
        SettingSpec(
            "normalize",
            _choice("positive", "healthbench", "minmax", "sum", "abs"),
            "positive|healthbench|minmax|sum|abs",
        ),
        SettingSpec("gate", _choice("zero", "cap", "none"), "zero|cap|none"),
        SettingSpec("hard_fail", _number(), "a number inside the range"),
        SettingSpec("range", _range, "LO..HI"),
        SettingSpec("on_na", _choice("skip", "zero", "fail"), "skip|zero|fail"),
        SettingSpec("on_error", _choice("raise", "skip", "zero", "fail"), "raise|skip|zero|fail"),
    )
}

JUDGE: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("model", _model, "provider/model"),
        SettingSpec("models", _models, "provider/model, provider/model, ..."),
        SettingSpec("combine", _choice("mean", "majority", "unanimous", "any"), "mean|majority|unanimous|any"),
        SettingSpec("samples", _integer(1, 100), "1..100"),
        SettingSpec("temperature", _number(0.0, 2.0), "0..2"),
        SettingSpec("scale", _choice("binary", "ternary"), "binary|ternary"),
        SettingSpec("granularity", _choice("response", "item"), "response|item"),
        SettingSpec("allow_na", _bool, "true|false"),
    )
}

BLOCKS = {"scoring": SCORING, "judge": JUDGE}


def read_settings(block: str, entries: tuple[Setting, ...]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Typed values of one `scoring:` or `judge:` block, with a diagnostic per bad key or value."""
    specs = BLOCKS[block]
    values: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    for entry in entries:
        spec = specs.get(entry.key)
        if spec is None:
            close = difflib.get_close_matches(entry.key, list(specs), n=1)
            guess = f"did you mean `{close[0]}`? " if close else ""
            problems.append(
                error(
                    "E215",
                    entry.span,
                    f"unknown `{block}` setting `{entry.key}`",
                    guess + "valid settings: " + ", ".join(specs),
                )
            )
            continue
        if entry.key in values:
            problems.append(error("E213", entry.span, f"`{entry.key}` is set twice", "keep one of the two lines"))
            continue
        try:
            values[entry.key] = spec.read(entry.value)
        except SettingValueError as exc:
            problems.append(
                error("E216", entry.value_span, f"invalid value `{entry.value}` for `{entry.key}`", str(exc))
            )
    return values, problems
