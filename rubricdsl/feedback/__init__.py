"""AI feedback beyond grading (docs/feedback.md): pairwise preferences, rubric generation, critique–revision,
judge–human agreement and rubric diffs.

| function | does |
|---|---|
| `prefer(pairs, principles, *, rubric=, judge=, k=, samples=, seed=)` | DPO-ready preference records |
| `generate_rubric(prompt, reference, *, style=, judge=, chosen=, rejected=)` | a linted `.rubric` text |
| `revise(rows, principles, *, judge=, rounds=, seed=)` | Constitutional AI critique–revision records |
| `agree(results, labels, *, resamples=, seed=)` | accuracy, kappa and MF1 of the judge against people |
| `diff_rubrics(old, new, *, responses=)` | what changed between two rubric versions, and how rewards move |

Modules are loaded on first use; none imports a provider SDK until a model is called.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "prefer": "pairwise",
    "Preferrer": "pairwise",
    "PreferSummary": "pairwise",
    "aprefer_file": "pairwise",
    "generate_rubric": "generate",
    "agenerate": "generate",
    "agenerate_file": "generate",
    "Generated": "generate",
    "GenerateError": "generate",
    "revise": "critique",
    "Reviser": "critique",
    "arevise_file": "critique",
    "agree": "metaeval",
    "AgreeReport": "metaeval",
    "diff_rubrics": "diff",
    "RubricDiff": "diff",
    "DiffError": "diff",
    "LLM": "llm",
    "StructuredModel": "llm",
    "load_principles": "common",
    "STYLE_NAMES": "styles",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
