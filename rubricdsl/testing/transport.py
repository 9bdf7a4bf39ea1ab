"""The judge server's HTTP plumbing: the threaded server, the request handler, and what a request records.

The handler only reads the request and writes the answer; what to answer comes from the ``answer`` callable
the server is built with (``JudgeServer._handle``). Standard library only, like the rest of the server.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Answer", "HTTPServer", "Outcome", "RecordedRequest"]


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
class Outcome:
    status: int | None  # None: drop the connection
    reply: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


# (method, raw path, headers, raw body) -> what to send back
Answer = Callable[[str, str, dict[str, str], bytes], Outcome]


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], answer: Answer) -> None:
        self.answer = answer
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, cancelled tasks) are normal here, not worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK would add 40 ms
    timeout = 120
    server: HTTPServer

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
        outcome = self.server.answer(self.command, self.path, dict(self.headers.items()), raw)
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
