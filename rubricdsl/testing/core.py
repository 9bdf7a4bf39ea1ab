"""The judge server's configuration and state, and what it answers to one checked request.

``JudgeCore`` is the base of ``JudgeServer``: ``BatchRoutes`` (batch_routes.py) and ``LiveRoutes``
(live_routes.py) add the HTTP routes on top of it, judge_server.py the lifecycle and the inspection API.
``_judge`` is shared by both kinds of route: it draws the fault, asks the oracle and malforms the answer.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import Any

from rubricdsl.testing.batches import BatchStore
from rubricdsl.testing.faults import ANSWERING, BATCH_ONLY, FaultConfig, FaultPlan, malform
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
from rubricdsl.testing.transport import HTTPServer, RecordedRequest
from rubricdsl.testing.wire import PromptCache, anthropic_target, openai_target

__all__ = ["JSONDict", "JudgeCore"]

JSONDict = dict[str, Any]


class JudgeCore:
    """Configuration, counters and records of a judge server; its answers to checked requests."""

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
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

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
