"""`rubric prefer`, `generate`, `revise`, `agree` and `diff` (docs/feedback.md).

Exit status: 0 done; 1 some rows failed (prefer, revise, generate over a file), the generated rubric has lint
errors, the agreement is below `--fail-under`, or the two rubrics differ (diff, like diff(1)); 2 bad usage,
unreadable input, a rubric file with errors, or a configuration problem (no judge, a refused API key).
Everything that reaches a model (and through it any provider SDK) is imported inside the commands, so that
registering them costs `rubric lint` nothing.

The commands live in feedback_cli_data.py (prefer, revise), feedback_cli_generate.py (generate) and
feedback_cli_eval.py (agree, diff); the options and helpers they share in feedback_cli_common.py.
"""

from __future__ import annotations

from .feedback_cli_common import Failure
from .feedback_cli_data import prefer_command, revise_command
from .feedback_cli_eval import agree_command, diff_command
from .feedback_cli_generate import generate_command

__all__ = [
    "COMMANDS",
    "Failure",
    "agree_command",
    "diff_command",
    "generate_command",
    "prefer_command",
    "revise_command",
]

COMMANDS = [prefer_command, generate_command, revise_command, agree_command, diff_command]
