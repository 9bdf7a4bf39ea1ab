"""The judge's reply model, built from a compiled rubric (JUDGING.md "One structured call per response").

One REQUIRED field per judge-decided item, named by the item's name, holding `reason` first and then the
decision: `holds` (binary), `answer` (ternary) or `level` (scale items); `cannot_assess` only when the
rubric allows it. A reply that skips an item fails validation and instructor re-asks, instead of the item
being scored as "not met". Only pydantic here: `rubric compile --format schema` must stay offline.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..ir import ItemIR, JudgeIR

REPLY_MODEL_NAME = "RubricVerdicts"
REASON_HELP = "One or two sentences of evidence from the response, written before deciding."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@functools.lru_cache(maxsize=1024)
def decision_model(kind: str, levels: tuple[int, ...], scale: str, allow_na: bool) -> type[BaseModel]:
    """The per-item object: reason first (so the judge argues before it decides), then the decision."""
    fields: dict[str, Any] = {"reason": (str, Field(description=REASON_HELP))}
    if kind == "scale":
        level_type = Literal[levels]  # type: ignore[valid-type]
        fields["level"] = (level_type, Field(description="The one level whose description fits the response best."))
        # One model per level set, each with its own name: two same-named models would make pydantic
        # qualify the schema's definitions with the Python module path, leaking it into what is sent.
        name = "LevelDecision" + "_".join(str(level).replace("-", "m") for level in ("", *levels))
    elif scale == "ternary":
        answer = Literal["holds", "partly", "does_not"]
        fields["answer"] = (answer, Field(description="holds, partly, or does_not hold for the response."))
        name = "TernaryDecision"
    else:
        fields["holds"] = (bool, Field(description="True when the statement holds for the response."))
        name = "BinaryDecision"
    if allow_na:
        fields["cannot_assess"] = (bool, Field(description="True only when the response gives no basis to decide."))
        name += "WithNA"
    return create_model(name, __base__=_Strict, **fields)


def judged_items(items: list[ItemIR]) -> list[ItemIR]:
    """Leaves the judge decides: every leaf without a deterministic check."""
    return [item for item in items if item.kind != "group" and item.check is None]


def reply_model(items: tuple[ItemIR, ...], judge: JudgeIR) -> type[BaseModel]:
    """The reply model for these items in this order (the order is the sample's shuffled order)."""
    return _reply_model(tuple((i.name, i.kind, _levels(i)) for i in items), judge.scale, judge.allow_na)


def _levels(item: ItemIR) -> tuple[int, ...]:
    return tuple(lv.level for lv in item.levels or ())


@functools.lru_cache(maxsize=256)
def _reply_model(spec: tuple[tuple[str, str, tuple[int, ...]], ...], scale: str, allow_na: bool) -> type[BaseModel]:
    # Fields get a private attribute name and the item's name as alias, so an item called `json` or
    # `schema` cannot clash with pydantic's own attributes.
    fields: dict[str, Any] = {
        f"item_{index}": (decision_model(kind, levels, scale, allow_na), Field(alias=name))
        for index, (name, kind, levels) in enumerate(spec)
    }
    model = create_model(
        REPLY_MODEL_NAME,
        __base__=_Strict,
        __doc__="Your verdict on every rubric item, one field per item, each with its reason first.",
        **fields,
    )
    model.model_config["populate_by_name"] = True
    model.model_rebuild(force=True)
    return model


def reply_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)


def anthropic_tool(model: type[BaseModel]) -> dict[str, Any]:
    """The tool definition instructor sends for this model in Anthropic TOOLS mode."""
    schema = reply_json_schema(model)
    return {"name": schema["title"], "description": schema["description"], "input_schema": schema}


def decisions(reply: BaseModel) -> dict[str, dict[str, Any]]:
    """Item name → its decision object as plain data."""
    dumped: dict[str, dict[str, Any]] = reply.model_dump(by_alias=True)
    return dumped
