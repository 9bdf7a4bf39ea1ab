"""The state file of a batch run: the ids of the batches made for an output, so a rerun resumes them.

Each batch id is written as soon as the API returns it, so an interrupted run polls those batches again
instead of paying for their requests twice.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..dataset_io import DatasetError

_STATE_VERSION = 1


def state_path(out_path: str | os.PathLike[str]) -> Path:
    """Where a batch run keeps its batch ids: next to the output, `OUT.batches.json`."""
    out = Path(out_path)
    return out.with_name(out.name + ".batches.json")


class BatchState:
    """The batches of an output, persisted atomically after every change (one writer: the output's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches: list[dict[str, Any]] = []
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DatasetError(f"{path}: unreadable batch state ({exc}); delete it to submit anew") from None
            if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
                raise DatasetError(f"{path}: not a batch state file of this version; delete it to submit anew")
            self.batches = list(data.get("batches") or [])

    def add(self, batch_id: str, judge: str, custom_ids: list[str]) -> None:
        self.batches.append({"id": batch_id, "judge": judge, "created": time.time(), "custom_ids": custom_ids})
        self.save()

    def drop(self, batch_id: str) -> None:
        self.batches = [b for b in self.batches if b["id"] != batch_id]
        self.save()

    def save(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"version": _STATE_VERSION, "batches": self.batches}), encoding="utf-8")
        os.replace(temporary, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
