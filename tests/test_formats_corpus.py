"""Import and export on the real data of tests/data (its SOURCES.md): HealthBench and PaperBench.

Expected values come from the raw files, read here with plain `json`, and from the facts SOURCES.md records
(352 HealthBench items, 102 negative; the five judge_eval root scores).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rubricdsl import api
from rubricdsl.formats import ImportResult, export_text, import_path
from rubricdsl.formats.build import item_annotations
from rubricdsl.formatter import format_text
from rubricdsl.ir import RubricIR
from rubricdsl.lint import lint_paths
from rubricdsl.scoring import aggregate

HEALTHBENCH = "healthbench/healthbench_30.jsonl"
JUDGE_EVAL_ROOTS = {  # SOURCES.md
    "all-in-one": 0.7139351851851852,
    "pinn": 0.8342145949288806,
    "rice": 0.18568121693121692,
    "semantic-self-consistency": 0.91,
    "stay-on-topic-with-classifier-free-guidance": 0.48152958152958153,
}
GRADING_KEYS = ("score", "valid_score", "explanation", "judge_metadata")


@pytest.fixture(scope="module")
def hb_rows(corpus: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (corpus / HEALTHBENCH).read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def hb(corpus: Path) -> ImportResult:
    return import_path("healthbench", corpus / HEALTHBENCH)


def test_healthbench_imports_all_rows_into_one_file(hb: ImportResult, hb_rows: list[dict[str, Any]]) -> None:
    criteria = [c for row in hb_rows for c in row["rubrics"]]
    assert len(hb_rows) == 30 and len(criteria) == 352 and sum(c["points"] < 0 for c in criteria) == 102
    assert len(hb.file.declarations) == len(hb.rubrics) == len(hb_rows)
    leaves = [leaf for ir in hb.rubrics.values() for leaf in ir.leaves()]
    assert len(leaves) == len(criteria)
    assert sum(leaf.kind == "pitfall" for leaf in leaves) == sum(c["points"] < 0 for c in criteria)
    assert {leaf.kind for leaf in leaves} == {"criterion", "pitfall"}


def test_healthbench_text_lints_formats_stably_and_compiles(hb: ImportResult, tmp_path: Path) -> None:
    path = tmp_path / "healthbench.rubric"
    path.write_text(hb.text, encoding="utf-8")
    diagnostics, _ = lint_paths([path])
    assert not [d for d in diagnostics if d.is_error]
    assert format_text(hb.text) == hb.text
    compiled = api.load(path)
    assert sum(len(ir.all_items()) for ir in compiled.values()) == 352


def test_healthbench_keeps_texts_points_tags_and_conversation(hb: ImportResult, hb_rows: list[dict[str, Any]]) -> None:
    pairs = zip(hb.rubrics.values(), hb.file.declarations, strict=True)
    for row, (ir, declaration) in zip(hb_rows, pairs, strict=True):
        tags = item_annotations(declaration.body, "healthbench")
        assert [leaf.text for leaf in ir.leaves()] == [c["criterion"] for c in row["rubrics"]]
        assert [leaf.weight for leaf in ir.leaves()] == [float(c["points"]) for c in row["rubrics"]]
        assert [tags.get(leaf.name, {}).get("tags", []) for leaf in ir.leaves()] == [c["tags"] for c in row["rubrics"]]
        assert list(ir.tags) == row["example_tags"] and ir.scoring.normalize == "healthbench"
        messages = row["prompt"]
        assert ir.prompt is not None
        if len(messages) == 1:
            assert ir.prompt == messages[0]["content"]
        else:
            assert all(f"{m['role'].capitalize()}: {m['content']}" in ir.prompt for m in messages)


def test_healthbench_rubrics_score_as_healthbench_does(hb: ImportResult, hb_rows: list[dict[str, Any]]) -> None:
    for row, ir in zip(hb_rows, hb.rubrics.values(), strict=True):
        met = [i % 3 != 0 for i in range(len(row["rubrics"]))]
        points = [c["points"] for c in row["rubrics"]]
        expected = sum(p for p, m in zip(points, met, strict=True) if m) / sum(p for p in points if p > 0)
        verdicts = {leaf.name: holds for leaf, holds in zip(ir.leaves(), met, strict=True)}
        assert aggregate(ir, verdicts).reward == pytest.approx(expected, abs=1e-12)


def test_healthbench_round_trip_gives_the_rows_back(hb: ImportResult, hb_rows: list[dict[str, Any]]) -> None:
    exported = export_text("healthbench", hb.text)
    assert exported.notes.lines() == []
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert rows == [{k: v for k, v in row.items() if k != "ideal_completions_data"} for row in hb_rows]
    again = import_path_text("healthbench", exported.text)
    assert again.text == hb.text
    assert [ir.content_hash for ir in again.rubrics.values()] == [ir.content_hash for ir in hb.rubrics.values()]


def import_path_text(fmt: str, text: str, name: str | None = None) -> ImportResult:
    from rubricdsl.formats import Origin, import_data

    return import_data(fmt, text, Origin("exported.json", name))


# ---------------------------------------------------------------- PaperBench


def paperbench_files(corpus: Path) -> list[Path]:
    return sorted((corpus / "paperbench").glob("*/*.json"))


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node["sub_tasks"]:
        yield from nodes(child)


@pytest.fixture(scope="module")
def trees(corpus: Path) -> dict[str, tuple[dict[str, Any], ImportResult]]:
    return {f"{p.parent.name}/{p.stem}": (json.loads(p.read_text(encoding="utf-8")), import_path("paperbench", p))
            for p in paperbench_files(corpus)}


def only(result: ImportResult) -> RubricIR:
    (ir,) = result.rubrics.values()
    return ir


def test_every_paperbench_tree_imports_with_its_leaves_in_order(trees: dict[str, Any]) -> None:
    assert len(trees) == 12
    for raw, result in trees.values():
        ir = only(result)
        raw_leaves = [n for n in nodes(raw) if not n["sub_tasks"] and n["weight"] != 0]
        assert [leaf.text for leaf in ir.leaves()] == [n["requirements"].strip() for n in raw_leaves]
        assert [leaf.weight for leaf in ir.leaves()] == [float(n["weight"]) for n in raw_leaves]
        groups = [it for it in ir.all_items() if it.kind == "group"]
        assert len(groups) == sum(1 for n in nodes(raw) if n["sub_tasks"]) - 1  # the root is the rubric
        assert ir.scoring.normalize == "sum" and ir.title == raw["requirements"].strip()
        assert format_text(result.text) == result.text


def test_paperbench_texts_lint_without_errors(trees: dict[str, Any], tmp_path: Path) -> None:
    for key, (_, result) in trees.items():
        (tmp_path / f"{key.replace('/', '_')}.rubric").write_text(result.text, encoding="utf-8")
    diagnostics, _ = lint_paths([tmp_path])
    assert not [d for d in diagnostics if d.is_error]


def test_judge_eval_trees_score_their_recorded_root_scores(trees: dict[str, Any]) -> None:
    for stem, root_score in JUDGE_EVAL_ROOTS.items():
        raw, result = trees[f"judge_eval/{stem}"]
        ir = only(result)
        raw_leaves = [n for n in nodes(raw) if not n["sub_tasks"] and n["weight"] != 0]
        credits = {leaf.name: node["score"] for leaf, node in zip(ir.leaves(), raw_leaves, strict=True)}
        graded = aggregate(ir, credits)
        assert graded.reward == pytest.approx(root_score, abs=1e-9), stem
        assert raw["score"] == pytest.approx(root_score, abs=1e-12)
        inner = [n for n in nodes(raw) if n["sub_tasks"]][1:]
        groups = [it for it in ir.all_items() if it.kind == "group"]
        for group, node in zip(groups, inner, strict=True):
            assert graded.verdicts[group.name].credit == pytest.approx(node["score"], abs=1e-9)


def test_paperbench_round_trip_gives_the_tree_back(trees: dict[str, Any]) -> None:
    for key, (raw, result) in trees.items():
        exported = export_text("paperbench", result.text)
        assert exported.notes.lines() == [], key
        expected = strip_grading(raw)
        assert json.loads(exported.text) == expected, key
        again = import_path_text("paperbench", exported.text, name=only(result).name)
        assert only(again).content_hash == only(result).content_hash, key


def strip_grading(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k not in GRADING_KEYS}
    out["requirements"] = node["requirements"].strip()
    out["sub_tasks"] = [strip_grading(child) for child in node["sub_tasks"]]
    return out


def test_corpus_names_are_valid_unique_and_stable(trees: dict[str, Any], hb: ImportResult, corpus: Path) -> None:
    from rubricdsl.formats.names import is_free

    rubrics = [ir for _, result in trees.values() for ir in result.rubrics.values()] + list(hb.rubrics.values())
    for ir in rubrics:
        names = [it.name for it in ir.all_items()]
        assert len(set(names)) == len(names), ir.name
        assert all(is_free(name) for name in names), ir.name
    assert import_path("healthbench", corpus / HEALTHBENCH).text == hb.text
    for path in paperbench_files(corpus)[:3]:
        assert import_path("paperbench", path).text == trees[f"{path.parent.name}/{path.stem}"][1].text
