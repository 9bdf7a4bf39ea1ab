"""rubricdsl: rubrics as a language for grading language-model output.

The language core (load, lint, format, compile, aggregate) imports no provider SDK; the grader and the
reward functions are loaded on first use.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .api import load, load_rubric, loads
from .diagnostics import Diagnostic, RubricError, Severity, Span
from .ir import ItemIR, RubricIR

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "ItemIR",
    "RubricError",
    "RubricIR",
    "Severity",
    "Span",
    "__version__",
    "aggregate",
    "aggregate_many",
    "agree",
    "diff_rubrics",
    "generate_rubric",
    "lint",
    "load",
    "load_rubric",
    "loads",
    "prefer",
    "revise",
]


def lint(*paths: str, root: str | None = None) -> list[Diagnostic]:
    """Lint files or directories with the `[tool.rubricdsl.lint]` configuration of the nearest
    pyproject.toml, as `rubric lint` does; returns every diagnostic (errors and warnings)."""
    from pathlib import Path

    from .config import configured_root, load_config
    from .lint import lint_paths

    config = load_config(Path(paths[0]) if paths else None)
    return lint_paths(paths, config.lint, root=root or configured_root(config))[0]


_LAZY = {
    "aggregate": ("rubricdsl.scoring", "aggregate"),
    "aggregate_many": ("rubricdsl.scoring", "aggregate_many"),
    "GradeResult": ("rubricdsl.scoring", "GradeResult"),
    "Verdict": ("rubricdsl.scoring", "Verdict"),
    "Grader": ("rubricdsl.judging", "Grader"),
    "prefer": ("rubricdsl.feedback.pairwise", "prefer"),
    "generate_rubric": ("rubricdsl.feedback.generate", "generate_rubric"),
    "revise": ("rubricdsl.feedback.critique", "revise"),
    "agree": ("rubricdsl.feedback.metaeval", "agree"),
    "diff_rubrics": ("rubricdsl.feedback.diff", "diff_rubrics"),
}


class _Package(types.ModuleType):
    """The `rubricdsl` module, keeping `rubricdsl.lint` the function.

    Importing the subpackage `rubricdsl.lint` (which `rubric lint`, the function itself and the feedback
    tools do) makes Python set the package's attribute `lint` to the subpackage, replacing the function:
    the second `rubricdsl.lint(...)` then raised "'module' object is not callable". The subpackage stays
    reachable as `from rubricdsl.lint import ...` (that reads sys.modules, not this attribute).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "lint" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'rubricdsl' has no attribute {name!r}")
