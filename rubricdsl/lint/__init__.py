"""The linter: one explicit table of small rules (rules.py), run over loaded files (runner.py)."""

from .context import LintContext
from .rules import RULES, Rule
from .runner import collect_files, lint_loaded, lint_paths, selected

__all__ = ["RULES", "LintContext", "Rule", "collect_files", "lint_loaded", "lint_paths", "selected"]
