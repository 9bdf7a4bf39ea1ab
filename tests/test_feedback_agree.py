"""`rubric agree`: judge–human agreement, with every number worked out by hand on a small labelled set.

Pairs (judge label, person label), per item and pooled over items:
  x: r1 T vs [T, F] → TP FP; r2 T vs T → TP; r3 F vs [F, F, T] → TN TN FN; r4 F vs F → TN
     TP 2, FP 1, FN 1, TN 3: accuracy 5/7, F1+ 2/3, F1− 3/4, MF1 17/24, kappa (5/7 − 25/49)/(24/49) = 5/12
  y: r1 F vs F → TN; r2 T vs {ann: T, bob: T} → TP TP; r3 F vs 1 → FN; r4 T vs [F, null] → FP
     TP 2, FP 1, FN 1, TN 1: accuracy 3/5, F1+ 2/3, F1− 1/2, MF1 7/12, kappa (3/5 − 13/25)/(12/25) = 1/6
  overall: TP 4, FP 2, FN 2, TN 4: accuracy 2/3, MF1 2/3, kappa 1/3
Leave-one-out, person against person:
  x: r1 [T, F] → FP FN; r3 [F, F, T] → TN FN, TN FN, FP FP: TP 0, FP 3, FN 3, TN 2 → F1+ 0, F1− 0.4, MF1 0.2
  y: r2 [T, T] → TP TP: F1− undefined (no negatives), so MF1 is undefined
  overall: TP 2, FP 3, FN 3, TN 2 → MF1 0.4, accuracy 0.4, kappa −0.2
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import rubricdsl
from rubricdsl.cli import main
from rubricdsl.feedback import agree
from rubricdsl.feedback.metaeval import agreement, metrics
from rubricdsl.judging.votes import cohen_kappa
from rubricdsl.scoring import aggregate

RUBRIC = """rubric qa:
    essential x: The response does x.
    important y: The response does y.
    group g: The extras.
        criterion 1 z: The response does z.
"""
JUDGE = {"r1": (True, False), "r2": (True, True), "r3": (False, False), "r4": (False, True), "r5": (True, True)}
LABELS: list[dict[str, Any]] = [
    {"id": "r1", "labels": {"x": [True, False], "y": False}},
    {"id": "r2", "labels": {"x": True, "y": {"ann": True, "bob": True}}},
    {"id": "r3", "labels": {"x": [False, False, True], "y": 1}},
    {"id": "r4", "labels": {"x": 0, "y": [False, None], "w": True}},
    {"id": "r6", "labels": {"x": True}},
]


def results() -> list[dict[str, Any]]:
    """Real `rubric grade` output lines: a GradeResult (group verdict included) with the row's id."""
    rubric = rubricdsl.loads(RUBRIC)
    return [{"id": key, **aggregate(rubric, {"x": x, "y": y, "z": True}).model_dump(mode="json")}
            for key, (x, y) in JUDGE.items()]


def test_hand_computed_agreement_per_item_and_overall() -> None:
    report = agree(results(), LABELS, resamples=200, seed=0)
    x, y, overall = report.items["x"], report.items["y"], report.overall
    assert list(report.items) == ["y", "x"]  # worst MF1 first
    assert (x.pairs, x.rows, y.pairs, overall.pairs) == (7, 4, 5, 12)
    assert x.accuracy.value == pytest.approx(5 / 7) and x.kappa.value == pytest.approx(5 / 12)
    assert (x.f1_pos, x.f1_neg, x.mf1.value) == pytest.approx((2 / 3, 3 / 4, 17 / 24))
    assert y.accuracy.value == pytest.approx(3 / 5) and y.kappa.value == pytest.approx(1 / 6)
    assert (y.f1_pos, y.f1_neg, y.mf1.value) == pytest.approx((2 / 3, 1 / 2, 7 / 12))
    assert (overall.accuracy.value, overall.mf1.value, overall.kappa.value) == pytest.approx((2 / 3, 2 / 3, 1 / 3))
    assert x.human is not None and y.human is not None and overall.human is not None
    assert (x.human.f1_pos, x.human.f1_neg, x.human.mf1.value) == pytest.approx((0.0, 0.4, 0.2))
    assert (x.human.pairs, x.human.accuracy.value) == (8, pytest.approx(0.25))
    assert y.human.mf1.value is None and y.human.f1_neg is None and y.human.kappa.value is None
    assert (overall.human.mf1.value, overall.human.accuracy.value) == pytest.approx((0.4, 0.4))
    assert overall.human.kappa.value == pytest.approx(-0.2)
    assert (report.matched_rows, report.results_only, report.labels_only) == (4, 1, 1)
    assert report.unlabelled_items == ["z"]  # judged, never labelled; the group `g` is not an item to label
    assert report.unjudged_items == ["w"]


def test_kappa_matches_the_pooled_pairs_and_the_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(5)
    judge = rng.random(300) < 0.6
    person = np.where(rng.random(300) < 0.8, judge, ~judge)
    rows = np.stack([judge & person, judge & ~person, ~judge & person, ~judge & ~person], axis=1).astype(np.int64)
    point = metrics(rows.sum(axis=0))
    assert float(point["kappa"]) == pytest.approx(cohen_kappa(list(judge), list(person)))
    first, again, other = (agreement(rows, resamples=500, seed=s) for s in (0, 0, 1))
    assert first == again  # the same seed, the same intervals
    assert other.mf1.low != first.mf1.low
    assert first.mf1.low is not None and first.mf1.high is not None and first.mf1.value is not None
    assert first.mf1.low < first.mf1.value < first.mf1.high
    assert agreement(rows, resamples=0).mf1.low is None  # no resamples, no interval


def test_the_command_prints_the_table_worst_first(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results()))
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in LABELS))
    args = ["agree", str(tmp_path / "results.jsonl"), str(tmp_path / "labels.jsonl"), "--resamples", "100"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "responses 4 matched (1 with no labels, 1 with no result); 12 judge–person pairs"
    assert lines[1].startswith("overall: MF1 0.667 [") and "kappa 0.333 [" in lines[1]
    assert lines[2].startswith("human baseline (leave-one-out): MF1 0.400 [")
    table = lines[lines.index("items, worst agreement first (rewrite these criteria first):") + 1:]
    assert table[0].split() == ["item", "pairs", "accuracy", "kappa", "MF1", "MF1", "95%", "CI", "human", "MF1"]
    assert table[1].split()[:5] == ["y", "5", "0.600", "0.167", "0.583"] and table[1].split()[-1] == "-"
    assert table[2].split()[:5] == ["x", "7", "0.714", "0.417", "0.708"] and table[2].split()[-1] == "0.200"
    assert CliRunner().invoke(main, [*args, "--fail-under", "0.9"]).exit_code == 1
    as_json = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    assert list(as_json["items"]) == ["y", "x"] and as_json["overall"]["mf1"]["value"] == pytest.approx(2 / 3)
    (tmp_path / "bad.jsonl").write_text('{"id": "r1", "labels": {"x": "maybe"}}\n')
    bad = CliRunner().invoke(main, ["agree", str(tmp_path / "results.jsonl"), str(tmp_path / "bad.jsonl")])
    assert bad.exit_code == 2 and "a label is true, false, 0 or 1, not 'maybe'" in bad.stderr
