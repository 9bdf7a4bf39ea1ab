"""Wire formats of the fake judge: Anthropic Messages and OpenAI Chat Completions, requests and replies.

Kept apart from the HTTP plumbing so that the shapes the real SDKs parse (and the token/caching
arithmetic the grader reports) can be read, and checked, in one place.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]

__all__ = [
    "ERRORS",
    "PromptCache",
    "anthropic_error",
    "anthropic_message",
    "anthropic_target",
    "api_key",
    "approx_tokens",
    "check_body",
    "openai_completion",
    "openai_error",
    "openai_target",
    "redact",
]


@dataclass(frozen=True)
class ErrorSpec:
    """How one failure looks from each provider, so the SDKs map it to their own exception classes."""

    status: int
    anthropic_type: str
    openai_type: str
    openai_code: str | None
    message: str


ERRORS: dict[str, ErrorSpec] = {
    "400": ErrorSpec(400, "invalid_request_error", "invalid_request_error", None, "invalid request"),
    "401": ErrorSpec(401, "authentication_error", "invalid_request_error", "invalid_api_key", "invalid x-api-key"),
    "404": ErrorSpec(404, "not_found_error", "invalid_request_error", "not_found", "not found"),
    "429": ErrorSpec(429, "rate_limit_error", "requests", "rate_limit_exceeded", "rate limited (injected)"),
    "500": ErrorSpec(500, "api_error", "server_error", None, "internal error (injected)"),
    "529": ErrorSpec(529, "overloaded_error", "server_error", "overloaded", "overloaded (injected)"),
}


def anthropic_error(kind: str, message: str | None = None) -> tuple[int, JSONDict]:
    """Status and body of an Anthropic error response."""
    spec = ERRORS[kind]
    return spec.status, {
        "type": "error",
        "error": {"type": spec.anthropic_type, "message": message or spec.message},
    }


def openai_error(kind: str, message: str | None = None) -> tuple[int, JSONDict]:
    """Status and body of an OpenAI error response."""
    spec = ERRORS[kind]
    error = {
        "message": message or spec.message,
        "type": spec.openai_type,
        "param": None,
        "code": spec.openai_code,
    }
    return spec.status, {"error": error}


def approx_tokens(text: str) -> int:
    """ceil(bytes / 4): close enough to real tokenisers for cost and cache accounting in tests."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def _block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
        return str(block["text"])
    if isinstance(block, dict):
        return json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True)
    return json.dumps(block, sort_keys=True)


def _canonical(block: Any) -> str:
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, sort_keys=True, ensure_ascii=False)


