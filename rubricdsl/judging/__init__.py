"""Judging: compiled rubric + response → judge requests → verdicts → `GradeResult` (JUDGING.md).

`request`, `prompts` and `schema` are pure and import no provider SDK (`rubric compile` uses them);
`judge` is the only module that talks to a model, and imports the SDKs when a judge is first used.
"""

from .cache import JudgeCache, SqliteCache, open_cache
from .grader import Grader
from .judge import InstructorJudge, Judge, JudgeReply
from .request import JudgeRequest, build_requests, render_prompt_document, reply_schema
from .retry import JudgeConfigError, JudgeError, JudgeUnavailable, RetryPolicy

__all__ = [
    "Grader",
    "InstructorJudge",
    "Judge",
    "JudgeCache",
    "JudgeConfigError",
    "JudgeError",
    "JudgeReply",
    "JudgeRequest",
    "JudgeUnavailable",
    "RetryPolicy",
    "SqliteCache",
    "build_requests",
    "open_cache",
    "render_prompt_document",
    "reply_schema",
]
