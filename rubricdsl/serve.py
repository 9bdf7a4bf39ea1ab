"""`rubric serve`: an HTTP reward server for OpenRLHF's `--reward.remote_url http://HOST:PORT/get_reward`.

POST /get_reward with `{"query": [...], "prompts": [...], "labels": [...]}` (OpenRLHF sends all three;
older releases only `query`) answers `{"rewards": [...], "scores": [...], "extra_logs": {name: [...]}}`,
one value per query, the shape of OpenRLHF's own `serve_rm`. GET /health answers `{"status": "ok"}`.

The server is the standard library's threading HTTP server: each request's thread hands its batch to one
event loop in the background (`BackgroundLoop`), where the graders, the judge's clients and the concurrency
bound live, so concurrent requests share them. A failed grade is a neutral reward with `judge_failed` 1; a
bad request is HTTP 400; a configuration error (unknown rubric, refused API key) is HTTP 500 with the
message, never a reward.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from rubricdsl.rewards.openrlhf import BackgroundLoop, RewardService, background_loop, per_query_payload
from rubricdsl.rewards.verl import RewardConfigAbort

__all__ = ["RewardServer"]

_MAX_BODY = 256 * 1024 * 1024  # a batch of long queries is big, but a body this large is a mistake


class BadRequest(ValueError):
    """The request body is not what /get_reward takes (HTTP 400)."""


def parse_request(raw: bytes) -> tuple[list[str], list[Any] | None, list[Any] | None]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object with "query" (and "prompts", "labels")')
    queries = body.get("query", body.get("queries"))
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise BadRequest('"query" must be a list of strings')
    columns = []
    for name in ("prompts", "labels"):
        value = body.get(name)
        if value is not None and (not isinstance(value, list) or len(value) != len(queries)):
            raise BadRequest(f'"{name}" must be a list with one entry per query ({len(queries)})')
        columns.append(value)
    return queries, columns[0], columns[1]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], owner: RewardServer):
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that pool connections
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write(f"rubric serve: {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/health", ""):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": f"no such path {self.path}; POST /get_reward"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": f"the body is larger than {_MAX_BODY} bytes"})
            return
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0].rstrip("/") != "/get_reward":
            self._send(404, {"error": f"no such path {self.path}; POST /get_reward"})
            return
        status, payload = self.server.owner.answer(raw)
        self._send(status, payload)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client hung up (it timed out): nothing to answer
            self.close_connection = True


class RewardServer:
    """`with RewardServer(service) as server: ... server.url ...`, or `serve_forever()` for the command."""

    def __init__(self, service: RewardService, host: str = "127.0.0.1", port: int = 0, *,
                 loop: BackgroundLoop | None = None, verbose: bool = False):
        self.service, self.host, self.port, self.verbose = service, host, port, verbose
        self.loop = loop or background_loop()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/get_reward"

    def bind(self) -> _HTTPServer:
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self.port), self)
            self.port = self._httpd.server_address[1]
        return self._httpd

    def start(self) -> RewardServer:
        """Serve on a daemon thread (tests, notebooks)."""
        httpd = self.bind()
        if self._thread is None:
            self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="rubric-serve",
                                            daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.bind().serve_forever()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None:
            httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        httpd.server_close()

    def __enter__(self) -> RewardServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def answer(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one /get_reward request."""
        try:
            queries, prompts, labels = parse_request(raw)
            grades = self.loop.run(self.service.agrade(queries, prompts, labels))
        except BadRequest as exc:
            return 400, {"error": str(exc)}
        except RewardConfigAbort as exc:
            # Not a reward: OpenRLHF's client retries, then fails the rollout with this message.
            sys.stderr.write(f"rubric serve: configuration error: {exc}\n")
            return 500, {"error": str(exc)}
        except ValueError as exc:
            return 400, {"error": str(exc)}
        except Exception as exc:  # a bug: answer (the client would otherwise wait for its timeout), and say so
            sys.stderr.write(f"rubric serve: internal error: {exc!r}\n")
            return 500, {"error": f"internal error: {exc!r}"}
        return 200, per_query_payload(grades)

