"""`rubric diff`: item and setting changes between two rubric versions, and reward movement worked out by hand.

OLD: correct 5, units 3, concise 1, jargon −1, hard short (words <= 50); normalize positive.
NEW: correct 5 (reworded), units 4, brevity 1 (concise renamed), hedges −2 (added; jargon removed),
     hard short (words <= 40); normalize minmax.
Rows (labels; the response's length decides `short` under each version's check):
  r1 45 words, correct units concise:   old 9/9 = 1;         new: 45 > 40 closes the gate → 0       (−1)
  r2 10 words, correct jargon hedges:   old (5 − 1)/9 = 4/9; new (3 + 2)/(10 + 2) = 5/12           (−1/36)
  r3 5 words, units concise:            old 4/9;             new (5 + 2)/12 = 7/12                 (+5/36)
  r4 no label for hedges:               left out
  r5 correct [T, T, F] (credit 2/3), units, brevity (labelled by its new name):
                                        old (10/3 + 4)/9 = 22/27; new (25/3 + 2)/12 = 31/36        (+5/108)
Means 73/108 → 67/144 (change −91/432); Spearman of ranks [4, 1.5, 1.5, 3] and [1, 2, 3, 4] = −1/√10.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import rubricdsl
from rubricdsl.cli import main
from rubricdsl.feedback import DiffError, diff_rubrics
from rubricdsl.feedback.diff import render_diff

OLD = """rubric answer:
    prompt: Explain X.

    essential correct: The response gives the correct value of X.
    important units: The response states the units.
    optional concise: The response is concise.
    pitfall jargon: The response uses unexplained jargon.
    hard short: The response is at most 50 words.
        check: words <= 50
"""
NEW = """rubric answer:
    prompt: Explain X.
    scoring:
        normalize: minmax

    essential correct: The response gives the correct value of X, with its derivation.
    important 4 units: The response states the units.
    optional brevity: The response is   concise.
    pitfall -2 hedges: The response hedges without committing to an answer.
    hard short: The response is at most 40 words.
        check: words <= 40
