"""Registration of the commands beyond lint/fmt/compile/rules (grading, formats, feedback).

Each command module imports its heavy dependencies inside the command function, so that registering
them costs nothing and `rubric lint` never imports a provider SDK.
"""

from __future__ import annotations

import importlib

import click

_COMMAND_MODULES: tuple[str, ...] = (
    "rubricdsl.grade_cli",
    "rubricdsl.formats_cli",
    "rubricdsl.serve_cli",
    "rubricdsl.feedback_cli",
)


def register(group: click.Group) -> None:
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            group.add_command(command)
