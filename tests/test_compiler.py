"""The compiled form: keys and defaults as LANGUAGE.md writes them, and a hash that tracks meaning."""

from __future__ import annotations

import hashlib
import json

import pytest

from rubricdsl import loads

ENERGY = """
rubric energy_conservation:
    prompt: A 2 kg ball is dropped from 10 m. Explain the energy at each stage.

    essential 5 energy_conserved: States that the total mechanical energy before the event equals the total after it.
    pitfall -1 friction_ignored: Does not mention that frictional or air-resistance losses are assumed negligible.
    hard word_limit: The response is at most 250 words.
        check: words <= 250
"""


def test_ir_keys_and_defaults_match_the_spec() -> None:
    ir = loads(ENERGY).to_json()
    expected_without_hash = {
        "schema_version": 1,
        "name": "energy_conservation",
        "title": "energy_conservation",
        "prompt": "A 2 kg ball is dropped from 10 m. Explain the energy at each stage.",
        "reference": None,
        "tags": [],
        "items": [
            {
                "name": "energy_conserved",
                "kind": "essential",
                "weight": 5.0,
                "text": "States that the total mechanical energy before the event equals the total after it.",
                "check": None,
            },
            {
                "name": "friction_ignored",
                "kind": "pitfall",
                "weight": -1.0,
                "text": "Does not mention that frictional or air-resistance losses are assumed negligible.",
                "check": None,
            },
            {
                "name": "word_limit",
                "kind": "hard",
                "weight": None,
                "text": "The response is at most 250 words.",
                "check": "words <= 250",
            },
        ],
        "scoring": {
            "method": "weighted",
            "normalize": "positive",
            "gate": "zero",
            "hard_fail": 0.0,
            "range": [0.0, 1.0],
            "on_error": "raise",
            "on_na": "skip",
        },
        "judge": {
            "model": None,
            "models": [],
            "combine": "mean",
            "samples": 1,
            "temperature": 0.0,
            "scale": "binary",
            "granularity": "response",
            "allow_na": False,
        },
    }
    content_hash = ir.pop("content_hash")
    assert ir == expected_without_hash
    canonical = json.dumps(expected_without_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_hash == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_scale_and_group_items_add_levels_and_items() -> None:
    ir = loads(
        "rubric r:\n    scale s: How?\n        2: b\n        1: a\n    group g: G.\n        criterion 2 c: C.\n"
    ).to_json()
    scale, group = ir["items"]
    assert scale["levels"] == [{"level": 1, "text": "a"}, {"level": 2, "text": "b"}] and "items" not in scale
    assert group["items"] == [{"name": "c", "kind": "criterion", "weight": 2.0, "text": "C.", "check": None}]
    assert "levels" not in group and group["weight"] == 1.0


REFORMATTED = '''# the same rubric, written differently
rubric energy_conservation:
  essential energy_conserved: States that the total mechanical energy before the event equals the total after it.
  pitfall friction_ignored: """
      Does not mention that frictional or air-resistance losses are assumed negligible.
      """
  # a comment does not change the meaning
  hard word_limit:   The response is at most 250 words.
     check: (words<=250)   # limit
  prompt: A 2 kg ball is dropped from 10 m. Explain the energy at each stage.
'''


def test_same_meaning_same_hash() -> None:
    assert loads(REFORMATTED).content_hash == loads(ENERGY).content_hash


@pytest.mark.parametrize(
    "old,new",
    [
        ("essential 5 energy_conserved", "essential 4 energy_conserved"),
        ("pitfall -1 friction_ignored", "pitfall -2 friction_ignored"),
        ("equals the total after it.", "equals the total after it"),
        ("words <= 250", "words < 250"),
        ("hard word_limit", "hard word_cap"),
        ("Explain the energy", "Explain  the energy"),
    ],
)
def test_any_change_of_meaning_changes_the_hash(old: str, new: str) -> None:
    assert old in ENERGY
    assert loads(ENERGY.replace(old, new)).content_hash != loads(ENERGY).content_hash


@pytest.mark.parametrize(
    "setting",
    [
        "scoring:\n        normalize: minmax",
        "judge:\n        samples: 2",
        "scoring:\n        range: 0..10",
        "tags: physics",
        "title: Energy",
        "reference: mgh",
    ],
)
def test_settings_and_fields_change_the_hash(setting: str) -> None:
    changed = ENERGY.replace("    prompt:", f"    {setting}\n    prompt:")
    assert loads(changed).content_hash != loads(ENERGY).content_hash


def test_canonical_check_spelling_in_ir() -> None:
    source = (
        'rubric r:\n    hard h: H.\n        check: ((not (json)))   or (words>3 and (contains "a\\"b" ignorecase))\n'
    )
    assert loads(source).items[0].check == 'not json or words > 3 and contains "a\\"b" ignorecase'


def test_weights_and_bounds_are_floats_in_the_ir() -> None:
    ir = loads(
        "rubric r:\n    scoring:\n        range: -1..1\n        hard_fail: -1\n    criterion 3 c: C.\n"
    ).to_json()
    assert ir["items"][0]["weight"] == 3.0 and isinstance(ir["items"][0]["weight"], float)
    assert ir["scoring"]["range"] == [-1.0, 1.0] and isinstance(ir["scoring"]["hard_fail"], float)