"""


def words(n: int) -> str:
    return " ".join(["word"] * n)


ROWS: list[dict[str, Any]] = [
    {"id": "r1", "response": words(45),
     "labels": {"correct": True, "units": True, "concise": True, "jargon": False, "hedges": False}},
    {"id": "r2", "response": words(10),
     "labels": {"correct": True, "units": False, "concise": False, "jargon": True, "hedges": True}},
    {"id": "r3", "response": words(5),
     "labels": {"correct": False, "units": True, "concise": True, "jargon": False, "hedges": False}},
    {"id": "r4", "response": words(5), "labels": {"correct": True, "units": True, "concise": True, "jargon": False}},
    {"id": "r5", "response": words(5),
     "labels": {"correct": [True, True, False], "units": True, "brevity": True, "jargon": False, "hedges": False}},
]


def rubrics() -> tuple[rubricdsl.RubricIR, rubricdsl.RubricIR]:
    return rubricdsl.loads(OLD), rubricdsl.loads(NEW)


def test_items_and_settings_that_changed() -> None:
    diff = diff_rubrics(*rubrics())
    assert not diff.identical and diff.added == ["hedges"] and diff.removed == ["jargon"]
    changed = {d.name: d for d in diff.changed}
    assert list(changed) == ["correct", "units", "brevity", "short"]
    assert changed["correct"].changes == {"text": ("The response gives the correct value of X.",
                                                   "The response gives the correct value of X, with its derivation.")}
    assert changed["units"].changes == {"weight": (3.0, 4.0)}
    assert changed["brevity"].old_name == "concise"  # the same text, spacing aside: a rename
    assert changed["brevity"].changes == {"text": ("The response is concise.", "The response is   concise.")}
    assert changed["short"].changes == {"text": ("The response is at most 50 words.",
                                                 "The response is at most 40 words."),
                                        "check": ("words <= 50", "words <= 40")}
    assert diff.settings == {"scoring.normalize": ("positive", "minmax")} and diff.fields == {}
    text = render_diff(diff)
    assert "~ brevity (renamed from concise)\n    respaced:" in text and "    reweighted: 3.0  →  4.0" in text
    assert "* scoring.normalize: positive  →  minmax" in text


def test_reward_movement_by_hand() -> None:
    move = diff_rubrics(*rubrics(), responses=ROWS, top=2).movement
    assert move is not None
    assert (move.rows, move.left_out, move.missing) == (4, 1, {"hedges": 1})
    assert move.mean_old == pytest.approx(73 / 108) and move.mean_new == pytest.approx(67 / 144)
    assert move.mean_change == pytest.approx(-91 / 432)
    assert move.spearman == pytest.approx(-1 / math.sqrt(10))
    assert [(m.id, m.old, m.new) for m in move.movers] == [("r1", 1.0, 0.0), ("r3", pytest.approx(4 / 9),
                                                                                pytest.approx(7 / 12))]


def test_grade_results_carry_verdicts_and_groups_are_compared(tmp_path: Path) -> None:
    old = rubricdsl.loads(OLD)
    result = rubricdsl.aggregate(old, {"correct": True, "units": True, "concise": False, "jargon": False,
                                       "short": True})
    row = {"id": 7, **result.model_dump(mode="json")}  # `rubric grade` output: verdicts, no response text
    move = diff_rubrics(old, old, responses=[row]).movement
    assert move is not None and (move.rows, move.mean_change, move.mean_old) == (1, 0.0, pytest.approx(8 / 9))
    grouped_old = rubricdsl.loads("rubric t:\n    group 2 parts: Parts.\n        criterion 1 a: A.\n"
                                  "    criterion 3 b: B.\n")
    grouped_new = rubricdsl.loads("rubric t:\n    group 2 pieces: Parts.\n        criterion 1 a: A.\n"
                                  "    group sub: Sub.\n        criterion 3 b: B.\n")
    diff = diff_rubrics(grouped_old, grouped_new)
    changes = {d.name: (d.old_name, d.changes) for d in diff.changed}
    assert changes["pieces"] == ("parts", {}) and "a" not in changes  # its group was renamed, not left
    assert changes["b"] == (None, {"group": (None, "sub")}) and diff.added == ["sub"]


def test_the_command_exits_like_diff(tmp_path: Path) -> None:
    old, new = tmp_path / "old.rubric", tmp_path / "new.rubric"
    old.write_text(OLD)
    new.write_text(NEW)
    (tmp_path / "same.rubric").write_text("# a comment changes nothing\n" + OLD.replace("    prompt:", "    prompt: "))
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--responses", str(rows), "--top", "1"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("answer → answer: 1 added, 1 removed, 4 changed\n+ hedges\n- jargon\n")
    assert "rewards over 4 response(s) (1 left out: no verdict for hedges (1))" in result.stdout
    assert "mean 0.6759 → 0.4653 (change -0.2106); Spearman rank correlation -0.3162" in result.stdout
    assert result.stdout.rstrip().endswith("id r1: 1.0000 → 0.0000 (-1.0000)")
    same = CliRunner().invoke(main, ["diff", str(old), str(tmp_path / "same.rubric")])
    assert (same.exit_code, same.stdout) == (0, "answer → answer: no change\n")
    missing = CliRunner().invoke(main, ["diff", str(old), str(tmp_path / "nope.rubric")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


SHORTER = OLD.replace("optional concise: The response is concise.", "optional concise: The response is brief.")


def graded(rubric: rubricdsl.RubricIR, row_id: int, verdicts: dict[str, bool]) -> dict[str, Any]:
    """A `rubric grade` output line: the id and the result, verdicts but no response text."""
    return {"id": row_id, **rubricdsl.aggregate(rubric, verdicts).model_dump(mode="json")}


def test_grade_results_without_response_text_work_while_no_check_changed() -> None:
    old = rubricdsl.loads(OLD)
    row = graded(old, 7, {"correct": True, "units": False, "concise": True, "jargon": False, "short": True})
    move = diff_rubrics(old, rubricdsl.loads(SHORTER), responses=[row]).movement  # only a reworded judge item
    assert move is not None and (move.rows, move.left_out) == (1, 0)
    assert move.mean_old == move.mean_new == pytest.approx(6 / 9)  # (5 + 1) / 9: the reworded item kept its verdict


def test_a_changed_check_without_response_text_is_refused() -> None:
    old, new = rubrics()
    rows = [graded(old, i, {"correct": True, "units": True, "concise": True, "jargon": False, "short": True})
            for i in (7, 8)]
    with pytest.raises(DiffError, match=r"a check changed \(`short`: words <= 50 → words <= 40\) and 2 row\(s\) "
                                        r"have no `response` text to run it on \(id 7, 8\)"):
        diff_rubrics(old, new, responses=rows)
    # With the response text, the check is run again under each version: 45 words pass 50 and fail 40.
    for row in rows:
        row["labels"] = {"hedges": False}  # the added item (not graded under the old version)
    rows[0]["response"] = [{"role": "user", "content": "Explain X."}, {"role": "assistant", "content": words(45)}]
    rows[1]["response"] = words(45)
    move = diff_rubrics(old, new, responses=rows).movement
    assert move is not None and move.rows == 2 and move.mean_old == 1.0 and move.mean_new == 0.0


def test_the_command_refuses_a_changed_check_without_response_text(tmp_path: Path) -> None:
    old, new, results = tmp_path / "old.rubric", tmp_path / "new.rubric", tmp_path / "results.jsonl"
    old.write_text(OLD)
    new.write_text(NEW)
    row = graded(rubricdsl.loads(OLD), 7, {"correct": True, "units": True, "concise": True, "jargon": False,
                                           "short": True})
    results.write_text(json.dumps(row) + "\n")
    refused = CliRunner().invoke(main, ["diff", str(old), str(new), "--responses", str(results)])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "a check changed (`short`: words <= 50 → words <= 40)" in refused.stderr
    assert "Pass --responses rows that carry `response`" in refused.stderr
    assert isinstance(refused.exception, SystemExit)  # a message, not a traceback
    (tmp_path / "shorter.rubric").write_text(SHORTER)
    unchanged = CliRunner().invoke(main, ["diff", str(old), str(tmp_path / "shorter.rubric"), "--responses",
                                          str(results)])
    assert unchanged.exit_code == 1, unchanged.output
    assert "rewards over 1 response(s) (0 left out)\nmean 1.0000 → 1.0000 (change +0.0000)" in unchanged.stdout
