"""Imports, `use` expansion, settings lending and auto names (LANGUAGE.md "Declarations", "`use NAME`")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rubricdsl import load, load_rubric, loads
from rubricdsl.diagnostics import RubricError


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def error_codes(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(RubricError) as info:
        load(path, **kwargs)  # type: ignore[arg-type]
    return [d.code for d in info.value.diagnostics]


STYLE = "principles style:\n    principle clarity: Clear.\n    principle 2 engagement: Engaging.\n"


def test_import_and_use_splice_items_in_place(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "common/style.rubric": STYLE,
            "m.rubric": 'import "common/style.rubric"\n\nrubric m:\n    hard a: A.\n    use style\n    hard b: B.\n',
        },
    )
    rubric = load_rubric(tmp_path / "m.rubric")
    assert [(i.name, i.weight) for i in rubric.items] == [
        ("a", None),
        ("clarity", 1.0),
        ("engagement", 2.0),
        ("b", None),
    ]


def test_imports_are_not_transitive(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.rubric": STYLE,
            "b.rubric": 'import "a.rubric"\n',
            "c.rubric": 'import "b.rubric"\n\nrubric c:\n    use style\n',
        },
    )
    assert error_codes(tmp_path / "c.rubric") == ["E201"]


def test_use_inside_an_imported_declaration_resolves_in_its_own_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.rubric": STYLE,
            "b.rubric": 'import "a.rubric"\n\nrubric base:\n    use style\n',
            "c.rubric": 'import "b.rubric"\n\nrubric c:\n    hard h: H.\n    use base\n',
        },
    )
    assert [i.name for i in load_rubric(tmp_path / "c.rubric").items] == ["h", "clarity", "engagement"]


def test_imports_may_not_leave_the_root(tmp_path: Path) -> None:
    write(tmp_path, {"outside.rubric": STYLE, "root/x.rubric": 'import "../outside.rubric"\n'})
    assert error_codes(tmp_path / "root" / "x.rubric") == ["E204"]
    write(tmp_path, {"root/abs.rubric": f'import "{tmp_path / "outside.rubric"}"\n'})
    assert error_codes(tmp_path / "root" / "abs.rubric") == ["E204"]
    # `..` that stays inside an explicit root is fine
    assert load(tmp_path / "root" / "x.rubric", root=tmp_path) == {}


def test_symlink_pointing_outside_the_root_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"outside.rubric": STYLE, "root/x.rubric": 'import "link.rubric"\n'})
    os.symlink(tmp_path / "outside.rubric", tmp_path / "root" / "link.rubric")
    assert error_codes(tmp_path / "root" / "x.rubric") == ["E204"]


def test_import_cycles_name_the_cycle(tmp_path: Path) -> None:
    write(tmp_path, {"a.rubric": 'import "b.rubric"\n', "b.rubric": 'import "a.rubric"\n'})
    with pytest.raises(RubricError) as info:
        load(tmp_path / "a.rubric")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E203" and "a.rubric → b.rubric → a.rubric" in diagnostic.message


def test_importing_the_same_file_twice_is_harmless(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"s.rubric": STYLE, "m.rubric": 'import "s.rubric"\nimport "./s.rubric"\n\nrubric m:\n    use style\n'},
    )
    assert len(load_rubric(tmp_path / "m.rubric").items) == 2


def test_two_visible_declarations_with_one_name(tmp_path: Path) -> None:
    write(tmp_path, {"s.rubric": STYLE, "m.rubric": 'import "s.rubric"\n\n' + STYLE})
    with pytest.raises(RubricError) as info:
        load(tmp_path / "m.rubric")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E202" and "s.rubric:1:12" in (diagnostic.hint or "")


def test_missing_import(tmp_path: Path) -> None:
    write(tmp_path, {"m.rubric": 'import "nope.rubric"\n'})
    assert error_codes(tmp_path / "m.rubric") == ["E205"]


def test_use_cycles_and_unknown_names() -> None:
    with pytest.raises(RubricError) as info:
        loads("rubric a:\n    hard h: H.\n    use b\n\nrubric b:\n    hard i: I.\n    use a\n", name="a")
    assert {d.code for d in info.value.diagnostics} == {"E206"}
    with pytest.raises(RubricError) as info:
        loads("rubric a:\n    hard h: H.\n    use nothere\n")
    assert info.value.diagnostics[0].hint == "visible names: `a`; import the file that declares it"


def test_use_collision_names_both_places() -> None:
    source = "principles p:\n    principle clarity: C.\n\nrubric r:\n    essential clarity: E.\n    use p\n"
    with pytest.raises(RubricError) as info:
        loads(source)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E207" and diagnostic.span.line == 2 and "<string>:5:15" in (diagnostic.hint or "")


def test_auto_names_count_per_kind_after_expansion_depth_first() -> None:
    source = (
        "principles p:\n    hard: P.\n\nrubric r:\n    hard a: A.\n    hard: B.\n    use p\n"
        "    group g: G.\n        hard: C.\n        criterion 2: D.\n    criterion 1: E.\n"
    )
    rubric = loads(source)
    assert [i.name for i in rubric.all_items()] == [
        "a",
        "hard_2",
        "hard_3",
        "g",
        "hard_4",
        "criterion_1",
        "criterion_2",
    ]


def test_used_rubrics_lend_settings_first_use_wins_transitively() -> None:
    source = (
        "rubric base:\n    scoring:\n        normalize: minmax\n        gate: cap\n    judge:\n        samples: 3\n"
        "    hard b: B.\n\n"
        "rubric mid:\n    scoring:\n        gate: none\n    use base\n\n"
        "rubric other:\n    scoring:\n        normalize: sum\n        on_na: zero\n    hard o: O.\n\n"
        "rubric top:\n    title: Top\n    scoring:\n        range: -1..1\n    use mid\n    use other\n"
    )
    top = loads(source, name="top")
    assert (top.scoring.normalize, top.scoring.gate, top.scoring.range, top.scoring.on_na) == (
        "minmax",
        "none",
        (-1.0, 1.0),
        "zero",
    )
    assert top.scoring.hard_fail == -1.0 and top.judge.samples == 3
    assert top.title == "Top" and loads(source, name="mid").title == "mid"


def test_principles_sets_take_no_fields_and_rubrics_need_items() -> None:
    with pytest.raises(RubricError) as info:
        loads("principles p:\n    title: T\n    principle a: A.\n\nrubric r:\n    title: Nothing\n", name="r")
    assert sorted(d.code for d in info.value.diagnostics) == ["E214", "E217"]


def test_several_rubrics_need_a_name() -> None:
    source = "rubric a:\n    hard h: H.\n\nrubric b:\n    hard h: H.\n"
    with pytest.raises(RubricError) as info:
        loads(source)
    assert info.value.diagnostics[0].code == "E224" and "`a`, `b`" in (info.value.diagnostics[0].hint or "")
    assert loads(source, name="b").name == "b"
    with pytest.raises(RubricError):
        loads(source, name="c")


def test_file_size_and_item_count_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.rubric"
    big.write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    assert error_codes(big) == ["E001"]
    many = "rubric r:\n" + "".join(f"    hard h{i}: H.\n" for i in range(10_001))
    with pytest.raises(RubricError) as info:
        loads(many)
    assert [d.code for d in info.value.diagnostics] == ["E223"]


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.rubric"
    path.write_bytes("rubric r:\n    hard h: caf\xe9\n".encode("latin-1"))
    assert error_codes(path) == ["E002"]
