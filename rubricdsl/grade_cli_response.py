"""`rubric grade --response`: grade one response, printed as a reward and a table of verdicts (or JSON)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .grade_cli_inputs import _GraderOptions
    from .ir import ItemIR, RubricIR
    from .scoring import GradeResult, Verdict


def _grade_one(rubric: RubricIR, options: _GraderOptions, response: str, prompt: str | None, fmt: str) -> None:
    from .dataset import require_judge
    from .judging.run import run_sync

    grader = options.grader(rubric)
    require_judge(grader)
    result = run_sync(grader.agrade(response, prompt, raise_on_error=False))
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_result(rubric, result))
    sys.exit(0 if result.reward is not None else 1)


def render_result(rubric: RubricIR, result: GradeResult) -> str:
    reward = "none (the grade failed)" if result.reward is None else f"{result.reward:.4f}"
    lines = [f"{rubric.name}: reward {reward}   gate {result.gate}   S={result.S:g} P={result.P:g} N={result.N:g}"]
    if result.error:
        lines.append(f"error: {result.error}")
    rows: list[tuple[str, ...]] = [("item", "kind", "verdict", "source", "reason")]
    depth = _depths(rubric)
    for item in rubric.all_items():
        verdict = result.verdicts.get(item.name)
        if verdict is not None:
            rows.append(
                (
                    "  " * depth[item.name] + item.name,
                    item.kind,
                    _verdict_text(verdict),
                    verdict.source,
                    " ".join(verdict.reason.split())[:120],
                )
            )
    lines += ["", *_table(rows)]
    if result.undecided:
        lines += ["", "undecided:", *(f"  {item}: {why}" for item, why in result.undecided.items())]
    if result.model:
        usage = result.usage
        lines += [
            "",
            f"judge {result.model}: {result.judge_calls} call(s), tokens in {usage.input_tokens} "
            f"(cached {usage.cached_input_tokens}) out {usage.output_tokens}",
        ]
    return "\n".join(lines)


def _depths(rubric: RubricIR) -> dict[str, int]:
    depths: dict[str, int] = {}

    def walk(items: Sequence[ItemIR], depth: int) -> None:
        for item in items:
            depths[item.name] = depth
            walk(item.items or (), depth + 1)

    walk(rubric.items, 0)
    return depths


def _verdict_text(verdict: Verdict) -> str:
    if not verdict.decided:
        return f"undecided ({verdict.undecided})"
    if verdict.level is not None:
        return f"level {verdict.level}"
    if verdict.credit not in (0.0, 1.0):
        return f"credit {verdict.credit:.2f}"
    return "holds" if verdict.holds else "does not"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]).rstrip()
        for row in rows
    ]
