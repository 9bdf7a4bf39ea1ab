"""What every trainer integration shares: finding a row's rubric, reading completions, caching graders.

A row's rubric is either a rubric's name, looked up in the files given as `rubrics=` (a file or a
directory of `.rubric` files), or the text of a rubric. Completions are plain text or conversations (lists
of messages); a conversation is graded on its last assistant message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..ir import RubricIR

PathLike = str | os.PathLike[str]


class RubricLookupError(ValueError):
    """A row names a rubric that cannot be found or compiled (a configuration error, never a reward)."""


def completion_text(completion: Any) -> str:
    """The text to grade: a string as is; for a conversation, the last assistant message's content."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content(completion.get("content", ""))
    if isinstance(completion, (list, tuple)):
        assistant = [m for m in completion if isinstance(m, dict) and m.get("role") == "assistant"]
        chosen = assistant[-1] if assistant else (completion[-1] if completion else "")
        return completion_text(chosen)
    return str(completion)


def prompt_text(prompt: Any) -> str | None:
    """A prompt as text for the judge: a string, or a conversation rendered `role: content` per message."""
    if prompt is None or isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)):
        return "\n\n".join(f"{m.get('role', 'user')}: {_content(m.get('content', ''))}" for m in prompt
                           if isinstance(m, dict))
    return str(prompt)


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks: keep the text parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


class RubricLibrary:
    """Rubrics by name from files or a directory, loaded once; rubric texts compiled once each."""

    def __init__(self, rubrics: PathLike | None = None, root: PathLike | None = None):
        self.source = Path(rubrics) if rubrics is not None else None
        self.root = root
        self._by_name: dict[str, RubricIR] | None = None
        self._by_text: dict[str, RubricIR] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_by_name": None, "_by_text": {}}

    def get(self, value: Any) -> RubricIR:
        if isinstance(value, RubricIR):
            return value
        if not isinstance(value, str) or not value.strip():
            raise RubricLookupError(f"a row's rubric must be a rubric name or a rubric's text, not {value!r}")
        if "\n" in value or value.lstrip().startswith(("rubric ", "import ", "principles ")):
            return self._compile_text(value)
        return self._named(value.strip())

    def _compile_text(self, text: str) -> RubricIR:
        if text not in self._by_text:
            from ..api import loads_all
            from ..diagnostics import RubricError

            try:
                compiled = loads_all(text, root=self.root)
            except RubricError as exc:
                raise RubricLookupError(f"a row's rubric text does not compile: {exc}") from None
            if len(compiled) != 1:
                raise RubricLookupError(f"a row's rubric text declares {len(compiled)} rubrics; give exactly one")
            self._by_text[text] = next(iter(compiled.values()))
        return self._by_text[text]

    def _named(self, name: str) -> RubricIR:
        names = self._load_names()
        if name not in names:
            known = ", ".join(sorted(names)[:20]) or "none (give rubrics= a file or directory)"
            raise RubricLookupError(f"no rubric named `{name}`; known: {known}")
        return names[name]

    def _load_names(self) -> dict[str, RubricIR]:
        if self._by_name is None:
            self._by_name = load_library(self.source, self.root) if self.source is not None else {}
        return self._by_name


def load_library(source: Path, root: PathLike | None = None) -> dict[str, RubricIR]:
    """Every rubric in a file, or in the `.rubric` files under a directory (names must be unique)."""
    from ..api import load
    from ..diagnostics import RubricError

    files = sorted(source.rglob("*.rubric")) if source.is_dir() else [source]
    if not files:
        raise RubricLookupError(f"no .rubric files at {source}")
    found: dict[str, RubricIR] = {}
    for path in files:
        try:
            rubrics = load(path, root=root or (source if source.is_dir() else None))
        except RubricError as exc:
            raise RubricLookupError(f"{path} does not compile: {exc}") from None
        for name, rubric in rubrics.items():
            if name in found and found[name].content_hash != rubric.content_hash:
                raise RubricLookupError(f"two different rubrics are named `{name}` under {source}")
            found[name] = rubric
    return found
