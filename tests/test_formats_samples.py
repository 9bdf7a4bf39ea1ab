"""RaR, OpenRubrics, Prometheus and autorubric on the hand-written samples in tests/fixtures/formats.

Each test reads the sample with plain `json` (or `yaml`) and derives what the import must give from it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from rubricdsl.formats import ImportResult, Origin, export_text, import_data, import_path
from rubricdsl.formats.build import item_annotations
from rubricdsl.formatter import format_text
from rubricdsl.ir import RubricIR
from rubricdsl.scoring import aggregate

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "formats"


def only(result: ImportResult) -> RubricIR:
    (ir,) = result.rubrics.values()
    return ir


def reimport(fmt: str, text: str, name: str, path: str = "exported.json") -> ImportResult:
    return import_data(fmt, text, Origin(path, name))


def same_rubrics(first: ImportResult, second: ImportResult) -> bool:
    return [ir.content_hash for ir in first.rubrics.values()] == [ir.content_hash for ir in second.rubrics.values()]


# ---------------------------------------------------------------- RaR


def test_rar_array_maps_prefixes_to_kinds_and_titles_to_names() -> None:
    raw = json.loads((SAMPLES / "rar_rubric.json").read_text(encoding="utf-8"))
    result = import_path("rar", SAMPLES / "rar_rubric.json")
    ir = only(result)
    assert ir.name == "rar_rubric" and ir.prompt is None and result.notes == []
    assert [it.kind for it in ir.items] == [c["description"].split()[0].lower() for c in raw]
    assert [it.text for it in ir.items] == [c["description"].split(": ", 1)[1] for c in raw]
    assert [it.weight for it in ir.items] == [float(c["weight"]) for c in raw]
    assert [it.name for it in ir.items] == [c["title"].lower().replace(" ", "_") for c in raw]
    titles = item_annotations(result.file.declarations[0].body, "rar")
    assert [titles[it.name]["title"] for it in ir.items] == [c["title"] for c in raw]


def test_rar_array_round_trip_is_exact() -> None:
    raw = json.loads((SAMPLES / "rar_rubric.json").read_text(encoding="utf-8"))
    result = import_path("rar", SAMPLES / "rar_rubric.json")
    exported = export_text("rar", result.text)
    assert exported.notes.lines() == [] and json.loads(exported.text) == raw
    assert same_rubrics(reimport("rar", exported.text, "rar_rubric"), result)


def test_rar_rows_give_one_rubric_per_row_with_question_and_reference() -> None:
    lines = (SAMPLES / "rar_rows.jsonl").read_text(encoding="utf-8").splitlines()
    raw = [json.loads(line) for line in lines]
    result = import_path("rar", SAMPLES / "rar_rows.jsonl")
    assert list(result.rubrics) == ["rar_rows_1", "rar_rows_2"] and result.notes == []
    for row, ir in zip(raw, result.rubrics.values(), strict=True):
        assert ir.prompt == row["question"] and ir.reference == row["reference_answer"]
        assert len(ir.items) == row["rubric_count"]
    exported = export_text("rar", result.text)
    assert [json.loads(line) for line in exported.text.splitlines()] == raw
    assert same_rubrics(reimport("rar", exported.text, "rar_rows"), result)


def test_rar_oddities_are_imported_with_notes() -> None:
    data = json.dumps([
        {"title": "Correct", "description": "Essential Criteria: Names the capital.", "weight": 5},
        {"title": "Bad sign", "description": "Pitfall Criteria: Names the wrong city.", "weight": 2},
        {"title": "No prefix", "description": "Mentions the population.", "weight": 2},
        {"title": "Zero", "description": "Optional Criteria: Says hello.", "weight": 0},
    ])
    result = import_data("rar", data, Origin("x.json"))
    ir = only(result)
    assert [(it.kind, it.weight) for it in ir.items] == [("essential", 5.0), ("pitfall", -2.0), ("criterion", 2.0)]
    notes = "\n".join(result.notes)
    assert "negated" in notes and "no category prefix" in notes and "left out" in notes


# ---------------------------------------------------------------- OpenRubrics


def test_openrubrics_list_maps_tags_to_hard_rules_and_principles() -> None:
    lines = (SAMPLES / "openrubrics_museum.txt").read_text(encoding="utf-8").splitlines()
    items = []
    for line in lines:
        if re.match(r"\d+\. ", line):
            items.append(line.split(". ", 1)[1])
        else:
            items[-1] += " " + line.strip()
    result = import_path("openrubrics", SAMPLES / "openrubrics_museum.txt")
    ir = only(result)
    assert [it.kind for it in ir.items] == ["hard" if t.endswith("[Hard Rule]") else "principle" for t in items]
    assert [it.text for it in ir.items] == [t.rsplit(" [", 1)[0] for t in items]
    assert all(it.weight in (None, 1.0) for it in ir.items) and result.notes == []
    exported = export_text("openrubrics", result.text)
    assert exported.notes.lines() == []
    assert exported.text.splitlines() == [f"{n}. {t}" for n, t in enumerate(items, start=1)]
    assert same_rubrics(reimport("openrubrics", exported.text, ir.name, "x.txt"), result)


def test_openrubrics_untagged_items_and_preamble_are_noted() -> None:
    text = "Rubric:\n1. Answers the question. [Hard Rule]\n2) Uses a friendly tone.\n"
    result = import_data("openrubrics", text, Origin("r.txt"))
    assert [it.kind for it in only(result).items] == ["hard", "principle"]
    assert any("before the first" in note for note in result.notes)
    assert any("no [Hard Rule] or [Principle] tag" in note for note in result.notes)


def test_openrubrics_export_names_what_it_cannot_hold() -> None:
    text = ("rubric r:\n    prompt: P\n\n    hard a: Is short.\n        check: words <= 10\n"
            "    pitfall b: Is rude.\n    essential c: Is right.\n")
    notes = "\n".join(export_text("openrubrics", text).notes.lines())
    assert "`prompt:` not carried" in notes and "r.b" in notes and "`essential` items" in notes and "check" in notes


# ---------------------------------------------------------------- Prometheus


def test_prometheus_rubric_becomes_one_scale_and_comes_back_exactly() -> None:
    raw = json.loads((SAMPLES / "prometheus_rubric.json").read_text(encoding="utf-8"))
    result = import_path("prometheus", SAMPLES / "prometheus_rubric.json")
    ir = only(result)
    (scale,) = ir.items
    assert scale.kind == "scale" and scale.text == raw["criteria"]
    expected = [(n, raw[f"score{n}_description"]) for n in range(1, 6)]
    assert [(lv.level, lv.text) for lv in scale.levels or ()] == expected
    assert ir.prompt == raw["instruction"] and ir.reference == raw["reference_answer"]
    assert aggregate(ir, {scale.name: 0.75}).reward == pytest.approx(0.75)
    exported = export_text("prometheus", result.text)
    assert exported.notes.lines() == [] and json.loads(exported.text) == raw


def test_prometheus_feedback_collection_rows_keep_the_rubric_and_note_the_rest() -> None:
    raw = [json.loads(line) for line in (SAMPLES / "prometheus_rows.jsonl").read_text(encoding="utf-8").splitlines()]
    result = import_path("prometheus", SAMPLES / "prometheus_rows.jsonl")
    assert len(result.rubrics) == len(raw)
    for row, ir in zip(raw, result.rubrics.values(), strict=True):
        assert ir.items[0].text == row["orig_criteria"] and ir.prompt == row["orig_instruction"]
    for key in ("orig_response", "orig_feedback", "orig_score"):
        assert any(f"`{key}`" in note for note in result.notes)
    exported = export_text("prometheus", result.text)
    assert same_rubrics(reimport("prometheus", exported.text, "prometheus_rows"), result)


# ---------------------------------------------------------------- autorubric


def test_autorubric_yaml_sections_options_and_na() -> None:
    import yaml  # a dev dependency: the YAML importer is tested, never skipped
    raw = yaml.safe_load((SAMPLES / "autorubric_review.yaml").read_text(encoding="utf-8"))
    criteria = [(s["name"], c) for s in raw["sections"] for c in s["criteria"]]
    result = import_path("autorubric", SAMPLES / "autorubric_review.yaml")
    ir = only(result)
    assert [it.weight for it in ir.items] == [float(c["weight"]) for _, c in criteria]
    assert [it.kind for it in ir.items] == [
        "scale" if c.get("options") else "pitfall" if c["weight"] < 0 else "criterion" for _, c in criteria]
    assert [it.name for it in ir.items][:4] == [c["name"] for _, c in criteria[:4]]
    detail = ir.item("detail_level")
    assert [lv.text for lv in detail.levels or ()] == [o["label"] for o in criteria[1][1]["options"]]
    service = ir.item("service_rating")
    assert len(service.levels or ()) == sum(not o.get("na") for o in criteria[2][1]["options"])
    assert ir.judge.allow_na and any("allow_na" in note for note in result.notes)
    sections = item_annotations(result.file.declarations[0].body, "autorubric")
    assert [sections[it.name]["section"] for it in ir.items] == [s for s, _ in criteria]
    # autorubric's score: option values times weights over the positive weights, clipped to [0, 1]
    credits = {"names_dishes": 1.0, "detail_level": 0.75, "service_rating": 0.5, "spam_content": 0.0,
               ir.items[4].name: 1.0}
    expected = (10 * 1 + 8 * 0.75 + 4 * 0.5 - 5) / (10 + 8 + 4)
    assert aggregate(ir, credits).reward == pytest.approx(expected)
    exported = export_text("autorubric", result.text)
    assert exported.notes.lines() == []
    assert same_rubrics(reimport("autorubric", exported.text, ir.name), result)


def test_autorubric_flat_json_notes_what_a_scale_cannot_hold() -> None:
    raw = json.loads((SAMPLES / "autorubric_flat.json").read_text(encoding="utf-8"))
    result = import_path("autorubric", SAMPLES / "autorubric_flat.json")
    ir = only(result)
    assert [it.weight for it in ir.items] == [float(c["weight"]) for c in raw]
    tone = ir.item("tone")
    by_value = sorted(raw[2]["options"], key=lambda o: o["value"])
    assert [lv.text for lv in tone.levels or ()] == [o["label"] for o in by_value]
    notes = "\n".join(result.notes)
    assert "aggregation" in notes and "nominal" in notes and "evenly spaced" in notes
    assert format_text(result.text) == result.text


def test_sample_imports_are_stable_and_json_round_trips_are_lossless() -> None:
    samples = {"rar_rows.jsonl": "rar", "openrubrics_museum.txt": "openrubrics",
               "prometheus_rows.jsonl": "prometheus", "autorubric_flat.json": "autorubric"}
    for file, fmt in samples.items():
        path = SAMPLES / file
        result = import_path(fmt, path)
        assert import_path(fmt, path).text == result.text
        exported = export_text("json", result.text)
        assert exported.notes.lines() == []
        back = import_data("json", exported.text)
        assert same_rubrics(back, result) and back.text == import_data("json", exported.text).text


# ---------------------------------------------------------------- PaperBench details (inline trees)


def test_paperbench_zero_weights_duplicate_ids_and_scores() -> None:
    def leaf(node_id: str, text: str, weight: float, score: float) -> dict[str, object]:
        return {"id": node_id, "requirements": text, "weight": weight, "sub_tasks": [], "score": score,
                "task_category": "Code Development"}

    tree = {"id": "root", "requirements": "The paper is reproduced.", "weight": 1, "score": 0.0, "sub_tasks": [
        {"id": "g1", "requirements": "Part one.", "weight": 3, "score": 0.0, "sub_tasks": [
            leaf("a", "Step A is done.", 2, 1.0), leaf("zero", "Step Z is done.", 0, 0.0),
            leaf("dup", "Step B is done.", 1, 0.0)]},
        {"id": "g0", "requirements": "An unweighted part.", "weight": 0, "score": 1.0, "sub_tasks": [
            leaf("dup", "Step B is done.", 1, 1.0)]},
        leaf("c", "Step C is done.", 1, 0.5)]}
    result = import_data("paperbench", json.dumps(tree), Origin("paper/rubric.json"))
    ir = only(result)
    assert ir.name == "root" and ir.title == "The paper is reproduced." and ir.scoring.normalize == "sum"
    assert [it.weight for it in ir.items] == [3.0, 0.0, 1.0]
    dup_2 = "step_b_done_" + hashlib.sha256(b"dup").hexdigest()[:6]  # an id used twice: slug + hash of the id
    assert [leaf.name for leaf in ir.leaves()] == ["a", "dup", dup_2, "c"]
    assert any("weight 0 left out" in note and note.endswith(": zero") for note in result.notes)
    # PaperBench's weighted mean: part one (2·1 + 1·0)/3 = 2/3, the zero-weight part counts for nothing
    credits = {"a": 1.0, "dup": 0.0, dup_2: 1.0, "c": 0.5}
    assert aggregate(ir, credits).reward == pytest.approx((3 * 2 / 3 + 0 * 1.0 + 1 * 0.5) / 4)
    exported = json.loads(export_text("paperbench", result.text).text)
    assert [n["id"] for n in exported["sub_tasks"][0]["sub_tasks"]] == ["a", "dup"]
    assert exported["sub_tasks"][1]["sub_tasks"][0]["id"] == "dup" and exported["sub_tasks"][1]["weight"] == 0
