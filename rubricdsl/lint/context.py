"""What a lint rule sees: one loaded file, its declarations resolved and compiled, and the configuration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..config import LintConfig
from ..ir import RubricIR
from ..loader import LoadedFile
from ..resolve import Resolved
from ..syntax import Declaration, File, Item
from ..validate import walk_items


@dataclass
class LintContext:
    loaded: LoadedFile
    resolved: dict[str, Resolved] = field(default_factory=dict)  # every declaration, `use` expanded
    compiled: dict[str, RubricIR] = field(default_factory=dict)  # rubrics that compiled without errors
    config: LintConfig = field(default_factory=LintConfig)

    @property
    def file(self) -> File:
        assert self.loaded.file is not None, "rules only run on files that parsed"
        return self.loaded.file

    def declarations(self) -> Iterator[Declaration]:
        yield from self.file.declarations

    def written_items(self) -> Iterator[tuple[Declaration, Item]]:
        """Items as written in this file (depth-first), so diagnostics point at this file's lines."""
        for declaration in self.file.declarations:
            for item in walk_items(declaration.body):
                yield declaration, item

    def expanded_items(self, declaration: Declaration) -> list[Item]:
        """The declaration's items after `use` expansion and naming (depth-first, groups included)."""
        resolved = self.resolved.get(declaration.name)
        return list(walk_items(resolved.items)) if resolved else []
