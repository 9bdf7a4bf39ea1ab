"""Test doubles that speak the providers' real wire formats, so tests exercise the real client stack.

``JudgeServer`` is an HTTP server on 127.0.0.1 answering Anthropic ``/v1/messages`` (and Message Batches,
``/v1/messages/batches``) and OpenAI ``/v1/chat/completions`` from a deterministic oracle, with seeded fault
injection. It needs only the standard library and pydantic; the SDKs it serves are never imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rubricdsl.testing.faults import FAULT_KINDS, FaultConfig
from rubricdsl.testing.oracles import (
    UNSET,
    Fault,
    Oracle,
    OracleContext,
    allowed_values,
    deref,
    extract_response,
    fill_from_schema,
    find_embedded_schema,
    inline_refs,
    marker_oracle,
)
from rubricdsl.testing.wire import approx_tokens

if TYPE_CHECKING:
    from rubricdsl.testing.judge_server import JudgeServer, RecordedRequest

_SERVER_NAMES = frozenset({"JudgeServer", "RecordedRequest"})


def __getattr__(name: str) -> Any:
    """Import the server lazily, so ``python -m rubricdsl.testing.judge_server`` runs it only once."""
    if name in _SERVER_NAMES:
        from rubricdsl.testing import judge_server

        return getattr(judge_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FAULT_KINDS",
    "UNSET",
    "Fault",
    "FaultConfig",
    "JudgeServer",
    "Oracle",
    "OracleContext",
    "RecordedRequest",
    "allowed_values",
    "approx_tokens",
    "deref",
    "extract_response",
    "fill_from_schema",
    "find_embedded_schema",
    "inline_refs",
    "marker_oracle",
]
