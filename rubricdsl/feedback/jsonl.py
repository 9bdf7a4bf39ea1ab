"""Resumable JSONL runs for any per-row job: rows in, one JSON object a line out, append-only.

The same contract as `rubric grade --responses` (JUDGING.md "Reliability"), for records that are not grade
results: each output line is `{"id": ..., ...}`, written by one `os.write` under an exclusive lock
(`dataset_io.ResultWriter`), so a kill leaves at worst a torn last line. On the next start that tail is cut,
failed records (`"error"` set), unreadable lines and duplicates are dropped by an atomic rewrite, and only
the rows with no record left are worked on again. A `JudgeConfigError` stops the whole run: it is never a
per-row failure.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dataset_io import DatasetError, ResultWriter, RowId, id_key, json_lines, json_object

Record = dict[str, Any]
Work = Callable[["InputRow"], Awaitable[Record]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class InputRow:
    """One input line: its JSON object, or why it cannot be used (then it becomes a failed record)."""

    line: int
    id: RowId
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def key(self) -> str:
        return id_key(self.id)


def read_input(path: str | os.PathLike[str]) -> Iterator[InputRow]:
    """The rows of a JSONL file; a row's id is its `id` field, else its 1-based line number."""
    for number, line in json_lines(path):
        data, row_id, error = json_object(line, number)
        yield InputRow(number, row_id, data or {}, error=error)


def input_keys(path: str | os.PathLike[str]) -> list[str]:
    """Id keys in input order; a repeated id is an error (the output could not tell the rows apart)."""
    first: dict[str, int] = {}
    for row in read_input(path):
        if row.key in first:
            raise DatasetError(f"{path}:{row.line}: id {row.key} was already used on line {first[row.key]}")
        first[row.key] = row.line
    return list(first)


def record_line(row_id: RowId, record: Record) -> bytes:
    return (json.dumps({"id": row_id, **record}, ensure_ascii=False) + "\n").encode("utf-8")


def repair(path: str | os.PathLike[str]) -> tuple[dict[str, Record], bool]:
    """Make the output safe to append to; return its successful records by id key, and whether the file
    was replaced (descriptors opened before point at the old one)."""
    target = Path(path)
    if not target.exists():
        return {}, False
    lines = target.read_bytes().splitlines(keepends=True)
    torn = bool(lines) and not lines[-1].endswith(b"\n")
    complete = lines[:-1] if torn else lines
    kept: dict[str, Record] = {}
    keep: list[bytes] = []
    for raw in complete:
        record = _record(raw)
        if record is None or record.get("error") is not None:
            continue  # unreadable, or a failed row: worked on again
        key = id_key(record["id"])
        if key not in kept:
            kept[key] = record
            keep.append(raw)
    if len(keep) != len(complete):
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(b"".join(keep))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return kept, True
    if torn:  # only the tail is damaged: cutting it off is enough
        with open(target, "r+b") as handle:
            handle.truncate(sum(len(raw) for raw in complete))
    return kept, False


def _record(raw: bytes) -> Record | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or isinstance(data.get("id"), bool) or not isinstance(data.get("id"), (str, int)):
        return None
    return data


@dataclass
class RunResult:
    """Every input row's record (earlier ones included), in input order, and what this run did."""

    records: dict[str, Record]
    new: int = 0
    resumed: int = 0

    @property
    def failed(self) -> int:
        return sum(r.get("error") is not None for r in self.records.values())


async def run_rows(rows_path: str | os.PathLike[str], out_path: str | os.PathLike[str], work: Work, *,
                   concurrency: int = 16, progress: Progress | None = None) -> RunResult:
    """Work on the rows of `rows_path` that have no record in `out_path` yet, appending each record as it is done."""
    from ..judging.retry import JudgeConfigError, JudgeError

    if not os.path.isfile(rows_path):
        raise DatasetError(f"no such file: {rows_path}")
    writer = ResultWriter(out_path)  # the lock first: a second run stops instead of appending to a rewritten file
    try:
        done, replaced = repair(out_path)
        if replaced:  # the descriptor points at the old file: follow the path (the lock is held until then)
            writer.reopen()
        keys = input_keys(rows_path)
        earlier = {key: done[key] for key in keys if key in done}
        pending = [key for key in keys if key not in earlier]
        new: dict[str, Record] = {}
        todo = set(pending)
        rows = (row for row in read_input(rows_path) if row.key in todo)
        if progress is not None:
            progress(0, len(pending))

        async def one(row: InputRow) -> Record:
            if row.error is not None:
                return {"error": row.error}
            try:
                return await work(row)
            except JudgeConfigError:
                raise
            except JudgeError as exc:
                return {"error": str(exc)}
            except Exception as exc:  # one odd row must not end a long run: recorded, and redone on the next run
                return {"error": f"{type(exc).__name__}: {exc}"}

        async def worker() -> None:
            for row in rows:  # workers share one iterator; next() never awaits, so each row goes to one worker
                record = await one(row)
                writer.write(record_line(row.id, record))
                new[row.key] = {"id": row.id, **record}
                if progress is not None:
                    progress(len(new), len(pending))

        tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
        try:
            await asyncio.gather(*tasks)
        finally:  # on a configuration error, stop every other row at once
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        writer.close()
    records = {key: new.get(key) or earlier[key] for key in keys if key in new or key in earlier}
    return RunResult(records, new=len(new), resumed=len(earlier))


async def run_list(rows: Sequence[Mapping[str, Any]], work: Callable[[Mapping[str, Any], str], Awaitable[Record]]
                   ) -> list[Record]:
    """The in-memory form of `run_rows` (the Python API): every row's record in order, `id` first (the row's
    `id`, else its 1-based position); a row that fails gets `error` instead of raising, except for a
    `JudgeConfigError`, which stops everything."""
    from ..judging.retry import JudgeConfigError

    async def one(index: int, row: Mapping[str, Any]) -> Record:
        row_id = row.get("id", index + 1)
        try:
            return {"id": row_id, **await work(row, id_key(row_id))}
        except JudgeConfigError:
            raise
        except Exception as exc:
            return {"id": row_id, "error": f"{type(exc).__name__}: {exc}"}

    return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(rows))))
