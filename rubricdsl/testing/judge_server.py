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
import json
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from types import TracebackType

from rubricdsl.testing.batches import Batch
from rubricdsl.testing.core import JSONDict
from rubricdsl.testing.faults import FAULT_KINDS, FaultConfig
from rubricdsl.testing.live_routes import LiveRoutes
from rubricdsl.testing.transport import HTTPServer, RecordedRequest

__all__ = ["FAULT_KINDS", "FaultConfig", "JudgeServer", "RecordedRequest", "main"]


class JudgeServer(LiveRoutes):
    """Fake Anthropic/OpenAI judge; ``with JudgeServer(oracle=...) as server: ... server.url ...``.

    Built in layers: ``JudgeCore`` (core.py) holds the constructor, the state and the oracle/fault logic,
    ``BatchRoutes`` (batch_routes.py) and ``LiveRoutes`` (live_routes.py) answer requests, transport.py
    speaks HTTP; this class adds starting and stopping, and what tests inspect.
    """

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> JudgeServer:
        """Bind (a free port when ``port=0``) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = HTTPServer((self.host, self.port), self._handle)
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


def spawn(latency: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    """Run the server in its own process (as a real judge runs on another machine: in the measuring
    process it would take the GIL from the client being measured); returns the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rubricdsl.testing.judge_server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the judge server did not start (printed {url!r})")
    return process, url


if __name__ == "__main__":
    main()

