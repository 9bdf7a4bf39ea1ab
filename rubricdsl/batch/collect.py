"""Collecting the batch results a run needs: submit the requests no batch holds yet, poll, fetch.

Requests are built exactly as the live grader builds them, grouped by judge and split to stay within the
API's limits for one batch; each new batch is recorded in the state file before anything else happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..dataset import NO_RUBRIC, GraderPool
from ..dataset_io import read_rows
from ..judging.judge import InstructorJudge
from ..judging.request import JudgeRequest, build_requests
from ..judging.retry import JudgeError
from ..judging.schema import judged_items
from .client import BatchClient
from .judge import is_batchable
from .results import BatchReport, BatchResults
from .state import BatchState

MAX_BATCH_REQUESTS = 100_000  # the API's limits for one batch: requests, and bytes of the create body
MAX_BATCH_BYTES = 256 * 1024 * 1024
_BODY_SLACK = 64 * 1024  # room for the envelope and the SDK's own serialisation differences
Log = Callable[[str], None]


class BatchesPending(Exception):
    """`max_wait` ran out while batches were still processing; rerun to resume polling them."""


@dataclass
class _Chunk:
    """Requests gathered for one batch of one judge, flushed before a limit would be crossed."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0


def batchable_requests(
    graders: GraderPool, rows_path: str | os.PathLike[str], pending: set[str]
) -> Iterator[tuple[InstructorJudge, JudgeRequest]]:
    """Every batchable (judge, request) the pending rows need, as the Grader will build them."""
    for row in read_rows(rows_path):
        if row.key not in pending or row.error is not None or row.response is None:
            continue
        try:
            grader = graders.get(row.rubric)
        except NO_RUBRIC:
            continue  # the row fails with its reason when graded
        judges = [j for j in grader.judges if isinstance(j, InstructorJudge) and is_batchable(j)]
        if not judges or not judged_items(grader.rubric.leaves()):
            continue
        for request in build_requests(
            grader.rubric, row.response, row.prompt, samples=grader.samples, temperature=grader.temperature
        ):
            for judge in judges:
                yield judge, request


class ResultCollector:
    """Brings the results of every request the pending rows need into a `BatchResults`."""

    def __init__(
        self,
        graders: GraderPool,
        judges: dict[str, InstructorJudge],
        rows_path: str | os.PathLike[str],
        pending: set[str],
        state: BatchState,
        report: BatchReport,
        *,
        poll_interval: float,
        max_wait: float | None,
        max_requests: int,
        max_bytes: int,
        log: Log,
    ) -> None:
        self.graders, self.judges, self.rows_path, self.pending = graders, judges, rows_path, pending
        self.state, self.report = state, report
        self.poll_interval, self.max_wait, self.log = poll_interval, max_wait, log
        self.max_requests, self.max_bytes = max_requests, max_bytes - _BODY_SLACK
        self.clients: dict[str, BatchClient] = {}
        self.needed: set[str] = set()  # custom ids of the requests the pending rows make

    def client(self, judge_name: str) -> BatchClient:
        if judge_name not in self.clients:
            self.clients[judge_name] = BatchClient(self.judges[judge_name])
        return self.clients[judge_name]

    def mine(self) -> list[dict[str, Any]]:
        """The state's batches of this run's judges (another judge's results could match no request here)."""
        return [b for b in self.state.batches if b["judge"] in self.judges]

    async def run(self, results: BatchResults) -> None:
        try:
            await self._forget_lost_batches()
            await self._submit()
            for batch in await self._wait():
                await self.client(batch["judge"]).results(batch["id"], self.needed, results)
        finally:
            for client in self.clients.values():
                await client.close()

    async def _forget_lost_batches(self) -> None:
        """Batches of an earlier run that the API no longer knows are dropped: their requests go again."""
        for batch in self.mine():
            if await self.client(batch["judge"]).retrieve(batch["id"]) is None:
                self.log(
                    f"batch {batch['id']} is unknown to the API (deleted or expired): submitting its requests again"
                )
                self.state.drop(batch["id"])

    async def _submit(self) -> None:
        covered = {cid for batch in self.mine() for cid in batch["custom_ids"]}
        chunks: dict[str, _Chunk] = {}
        for judge, request in batchable_requests(self.graders, self.rows_path, self.pending):
            custom_id = request.cache_key(judge.name)  # names the judge too: one set serves every judge
            if custom_id in self.needed:
                continue  # the same request for another row (identical response and prompt): asked once
            self.needed.add(custom_id)
            if custom_id in covered:
                self.report.reused += 1
                continue
            entry = {"custom_id": custom_id, "params": request.anthropic_body(judge.model)}
            size = len(json.dumps(entry, ensure_ascii=False).encode()) + 1
            if size > self.max_bytes:
                self.report.not_batched += 1  # never answerable by a batch: the grader asks it live
                continue
            chunk = chunks.setdefault(judge.name, _Chunk())
            if len(chunk.requests) >= self.max_requests or chunk.size + size > self.max_bytes:
                await self._create(judge, chunk)
                chunk = chunks[judge.name] = _Chunk()
            chunk.requests.append(entry)
            chunk.size += size
        for name, chunk in chunks.items():
            if chunk.requests:
                await self._create(self.judges[name], chunk)

    async def _create(self, judge: InstructorJudge, chunk: _Chunk) -> None:
        batch_id = await self.client(judge.name).create(chunk.requests)
        self.state.add(batch_id, judge.name, [r["custom_id"] for r in chunk.requests])  # before anything else
        self.report.submitted += len(chunk.requests)
        self.log(f"submitted batch {batch_id}: {len(chunk.requests)} requests ({judge.name})")

    async def _wait(self) -> list[dict[str, Any]]:
        """Poll the batches holding requests this run needs until every one has ended."""
        waiting = [b for b in self.mine() if not self.needed.isdisjoint(b["custom_ids"])]
        self.report.batches = [b["id"] for b in waiting]
        started, ended = time.monotonic(), []
        while waiting:
            still = []
            for batch in waiting:
                if await self._has_ended(batch):
                    ended.append(batch)
                else:
                    still.append(batch)
            waiting = still
            if not waiting:
                break
            if self.max_wait is not None and time.monotonic() - started + self.poll_interval > self.max_wait:
                ids = ", ".join(b["id"] for b in waiting)
                raise BatchesPending(
                    f"{len(waiting)} batch(es) still processing ({ids}); rerun the same command "
                    f"to resume polling them (state: {self.state.path})"
                )
            await asyncio.sleep(self.poll_interval)
        return ended

    async def _has_ended(self, batch: dict[str, Any]) -> bool:
        """Whether the batch has ended (its counts are logged when it has)."""
        found = await self.client(batch["judge"]).retrieve(batch["id"])
        if found is None:
            raise JudgeError(f"batch {batch['id']} disappeared while processing; rerun to submit it again")
        if found.processing_status != "ended":
            return False
        counts = found.request_counts
        self.log(
            f"batch {batch['id']} ended: {counts.succeeded} succeeded, {counts.errored} errored, "
            f"{counts.expired} expired, {counts.canceled} canceled"
        )
        return True
