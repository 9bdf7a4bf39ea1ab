"""The judge server's request entry point and its live routes: Anthropic ``POST /v1/messages`` and OpenAI
``POST /v1/chat/completions`` (also ``/chat/completions``).

``_handle`` records every request (and the peak concurrency) whatever its route; ``_answer`` routes it: to
the Message Batches routes (batch_routes.py), or through the key and body checks to ``JudgeCore._judge``, the
faults it drew, and a reply in the provider's wire format (wire.py). The two providers share one code path:
only the error shape, the request's tool/schema and the reply's format differ.
"""

from __future__ import annotations

import json
import time

from rubricdsl.testing.batch_routes import BATCHES, BatchRoutes
from rubricdsl.testing.core import JSONDict
from rubricdsl.testing.faults import ANSWERING
from rubricdsl.testing.transport import Outcome, RecordedRequest
from rubricdsl.testing.wire import (
    anthropic_error,
    anthropic_message,
    api_key,
    check_body,
    openai_completion,
    openai_error,
    redact,
)

__all__ = ["LiveRoutes"]

_ANTHROPIC_PATHS = ("/v1/messages",)
_OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")


class LiveRoutes(BatchRoutes):
    """Every request in, recorded; the live Messages and Chat Completions routes answered here."""

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Outcome:
        started = time.monotonic()
        with self._lock:
            self._inflight += 1
            self._peak = max(self._peak, self._inflight)
            index = next(self._ids)
        lowered = {k.lower(): v for k, v in headers.items()}
        path = raw_path.split("?", 1)[0]
        record = RecordedRequest(index, path, redact(lowered), None)
        try:
            outcome = self._answer(method, path, lowered, raw, record)
            if outcome.delay > 0:
                time.sleep(outcome.delay)  # per thread, never under a lock: latency must not serialise
        finally:
            with self._lock:
                self._inflight -= 1
        record.status, record.reply, record.reply_headers = outcome.status, outcome.reply, outcome.headers
        record.duration = time.monotonic() - started
        with self._lock:  # recorded before the reply is written, so a client never sees an unrecorded answer
            self._records.append(record)
        return outcome

    def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes, rec: RecordedRequest) -> Outcome:
        openai = path in _OPENAI_PATHS
        error = openai_error if openai else anthropic_error

        def fail(kind: str, message: str | None = None, **extra: str) -> Outcome:
            status, body = error(kind, message)
            return Outcome(status, body, dict(extra), self.latency)

        if path == BATCHES or path.startswith(BATCHES + "/"):
            return self._batch_route(method, path, headers, raw, rec)
        if method != "POST" or path not in _ANTHROPIC_PATHS + _OPENAI_PATHS:
            return fail("404", f"no route {method} {path}")
        try:  # parsed before the key check only so that rejected requests are recorded with their body
            body = rec.body = json.loads(raw or b"null")
        except ValueError:
            body = rec.body = ValueError
        key, rec.auth = api_key(headers)
        if key is None or (self.valid_keys is not None and key not in self.valid_keys):
            return fail("401", "Incorrect API key provided." if openai else "invalid x-api-key")  # never echo keys
        if body is ValueError:
            rec.body = None
            return fail("400", "body is not JSON")
        problem = check_body(body, openai)
        if problem:
            return fail("400", problem)
        fault, result, tool_name = self._judge(body, openai, rec)
        if fault == "oracle_error":  # the oracle is test code: report its bug, do not let the SDK retry
            return fail("500", f"JudgeServer {rec.error}", **{"x-should-retry": "false"})
        if fault not in ANSWERING:
            if fault == "drop":
                return Outcome(None, None, {}, self.latency)
            extra = {"retry-after": self.faults.retry_after} if fault == "429" and self.faults.retry_after else {}
            return fail(str(fault), **extra)
        assert result is not None
        delay = self.latency + (self.faults.slow_seconds if fault == "slow" else 0.0)
        return Outcome(200, self._reply(rec.index, openai, body, result, tool_name), {}, delay)

    def _reply(
        self, number: int, openai: bool, body: JSONDict, result: JSONDict | str, tool_name: str | None
    ) -> JSONDict:
        model = str(body.get("model", ""))
        if openai:
            prompt, cached = self._cache.openai_cached_tokens(body)
            return openai_completion(f"chatcmpl-judge{number:08d}", model, result, tool_name, prompt, cached)
        usage = self._cache.anthropic_usage(body)
        return anthropic_message(f"msg_judge{number:08d}", model, result, tool_name, usage)
