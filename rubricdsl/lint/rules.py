"""The lint rules: one explicit table of small functions.

Each rule's docstring says what it finds, why it matters, and what to write instead; `rubric rules` and
docs/rules.md are generated from them. Codes are stable and never reused. The functions live in three
modules by what they read: item text (rules_text), a rubric's items and their weights (rules_structure),
and what surrounds the items — imports, tags, checks and settings (rules_declarations); this table is the
one place that says which rules exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..diagnostics import Diagnostic
from .context import LintContext
from .rules_declarations import (
    check_text_mismatch,
    constant_check,
    duplicate_tag,
    ignored_weight,
    samples_at_zero_temperature,
    sum_with_negative_weights,
    unnamed_shared_item,
    unused_import,
)
from .rules_structure import (
    duplicate_criterion,
    duplicate_level_text,
    near_duplicate_criterion,
    no_essential_item,
    too_few_items,
    too_many_items,
    too_many_levels,
    unusual_weight,
)
from .rules_text import (
    compound_criterion,
    hash_in_text,
    inverted_pitfall,
    kind_label_in_text,
    long_item,
    subjective_hard_rule,
    unstated_context,
    vague_criterion,
)

RuleCheck = Callable[[LintContext], Iterator[Diagnostic]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    check: RuleCheck
    fixable: bool = False  # its findings carry a safe `Fix` that `rubric lint --fix` applies

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0]


RULES: tuple[Rule, ...] = (
    Rule("W101", "hash-in-text", hash_in_text),
    Rule("W102", "duplicate-criterion", duplicate_criterion),
    Rule("W103", "near-duplicate-criterion", near_duplicate_criterion),
    Rule("W104", "compound-criterion", compound_criterion),
    Rule("W105", "inverted-pitfall", inverted_pitfall),
    Rule("W106", "unusual-weight", unusual_weight),
    Rule("W107", "no-essential-item", no_essential_item),
    Rule("W108", "too-few-items", too_few_items),
    Rule("W109", "too-many-items", too_many_items),
    Rule("W110", "vague-criterion", vague_criterion),
    Rule("W111", "unstated-context", unstated_context),
    Rule("W112", "unused-import", unused_import, fixable=True),
    Rule("W113", "duplicate-level-text", duplicate_level_text),
    Rule("W114", "too-many-levels", too_many_levels),
    Rule("W115", "constant-check", constant_check),
    Rule("W116", "subjective-hard-rule", subjective_hard_rule),
    Rule("W117", "long-item", long_item),
    Rule("W118", "unnamed-shared-item", unnamed_shared_item),
    Rule("W119", "kind-label-in-text", kind_label_in_text),
    Rule("W120", "duplicate-tag", duplicate_tag, fixable=True),
    Rule("W121", "samples-at-zero-temperature", samples_at_zero_temperature),
    Rule("W122", "ignored-weight", ignored_weight, fixable=True),
    Rule("W123", "sum-with-negative-weights", sum_with_negative_weights),
    Rule("W124", "check-text-mismatch", check_text_mismatch),
)
