"""Retrying judge calls: exponential backoff with jitter on transient failures, honouring `retry-after`.

The providers' SDKs are built with `max_retries=0`: left alone they obey any `retry-after`, even an hour,
and a grading run must stay inside a deadline. Failures are classified by their HTTP status (both SDKs'
errors carry `status_code`), so no SDK is imported here.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

T = TypeVar("T")
FailureKind = Literal["transient", "fatal", "invalid"]

_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_CONNECTION_ERRORS = {
    "APIConnectionError",
    "APITimeoutError",
    "ConnectError",
    "ReadTimeout",
    "ConnectTimeout",
    "RemoteProtocolError",
    "ReadError",
    "TimeoutException",
    "TimeoutError",
    "ConnectionError",
}
_INVALID_OUTPUT = {
    "ValidationError",
    "JSONDecodeError",
    "ResponseParsingError",
    "AsyncValidationError",
    "IncompleteOutputException",
}


class JudgeError(Exception):
    """The judge could not decide (transient failures past the deadline, or invalid output after
    re-asks). The items it was asked about are undecided, and `on_error` says what that means."""


class JudgeConfigError(Exception):
    """Authentication, permission or request errors: never a reward, the run stops with this message."""


class JudgeUnavailable(JudgeConfigError):
    """The judge cannot be reached (its circuit breaker is open): the message names the model and the base URL.

    A subclass of JudgeConfigError, so every path that stops a run on a configuration error stops on it too
    (a dataset run exits 2, the reward functions raise their stop-the-run error, `rubric serve` answers 503).
    """


def root_causes(exc: BaseException) -> list[BaseException]:
    """The exception and the chain below it (instructor wraps provider errors in its own)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify(exc: BaseException) -> tuple[FailureKind, float | None, str]:
    """(kind, retry-after seconds or None, a one-line description) of a failed call."""
    for cause in root_causes(exc):
        status = getattr(cause, "status_code", None)
        if isinstance(status, int):
            retry_after = _retry_after(cause)
            if status in _TRANSIENT_STATUS or status >= 500:
                return "transient", retry_after, f"HTTP {status}"
            return "fatal", None, _fatal_message(status, cause)
        names = {c.__name__ for c in type(cause).__mro__}
        if names & _CONNECTION_ERRORS:
            return "transient", None, type(cause).__name__
        if names & _INVALID_OUTPUT:
            return "invalid", None, f"invalid structured output: {str(cause).splitlines()[0][:200]}"
    return "invalid" if type(exc).__name__ == "InstructorRetryException" else "fatal", None, str(exc)[:300]


def _retry_after(cause: BaseException) -> float | None:
    response = getattr(cause, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _fatal_message(status: int, cause: BaseException) -> str:
    if status in (401, 403):
        return (
            f"the judge refused the credentials (HTTP {status}): check the API key "
            "(ANTHROPIC_API_KEY / OPENAI_API_KEY) and the base URL"
        )
    body = str(getattr(cause, "message", cause)).splitlines()[0][:300]
    return f"the judge rejected the request (HTTP {status}): {body}"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float = 300.0  # seconds for one request, waits included
    max_retry_after: float = 60.0  # a longer retry-after than this ends the request at once

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return retry_after
        backoff: float = min(self.max_delay, self.base_delay * 2**attempt)
        return backoff * (0.5 + rng.random() / 2)

    async def run(
        self, call: Callable[[], Awaitable[T]], *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> T:
        started = time.monotonic()
        rng = random.Random()
        for attempt in range(self.attempts):
            try:
                return await call()
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # every failure is classified; none is silently swallowed
                kind, retry_after, what = classify(exc)
                if kind == "fatal":
                    raise JudgeConfigError(what) from exc
                if kind == "invalid":
                    raise JudgeError(what) from exc
                wait = self.delay(attempt, retry_after, rng)
                late = time.monotonic() - started + wait > self.deadline
                if attempt + 1 >= self.attempts or late or (retry_after or 0) > self.max_retry_after:
                    raise JudgeError(f"gave up after {attempt + 1} attempt(s): {what}") from exc
                await sleep(wait)
        raise JudgeError("no attempt was made")  # attempts == 0
