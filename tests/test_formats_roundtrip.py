"""Export → import round trips over the repository's own rubrics, in every format.

`json` must be lossless for every rubric. For the other formats an export either reports notes (what it
could not carry) or, when it reports none, imports back to the same content hash (rubric names aside, which
several formats take from the file name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rubricdsl import api
from rubricdsl.formats import FORMAT_NAMES, FormatError, Origin, Source, export_sources, get_format, import_data
from rubricdsl.ir import RubricIR

ROOT = Path(__file__).resolve().parent.parent
REPO_RUBRICS = sorted(p for p in (ROOT / "rubrics").rglob("*.rubric"))


def compiled_rubrics() -> list[RubricIR]:
    out: list[RubricIR] = []
    for path in REPO_RUBRICS:
        out.extend(api.load(path).values())
    return out


def unnamed_hash(ir: RubricIR) -> str:
    title = "_" if ir.title == ir.name else ir.title
    return ir.model_copy(update={"name": "_", "title": title}).compute_hash()


@pytest.fixture(scope="module")
def rubrics() -> list[RubricIR]:
    found = compiled_rubrics()
    assert len(found) >= 5
    return found


def test_json_round_trip_is_lossless_for_every_rubric(rubrics: list[RubricIR]) -> None:
    for ir in rubrics:
        exported = export_sources("json", [Source(ir)])
        assert exported.notes.lines() == []
        again = import_data("json", exported.text)
        assert again.rubrics[ir.name].content_hash == ir.content_hash, ir.name
        assert again.notes == []


def test_json_import_of_several_rubrics_and_a_wrong_hash() -> None:
    irs = compiled_rubrics()[:3]
    exported = export_sources("json", [Source(ir) for ir in irs])
    assert [ir.content_hash for ir in import_data("json", exported.text).rubrics.values()] == [
        ir.content_hash for ir in irs]
    tampered = irs[0].to_json() | {"content_hash": "sha256:" + "0" * 64}
    import json

    result = import_data("json", json.dumps(tampered))
    assert any("content_hash" in note for note in result.notes)


@pytest.mark.parametrize("fmt", [f for f in FORMAT_NAMES if f != "json"])
def test_exports_either_note_their_losses_or_round_trip(fmt: str, rubrics: list[RubricIR]) -> None:
    lossless = 0
    for ir in rubrics:
        try:
            exported = export_sources(fmt, [Source(ir)], verify=False)
        except FormatError as exc:
            assert ir.name in str(exc)
            continue
        if exported.notes:
            assert all(ir.name in line for line in exported.notes.lines() if "round trip" not in line)
            continue
        lossless += 1
        again = import_data(fmt, exported.text, Origin(f"x{get_format(fmt).suffix}", ir.name))
        assert [unnamed_hash(x) for x in again.rubrics.values()] == [unnamed_hash(ir)], (fmt, ir.name)


def named(texts: list[str]) -> list[str]:
    from rubricdsl.formats.names import text_names

    return text_names(texts)


A, B = "Names Canberra as the capital of Australia.", "Claims that Sydney is the capital."
WRITTEN_FOR = {
    "rar": """rubric fits:
    prompt: What is the capital of Australia?
    reference: Canberra.

    essential canberra: Names Canberra.
    important 4 reason: Says it was chosen as a compromise between Sydney and Melbourne.
    optional 2 year: Gives 1913 as the year it was founded.
    pitfall -2 sydney: Claims that Sydney is the capital.
""",
    "healthbench": f"""rubric fits:
    prompt: What is the capital of Australia?
    tags: theme:geography
    scoring:
        normalize: healthbench

    criterion 5 {named([A, B])[0]}: {A}
    pitfall -3 {named([A, B])[1]}: {B}
""",
    "paperbench": """rubric fits:
    title: The paper has been reproduced.
    scoring:
        normalize: sum

    group 2 method: The method is implemented.
        # @paperbench {"task_category": "Code Development"}
        criterion 3 model: The model is implemented.
        # @paperbench {"task_category": "Code Execution"}
        criterion 1 training: Training has been run.
    group 0 extra: Optional extras.
        # @paperbench {"task_category": "Result Analysis"}
        criterion 1 plots: The plots are drawn.
""",
    "openrubrics": f"""rubric fits:
    hard {named([A, B])[0]}: {A}
    principle {named([A, B])[1]}: {B}
""",
    "prometheus": f"""rubric fits:
    prompt: What is the capital of Australia?
    reference: Canberra is the capital.

    scale {named(["Is the answer correct and complete?"])[0]}: Is the answer correct and complete?
        1: Wrong.
        2: Right city, wrong reasons.
        3: Right and explained.
""",
    "autorubric": """rubric fits:
    criterion 10 canberra: Names Canberra.
    pitfall -5 sydney: Claims that Sydney is the capital.
    scale 4 clarity: How clear is the answer?
        1: Unclear.
        2: Clear enough.
        3: Very clear.
        4: Perfectly clear.
""",
}


@pytest.mark.parametrize("fmt", sorted(WRITTEN_FOR))
def test_a_rubric_written_for_a_format_round_trips_through_it(fmt: str) -> None:
    from rubricdsl.formats import export_text

    original = api.loads(WRITTEN_FOR[fmt])
    exported = export_text(fmt, WRITTEN_FOR[fmt])
    assert exported.notes.lines() == []
    again = import_data(fmt, exported.text, Origin(f"x{get_format(fmt).suffix}", "fits"))
    assert again.rubrics["fits"].content_hash == original.content_hash


def test_a_field_the_format_has_no_place_for_is_named() -> None:
    from rubricdsl.formats import export_text

    text = WRITTEN_FOR["healthbench"].replace("    tags:", "    reference: Canberra.\n    tags:")
    assert export_text("healthbench", text).notes.lines() == ["`reference:` not carried: fits"]
