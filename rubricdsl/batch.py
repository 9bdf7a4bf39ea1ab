"""Grading a dataset through Anthropic's Message Batches API: half the price, up to a day of latency.

```python
from rubricdsl.batch import grade_dataset

run = grade_dataset(grader_or_factory, "rows.jsonl", "out.jsonl", poll_interval=60)
print(run.summary.mean, run.report.live)
```

The run has three steps. (1) Every judge request the pending rows need is built exactly as the live grader
builds it (`build_requests`: same tool schema, cache breakpoint and fenced response) and sent with the
anthropic SDK's `client.messages.batches.create`, split to stay within the API's limits; each batch id is
written to a state file next to the output (`OUT.batches.json`) as soon as it exists, so an interrupted run
resumes polling those batches instead of paying for them twice. (2) The batches are polled until they
end, and their results are fetched. (3) The local engine grades the rows, with each Anthropic judge wrapped
in a `BatchJudge` that answers from the batch results (validated with the request's reply model, as
instructor validates a live reply) and asks the live judge for the rest: `errored`, `canceled` and
`expired` results and invalid replies are re-asked live, never scored, and counted in the report. The
output, its resume rules and the summary are the local engine's own.

A request's `custom_id` is its cache key (SHA-256 of the model, the request with the fence nonce blanked,
the sampling settings and the sample index: 64 hex digits, the longest id the API takes). It names one
(row content, sample, judge), so a result can only ever answer the request it was made for: after an edit
of the input or the rubric, a stale result simply matches nothing and that request is asked again.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

# The local engine's own planning helpers, so that both engines refuse, plan and grade rows identically.
from .dataset import (
    NO_RUBRIC,
    DatasetSummary,
    GraderFactory,
    GraderPool,
    Progress,
    agrade_dataset,
    plan_run,
    require_judges,
)
from .dataset_io import DatasetError, Repair, open_output, read_rows
from .judging.grader import Grader
from .judging.judge import InstructorJudge, JudgeReply, read_usage
from .judging.request import JudgeRequest, build_requests
from .judging.retry import JudgeConfigError, JudgeError, classify
from .judging.run import run_sync
from .judging.schema import decisions, judged_items
from .scoring import Usage

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "BatchJudge",
    "BatchReport",
    "BatchRun",
    "BatchesPending",
    "agrade_dataset_batch",
    "grade_dataset",
    "state_path",
]

MAX_BATCH_REQUESTS = 100_000  # the API's limits for one batch: requests, and bytes of the create body
MAX_BATCH_BYTES = 256 * 1024 * 1024
_BODY_SLACK = 64 * 1024  # room for the envelope and the SDK's own serialisation differences
_STATE_VERSION = 1
_MAX_REPORTED_ERRORS = 10
Log = Callable[[str], None]


class BatchesPending(Exception):
    """`max_wait` ran out while batches were still processing; rerun to resume polling them."""


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


@dataclass
class BatchRun:
    summary: DatasetSummary
    report: BatchReport


def state_path(out_path: str | os.PathLike[str]) -> Path:
    """Where a batch run keeps its batch ids: next to the output, `OUT.batches.json`."""
    out = Path(out_path)
    return out.with_name(out.name + ".batches.json")


# ------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Result:
    """One batch result, by custom id: the tool input of a succeeded request, or why there is none."""

    kind: str  # succeeded, errored, canceled, expired
    tool_input: Any = None
    tool_name: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


class _Results:
    """The batch results this run needs, and the counts the report gives of their use."""

    def __init__(self, report: BatchReport) -> None:
        self.by_id: dict[str, _Result] = {}
        self.report = report
        self.used: set[str] = set()  # custom ids whose reply has answered a request already

    def add(self, custom_id: str, result: _Result) -> None:
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


class BatchJudge:
    """A judge that answers from Message Batch results and asks its live judge for everything else.

    Only a succeeded result whose tool input validates against the request's reply model is an answer;
    errored, canceled and expired results, invalid replies and requests no batch holds go to the live
    judge (with its retries and instructor's re-asks), so a failed batch request is never scored.
    """

    def __init__(self, live: InstructorJudge, results: _Results) -> None:
        self.name = live.name  # the same name: the same cache keys and the same `model` in the results
        self.live, self.results = live, results
        # The live judge's own bound (when it has one) limits the re-asks; answers from results need none.
        self.bounds_concurrency = bool(getattr(live, "bounds_concurrency", False))

    async def decide(self, request: JudgeRequest) -> JudgeReply:
        custom_id = request.cache_key(self.name)
        found = self.results.by_id.get(custom_id)
        why = "missing" if found is None else found.kind
        if found is not None and found.kind == "succeeded":
            model = request.reply_model
            if found.tool_name == model.__name__:
                try:
                    validated = model.model_validate(found.tool_input)
                except ValidationError:
                    why = "invalid"
                else:
                    if self.results.answered(custom_id, found.usage):
                        return JudgeReply(decisions(validated), self.name, usage=found.usage, calls=1)
                    # one request served identical rows: like a cache hit, the second costs nothing
                    return JudgeReply(decisions(validated), self.name, calls=0, cached=True)
            else:
                why = "invalid"  # no tool call (a text reply, or cut short by max_tokens)
        self.results.went_live(why)
        reply = await self.live.decide(request)
        if why == "invalid" and found is not None:  # the batch reply was billed too: account for it
            reply.usage, reply.calls = reply.usage + found.usage, reply.calls + 1
            self.results.report.usage = self.results.report.usage + found.usage
        return reply

    async def aclose(self) -> None:
        """Close the live judge's clients (Grader.aclose calls this for each of its judges)."""
        close = getattr(self.live, "aclose", None)
        if close is not None:
            await close()


def _batchable(judge: object) -> bool:
    return isinstance(judge, InstructorJudge) and judge.provider == "anthropic"


def _with_batches(grader: Grader, results: _Results) -> Grader:
    """A copy of the grader whose Anthropic judges answer from the batch results (the original is untouched)."""
    wrapped = copy.copy(grader)  # Grader.__getstate__: the copy opens its own cache and semaphores
    wrapped.judges = [BatchJudge(j, results) if isinstance(j, InstructorJudge) and _batchable(j) else j
                      for j in grader.judges]
    return wrapped


# ------------------------------------------------------------------------------------------- state file


class _State:
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


# ------------------------------------------------------------------------------------------- the API calls


class _Client:
    """The anthropic SDK's batch calls for one judge, with the judge's retry policy on the idempotent ones."""

    def __init__(self, judge: InstructorJudge) -> None:
        import anthropic

        key = judge.api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise JudgeConfigError("no API key for the Anthropic judge: set ANTHROPIC_API_KEY")
        base_url = judge.base_url or os.environ.get("ANTHROPIC_BASE_URL")
        self.judge = judge
        self.sdk = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0, timeout=judge.timeout)

    async def create(self, requests: list[dict[str, Any]]) -> str:
        """Create a batch. Retried only on 429 and 529, which say the batch was not made: retrying after a
        timeout could create it twice, and a failed run costs nothing (its state resumes)."""
        for attempt in range(self.judge.retry.attempts):
            try:
                batch = await self.sdk.messages.batches.create(requests=requests)  # type: ignore[arg-type]
                return str(batch.id)
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                if status not in (429, 529) or attempt + 1 >= self.judge.retry.attempts:
                    raise _as_judge_error(exc, "creating a message batch") from exc
                await asyncio.sleep(self.judge.retry.delay(attempt, None, _rng))
        raise JudgeError("no attempt was made")

    async def retrieve(self, batch_id: str) -> Any | None:
        """The batch, or None when the API no longer knows it (deleted, or another account's)."""
        try:
            return await self.judge.retry.run(lambda: self.sdk.messages.batches.retrieve(batch_id))
        except JudgeConfigError as exc:
            if getattr(exc.__cause__, "status_code", None) == 404 or "HTTP 404" in str(exc):
                return None
            raise

    async def results(self, batch_id: str, wanted: set[str], into: _Results) -> None:
        async def fetch() -> None:
            async for line in await self.sdk.messages.batches.results(batch_id):
                if line.custom_id in wanted and line.custom_id not in into.by_id:
                    into.add(line.custom_id, _result_of(line.result))

        await self.judge.retry.run(fetch)

    async def close(self) -> None:
        await self.sdk.close()


