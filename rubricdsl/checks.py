"""Check expressions: their canonical spelling, their value on a response, and what lint can know statically.

`render` writes the spelling the IR and the formatter use. `evaluate` decides a check for one response;
`CheckContext` shares the work (measures, case folding, JSON parsing) between the checks of one response.
`satisfiability` finds checks that can never or always hold. docs/checks.md is the user-facing contract.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol, cast

import re2

from . import measures
from .syntax import MEASURES, AllOf, AnyOf, CheckExpr, Comparison, JsonTest, Not, RegexTest, TextTest

COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
TEXT_OPS = ("contains", "startswith", "endswith")
REGEX_FLAGS = "ims"


class CompiledRegex(Protocol):
    def search(self, text: str | bytes) -> object | None: ...


# ---------------------------------------------------------------- canonical spelling

# Binding strength, loosest first. An operand is parenthesised exactly when it binds more loosely than its
# position needs: an `or` inside an `and` or a `not`, an `and` inside a `not`.
_OR, _AND, _NOT, _ATOM = range(4)


def render(expr: CheckExpr) -> str:
    """The canonical one-line spelling of a check; ValueError for a tree no check line can spell."""
    return _render(expr)[0]


def _render(expr: CheckExpr) -> tuple[str, int]:
    if isinstance(expr, (AllOf, AnyOf)):
        if not expr.operands:
            raise ValueError(f"an empty {'and' if isinstance(expr, AllOf) else 'or'} cannot be written")
        if len(expr.operands) == 1:
            return _render(expr.operands[0])
        strength, word = (_AND, " and ") if isinstance(expr, AllOf) else (_OR, " or ")
        return word.join(_operand(op, strength) for op in expr.operands), strength
    if isinstance(expr, Not):
        return "not " + _operand(expr.operand, _NOT), _NOT
    return _render_atom(expr), _ATOM


def _operand(expr: CheckExpr, needed: int) -> str:
    text, strength = _render(expr)
    return f"({text})" if strength < needed else text


def _render_atom(expr: Comparison | TextTest | RegexTest | JsonTest) -> str:
    if isinstance(expr, Comparison):
        _validate_comparison(expr)
        return f"{expr.measure} {expr.op} {expr.value}"
    if isinstance(expr, TextTest):
        if expr.op not in TEXT_OPS:
            raise ValueError(f"unknown text test {expr.op!r}")
        return f"{expr.op} {quote(expr.value)}" + (" ignorecase" if expr.ignorecase else "")
    if isinstance(expr, RegexTest):
        _validate_flags(expr.flags)
        return f"matches {regex_literal(expr.pattern)}{expr.flags}"
    return "json"


def _validate_comparison(expr: Comparison) -> None:
    if expr.measure not in MEASURES:
        raise ValueError(f"unknown measure {expr.measure!r}")
    if expr.op not in COMPARISONS:
        raise ValueError(f"unknown comparison {expr.op!r}")
    if expr.value < 0:
        raise ValueError(f"integers in checks are non-negative, not {expr.value}")


def _validate_flags(flags: str) -> None:
    unknown = sorted(set(flags) - set(REGEX_FLAGS))
    if unknown:
        raise ValueError(f"unknown regex flag {unknown[0]!r}: flags are any of i, m, s")


def _one_line(text: str, what: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"a check is one line: the {what} cannot hold a line break")
    return text


def quote(value: str) -> str:
    """A string literal: double quotes, with `\\` and `"` escaped (the only escapes the language has)."""
    return '"' + _one_line(value, "string").replace("\\", "\\\\").replace('"', '\\"') + '"'


def regex_literal(pattern: str) -> str:
    """`/pattern/`, writing `\\/` for every `/` that is not already the second half of an escape pair."""
    if not pattern:
        raise ValueError("an empty regex cannot be written: use `contains \"\"`, which always holds")
    out: list[str] = []
    chars = iter(_one_line(pattern, "regex"))
    for char in chars:
        if char == "\\":
            following = next(chars, None)
            if following is None:  # `/a\/` would read as an unterminated regex
                raise ValueError("a regex cannot end in a lone backslash")
            out.append(char + following)
        else:
            out.append("\\/" if char == "/" else char)
    return "/" + "".join(out) + "/"


# ---------------------------------------------------------------- regexes


def _re2_options() -> object:
    options = re2.Options()
    options.log_errors = False  # RE2 otherwise prints every rejected pattern to stderr
    return options


@lru_cache(maxsize=1024)
def compile_regex(pattern: str, flags: str = "") -> CompiledRegex:
    """The pattern compiled by RE2 with flags `i`, `m`, `s`; ValueError with RE2's message if it cannot."""
    _validate_flags(flags)
    options = _re2_options()
    # Compile the pattern alone first, so an error message quotes what the author wrote, not our prefix.
    compiled = _compile(pattern, options)
    if flags:
        compiled = _compile(f"(?{''.join(sorted(set(flags)))})" + pattern, options)
    return compiled


