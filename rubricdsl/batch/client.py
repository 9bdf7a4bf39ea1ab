"""The anthropic SDK's Message Batches calls for one judge: create, retrieve, and read the results."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

from ..judging.judge import InstructorJudge
from ..judging.retry import JudgeConfigError, JudgeError, classify
from .results import BatchResults, read_result

_rng = random.Random()


class BatchClient:
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

    async def results(self, batch_id: str, wanted: set[str], into: BatchResults) -> None:
        async def fetch() -> None:
            async for line in await self.sdk.messages.batches.results(batch_id):
                if line.custom_id in wanted and line.custom_id not in into.by_id:
                    into.add(line.custom_id, read_result(line.result))

        await self.judge.retry.run(fetch)

    async def close(self) -> None:
        await self.sdk.close()


def _as_judge_error(exc: Exception, doing: str) -> Exception:
    kind, _, what = classify(exc)
    return JudgeConfigError(f"{doing}: {what}") if kind == "fatal" else JudgeError(f"{doing}: {what}")
