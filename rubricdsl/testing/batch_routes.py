"""The judge server's Anthropic Message Batches routes: create a batch, poll it, fetch its results.

A batch ends once ``batch_delay`` has passed: then every request in it is judged (``JudgeCore._judge``, with
the batch-only faults allowed) and recorded in ``JudgeServer.batch_requests``. The batch bookkeeping itself
(``Batch``, ``BatchStore``, the wire objects) lives in batches.py.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from rubricdsl.testing.batches import Batch, batch_object, check_batch, errored_result
from rubricdsl.testing.core import JSONDict, JudgeCore
from rubricdsl.testing.faults import ANSWERING
from rubricdsl.testing.transport import Outcome, RecordedRequest
from rubricdsl.testing.wire import anthropic_error, anthropic_message, api_key

__all__ = ["BATCHES", "BatchRoutes"]

BATCHES = "/v1/messages/batches"


class BatchRoutes(JudgeCore):
    """``POST /v1/messages/batches`` and the ``GET`` routes under it."""

    def _batch_route(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, rec: RecordedRequest
    ) -> Outcome:
        """``POST /v1/messages/batches``, ``GET .../{id}`` and ``GET .../{id}/results`` (JSON Lines)."""

        def fail(kind: str, message: str | None = None) -> Outcome:
            status, body = anthropic_error(kind, message)
            return Outcome(status, body, {}, self.latency)

        parts = path[len(BATCHES) :].strip("/").split("/") if path != BATCHES else []
        if method == "POST" and raw:
            try:
                rec.body = json.loads(raw)
            except ValueError:
                rec.body = None
                return fail("400", "body is not JSON")
        key, rec.auth = api_key(headers)
        if key is None or (self.valid_keys is not None and key not in self.valid_keys):
            return fail("401", "invalid x-api-key")
        if method == "POST" and not parts:
            problem = check_batch(rec.body, len(raw))
            if problem:
                return fail("400", problem)
            created = self._batches.create(rec.body["requests"], self.batch_delay)
            return Outcome(200, batch_object(created, None), {}, self.latency)
        batch = self._batches.get(parts[0]) if method == "GET" and parts else None
        if batch is None or len(parts) > 2 or (len(parts) == 2 and parts[1] != "results"):
            return fail("404", f"no batch {parts[0]}" if method == "GET" and parts else f"no route {method} {path}")
        ended = self._finish(batch)
        if len(parts) == 1:
            results_url = f"{self.url}{BATCHES}/{batch.id}/results"
            return Outcome(200, batch_object(batch, results_url if ended else None), {}, self.latency)
        if not ended or batch.results is None:
            return fail("400", f"batch {batch.id} is still in_progress: its results are not ready")
        lines = b"".join(json.dumps(line).encode() + b"\n" for line in reversed(batch.results))
        return Outcome(200, lines, {"content-type": "application/binary"}, self.latency)

    def _finish(self, batch: Batch) -> bool:
        """End the batch once its delay has passed, answering every request (once, in request order)."""
        with batch.lock:
            if batch.results is not None:
                return True
            if time.monotonic() < batch.ready:
                return False
            results = []
            for number, request in enumerate(batch.requests):
                params, custom_id = request["params"], request["custom_id"]
                sub = RecordedRequest(number, f"{BATCHES}/{batch.id}", {}, params)
                fault, result, tool_name = self._judge(params, False, sub, batch=True)
                if fault in ANSWERING and result is not None:
                    usage = self._cache.anthropic_usage(params)
                    message = anthropic_message(
                        f"msg_batch{number:08d}", str(params.get("model", "")), result, tool_name, usage
                    )
                    outcome: JSONDict = {"type": "succeeded", "message": message}
                elif fault in ("expired", "canceled"):
                    outcome = {"type": fault}
                else:
                    outcome = errored_result(str(fault), f"JudgeServer {sub.error}" if sub.error else None)
                sub.status, sub.reply = 200, outcome
                results.append({"custom_id": custom_id, "result": outcome})
                with self._lock:
                    self._batch_records.append(sub)
            batch.results, batch.ended_at = results, datetime.now(timezone.utc)
            return True
