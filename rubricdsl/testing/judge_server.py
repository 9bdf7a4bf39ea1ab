"""A real HTTP judge for tests and benchmarks: Anthropic Messages (and Message Batches) and OpenAI Chat
Completions on 127.0.0.1.

Why a server and not a mock: the grader's whole client path (the real ``anthropic``/``openai`` SDKs,
instructor's schema and re-asks, the SDK's retries and ``retry-after``, connection pooling, concurrency)
only gets exercised over real sockets. The answers come from a deterministic oracle, faults from a seeded
generator, so runs are reproducible; a fixed latency slept per thread makes throughput benchmarks honest.
Only the standard library and the sibling modules are used: the server must not depend on the SDKs it tests.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from rubricdsl.testing.batches import Batch, BatchStore, batch_object, check_batch, errored_result
from rubricdsl.testing.faults import ANSWERING, BATCH_ONLY, FAULT_KINDS, FaultConfig, FaultPlan, malform
from rubricdsl.testing.oracles import (
    Fault,
    Oracle,
    OracleContext,
    deref,
    extract_response,
    fill_from_schema,
    inline_refs,
    marker_oracle,
)
from rubricdsl.testing.wire import (
    PromptCache,
    anthropic_error,
    anthropic_message,
    anthropic_target,
    api_key,
    check_body,
    openai_completion,
    openai_error,
    openai_target,
    redact,
)

__all__ = ["FAULT_KINDS", "FaultConfig", "JudgeServer", "RecordedRequest", "main"]

JSONDict = dict[str, Any]
_ANTHROPIC_PATHS = ("/v1/messages",)
_BATCHES = "/v1/messages/batches"
_OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")


@dataclass
class RecordedRequest:
    """One request as the server saw it and answered it (API key values are never kept)."""

    index: int
    path: str
    headers: dict[str, str]
    body: Any
    auth: str | None = None
    status: int | None = None
    reply: Any = None
    reply_headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    response_text: str | None = None
    error: str | None = None
    duration: float = 0.0


@dataclass
class _Outcome:
    status: int | None  # None: drop the connection
    reply: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], judge: JudgeServer) -> None:
        self.judge = judge
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, cancelled tasks) are normal here, not worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK would add 40 ms
    timeout = 120
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests record requests in ``JudgeServer.requests`` instead."""

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, raw: bytes) -> None:
        outcome = self.server.judge._handle(self.command, self.path, dict(self.headers.items()), raw)
        if outcome.status is None:
            self.close_connection = True
            return
        raw_reply = isinstance(outcome.reply, bytes)  # batch results: JSON Lines, sent as they are
        data = outcome.reply if raw_reply else json.dumps(outcome.reply).encode()
        try:
            self.send_response(outcome.status)
            for name, value in {"content-type": "application/json", **outcome.headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


class JudgeServer:
    """Fake Anthropic/OpenAI judge; ``with JudgeServer(oracle=...) as server: ... server.url ...``."""

    def __init__(
        self,
        oracle: Oracle = marker_oracle,
        faults: FaultConfig | None = None,
        latency: float = 0.0,
        seed: int = 0,
        valid_keys: Iterable[str] | None = ("test",),
        host: str = "127.0.0.1",
        port: int = 0,
        batch_delay: float = 0.0,
    ) -> None:
        """``batch_delay``: seconds a Message Batch stays ``in_progress`` before it ends."""
        self.oracle, self.faults, self.latency, self.seed = oracle, faults or FaultConfig(), latency, seed
        self.batch_delay = batch_delay
        self.valid_keys = None if valid_keys is None else frozenset(valid_keys)
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._cache = PromptCache()
        self._faults = FaultPlan(self.faults, seed)
        self._batches = BatchStore()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> JudgeServer:
        """Bind (a free port when ``port=0``) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        # a short poll interval: ``stop()`` waits for the serve loop to notice, once per test
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="judge-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close kept-alive connections, so no handler thread outlives the server."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            for conn in list(httpd.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL: Anthropic clients use it as is, OpenAI clients append ``/v1``."""
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget requests, batches, counters, the prompt cache and scripted faults; reseed the fault RNG."""
        with self._lock:
            self._records: list[RecordedRequest] = []
            self._batch_records: list[RecordedRequest] = []
            self._ids = itertools.count(1)
            self._inflight = self._peak = 0
        self._cache.clear()
        self._faults.reset()
        self._batches.clear()

    # inspection ------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, in the order they were answered."""
        with self._lock:
            return list(self._records)

    @property
    def batch_requests(self) -> list[RecordedRequest]:
        """The requests inside Message Batches, as answered when their batch ended (path: the batch's)."""
        with self._lock:
            return list(self._batch_records)

    @property
    def batches(self) -> list[Batch]:
        """Every Message Batch created, in creation order."""
        return self._batches.all()

    @property
    def calls(self) -> dict[str, int]:
        """Number of requests per path."""
        return dict(Counter(r.path for r in self.requests))

    def stats(self) -> JSONDict:
        """Summary for benchmarks and assertions: counts by path/status/fault, peak concurrency, usage."""
        records = self.requests
        usage: Counter[str] = Counter()
        for r in records:
            if isinstance(r.reply, dict) and isinstance(r.reply.get("usage"), dict):
                for key, value in r.reply["usage"].items():
                    if isinstance(value, int):
                        usage[key] += value
                details = r.reply["usage"].get("prompt_tokens_details") or {}
                usage["cached_tokens"] += int(details.get("cached_tokens", 0))
        with self._lock:
            peak = self._peak
        return {
            "requests": len(records),
            "by_path": dict(Counter(r.path for r in records)),
            "by_status": dict(Counter(r.status for r in records)),
            "faults": dict(Counter(r.fault for r in records if r.fault)),
            "oracle_errors": sum(1 for r in records if r.error),
            "peak_concurrency": peak,
            "usage": dict(usage),
        }

    # request handling ------------------------------------------------------------------------------
    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> _Outcome:
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

    def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes, rec: RecordedRequest) -> _Outcome:
        openai = path in _OPENAI_PATHS
        error = openai_error if openai else anthropic_error

        def fail(kind: str, message: str | None = None, **extra: str) -> _Outcome:
            status, body = error(kind, message)
            return _Outcome(status, body, dict(extra), self.latency)

        if path == _BATCHES or path.startswith(_BATCHES + "/"):
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
                return _Outcome(None, None, {}, self.latency)
            extra = {"retry-after": self.faults.retry_after} if fault == "429" and self.faults.retry_after else {}
            return fail(str(fault), **extra)
        assert result is not None
        delay = self.latency + (self.faults.slow_seconds if fault == "slow" else 0.0)
        return _Outcome(200, self._reply(rec.index, openai, body, result, tool_name), {}, delay)

    def _judge(
        self, body: JSONDict, openai: bool, rec: RecordedRequest, *, batch: bool = False
    ) -> tuple[str | None, JSONDict | str | None, str | None]:
        """(fault, the answer to send or None, tool name) of one checked request, live or in a batch.

        ``"oracle_error"`` as the fault means the oracle raised (``rec.error`` says how). A batch-only fault
        drawn by a live request is dropped, so one scripted sequence can fail a batch request and let the
        live re-ask that follows it succeed.
        """
        tool_name, raw_schema = (openai_target if openai else anthropic_target)(body)
        rec.response_text = response = extract_response(body["messages"])
        fault = self._faults.draw(response)
        if fault in BATCH_ONLY and not batch:
            fault = None
        result: JSONDict | str | None = None
        if fault in ANSWERING:
            props = deref(raw_schema, raw_schema).get("properties", {}) if raw_schema else {}
            ctx = OracleContext(
                response=response,
                body=body,
                schema=inline_refs(raw_schema) if raw_schema else None,
                field_names=tuple(props),
                provider="openai" if openai else "anthropic",
                tool_name=tool_name,
                raw_schema=raw_schema,
                is_reask=any(m.get("role") in ("assistant", "tool") for m in body["messages"]),
            )
            try:
                answer: Any = self.oracle(ctx)
                if hasattr(answer, "model_dump"):  # a pydantic instance of the response model is fine too
                    answer = answer.model_dump(mode="json")
                if not isinstance(answer, (dict, str)):
                    raise TypeError(f"an oracle returns a dict or a str, not {type(answer).__name__}")
                result = answer
            except Fault as forced:
                fault = None if forced.kind == "ok" else forced.kind
                result = fill_from_schema(raw_schema) if raw_schema else ""
            except Exception as exc:
                rec.error = f"oracle raised {exc!r}"
                rec.fault = "oracle_error"
                return "oracle_error", None, tool_name
        rec.fault = fault
        if fault == "malformed" and result is not None:
            rng = self._faults.child_rng()
            required = list(deref(raw_schema, raw_schema).get("required", [])) if raw_schema else []
            result = malform(result, required, rng) if isinstance(result, dict) else result[: len(result) // 2]
        return fault, result, tool_name

    # Message Batches ---------------------------------------------------------------------------------
    def _batch_route(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, rec: RecordedRequest
    ) -> _Outcome:
        """``POST /v1/messages/batches``, ``GET .../{id}`` and ``GET .../{id}/results`` (JSON Lines)."""

        def fail(kind: str, message: str | None = None) -> _Outcome:
            status, body = anthropic_error(kind, message)
            return _Outcome(status, body, {}, self.latency)

        parts = path[len(_BATCHES):].strip("/").split("/") if path != _BATCHES else []
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
            return _Outcome(200, batch_object(created, None), {}, self.latency)
        batch = self._batches.get(parts[0]) if method == "GET" and parts else None
        if batch is None or len(parts) > 2 or (len(parts) == 2 and parts[1] != "results"):
            return fail("404", f"no batch {parts[0]}" if method == "GET" and parts else f"no route {method} {path}")
        ended = self._finish(batch)
        if len(parts) == 1:
            results_url = f"{self.url}{_BATCHES}/{batch.id}/results"
            return _Outcome(200, batch_object(batch, results_url if ended else None), {}, self.latency)
        if not ended or batch.results is None:
            return fail("400", f"batch {batch.id} is still in_progress: its results are not ready")
        lines = b"".join(json.dumps(line).encode() + b"\n" for line in reversed(batch.results))
        return _Outcome(200, lines, {"content-type": "application/binary"}, self.latency)

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
                sub = RecordedRequest(number, f"{_BATCHES}/{batch.id}", {}, params)
                fault, result, tool_name = self._judge(params, False, sub, batch=True)
                if fault in ANSWERING and result is not None:
                    usage = self._cache.anthropic_usage(params)
                    message = anthropic_message(f"msg_batch{number:08d}", str(params.get("model", "")), result,
                                                tool_name, usage)
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

    def _reply(
        self, number: int, openai: bool, body: JSONDict, result: JSONDict | str, tool_name: str | None
    ) -> JSONDict:
        model = str(body.get("model", ""))
        if openai:
            prompt, cached = self._cache.openai_cached_tokens(body)
            return openai_completion(f"chatcmpl-judge{number:08d}", model, result, tool_name, prompt, cached)
        usage = self._cache.anthropic_usage(body)
        return anthropic_message(f"msg_judge{number:08d}", model, result, tool_name, usage)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m rubricdsl.testing.judge_server --port 0 --latency 0.1``: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--key", action="append", help="accepted API key (repeatable; default: test)")
    for kind in ("429", "529", "500", "malformed", "drop", "slow"):
        parser.add_argument(f"--rate-{kind}", type=float, default=0.0, dest=f"rate_{kind}")
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    parser.add_argument("--batch-delay", type=float, default=0.0, help="seconds before a Message Batch ends")
    args = parser.parse_args(argv)
    faults = FaultConfig(
        **{f"rate_{k}": getattr(args, f"rate_{k}") for k in ("429", "529", "500", "malformed", "drop", "slow")},
        slow_seconds=args.slow_seconds,
    )
    server = JudgeServer(
        faults=faults,
        latency=args.latency,
        seed=args.seed,
        valid_keys=args.key or ("test",),
        host=args.host,
        port=args.port,
        batch_delay=args.batch_delay,
    )
    with server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    print(json.dumps(server.stats()), flush=True)


if __name__ == "__main__":
    main()
