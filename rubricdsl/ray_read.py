"""Reading the input on Ray: each JSONL line with its number, parsed exactly as the local engine parses it.

Used by the driver's planning pass (`block_ids`) and by the grading actors (`block_rows`), so both see the
same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from ray.data.datasource import FileBasedDatasource

from .dataset_io import Row, parse_row

_LINES_PER_BLOCK = 1024  # rows per block read: small enough to spread a modest file over the actors
_READ_CHUNK = 1 << 20


class JsonLines(FileBasedDatasource):
    """Each line of a JSONL file as raw bytes with its 1-based line number, streamed block by block.

    Ray Data's `read_text` splits on every Unicode line break and decodes the whole file at once, so one
    undecodable byte or a U+2028 inside a JSON string would change the rows; here lines end at b"\\n" only
    and are decoded one by one in `_row`, exactly as `dataset_io.read_rows` does.
    """

    def _read_stream(self, f: Any, path: str, **_reader_args: Any) -> Iterator[pa.Table]:
        numbers: list[int] = []
        lines: list[bytes] = []
        number, rest = 0, b""
        while True:
            data = f.read(_READ_CHUNK)
            parts = (rest + data).split(b"\n") if data else ([rest] if rest else [])
            rest = parts.pop() if data else b""
            for raw in parts:
                number += 1
                if raw.strip():  # an ASCII-blank line is blank once decoded too; `_row` checks the rest
                    numbers.append(number)
                    lines.append(raw)
                if len(lines) >= _LINES_PER_BLOCK:
                    yield _block(numbers, lines)
                    numbers, lines = [], []
            if not data:
                break
        if lines:
            yield _block(numbers, lines)


def _block(numbers: list[int], lines: list[bytes]) -> pa.Table:
    return pa.table({"line": pa.array(numbers, pa.int64()), "raw": pa.array(lines, pa.binary())})


def _row(raw: bytes, number: int) -> Row | None:
    """One input line as `read_rows` reads it (None for a blank line)."""
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return Row(number, number, error=f"line {number}: not UTF-8 ({exc.reason})")
    return parse_row(line, number) if line.strip() else None


def block_rows(batch: pa.Table) -> Iterator[Row]:
    """The rows of a block read by `JsonLines`, blank lines left out."""
    for number, raw in zip(batch.column("line").to_pylist(), batch.column("raw").to_pylist(), strict=True):
        row = _row(raw, number)
        if row is not None:
            yield row


def block_ids(batch: pa.Table) -> pa.Table:
    """The planning pass: each row's id key, line and rubric name."""
    found = list(block_rows(batch))
    return pa.table(
        {
            "key": pa.array([r.key for r in found], pa.string()),
            "line": pa.array([r.line for r in found], pa.int64()),
            "rubric": pa.array([r.rubric for r in found], pa.string()),
        }
    )
