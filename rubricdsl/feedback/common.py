"""What the feedback commands share: principles sets (constitutions), seeded draws, fences, row texts."""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..dataset_io import conversation_text, response_text
from ..diagnostics import RubricError, Span, error
from ..ir import ItemIR, RubricIR

PrinciplesSpec = str | os.PathLike[str] | RubricIR | Sequence[ItemIR]


def load_principles(spec: PrinciplesSpec, name: str | None = None) -> list[ItemIR]:
    """The items of a principles set (or of a rubric): a file, a compiled rubric, or items given as such.

    A file may hold several declarations: `name` picks one; without it the file's only `principles` set is
    used, else its only declaration. Groups are flattened to their leaves (each leaf is one principle).
    """
    if isinstance(spec, RubricIR):
        return spec.leaves()
    if not isinstance(spec, (str, os.PathLike)):
        items = [item for item in spec if item.kind != "group"]
        if not items:
            raise ValueError("the principles set is empty")
        return items
    return _load_file(Path(spec), name).leaves()


def _load_file(path: Path, name: str | None) -> RubricIR:
    from ..api import all_problems
    from ..compiler import compile_resolved
    from ..loader import Workspace
    from ..resolve import resolve

    loaded = Workspace(path.resolve().parent).load_path(path)
    errors = [p for p in all_problems(loaded) if p.is_error]
    if errors:
        raise RubricError(errors)
    if loaded.file is None:  # a file that does not parse always has errors; kept for the type checker
        raise ValueError(f"{path}: the file does not parse")
    declarations = list(loaded.file.declarations)
    sets = [d for d in declarations if d.kind == "principles"]
    listed = ", ".join(f"`{d.name}`" for d in declarations) or "none"
    if name is not None:
        chosen = next((d for d in declarations if d.name == name), None)
        if chosen is None:
            raise RubricError(error("E225", Span.point(1, 1, str(path)), f"no principles set or rubric named `{name}`",
                                    f"declared here: {listed}"))
    elif len(sets) == 1 or len(declarations) == 1:
        chosen = sets[0] if sets else declarations[0]
    else:
        raise RubricError(error("E224", Span.point(1, 1, str(path)),
                                "the file declares no principles set" if not declarations else
                                "the file declares several principles sets or rubrics",
                                f"choose one with --set NAME (or name=): {listed}"))
    return compile_resolved(resolve(chosen, loaded))


def draw(items: Sequence[ItemIR], k: int, seed: int, key: str, sample: int) -> list[ItemIR]:
    """`k` principles for one comparison (or one round), in the set's order.

    Seeded by (seed, row id, sample) through a string seed (hashed with SHA-512 by `random`), so the draw
    of a row is the same in every run, whatever the concurrency or the order rows finish in, and a fresh
    draw is made per comparison, as Constitutional AI did.
    """
    rng = random.Random(f"{seed}:{key}:{sample}")
    chosen = set(rng.sample(range(len(items)), min(k, len(items))))
    return [item for index, item in enumerate(items) if index in chosen]


def principle_lines(items: Sequence[ItemIR]) -> str:
    return "\n".join(f"- {item.name}: {' '.join(item.text.split())}" for item in items)


def draw_nonce(*texts: str) -> str:
    """A fresh fence code that none of the fenced texts contains, so none can close its fence early."""
    while True:
        nonce = secrets.token_hex(6)
        if not any(nonce in text for text in texts):
            return nonce


def fenced(label: str, nonce: str, text: str) -> str:
    return f"<{label}-{nonce}>\n{text}\n</{label}-{nonce}>"


def prompt_text(value: Any) -> str | None:
    """A row's prompt as text (a string, or chat messages as a transcript); None when absent."""
    return None if value is None else conversation_text(value)


def answer_text(value: Any, field: str) -> tuple[str, str | None]:
    """(text, conversation before it) of a row's response field: a string or chat messages."""
    try:
        return response_text(value)
    except ValueError as exc:
        raise ValueError(str(exc).replace("`response`", f"`{field}`")) from None


def row_task(data: dict[str, Any], field: str) -> tuple[str, str | None]:
    """The response text in `field` and the task it answers (the row's prompt, else the chat before it)."""
    text, context = answer_text(data.get(field), field)
    prompt = prompt_text(data.get("prompt"))
    return text, prompt if prompt is not None else context


# ------------------------------------------------------------------------------------------- TRL's row formats


def assistant_turn(value: Any) -> list[dict[str, Any]]:
    """An answer as TRL's conversational completion: a chat's last assistant turn, or the text as one."""
    if isinstance(value, list):
        last = max(i for i, m in enumerate(value) if m.get("role") == "assistant")
        return [dict(value[last])]
    return [{"role": "assistant", "content": value}]


def trl_columns(prompt: Any, answers: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(prompt, answers) in one of TRL's formats, so `apply_chat_template` reads the row.

    TRL reads a row as standard (all strings) or conversational (all message lists), never a mix: when the
    prompt or an answer is chat messages, the prompt becomes messages (a text prompt one user turn) and each
    answer the assistant turn that answers it. Without a prompt, a chat answer stays whole: TRL's
    implicit-prompt format, whose shared turns before the answer are the prompt.
    """
    if not isinstance(prompt, list) and not any(isinstance(v, list) for v in answers.values()):
        return prompt, answers
    if prompt is None:
        return None, {key: v if isinstance(v, list) else assistant_turn(v) for key, v in answers.items()}
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    return messages, {key: assistant_turn(value) for key, value in answers.items()}


def turn_text(value: Any) -> str:
    """The text of a completion column: a string, or TRL's conversational completion (its last turn)."""
    from ..dataset_io import message_text

    return message_text(value[-1].get("content")) if isinstance(value, list) else str(value)
