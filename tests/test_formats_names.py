"""Names derived from titles and texts, text normalisation, and annotations: the pieces every importer uses."""

from __future__ import annotations

from pathlib import PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rubricdsl.formats import FormatError, Origin, import_data
from rubricdsl.formats.base import Notes
from rubricdsl.formats.build import annotation_comments, clean_text, read_annotation, text_node
from rubricdsl.formats.names import (
    NameAllocator,
    is_free,
    is_valid,
    name_from_path,
    slug,
    text_names,
    title_names,
)
from rubricdsl.syntax import KEYWORDS


def test_slugs_fold_case_accents_and_punctuation() -> None:
    assert slug("Correct Answer") == "correct_answer"
    assert slug("Élan & naïveté — the user's café!") == "elan_naivete_the_users_cafe"
    assert slug("The response names the capital", drop_filler=True) == "names_capital"
    assert slug("the a of", drop_filler=True) == "the_a_of"  # all filler: keep the words
    assert slug("one two three four", limit=9) == "one_two"
    assert slug("supercalifragilistic", limit=5) == "super"
    assert slug("!!!") == ""


def test_allocated_names_are_free_of_keywords_auto_names_and_digits() -> None:
    allocator = NameAllocator()
    assert allocator.claim("scale") == "scale_item"
    assert allocator.claim("hard_2") == "hard_2_item"
    assert allocator.claim("3_months") == "n_3_months"
    assert allocator.claim("") == "item"
    assert allocator.claim("x") == "x" and allocator.claim("x") == "x_2" and allocator.claim("x") == "x_3"
    assert allocator.claim_exact("x") is None and allocator.claim_exact("fresh") == "fresh"
    assert allocator.claim_exact("criterion_4") is None and allocator.claim_exact("Bad-Name") is None


def test_text_and_title_names_are_unique_and_stable() -> None:
    texts = ["States the dose.", "States the dose.", "Does not state the dose.", "", "Check"]
    names = text_names(texts)
    assert names == ["states_dose", "states_dose_2", "does_not_state_dose", "item", "check_item"]
    assert text_names(texts) == names
    assert title_names(["Correct Answer", "correct answer", "The Answer"]) == [
        "correct_answer", "correct_answer_2", "the_answer"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=12))
def test_derived_names_are_always_valid_and_unique(texts: list[str]) -> None:
    for names in (text_names(texts), title_names(texts)):
        assert len(set(names)) == len(names)
        assert all(is_free(name) and len(name) <= 64 and name not in KEYWORDS for name in names)


def test_rubric_names_come_from_the_path() -> None:
    assert name_from_path(PurePath("data/RaR-Medicine train.jsonl")) == "rar_medicine_train"
    assert name_from_path(PurePath("papers/lora-paper/rubric.json")) == "lora_paper"
    assert name_from_path(PurePath("judge_eval/pinn/0/grading/expected_result.json")) == "pinn"
    assert name_from_path(PurePath("2024.json")) == "imported"
    assert is_valid(name_from_path(PurePath("a" * 100 + ".json")))
    assert Origin("x/rows.jsonl").rubric_name(2, 3) == "rows_2" and Origin("y.json", "mine").rubric_name(1, 1) == "mine"


def test_texts_are_normalised_only_as_far_as_the_language_needs() -> None:
    assert clean_text("  \n\n Line one  \r\n\t\n    indented\ttab  \r\n \n") == "Line one  \n\n    indented\ttab"
    assert clean_text("[Tag] exact #1: \"quoted\" text") == "[Tag] exact #1: \"quoted\" text"
    assert clean_text(" \t\n ") == ""
    notes = Notes()
    node = text_node("a\nb ", "r.x", notes)
    assert node.value == "a\nb" and node.block and notes.lines() == [
        "texts trimmed of surrounding blank space (or with `\\r` line ends made `\\n`): r.x"]
    with pytest.raises(FormatError, match='only """'):
        text_node('first\n"""\nlast', "r.x")
    with pytest.raises(FormatError, match="empty text"):
        text_node("   ", "r.x")


def test_annotations_round_trip_through_comments() -> None:
    data = {"id": "7f3e-…", "tags": ["axis:accuracy", "level:example"], "n": None}
    comments = annotation_comments("healthbench", data)
    assert comments[0].startswith("# @healthbench {")
    assert read_annotation(comments, "healthbench") == data
    assert read_annotation(comments, "paperbench") == {}
    assert read_annotation(("# @healthbench not json",), "healthbench") == {}


def test_imported_texts_keep_tricky_characters_exactly() -> None:
    criterion = "[Emergency] Says \"call 911\" — #1 priority:\n  - within 5 min\n\tthen: reassess"
    row = {"prompt": [{"role": "user", "content": "Help"}],
           "rubrics": [{"criterion": criterion, "points": 7, "tags": []}], "example_tags": []}
    import json

    result = import_data("healthbench", json.dumps(row), Origin("x.jsonl"))
    (ir,) = result.rubrics.values()
    assert ir.items[0].text == criterion and result.notes == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=80) | st.sampled_from([" ", '"""', "a\n \"\"\" \nb"]), min_size=1,
                max_size=4), st.text(max_size=60))
def test_any_text_imports_exactly_as_normalised_or_is_refused(criteria: list[str], prompt: str) -> None:
    import json

    row = {"prompt": [{"role": "user", "content": prompt}], "example_tags": [],
           "rubrics": [{"criterion": text, "points": 1 + i, "tags": []} for i, text in enumerate(criteria)]}
    try:
        result = import_data("healthbench", json.dumps(row), Origin("x.jsonl"))
    except FormatError as exc:
        assert '"""' in str(exc) or "nothing the language can hold" in str(exc)
        return
    (ir,) = result.rubrics.values()
    kept = [clean_text(text) for text in criteria if clean_text(text)]
    assert [it.text for it in ir.items] == kept
    assert ir.prompt == (clean_text(prompt) or None)
