"""Anthropic Message Batches for the fake judge: the wire shapes and the server's store of batches.

A batch is created in one POST, stays ``in_progress`` for the server's ``batch_delay``, then ends; its
requests are answered by the same oracle and fault plan as live ones, once, when the batch is first seen
ended, in request order (so a seed gives the same results every run). The shapes follow the installed
SDK's ``anthropic.types.messages`` (``MessageBatch``, ``MessageBatchIndividualResponse``): results are
JSON Lines at ``results_url``, one ``{"custom_id", "result"}`` object per request, never in request order
on the real API, so clients must match them by ``custom_id`` (here they are reversed, to make sure).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from rubricdsl.testing.wire import anthropic_error, check_body

__all__ = [
    "CUSTOM_ID",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "Batch",
    "BatchStore",
    "batch_object",
    "check_batch",
    "errored_result",
]

JSONDict = dict[str, Any]

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_BATCH_REQUESTS = 100_000
MAX_BATCH_BYTES = 256 * 1024 * 1024
EXPIRY = timedelta(hours=24)
# The error an HTTP fault becomes inside a batch: the request failed the way a live one would have.
_ERRORED_AS = {"400": "400", "401": "401", "429": "429", "500": "500", "529": "529", "drop": "500", "errored": "500"}


def _rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def check_batch(body: Any, size: int) -> str | None:
    """What the API refuses at creation: no requests, too many or too large, bad or repeated custom ids."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or not body["requests"]:
        return "requests: a non-empty list is required"
    requests = body["requests"]
    if len(requests) > MAX_BATCH_REQUESTS:
        return f"requests: at most {MAX_BATCH_REQUESTS} requests in one batch, got {len(requests)}"
    if size > MAX_BATCH_BYTES:
        return f"a batch is at most {MAX_BATCH_BYTES} bytes, got {size}"
    seen: set[str] = set()
    for index, request in enumerate(requests):
        if not isinstance(request, dict) or not isinstance(request.get("custom_id"), str):
            return f"requests.{index}.custom_id: field required"
        custom_id = request["custom_id"]
        if not CUSTOM_ID.match(custom_id):
            return f"requests.{index}.custom_id: must match {CUSTOM_ID.pattern}"
        if custom_id in seen:
            return f"requests.{index}.custom_id: `{custom_id}` is used twice in this batch"
        seen.add(custom_id)
        problem = check_body(request.get("params"), openai=False)
        if problem:
            return f"requests.{index}.params.{problem}"
    return None


def errored_result(kind: str, message: str | None = None) -> JSONDict:
    """An ``errored`` result: the error response a live request would have had, as the result's ``error``."""
    _, body = anthropic_error(_ERRORED_AS.get(kind, "500"), message)
    return {"type": "errored", "error": {**body, "request_id": None}}


@dataclass
class Batch:
    id: str
    requests: list[JSONDict]
    created_at: datetime
    ready: float  # time.monotonic() at which processing ends
    results: list[JSONDict] | None = None  # the JSONL lines, once ended
    ended_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.results is None:
            counts["processing"] = len(self.requests)
        else:
            for line in self.results:
                counts[line["result"]["type"]] += 1
        return counts


def batch_object(batch: Batch, results_url: str | None) -> JSONDict:
    """A ``message_batch`` object; ``results_url`` only once processing has ended."""
    ended = batch.results is not None
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": batch.counts,
        "created_at": _rfc3339(batch.created_at),
        "expires_at": _rfc3339(batch.created_at + EXPIRY),
        "ended_at": _rfc3339(batch.ended_at),
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": results_url if ended else None,
    }


class BatchStore:
    """The batches a server has accepted, by id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._batches: dict[str, Batch] = {}
            self._ids = itertools.count(1)

    def create(self, requests: list[JSONDict], delay: float) -> Batch:
        with self._lock:
            batch_id = f"msgbatch_judge{next(self._ids):08d}"
            batch = Batch(batch_id, requests, datetime.now(timezone.utc), time.monotonic() + delay)
            self._batches[batch_id] = batch
        return batch

    def get(self, batch_id: str) -> Batch | None:
        with self._lock:
            return self._batches.get(batch_id)

    def all(self) -> list[Batch]:
        with self._lock:
            return list(self._batches.values())
