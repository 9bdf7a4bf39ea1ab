"""Structured calls beyond grading: any pydantic response model, asked through the judge's own machinery.

`LLM` wraps an `InstructorJudge` for what it already does well — the provider's async client built lazily
per event loop (so the object pickles), instructor re-asks on invalid output, `RetryPolicy` backoff, and
the `JudgeError`/`JudgeConfigError` split — and adds what grading does not need: an arbitrary response
model and a free-form prompt. The system part is marked for the provider's prompt cache (it is the same
for every call of one command), and the persistent judge cache can answer repeated calls. Anything with an
`ask` method of the same signature (`StructuredModel`) can stand in for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from ..judging.cache import JudgeCache, cache_for
from ..judging.judge import InstructorJudge, JudgeReply
from ..judging.retry import JudgeConfigError, RetryPolicy
from ..scoring.verdicts import Usage

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
MAX_TOKENS = 4096


@dataclass
class Reply(Generic[T]):
    value: T
    usage: Usage
    calls: int  # requests sent (instructor's re-asks included); 0 for a cache hit
    cached: bool = False


class StructuredModel(Protocol):
    name: str

    async def ask(self, response_model: type[T], system: str, user: str, *, sample: int = 0,
                  nonce: str | None = None) -> Reply[T]: ...


class LLM:
    """`provider/model` (as `--judge` names it) answering with instances of a response model."""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 2, timeout: float = 120.0, retry: RetryPolicy | None = None,
                 mode: str | None = None, concurrency: int = 16, temperature: float = 0.0,
                 max_tokens: int = MAX_TOKENS, cache: str | os.PathLike[str] | bool | None = None):
        self._judge = InstructorJudge(model, api_key=api_key, base_url=base_url, max_retries=max_retries,
                                      timeout=timeout, retry=retry, mode=mode, concurrency=concurrency)
        self.name = model
        self.concurrency, self.temperature, self.max_tokens = concurrency, temperature, max_tokens
        self._cache_spec = cache
        self._cache: JudgeCache | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None
        return state

    async def aclose(self) -> None:
        """Close the running loop's client (the sync API does so before its loop ends, as the grader does)."""
        close = getattr(self._judge, "aclose", None)
        if close is not None:
            await close()

    async def ask(self, response_model: type[T], system: str, user: str, *, sample: int = 0,
                  nonce: str | None = None) -> Reply[T]:
        """One structured call. `sample` tells repeated samples of one prompt apart in the cache, and
        `nonce` (a fence code inside `user`) is blanked in the cache key so the same call hits again."""
        cache = self._open_cache()
        key = self._cache_key(response_model, system, user, sample, nonce) if cache is not None else ""
        if cache is not None:
            hit = cache.get(key)
            if hit is not None and "reply" in hit.decisions:
                return Reply(response_model.model_validate(hit.decisions["reply"]), Usage(), 0, cached=True)
        value, usage, calls = await self._call(response_model, system, user)  # bounded by the judge
        if cache is not None:
            cache.put(key, JudgeReply({"reply": value.model_dump(mode="json")}, self.name, usage=usage))
        return Reply(value, usage, calls)

    async def _call(self, response_model: type[T], system: str, user: str) -> tuple[T, Usage, int]:
        messages = [{"role": "user", "content": user}]
        return await self._judge.structured(response_model, system, messages, max_tokens=self.max_tokens,
                                            temperature=self.temperature)

    def _cache_key(self, response_model: type[BaseModel], system: str, user: str, sample: int,
                   nonce: str | None) -> str:
        payload = {"model": self.name, "system": system, "user": user.replace(nonce, "NONCE") if nonce else user,
                   "schema": response_model.model_json_schema(), "temperature": self.temperature,
                   "max_tokens": self.max_tokens, "sample": sample, "kind": "feedback"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _open_cache(self) -> JudgeCache | None:
        if self._cache is None:
            self._cache = cache_for(self._cache_spec)
        return self._cache


async def closing(work: Coroutine[Any, Any, R], *owners: Any) -> R:
    """Await `work`, then close the clients of `owners` (anything with `aclose`) on this loop: a client left to
    the garbage collector has the SDK schedule its close on whatever loop runs then, which fails noisily."""
    try:
        return await work
    finally:
        for owner in owners:
            close = getattr(owner, "aclose", None)
            if close is not None:
                await close()


def as_model(judge: str | StructuredModel | None, **options: Any) -> StructuredModel:
    """A `StructuredModel` from `provider/model`, the environment's RUBRICDSL_JUDGE, or an object given."""
    if judge is None:
        judge = os.environ.get("RUBRICDSL_JUDGE")
    if judge is None:
        raise JudgeConfigError("no judge: give --judge provider/model (or judge=), or set `judge` in "
                               "[tool.rubricdsl] or RUBRICDSL_JUDGE")
    return LLM(judge, **options) if isinstance(judge, str) else judge


def add_usage(total: Usage, replies: list[Reply[Any]]) -> tuple[Usage, int]:
    calls = 0
    for reply in replies:
        total, calls = total + reply.usage, calls + reply.calls
    return total, calls
