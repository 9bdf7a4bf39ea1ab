"""The files of a dataset run: input rows in, one result line per row out, crash-safe (JUDGING.md "Reliability").

The output is append-only JSONL. Each line is written by one `os.write` on a descriptor opened with
`O_APPEND`, so a line is never interleaved, and a kill -9 can at worst leave a torn LAST line (a write cut
short), which `repair_output` truncates on the next start. Failed rows (reward null), unreadable lines and
duplicates are dropped by an atomic rewrite (temporary file, fsync, rename), so the rerun that grades them
again leaves every id exactly once. Pure file handling: no judge, no grading.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .scoring import GradeResult

try:  # POSIX advisory locks keep two runs from appending to one output; elsewhere we do without.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

RowId = str | int


class DatasetError(ValueError):
    """Input or output that makes the run impossible (duplicate ids, a locked output): bad usage, exit 2."""


@dataclass(frozen=True)
class Row:
    """One input line. `error` set: the row cannot be graded and is reported as a failed result."""

    line: int  # 1-based line number in the input file
    id: RowId
    response: str | None = None
    prompt: str | None = None
    rubric: str | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return id_key(self.id)


def id_key(value: RowId) -> str:
    """Ids compare as JSON: the integer 3 and the string "3" are different rows."""
    return json.dumps(value)


# ------------------------------------------------------------------------------------------- input rows


def json_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line of a JSONL file; blank lines still count for numbering.

    Lines are decoded one by one, so a line that is not UTF-8 fails alone instead of ending the run: its text
    is replaced by a `NOT_UTF8` marker that `json_object` reports as that row's error.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, NOT_UTF8 + exc.reason
                continue
            if line.strip():
                yield number, line


NOT_UTF8 = "\x00not-utf8:"  # a prefix no decoded JSON line can start with


def json_object(line: str, number: int) -> tuple[dict[str, Any] | None, RowId, str | None]:
    """A line's object and id (its `id`, else its line number), or the error that makes it unusable."""
    if line.startswith(NOT_UTF8):
        return None, number, f"line {number}: not UTF-8 ({line[len(NOT_UTF8) :]})"
    try:
        data = json.loads(line)
    except ValueError as exc:
        return None, number, f"line {number}: not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, number, f"line {number}: a row must be a JSON object"
    raw_id = data.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        return None, number, f"line {number}: `id` must be a string or an integer"
    return data, number if raw_id is None else raw_id, None


def read_rows(path: str | os.PathLike[str]) -> Iterator[Row]:
    """Rows of a JSONL file in order (see `json_lines`)."""
    for number, line in json_lines(path):
        yield parse_row(line, number)


def parse_row(line: str, number: int) -> Row:
    data, row_id, error = json_object(line, number)
    if data is None:
        return Row(number, row_id, error=error)
    rubric = data.get("rubric")
    if rubric is not None and not isinstance(rubric, str):
        return Row(number, row_id, error=f"line {number}: `rubric` must be a rubric's name")
    try:
        response, context = response_text(data.get("response"))
        prompt = conversation_text(data["prompt"]) if data.get("prompt") is not None else context
    except ValueError as exc:
        return Row(number, row_id, rubric=rubric, error=f"line {number}: {exc}")
    return Row(number, row_id, response=response, prompt=prompt, rubric=rubric)


def message_text(content: Any) -> str:
    """A message's content: a string, or the text parts of a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type", "text") == "text"
        )
    raise ValueError("a message's `content` must be a string or a list of content blocks")


def response_text(value: Any) -> tuple[str, str | None]:
    """(text to grade, the conversation before it or None). Chat rows are graded on their last assistant turn."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list) or not value:
        raise ValueError("`response` must be a string or a non-empty list of chat messages")
    _check_messages(value)
    last = max((i for i, m in enumerate(value) if m.get("role") == "assistant"), default=None)
    if last is None:
        raise ValueError("`response` holds no assistant message to grade")
    before = value[:last]
    return message_text(value[last].get("content")), conversation_text(before) if before else None