def _compile(pattern: str, options: object) -> CompiledRegex:
    try:
        return cast(CompiledRegex, re2.compile(pattern, options))
    except re2.error as error:
        message = error.args[0] if error.args else "invalid regex"
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise ValueError(str(message)) from None
    except UnicodeEncodeError:
        raise ValueError("the regex holds a lone surrogate, which is not valid UTF-8") from None


# ---------------------------------------------------------------- evaluation


class CheckContext:
    """One response, with what several checks read computed at most once: each measure, the case-folded
    text, the UTF-8 bytes regexes search, and whether it is JSON."""

    __slots__ = ("_folded", "_is_json", "_measures", "_utf8", "response")

    def __init__(self, response: str) -> None:
        self.response = response
        self._measures: dict[str, int] = {}
        self._folded: str | None = None
        self._utf8: bytes | None = None
        self._is_json: bool | None = None

    def measure(self, name: str) -> int:
        if name not in self._measures:
            self._measures[name] = measures.measure(name, self.response)
        return self._measures[name]

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = self.response.casefold()
        return self._folded

    @property
    def utf8(self) -> bytes:
        # Encoded once for all regexes; `surrogatepass` keeps a response holding a lone surrogate searchable.
        if self._utf8 is None:
            self._utf8 = self.response.encode("utf-8", "surrogatepass")
        return self._utf8

    @property
    def is_json(self) -> bool:
        if self._is_json is None:
            self._is_json = is_json_document(self.response)
        return self._is_json

    def evaluate(self, expr: CheckExpr) -> bool:
        if isinstance(expr, AllOf):
            return all(self.evaluate(op) for op in expr.operands)
        if isinstance(expr, AnyOf):
            return any(self.evaluate(op) for op in expr.operands)
        if isinstance(expr, Not):
            return not self.evaluate(expr.operand)
        if isinstance(expr, Comparison):
            _validate_comparison(expr)
            return COMPARISONS[expr.op](self.measure(expr.measure), expr.value)
        if isinstance(expr, TextTest):
            return self._text_test(expr)
        if isinstance(expr, RegexTest):
            return compile_regex(expr.pattern, expr.flags).search(self.utf8) is not None
        return self.is_json

    def _text_test(self, expr: TextTest) -> bool:
        text, value = (self.folded, expr.value.casefold()) if expr.ignorecase else (self.response, expr.value)
        if expr.op == "contains":
            return value in text
        if expr.op == "startswith":
            return text.startswith(value)
        if expr.op == "endswith":
            return text.endswith(value)
        raise ValueError(f"unknown text test {expr.op!r}")


def evaluate(expr: CheckExpr, response: str | CheckContext) -> bool:
    """Whether the check holds for the response. Pass a CheckContext to share work between checks."""
    context = response if isinstance(response, CheckContext) else CheckContext(response)
    return context.evaluate(expr)


def is_json_document(response: str) -> bool:
    """Whether the stripped response is one JSON value (RFC 8259: any value, scalars included)."""
    try:
        # Integers are not converted (a 5000-digit number is valid JSON but over Python's int-parsing
        # limit); NaN and Infinity, which Python's json accepts, are not JSON.
        json.loads(response.strip(), parse_int=len, parse_constant=_reject)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack allows
        return False
    return True


def _reject(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
