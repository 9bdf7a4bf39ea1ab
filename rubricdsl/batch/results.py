"""Batch results as the grader needs them, and the report of what the batches did for a run.

A result is kept by its custom id (the request's cache key), so it can only answer the request it was
made for; `BatchResults` also counts every use, so the report can say what was answered and what went live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ..judging.judge import read_usage
from ..scoring import Usage

_MAX_REPORTED_ERRORS = 10


class BatchReport(BaseModel):
    """What the batches did for this run (the dataset summary covers the grades)."""

    state: str  # the state file holding the batch ids
    batches: list[str] = Field(default_factory=list)  # ids of the batches this run used
    submitted: int = 0  # requests sent in batches created by this run
    reused: int = 0  # requests already in batches of an earlier, interrupted run
    not_batched: int = 0  # requests too large for a batch: asked live
    results: dict[str, int] = Field(default_factory=dict)  # result type → requests this run needed
    answered: int = 0  # requests answered from a batch result
    live: dict[str, int] = Field(default_factory=dict)  # why requests were re-asked live → how many
    errors: list[str] = Field(default_factory=list)  # the first `errored` results' messages
    usage: Usage = Field(default_factory=Usage)  # tokens of the batch replies (billed at half price)


@dataclass(frozen=True)
class BatchResult:
    """One batch result, by custom id: the tool input of a succeeded request, or why there is none."""

    kind: str  # succeeded, errored, canceled, expired
    tool_input: Any = None
    tool_name: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


class BatchResults:
    """The batch results this run needs, and the counts the report gives of their use."""

    def __init__(self, report: BatchReport) -> None:
        self.by_id: dict[str, BatchResult] = {}
        self.report = report
        self.used: set[str] = set()  # custom ids whose reply has answered a request already

    def add(self, custom_id: str, result: BatchResult) -> None:
        self.by_id[custom_id] = result
        self.report.results[result.kind] = self.report.results.get(result.kind, 0) + 1
        if result.error and len(self.report.errors) < _MAX_REPORTED_ERRORS:
            self.report.errors.append(result.error)

    def answered(self, custom_id: str, usage: Usage) -> bool:
        """Count an answer; False when this reply already answered an identical request (of another row)."""
        self.report.answered += 1
        if custom_id in self.used:
            return False
        self.used.add(custom_id)
        self.report.usage = self.report.usage + usage
        return True

    def went_live(self, why: str) -> None:
        self.report.live[why] = self.report.live.get(why, 0) + 1


def read_result(result: Any) -> BatchResult:
    """A `MessageBatchResult` as the little the grader needs: the forced tool's input and the usage."""
    kind = str(result.type)
    if kind == "succeeded":
        message = result.message
        usage = read_usage(message.usage)
        tool = next((block for block in message.content if block.type == "tool_use"), None)
        if tool is None:
            return BatchResult(kind, usage=usage)
        return BatchResult(kind, tool_input=tool.input, tool_name=tool.name, usage=usage)
    if kind == "errored":
        error = getattr(getattr(result.error, "error", None), "message", None) or str(result.error)
        return BatchResult(kind, error=f"{getattr(result.error.error, 'type', 'error')}: {error}")
    return BatchResult(kind)
