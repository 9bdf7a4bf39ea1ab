"""Judges: anything with `async decide(request) -> JudgeReply`. The one place that talks to a model.

`InstructorJudge` builds the provider's async client itself (Anthropic: `AsyncAnthropic(base_url=...)`
wrapped by `instructor.from_anthropic(..., mode=TOOLS)`; OpenAI-compatible servers: `AsyncOpenAI` with
`instructor.from_openai`), lazily inside the running event loop, so a judge object holds configuration
only and can be pickled into a trainer's worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from ..scoring.verdicts import Usage
from .request import JudgeRequest
from .retry import JudgeConfigError, JudgeError, RetryPolicy
from .schema import decisions

M = TypeVar("M", bound=BaseModel)
_calls: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("rubricdsl_judge_calls", default=None)


@dataclass
class JudgeReply:
    """Item name → decision object (`reason` and `holds`/`answer`/`level`, maybe `cannot_assess`)."""

    decisions: dict[str, dict[str, Any]]
    model: str
    usage: Usage = field(default_factory=Usage)
    calls: int = 1
    cached: bool = False


@runtime_checkable
class Judge(Protocol):
    name: str

    async def decide(self, request: JudgeRequest) -> JudgeReply: ...


class InstructorJudge:
    """A model reached through instructor: `anthropic/<model>` or `openai/<model>` (any compatible server)."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        mode: str | None = None,
        concurrency: int | None = None,
    ):
        provider, _, name = model.partition("/")
        if provider not in ("anthropic", "openai") or not name:
            raise JudgeConfigError(
                f"unknown judge `{model}`: write `anthropic/MODEL` or `openai/MODEL` "
                "(with --base-url for a local server)"
            )
        self.name, self.provider, self.model = model, provider, name
        self.api_key, self.base_url, self.mode = api_key, base_url, mode
        self.max_retries, self.timeout = max_retries, timeout
        self.retry = retry or RetryPolicy()
        # JUDGING.md: a semaphore per judge. Graders that share this judge (one per rubric in a reward
        # function) share its bound, so concurrency does not multiply with the number of rubrics.
        self.concurrency = concurrency
        self.bounds_concurrency = concurrency is not None
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_clients"] = state["_limits"] = None  # both belong to an event loop; a copy makes its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._clients = weakref.WeakKeyDictionary()
        self._limits = weakref.WeakKeyDictionary()

    def _limit(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if self.concurrency is None:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if loop not in self._limits:
            self._limits[loop] = asyncio.Semaphore(self.concurrency)
        return self._limits[loop]

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._make_client()
            client.on("completion:kwargs", _count_call)
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's client. The sync API calls this before its loop ends: a client left to the
        garbage collector makes the SDK schedule its close on whatever loop runs then, which fails noisily."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.client.close()

    def _make_client(self) -> Any:
        import instructor

        if self.provider == "anthropic":
            import anthropic

            key = self.api_key or os.environ.get("ANTHROPIC_API_KEY")
            if not key:
                raise JudgeConfigError("no API key for the Anthropic judge: set ANTHROPIC_API_KEY")
            base_url = self.base_url or os.environ.get("ANTHROPIC_BASE_URL")
            client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0, timeout=self.timeout)
            return instructor.from_anthropic(client, mode=instructor.Mode.TOOLS)
        import openai

        key = self.api_key or os.environ.get("OPENAI_API_KEY") or ("none" if self.base_url else None)
        if not key:
            raise JudgeConfigError("no API key for the OpenAI judge: set OPENAI_API_KEY (or give --base-url)")
        raw = openai.AsyncOpenAI(
            api_key=key,
            base_url=self.base_url or os.environ.get("OPENAI_BASE_URL"),
            max_retries=0,
            timeout=self.timeout,
        )
        mode = {
            "tools": instructor.Mode.TOOLS,
            "json_schema": instructor.Mode.JSON_SCHEMA,
            "json": instructor.Mode.JSON,
        }[self.mode or default_openai_mode(self.base_url)]
        return instructor.from_openai(raw, mode=mode)

    def _kwargs(self, system: str, messages: list[dict[str, Any]], temperature: float) -> dict[str, Any]:
        if self.provider == "anthropic":
            # The SDK (1.0 and later) has no `temperature` argument; the API still takes it in the body. 0 is
            # left out: current Claude models deprecate the parameter (see JudgeRequest.sends_temperature).
            sampling = {"extra_body": {"temperature": temperature}} if temperature != 0.0 else {}
            blocks = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
            return {"system": blocks, "messages": messages, **sampling}
        return {"messages": [{"role": "system", "content": system}, *messages], "temperature": temperature}

    async def decide(self, request: JudgeRequest) -> JudgeReply:
        reply, usage, calls = await self.structured(
            request.reply_model,
            request.system,
            request.messages(),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
        return JudgeReply(decisions(reply), self.name, usage=usage, calls=calls)

    async def structured(
        self,
        response_model: type[M],
        system: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float,
    ) -> tuple[M, Usage, int]:
        """One structured call with any response model: this loop's client, instructor's re-asks, retries with
        backoff, this judge's concurrency bound. Returns (reply, tokens over every attempt, requests sent)."""
        counter = [0]
        token = _calls.set(counter)
        try:

            async def call() -> Any:
                return await self._client().create(
                    model=self.model,
                    response_model=_wrapped(response_model),
                    max_retries=self.max_retries,
                    max_tokens=max_tokens,
                    **self._kwargs(system, messages, temperature),
                )

            try:
                async with self._limit():
                    reply = await self.retry.run(call)
            except (JudgeError, JudgeConfigError) as exc:
                raise type(exc)(str(exc)) from exc.__cause__
        finally:
            _calls.reset(token)
        if not isinstance(reply, response_model):
            raise JudgeConfigError(f"the client returned {type(reply).__name__}, not {response_model.__name__}")
        return reply, read_usage(getattr(reply, "_total_usage", None)), max(counter[0], 1)


@functools.lru_cache(maxsize=256)
def _wrapped(model: type[Any]) -> type[Any]:
    """The reply model as instructor's `ResponseSchema` subclass, made once per reply model.

    Given a plain model, instructor derives a fresh subclass on every call, so its schema cache never hits and
    each call pays for a pydantic class and two JSON schemas (most of a call's client CPU). Handing it the
    subclass it would make leaves the request unchanged: same tool name, description and schema.
    """
    import instructor

    wrapped: type[Any] = instructor.openai_schema(model)
    return wrapped


def default_openai_mode(base_url: str | None) -> str:
    """The structured-output mode of openai/ judges when none is given.

    A server of one's own (vLLM, SGLang, llama.cpp server, Ollama; given by a base URL or OPENAI_BASE_URL)
    gets `json_schema`: all of them constrain decoding to a `response_format` schema, while forcing a named
    tool is missing from some (older Ollama releases ignore `tool_choice`; llama.cpp needs --jinja). OpenAI
    itself gets `tools`.
    """
    return "json_schema" if base_url or os.environ.get("OPENAI_BASE_URL") else "tools"


def _count_call(*_args: Any, **_kwargs: Any) -> None:
    counter = _calls.get()
    if counter is not None:
        counter[0] += 1


def read_usage(raw: Any) -> Usage:
    """Token usage from an Anthropic `Usage` or an OpenAI `CompletionUsage` (instructor's running total)."""
    if raw is None:
        return Usage()
    if hasattr(raw, "prompt_tokens"):  # OpenAI: prompt_tokens includes the cached ones
        details = getattr(raw, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) or 0
        return Usage(
            input_tokens=(raw.prompt_tokens or 0) - cached,
            cached_input_tokens=cached,
            output_tokens=raw.completion_tokens or 0,
        )
    return Usage(
        input_tokens=getattr(raw, "input_tokens", 0) or 0,
        cached_input_tokens=getattr(raw, "cache_read_input_tokens", 0) or 0,
        cache_creation_input_tokens=getattr(raw, "cache_creation_input_tokens", 0) or 0,
        output_tokens=getattr(raw, "output_tokens", 0) or 0,
    )
