"""Judge requests: a compiled rubric and one response → the exact request a judge receives.

Everything before the response (instructions, task, reference, items, the reply tool) depends only on
the rubric, the prompt, the sample's item order and the granularity, so it is byte-identical across the
responses of a group and is marked for the provider's prompt cache. The response comes last, fenced by
delimiters holding a nonce drawn for the request. Pure code: `rubric compile --format prompt` uses it.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..ir import ItemIR, RubricIR
from .prompts import render_system, render_user
from .schema import anthropic_tool, judged_items, reply_model

MAX_TOKENS = 4096
PLACEHOLDER_RESPONSE = "<the response to grade>"


@dataclass(frozen=True)
class JudgeRequest:
    """One structured call: a sample of a response (granularity `response`) or of one item (`item`)."""

    rubric: RubricIR
    items: tuple[ItemIR, ...]  # the items this call decides, in this sample's order
    system: str  # instructions and rubric: the cached prefix
    user: str  # the fenced response
    nonce: str
    sample: int
    response: str
    temperature: float
    max_tokens: int = MAX_TOKENS

    @property
    def reply_model(self) -> type[BaseModel]:
        return reply_model(self.items, self.rubric.judge)

    @property
    def sends_temperature(self) -> bool:
        """Temperature 0 (the default) is left out for Anthropic: current Claude models deprecate the
        parameter and reject values other than the default. A chosen non-zero temperature is sent."""
        return self.temperature != 0.0

    def messages(self) -> list[dict[str, Any]]:
        return [{"role": "user", "content": self.user}]

    def system_blocks(self) -> list[dict[str, Any]]:
        return [{"type": "text", "text": self.system, "cache_control": {"type": "ephemeral"}}]

    def anthropic_body(self, model: str | None) -> dict[str, Any]:
        """The Messages API body instructor sends in TOOLS mode (what `compile --format prompt` prints)."""
        tool = anthropic_tool(self.reply_model)
        sampling = {"temperature": self.temperature} if self.sends_temperature else {}
        return {
            "model": model,
            "max_tokens": self.max_tokens,
            **sampling,
            "system": self.system_blocks(),
            "messages": self.messages(),
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"], "disable_parallel_tool_use": True},
        }

    def cache_key(self, model: str) -> str:
        """SHA-256 of (model, the full request with the nonce blanked, sampling settings, sample index).

        The nonce only guards the fence; blanking it lets the same request hit the cache again.
        """
        body = self.anthropic_body(model)
        body["messages"] = [{"role": "user", "content": self.user.replace(self.nonce, "NONCE")}]
        settings = {"sample": self.sample, "temperature": self.temperature, "max_tokens": self.max_tokens}
        payload = json.dumps({"body": body, **settings}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sample_order(rubric: RubricIR, items: list[ItemIR], sample: int) -> list[ItemIR]:
    """Rubric order for the first sample; a seeded shuffle per later sample, to wash out order bias."""
    if sample == 0 or len(items) < 2:
        return list(items)
    shuffled = list(items)
    random.Random(f"{rubric.content_hash}:{sample}").shuffle(shuffled)
    return shuffled


def draw_nonce(response: str) -> str:
    """A fresh random fence code that the response does not already contain."""
    while True:
        nonce = secrets.token_hex(6)
        if nonce not in response:
            return nonce


def build_requests(
    rubric: RubricIR,
    response: str,
    prompt: str | None = None,
    *,
    samples: int | None = None,
    temperature: float | None = None,
    nonce: str | None = None,
) -> list[JudgeRequest]:
    """Every request grading one response needs: one per sample, or one per (item, sample)."""
    judge = rubric.judge
    count = samples or judge.samples
    items = judged_items(rubric.leaves())
    task = prompt if prompt is not None else rubric.prompt
    contexts = group_contexts(rubric)
    requests = []
    for sample in range(count):
        ordered = sample_order(rubric, items, sample)
        batches = [[item] for item in ordered] if judge.granularity == "item" else [ordered] if ordered else []
        for batch in batches:
            fence = nonce or draw_nonce(response)
            requests.append(
                JudgeRequest(
                    rubric=rubric,
                    items=tuple(batch),
                    sample=sample,
                    nonce=fence,
                    response=response,
                    system=render_system(rubric, batch, task, contexts),
                    user=render_user(response, fence),
                    temperature=judge.temperature if temperature is None else temperature,
                )
            )
    return requests


def group_contexts(rubric: RubricIR) -> dict[str, tuple[str, ...]]:
    """Leaf name → the texts of the groups above it, outermost first (shown to the judge as context)."""
    contexts: dict[str, tuple[str, ...]] = {}

    def visit(items: tuple[ItemIR, ...], above: tuple[str, ...]) -> None:
        for item in items:
            if item.items:
                visit(item.items, (*above, item.text))
            else:
                contexts[item.name] = above

    visit(rubric.items, ())
    return contexts


def render_prompt_document(rubric: RubricIR, model: str | None = None) -> dict[str, Any]:
    """What `rubric compile --format prompt` prints: the requests for a placeholder response."""
    requests = build_requests(rubric, PLACEHOLDER_RESPONSE, nonce="0123456789ab")
    chosen = model or rubric.judge.model or (rubric.judge.models[0] if rubric.judge.models else None)
    if chosen and "/" in chosen:  # `provider/model`: the body names the model alone, as the judge sends it
        chosen = chosen.split("/", 1)[1]
    bodies = [r.anthropic_body(chosen) for r in requests]
    note = "Items with a check are decided locally and never sent." if any(i.check for i in rubric.leaves()) else None
    document: dict[str, Any] = {"requests": bodies, "requests_per_response": len(bodies)}
    if note:
        document["note"] = note
    return document


def reply_schema(rubric: RubricIR) -> dict[str, Any]:
    """What `rubric compile --format schema` prints: the JSON schema of the judge's reply."""
    items = tuple(judged_items(rubric.leaves()))
    if rubric.judge.granularity == "item":
        return {
            "per_item": {
                item.name: reply_model((item,), rubric.judge).model_json_schema(by_alias=True) for item in items
            }
        }
    return reply_model(items, rubric.judge).model_json_schema(by_alias=True)
