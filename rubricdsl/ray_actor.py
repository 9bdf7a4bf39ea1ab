"""The grading actor of the Ray engine: one per Ray worker process, grading the rows of each batch it is given."""

from __future__ import annotations

import asyncio
import os
import threading

import pyarrow as pa

from .dataset import GraderFactory, GraderPool, grade_row
from .dataset_io import Row, result_line
from .judging.grader import Grader
from .judging.retry import JudgeConfigError
from .ray_read import block_rows
from .scoring import GradeResult


class GradeActor:
    """One grading actor: the graders, an event loop of its own, and `concurrency` rows in flight.

    The loop runs in a thread for the actor's whole life, so the provider clients (made lazily inside the
    loop, see `InstructorJudge`) and their connection pools outlive one batch; `__call__` only hands each
    batch to it. A configuration error (a refused API key) comes back as a `fatal` row for the driver to
    raise, instead of as a task failure that Ray might retry.
    """

    def __init__(
        self, source: Grader | GraderFactory, done: frozenset[str], concurrency: int, env: dict[str, str]
    ) -> None:
        os.environ.update(env)  # this process is the actor's own: the driver's judge settings apply here
        self._graders = GraderPool(source)
        self._done = done
        self._concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None
        self._fatal: JudgeConfigError | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rubricdsl-grader", daemon=True)
        self._thread.start()

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = [row for row in block_rows(batch) if row.key not in self._done]
        keys: list[str] = []
        lines: list[bytes] = []
        fatal: list[str | None] = []
        for row, outcome in zip(rows, self._run(rows), strict=True):
            keys.append(row.key)
            if isinstance(outcome, JudgeConfigError):
                lines.append(b"")
                fatal.append(str(outcome))
            else:
                lines.append(result_line(row.id, outcome))
                fatal.append(None)
        return pa.table(
            {
                "key": pa.array(keys, pa.string()),
                "line": pa.array(lines, pa.binary()),
                "fatal": pa.array(fatal, pa.string()),
            }
        )

    def _run(self, rows: list[Row]) -> list[GradeResult | JudgeConfigError]:
        return asyncio.run_coroutine_threadsafe(self._grade(rows), self._loop).result()

    async def _grade(self, rows: list[Row]) -> list[GradeResult | JudgeConfigError]:
        if self._slots is None:  # made inside the loop it belongs to; shared by concurrent batches
            self._slots = asyncio.Semaphore(self._concurrency)
        slots = self._slots

        async def one(row: Row) -> GradeResult | JudgeConfigError:
            async with slots:
                if self._fatal is not None:  # a refused key refuses every row: stop asking, as the local engine
                    return self._fatal
                try:
                    return await grade_row(self._graders, row)
                except JudgeConfigError as exc:
                    self._fatal = exc
                    return exc

        return list(await asyncio.gather(*(one(row) for row in rows)))
