"""The lint rules: one explicit table of small functions.

Each rule's docstring says what it finds, why it matters, and what to write instead; `rubric rules` and
docs/rules.md are generated from them. Codes are stable and never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..diagnostics import Diagnostic, warning
from .context import LintContext

RuleCheck = Callable[[LintContext], Iterator[Diagnostic]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    check: RuleCheck

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0]


def hash_in_text(ctx: LintContext) -> Iterator[Diagnostic]:
    """Item text that starts with `#`.

    Why: a `#` after an item's colon is text, not a comment (criteria quote things like "Item #3"), so
    `hard x: # TODO` is a criterion whose whole text is "# TODO" and the judge will be asked about it.
    Instead: write the criterion's text, and put notes on their own comment line above the item.
    """
    for _, item in ctx.written_items():
        if item.text.value.startswith("#"):
            yield warning("W101", item.text.span, "item text starts with `#`; it is text, not a comment",
                          "write the criterion, and put notes on a comment line above the item")


RULES: tuple[Rule, ...] = (
    Rule("W101", "hash-in-text", hash_in_text),
)
