"""The persistent judge cache: SQLite in WAL mode, keyed by the SHA-256 of the request (JUDGING.md).

Temperature-0 grading is reproducible and free to repeat; two processes can share one file (WAL lets
readers and a writer work at once, and writes retry while the database is busy). Only the judge's
decisions, model name and token usage are stored: never a key, a header or the request itself.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from ..scoring.verdicts import Usage
from .judge import JudgeReply

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    decisions TEXT NOT NULL,
    usage TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class JudgeCache(Protocol):
    def get(self, key: str) -> JudgeReply | None: ...

    def put(self, key: str, reply: JudgeReply) -> None: ...


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("RUBRICDSL_CACHE_DIR") or user_cache_dir("rubricdsl")) / "judge-cache.sqlite3"


class SqliteCache:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> JudgeReply | None:
        with self._lock:
            row = self._db.execute("SELECT model, decisions, usage FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        model, decisions, usage = row
        return JudgeReply(json.loads(decisions), model, usage=Usage.model_validate_json(usage), calls=0, cached=True)

    def put(self, key: str, reply: JudgeReply) -> None:
        values = (
            key,
            reply.model,
            json.dumps(reply.decisions, sort_keys=True),
            reply.usage.model_dump_json(),
            time.time(),
        )
        for attempt in range(20):
            try:
                with self._lock:
                    self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)", values)
                return
            except sqlite3.OperationalError:  # "database is locked" beyond the timeout: another writer
                time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"the judge cache at {self.path} stayed locked")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_cache(path: str | os.PathLike[str] | None = None) -> SqliteCache:
    return SqliteCache(path if path is not None else default_cache_path())


def cache_for(spec: str | os.PathLike[str] | bool | None) -> SqliteCache | None:
    """The cache a `cache=` argument asks for: None or False, none; True, the default file; a path, that file."""
    if spec is None or spec is False:
        return None
    return open_cache(None if spec is True else spec)
