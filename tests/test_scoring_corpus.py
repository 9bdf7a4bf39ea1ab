"""The aggregator on published data (tests/data, see its SOURCES.md).

PaperBench: the five human-graded judge_eval trees become rubric trees (inner nodes → groups, leaves →
`criterion` items with the node's weight) scored with `normalize: sum`; with every leaf's credit set to its
recorded score, the root reward equals the recorded root score, and every group's credit equals its node's
recorded score. HealthBench: each row's rubric becomes `criterion` items weighted by their signed points,
scored with `normalize: healthbench` against a hand computation (met points over positive points).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rubricdsl.ir import ItemIR, RubricIR, ScoringIR
from rubricdsl.scoring import aggregate, aggregate_many, summarize_rewards

CORPUS = Path(__file__).resolve().parent / "data"
PAPERBENCH = CORPUS / "paperbench" / "judge_eval"
HEALTHBENCH = CORPUS / "healthbench" / "healthbench_30.jsonl"


def test_corpus_is_present() -> None:
    """The data is part of the repository's test inputs: missing is a failure, not a skip."""
    assert CORPUS.is_dir(), f"the test data is missing at {CORPUS}"

# Root scores as SOURCES.md records them.
PAPERBENCH_ROOTS = {
    "all-in-one": 0.7139351851851852,
    "pinn": 0.8342145949288806,
    "rice": 0.18568121693121692,
    "semantic-self-consistency": 0.91,
    "stay-on-topic-with-classifier-free-guidance": 0.48152958152958153,
}


class Tree:
    """A PaperBench node tree converted to IR items, with each leaf's credit and each node's score."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.names = (f"n_{k}" for k in itertools.count())
        self.credits: dict[str, float] = {}
        self.recorded: dict[str, float] = {}
        self.dropped = 0
        self.items = self.convert(root["sub_tasks"])

    def convert(self, nodes: list[dict[str, Any]]) -> tuple[ItemIR, ...]:
        items = []
        for node in nodes:
            weight = float(node["weight"])
            children = node.get("sub_tasks") or []
            if not children and weight == 0.0:
                # The language forbids a zero-weight leaf; it moves neither S nor Σw, so it is dropped.
                self.dropped += 1
                continue
            name = next(self.names)
            self.recorded[name] = node["score"]
            text = node["requirements"] or "(no text)"
            if children:
                items.append(ItemIR(name=name, kind="group", weight=weight, text=text, items=self.convert(children)))
            else:
                self.credits[name] = float(node["score"])
                items.append(ItemIR(name=name, kind="criterion", weight=weight, text=text))
        return tuple(items)


def _nodes(node: dict[str, Any], depth: int = 1) -> Iterator[tuple[dict[str, Any], int]]:
    yield node, depth
    for child in node.get("sub_tasks") or []:
        yield from _nodes(child, depth + 1)


@pytest.mark.parametrize("paper", sorted(PAPERBENCH_ROOTS))
def test_paperbench_root_score(paper: str) -> None:
    data = json.loads((PAPERBENCH / f"{paper}.json").read_text(encoding="utf-8"))
    assert data["score"] == pytest.approx(PAPERBENCH_ROOTS[paper], abs=1e-15)
    nodes = list(_nodes(data))
    assert 102 <= len(nodes) <= 2551 and 5 <= max(d for _, d in nodes) <= 9  # as SOURCES.md says
    tree = Tree(data)
    assert tree.dropped == 0  # none of the five trees has a zero-weight leaf
    rubric = RubricIR(name="paper", title=paper, items=tree.items, scoring=ScoringIR(normalize="sum"))
    assert all(len(name) <= 64 for name in tree.credits)
    assert len(rubric.all_items()) == len(nodes) - 1
    result = aggregate(rubric, tree.credits)
    assert result.reward == pytest.approx(PAPERBENCH_ROOTS[paper], abs=1e-9)
    for name, score in tree.recorded.items():
        assert result.verdicts[name].credit == pytest.approx(score, abs=1e-9), name
    row = np.array([[tree.credits[leaf.name] for leaf in rubric.leaves()]])
    assert aggregate_many(rubric, row)[0] == result.reward


def _healthbench_rows() -> list[dict[str, Any]]:
    if not HEALTHBENCH.is_file():
        return []
    return [json.loads(line) for line in HEALTHBENCH.read_text(encoding="utf-8").splitlines() if line]


def _healthbench_rubric(row: dict[str, Any]) -> RubricIR:
    items = tuple(
        ItemIR(name=f"c_{k}", kind="criterion", weight=float(c["points"]), text=c["criterion"])
        for k, c in enumerate(row["rubrics"])
    )
    return RubricIR(name="hb", title=row["prompt_id"], items=items, scoring=ScoringIR(normalize="healthbench"))


def _hand_score(points: list[int], met: list[bool]) -> float:
    """HealthBench's calculate_score: points of the criteria met over the positive points available."""
    achieved = sum(p for p, m in zip(points, met, strict=True) if m)
    possible = sum(p for p in points if p > 0)
    return achieved / possible


def test_healthbench_corpus_facts() -> None:
    rows = _healthbench_rows()
    assert len(rows) == 30
    points = [c["points"] for row in rows for c in row["rubrics"]]
    assert len(points) == 352 and sum(p < 0 for p in points) == 102 and 0 not in points


def test_healthbench_first_row_by_hand() -> None:
    rubric = _healthbench_rubric(_healthbench_rows()[0])
    # points 10 9 7 -10 8 7 7 -8 -8 8 7 6 5 7 -10 -6 -5 5 5: positive 91, negative -47
    names = [leaf.name for leaf in rubric.leaves()]
    everything = aggregate(rubric, dict.fromkeys(names, True))
    assert everything.reward == pytest.approx(44 / 91) and everything.P == 91 and everything.N == -47
    even = aggregate(rubric, {name: k % 2 == 0 for k, name in enumerate(names)})
    assert even.reward == pytest.approx(26 / 91)  # 10 + 7 + 8 + 7 - 8 + 7 + 5 - 10 - 5 + 5
    mistakes = aggregate(rubric, {leaf.name: (leaf.weight or 0.0) < 0 for leaf in rubric.leaves()})
    assert mistakes.reward == pytest.approx(-47 / 91)  # not clipped per response


def test_healthbench_rows_against_hand_computation() -> None:
    rows = _healthbench_rows()
    rewards = []
    for index, row in enumerate(rows):
        rubric = _healthbench_rubric(row)
        points = [c["points"] for c in row["rubrics"]]
        patterns = [[(k + index + shift) % 3 != 0 for k in range(len(points))] for shift in range(3)]
        matrix = np.array(patterns, dtype=np.float64)
        many = aggregate_many(rubric, matrix)
        for met, vectorised in zip(patterns, many, strict=True):
            expected = _hand_score(points, met)
            result = aggregate(rubric, {f"c_{k}": m for k, m in enumerate(met)})
            assert result.reward == pytest.approx(expected, abs=1e-12)
            assert vectorised == pytest.approx(expected, abs=1e-12)
        rewards.append(_hand_score(points, patterns[0]))
    summary = summarize_rewards(rewards, _healthbench_rubric(rows[0]))
    assert summary.mean == pytest.approx(min(max(float(np.mean(rewards)), 0.0), 1.0))