_rng = random.Random()


def _as_judge_error(exc: Exception, doing: str) -> Exception:
    kind, _, what = classify(exc)
    return JudgeConfigError(f"{doing}: {what}") if kind == "fatal" else JudgeError(f"{doing}: {what}")


def _result_of(result: Any) -> _Result:
    """A `MessageBatchResult` as the little the grader needs: the forced tool's input and the usage."""
    kind = str(result.type)
    if kind == "succeeded":
        message = result.message
        usage = read_usage(message.usage)
        tool = next((block for block in message.content if block.type == "tool_use"), None)
        if tool is None:
            return _Result(kind, usage=usage)
        return _Result(kind, tool_input=tool.input, tool_name=tool.name, usage=usage)
    if kind == "errored":
        error = getattr(getattr(result.error, "error", None), "message", None) or str(result.error)
        return _Result(kind, error=f"{getattr(result.error.error, 'type', 'error')}: {error}")
    return _Result(kind)


# ------------------------------------------------------------------------------------------- the run


@dataclass
class _Chunk:
    """Requests gathered for one batch of one judge, flushed before a limit would be crossed."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0


def _requests(graders: GraderPool, rows_path: str | os.PathLike[str],
              pending: set[str]) -> Iterator[tuple[InstructorJudge, JudgeRequest]]:
    """Every batchable (judge, request) the pending rows need, as the Grader will build them."""
    for row in read_rows(rows_path):
        if row.key not in pending or row.error is not None or row.response is None:
            continue
        try:
            grader = graders.get(row.rubric)
        except NO_RUBRIC:
            continue  # the row fails with its reason when graded
        judges = [j for j in grader.judges if isinstance(j, InstructorJudge) and _batchable(j)]
        if not judges or not judged_items(grader.rubric.leaves()):
            continue
        for request in build_requests(grader.rubric, row.response, row.prompt, samples=grader.samples,
                                      temperature=grader.temperature):
            for judge in judges:
                yield judge, request


class _Runner:
    def __init__(self, graders: GraderPool, judges: dict[str, InstructorJudge], rows_path: str | os.PathLike[str],
                 pending: set[str], state: _State, report: BatchReport, *, poll_interval: float,
                 max_wait: float | None, max_requests: int, max_bytes: int, log: Log) -> None:
        self.graders, self.judges, self.rows_path, self.pending = graders, judges, rows_path, pending
        self.state, self.report = state, report
        self.poll_interval, self.max_wait, self.log = poll_interval, max_wait, log
        self.max_requests, self.max_bytes = max_requests, max_bytes - _BODY_SLACK
        self.clients: dict[str, _Client] = {}
        self.needed: set[str] = set()  # custom ids of the requests the pending rows make

    def client(self, judge_name: str) -> _Client:
        if judge_name not in self.clients:
            self.clients[judge_name] = _Client(self.judges[judge_name])
        return self.clients[judge_name]

    def mine(self) -> list[dict[str, Any]]:
        """The state's batches of this run's judges (another judge's results could match no request here)."""
        return [b for b in self.state.batches if b["judge"] in self.judges]

    async def run(self, results: _Results) -> None:
        try:
            await self._forget_lost_batches()
            await self._submit()
            for batch in await self._wait():
                await self.client(batch["judge"]).results(batch["id"], self.needed, results)
        finally:
            for client in self.clients.values():
                await client.close()

    async def _forget_lost_batches(self) -> None:
        """Batches of an earlier run that the API no longer knows are dropped: their requests go again."""
        for batch in self.mine():
            if await self.client(batch["judge"]).retrieve(batch["id"]) is None:
                self.log(f"batch {batch['id']} is unknown to the API (deleted or expired): "
                         "submitting its requests again")
                self.state.drop(batch["id"])

    async def _submit(self) -> None:
        covered = {cid for batch in self.mine() for cid in batch["custom_ids"]}
        chunks: dict[str, _Chunk] = {}
        for judge, request in _requests(self.graders, self.rows_path, self.pending):
            custom_id = request.cache_key(judge.name)  # names the judge too: one set serves every judge
            if custom_id in self.needed:
                continue  # the same request for another row (identical response and prompt): asked once
            self.needed.add(custom_id)
            if custom_id in covered:
                self.report.reused += 1
                continue
            entry = {"custom_id": custom_id, "params": request.anthropic_body(judge.model)}
            size = len(json.dumps(entry, ensure_ascii=False).encode()) + 1
            if size > self.max_bytes:
                self.report.not_batched += 1  # never answerable by a batch: the grader asks it live
                continue
            chunk = chunks.setdefault(judge.name, _Chunk())
            if len(chunk.requests) >= self.max_requests or chunk.size + size > self.max_bytes:
                await self._create(judge, chunk)
                chunk = chunks[judge.name] = _Chunk()
            chunk.requests.append(entry)
            chunk.size += size
        for name, chunk in chunks.items():
            if chunk.requests:
                await self._create(self.judges[name], chunk)

    async def _create(self, judge: InstructorJudge, chunk: _Chunk) -> None:
        batch_id = await self.client(judge.name).create(chunk.requests)
        self.state.add(batch_id, judge.name, [r["custom_id"] for r in chunk.requests])  # before anything else
        self.report.submitted += len(chunk.requests)
        self.log(f"submitted batch {batch_id}: {len(chunk.requests)} requests ({judge.name})")

    async def _wait(self) -> list[dict[str, Any]]:
        """Poll the batches holding requests this run needs until every one has ended."""
        waiting = [b for b in self.mine() if not self.needed.isdisjoint(b["custom_ids"])]
        self.report.batches = [b["id"] for b in waiting]
        started, ended = time.monotonic(), []
        while waiting:
            still = []
            for batch in waiting:
                found = await self.client(batch["judge"]).retrieve(batch["id"])
                if found is None:
                    raise JudgeError(f"batch {batch['id']} disappeared while processing; rerun to submit it again")
                if found.processing_status == "ended":
                    counts = found.request_counts
                    self.log(f"batch {batch['id']} ended: {counts.succeeded} succeeded, {counts.errored} errored, "
                             f"{counts.expired} expired, {counts.canceled} canceled")
                    ended.append(batch)
                else:
                    still.append(batch)
            waiting = still
            if not waiting:
                break
            if self.max_wait is not None and time.monotonic() - started + self.poll_interval > self.max_wait:
                ids = ", ".join(b["id"] for b in waiting)
                raise BatchesPending(f"{len(waiting)} batch(es) still processing ({ids}); rerun the same command "
                                     f"to resume polling them (state: {self.state.path})")
            await asyncio.sleep(self.poll_interval)
        return ended


async def agrade_dataset_batch(source: Grader | GraderFactory, rows_path: str | os.PathLike[str],
                               out_path: str | os.PathLike[str], *, concurrency: int = 16,
                               poll_interval: float = 30.0, max_wait: float | None = None,
                               max_requests: int = MAX_BATCH_REQUESTS, max_bytes: int = MAX_BATCH_BYTES,
                               progress: Progress | None = None, log: Log | None = None) -> BatchRun:
    """Grade the rows of `rows_path` missing from `out_path` through Message Batches (see the module doc).

    `concurrency` bounds the live re-asks; `max_wait` (seconds, None: no limit) stops polling with
    `BatchesPending`, leaving the batches to a rerun. Raises as the local engine does for bad input and
    configuration, and JudgeConfigError when no judge of the pending rows is an Anthropic one.
    """
    say: Log = log or (lambda _message: None)
    if not os.path.isfile(rows_path):
        raise DatasetError(f"no such file: {rows_path}")
    state = _State(state_path(out_path))
    report = BatchReport(state=str(state.path))
    results = _Results(report)
    graders = GraderPool(source)
    writer, repair = open_output(out_path)  # holds the output's lock while batches are submitted and polled
    try:
        pending = _pending(rows_path, repair)
        names = set(pending.values())
        require_judges(graders, names)
        judges = _batch_judges(graders, names)
        runner = _Runner(graders, judges, rows_path, set(pending), state, report, poll_interval=poll_interval,
                         max_wait=max_wait, max_requests=max_requests, max_bytes=max_bytes, log=say)
        try:
            await runner.run(results)
        except (KeyboardInterrupt, asyncio.CancelledError):
            if state.batches:
                say(f"interrupted: the batch ids are kept in {state.path}; rerun the same command to resume")
            raise
    finally:
        writer.close()

    made: list[Grader] = []

    def batched(name: str | None) -> Grader:
        made.append(_with_batches(graders.get(name), results))
        return made[-1]

    try:
        summary = await agrade_dataset(batched, rows_path, out_path, concurrency=concurrency, progress=progress)
    finally:  # the live judges' clients belong to this loop: closed here, not by the garbage collector later
        for grader in made:
            await grader.aclose()
    if summary.failed == 0 and summary.graded == summary.rows:
        state.remove()  # all graded: nothing left for a rerun to collect
    return BatchRun(summary, report)


def _pending(rows_path: str | os.PathLike[str], repair: Repair) -> dict[str, str | None]:
    """Pending id key → the row's rubric name (the local engine's plan, which also refuses duplicate ids)."""
    plan = plan_run(rows_path, repair)
    return {key: plan.rubric_of[key] for key in plan.pending}


def _batch_judges(graders: GraderPool, names: set[str | None]) -> dict[str, InstructorJudge]:
    """The Anthropic judges of the rubrics to grade, by name; an error when judges exist but none is one."""
    found: dict[str, InstructorJudge] = {}
    others: set[str] = set()
    for name in names:
        try:
            grader = graders.get(name)
        except NO_RUBRIC:
            continue
        if not judged_items(grader.rubric.leaves()):
            continue
        for judge in grader.judges:
            if isinstance(judge, InstructorJudge) and _batchable(judge):
                found[judge.name] = judge
            else:
                others.add(judge.name)
    if others and not found:
        raise JudgeConfigError(f"--batch uses Anthropic's Message Batches API, but the judge is "
                               f"{', '.join(sorted(others))}: give an anthropic/MODEL judge, or grade without --batch")
    return found


def grade_dataset(source: Grader | GraderFactory, rows_path: str | os.PathLike[str],
                  out_path: str | os.PathLike[str], *, concurrency: int = 16, poll_interval: float = 30.0,
                  max_wait: float | None = None, max_requests: int = MAX_BATCH_REQUESTS,
                  max_bytes: int = MAX_BATCH_BYTES, progress: Progress | None = None,
                  log: Log | None = None) -> BatchRun:
    """The synchronous form of `agrade_dataset_batch`."""
    return run_sync(agrade_dataset_batch(source, rows_path, out_path, concurrency=concurrency,
                                         poll_interval=poll_interval, max_wait=max_wait, max_requests=max_requests,
                                         max_bytes=max_bytes, progress=progress, log=log))
