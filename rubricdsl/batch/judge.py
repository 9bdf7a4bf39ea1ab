"""The judge that answers from validated batch results and asks its live judge for everything else."""

from __future__ import annotations

import copy

from pydantic import ValidationError

from ..judging.grader import Grader
from ..judging.judge import InstructorJudge, JudgeReply
from ..judging.request import JudgeRequest
from ..judging.schema import decisions
from .results import BatchResults


class BatchJudge:
    """A judge that answers from Message Batch results and asks its live judge for everything else.

    Only a succeeded result whose tool input validates against the request's reply model is an answer;
    errored, canceled and expired results, invalid replies and requests no batch holds go to the live
    judge (with its retries and instructor's re-asks), so a failed batch request is never scored.
    """

    def __init__(self, live: InstructorJudge, results: BatchResults) -> None:
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


def is_batchable(judge: object) -> bool:
    """Only Anthropic judges can be batched: the Message Batches API is Anthropic's."""
    return isinstance(judge, InstructorJudge) and judge.provider == "anthropic"


def with_batches(grader: Grader, results: BatchResults) -> Grader:
    """A copy of the grader whose Anthropic judges answer from the batch results (the original is untouched)."""
    wrapped = copy.copy(grader)  # Grader.__getstate__: the copy opens its own cache and semaphores
    wrapped.judges = [
        BatchJudge(j, results) if isinstance(j, InstructorJudge) and is_batchable(j) else j for j in grader.judges
    ]
    return wrapped