def conversation_text(value: Any) -> str:
    """A prompt given as text, or as messages: one user message is its text, more become a transcript."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not value:
        raise ValueError("`prompt` must be a string or a non-empty list of chat messages")
    _check_messages(value)
    if len(value) == 1 and value[0].get("role") == "user":
        return message_text(value[0].get("content"))
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: {message_text(m.get('content'))}" for m in value)


def _check_messages(messages: list[Any]) -> None:
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise ValueError("chat messages must be objects with a `role` and a `content`")


# ------------------------------------------------------------------------------------------- output lines


def result_line(row_id: RowId, result: GradeResult) -> bytes:
    """The output line of a row: its id first, then the GradeResult; one line, newline-terminated."""
    return (json.dumps({"id": row_id, **result.model_dump(mode="json")}, ensure_ascii=False) + "\n").encode()


def parse_result_line(raw: bytes) -> tuple[RowId, GradeResult] | None:
    """(id, result) of a complete output line, or None for a line that is not one of ours."""
    try:
        data = json.loads(raw)
        row_id = data.pop("id")
        if isinstance(row_id, bool) or not isinstance(row_id, (str, int)):
            return None
        return row_id, GradeResult.model_validate(data)
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
        return None


@dataclass
class Repair:
    """What `repair_output` kept and dropped."""

    kept: dict[str, tuple[RowId, GradeResult]]
    torn: bool = False  # a last line without its newline (a write cut short by a kill)
    failed: int = 0  # results with reward null: graded again
    unreadable: int = 0
    duplicates: int = 0
    rewritten: bool = False  # the file was replaced: descriptors opened before point at the old one


def repair_output(path: str | os.PathLike[str]) -> Repair:
    """Make the output safe to append to, and return the successful results it holds, by id key."""
    target = Path(path)
    if not target.exists():
        return Repair({})
    data = target.read_bytes()
    complete, torn = _split_complete(data)
    repair = Repair({}, torn=torn)
    keep: list[bytes] = []
    for raw in complete:
        parsed = parse_result_line(raw) if raw.strip() else None
        if parsed is None:
            repair.unreadable += bool(raw.strip())
            continue
        key = id_key(parsed[0])
        if key in repair.kept:
            repair.duplicates += 1
        elif parsed[1].reward is None:
            repair.failed += 1
        else:
            repair.kept[key] = parsed
            keep.append(raw)
    if len(keep) != len(complete):
        _atomic_write(target, b"".join(keep))
        repair.rewritten = True
    elif torn:  # only the tail is damaged: cutting it off is enough, and cheap for a large file
        with open(target, "r+b") as handle:
            handle.truncate(sum(len(raw) for raw in complete))
    return repair


def _split_complete(data: bytes) -> tuple[list[bytes], bool]:
    """Newline-terminated lines, and whether bytes after the last newline (a torn line) were left out."""
    lines = data.splitlines(keepends=True)
    torn = bool(lines) and not lines[-1].endswith(b"\n")
    return (lines[:-1] if torn else lines), torn


def _atomic_write(target: Path, content: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


class ResultWriter:
    """Appends result lines: one `os.write` per line, fsync every `sync_every` lines and at close.

    No user-space buffer sits between a finished grade and the file, so a killed process loses only the
    rows still being graded; fsync bounds what a power loss can take.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync_every: int = 64):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = self._open_locked()
        self._sync_every, self._unsynced = sync_every, 0

    def _open_locked(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DatasetError(f"another run is writing to {self.path}") from None
        return fd

    def reopen(self) -> None:
        """Follow the path to a file that replaced ours (after a repair), keeping the lock until then."""
        fd = self._open_locked()
        os.close(self._fd)
        self._fd = fd

    def write(self, line: bytes) -> None:
        view = memoryview(line)
        while view:  # a regular file takes it in one call; the loop covers the rare short write
            view = view[os.write(self._fd, view) :]
        self._unsynced += 1
        if self._unsynced >= self._sync_every:
            self.sync()

    def sync(self) -> None:
        os.fsync(self._fd)
        self._unsynced = 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sync()
        os.close(self._fd)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_output(path: str | os.PathLike[str]) -> tuple[ResultWriter, Repair]:
    """Lock the output, repair it, and return a writer appending to the repaired file.

    The lock is taken before the repair, so a second run on the same output stops instead of appending to
    a file being rewritten.
    """
    writer = ResultWriter(path)
    try:
        repair = repair_output(path)
        if repair.rewritten:
            writer.reopen()
    except BaseException:
        writer.close()
        raise
    return writer, repair