def anthropic_blocks(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The request as cacheable blocks in Anthropic's prefix order: tools, system, then messages."""
    blocks: list[tuple[str, Any]] = [("tool", t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str) and system:
        blocks.append(("system", system))
    elif isinstance(system, list):
        blocks.extend(("system", b) for b in system)
    for message in body.get("messages") or []:
        role = str(message.get("role", "user")) if isinstance(message, dict) else "user"
        content = message.get("content") if isinstance(message, dict) else message
        items = content if isinstance(content, list) else [content]
        blocks.extend((role, b) for b in items)
    return blocks


def openai_blocks(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The request as blocks in OpenAI's order: tools, response format, messages."""
    blocks: list[tuple[str, Any]] = [("tool", t) for t in body.get("tools") or []]
    if body.get("response_format"):
        blocks.append(("format", body["response_format"]))
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else message
        role = str(message.get("role", "user")) if isinstance(message, dict) else "user"
        blocks.append((role, content if content is not None else message))
    return blocks


class PromptCache:
    """A simulated provider prompt cache: the set of prefix hashes already written, thread-safe."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def lookup(self, model: str, prefix: list[tuple[str, Any]]) -> bool:
        """True when this prefix was cached before (a read); records it otherwise (a write)."""
        digest = hashlib.sha256(model.encode())
        for role, block in prefix:
            digest.update(f"\0{role}\0{_canonical(block)}".encode())
        key = digest.hexdigest()
        with self._lock:
            if key in self._seen:
                return True
            self._seen.add(key)
            return False

    def anthropic_usage(self, body: Mapping[str, Any]) -> JSONDict:
        """Anthropic usage: tokens up to the last ``cache_control`` block are written once, then read."""
        blocks = anthropic_blocks(body)
        marked = [i for i, (_, b) in enumerate(blocks) if isinstance(b, dict) and b.get("cache_control")]
        cut = marked[-1] + 1 if marked else 0
        prefix_tokens = sum(approx_tokens(_block_text(b)) for _, b in blocks[:cut])
        rest_tokens = sum(approx_tokens(_block_text(b)) for _, b in blocks[cut:])
        hit = cut > 0 and self.lookup(str(body.get("model", "")), blocks[:cut])
        return {
            "input_tokens": rest_tokens,
            "cache_creation_input_tokens": prefix_tokens if cut and not hit else 0,
            "cache_read_input_tokens": prefix_tokens if hit else 0,
        }

    def openai_cached_tokens(self, body: Mapping[str, Any]) -> tuple[int, int]:
        """(prompt_tokens, cached_tokens): OpenAI caches automatically; here, all before the last message."""
        blocks = openai_blocks(body)
        total = sum(approx_tokens(_block_text(b)) for _, b in blocks)
        prefix = blocks[:-1]
        if not prefix:
            return total, 0
        hit = self.lookup("openai:" + str(body.get("model", "")), prefix)
        return total, sum(approx_tokens(_block_text(b)) for _, b in prefix) if hit else 0


def anthropic_message(
    msg_id: str, model: str, result: JSONDict | str, tool_name: str | None, usage: JSONDict
) -> JSONDict:
    """A ``message`` object: a forced ``tool_use`` block, or a text block when there is no tool (or a str)."""
    if tool_name is not None and isinstance(result, dict):
        content: list[JSONDict] = [
            {"type": "tool_use", "id": "toolu_" + msg_id[4:], "name": tool_name, "input": result}
        ]
        stop_reason = "tool_use"
    else:
        text = result if isinstance(result, str) else json.dumps(result)
        content, stop_reason = [{"type": "text", "text": text}], "end_turn"
    out_text = json.dumps(result) if isinstance(result, dict) else result
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": approx_tokens(out_text)},
    }


def openai_completion(
    cmpl_id: str, model: str, result: JSONDict | str, tool_name: str | None, prompt_tokens: int, cached: int
) -> JSONDict:
    """A ``chat.completion``: a tool call when a tool was forced, else JSON (or text) content."""
    text = result if isinstance(result, str) else json.dumps(result)
    message: JSONDict = {"role": "assistant", "content": text, "refusal": None}
    finish = "stop"
    if tool_name is not None:
        call = {
            "id": "call_" + cmpl_id[9:],
            "type": "function",
            "function": {"name": tool_name, "arguments": text},
        }
        message.update(content=None, tool_calls=[call])
        finish = "tool_calls"
    completion_tokens = approx_tokens(text)
    return {
        "id": cmpl_id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def redact(headers: dict[str, str]) -> dict[str, str]:
    """Headers to record: the API key headers keep only the fact that they were sent."""
    return {k: ("<present>" if k in ("x-api-key", "authorization") else v) for k, v in headers.items()}


def api_key(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(key, source): ``x-api-key`` (Anthropic) or ``Authorization: Bearer`` (OpenAI, Anthropic SDK 2.x)."""
    if headers.get("x-api-key"):
        return headers["x-api-key"], "x-api-key"
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), "bearer"
    return None, None


def check_body(body: Any, openai: bool) -> str | None:
    """The provider's hard requirements, so a malformed request fails loudly instead of being answered."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return "messages: a non-empty list of objects is required"
    if not openai and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: field required"
    if body.get("stream"):
        return "stream: JudgeServer does not stream"
    return None


def anthropic_target(body: JSONDict) -> tuple[str | None, JSONDict | None]:
    """(tool name, input schema) the reply must fill: the forced tool, or the only tool."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "name" in t]
    choice = body.get("tool_choice") or {}
    named = [t for t in tools if choice.get("type") == "tool" and t["name"] == choice.get("name")]
    tool = named[0] if named else tools[0] if len(tools) == 1 and choice.get("type") != "none" else None
    return (tool["name"], tool.get("input_schema") or {}) if tool else (None, None)


def openai_target(body: JSONDict) -> tuple[str | None, JSONDict | None]:
    """(tool name, schema) from ``tools``/``tool_choice`` or a ``json_schema`` response format."""
    functions = [t["function"] for t in body.get("tools") or [] if isinstance(t, dict) and "function" in t]
    choice = body.get("tool_choice")
    wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    named = [f for f in functions if f.get("name") == wanted]
    function = named[0] if named else functions[0] if len(functions) == 1 and choice != "none" else None
    if function is not None:
        return str(function["name"]), function.get("parameters") or {}
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return None, (fmt.get("json_schema") or {}).get("schema") or {}
    return None, None
