"""The compiled-IR cache: an unchanged source is read from its entry, a changed one (or import) is compiled again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import rubricdsl
from rubricdsl import ir_cache
from rubricdsl.cli import main
from rubricdsl.diagnostics import RubricError

SHARED = "principles style:\n    principle clear: Is clear.\n"
USER = 'import "style.rubric"\n\nrubric answer:\n    essential right: States the law.\n    use style\n'


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("RUBRICDSL_CACHE_DIR", str(directory))
    monkeypatch.delenv(ir_cache.ENV_SWITCH, raising=False)
    return directory / "ir"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "style.rubric").write_text(SHARED, encoding="utf-8")
    user = tmp_path / "answer.rubric"
    user.write_text(USER, encoding="utf-8")
    return user


def entry_of(path: Path) -> Path:
    resolved = path.resolve()
    return ir_cache.cache_directory() / f"{ir_cache.source_id(str(resolved), resolved.parent)}.json"  # type: ignore[operator]


def test_a_loaded_file_is_read_back_from_its_entry(cache_dir: Path, files: Path) -> None:
    first = rubricdsl.load_rubric(files)
    entry = entry_of(files)
    assert entry.is_file()
    # Change the stored title: if the second load parsed the file, it would not see this.
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["rubrics"]["answer"]["title"] = "from the cache"
    entry.write_text(json.dumps(data), encoding="utf-8")
    second = rubricdsl.load_rubric(files)
    assert second.title == "from the cache"
    assert second.content_hash == first.content_hash  # the stored hash travels with the IR


def test_a_changed_import_invalidates_the_importer(cache_dir: Path, files: Path) -> None:
    before = rubricdsl.load_rubric(files)
    (files.parent / "style.rubric").write_text(SHARED.replace("Is clear.", "Is crisp."), encoding="utf-8")
    after = rubricdsl.load_rubric(files)
    assert [i.text for i in after.leaves()] == ["States the law.", "Is crisp."]
    assert after.content_hash != before.content_hash


def test_a_changed_file_is_compiled_again(cache_dir: Path, files: Path) -> None:
    rubricdsl.load_rubric(files)
    files.write_text(USER.replace("States the law.", "States Ohm's law."), encoding="utf-8")
    assert rubricdsl.load_rubric(files).leaves()[0].text == "States Ohm's law."


def test_a_corrupt_entry_is_ignored_and_rewritten(cache_dir: Path, files: Path) -> None:
    expected = rubricdsl.load_rubric(files)
    entry = entry_of(files)
    entry.write_bytes(b'{"format": 1, "key": "trunc')
    assert rubricdsl.load_rubric(files) == expected
    assert json.loads(entry.read_text(encoding="utf-8"))["rubrics"]["answer"]["content_hash"] == expected.content_hash


def test_an_entry_from_other_compiler_code_is_not_used(cache_dir: Path, files: Path) -> None:
    rubricdsl.load_rubric(files)
    entry = entry_of(files)
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["key"] = "another version"
    data["rubrics"]["answer"]["title"] = "stale"
    entry.write_text(json.dumps(data), encoding="utf-8")
    assert rubricdsl.load_rubric(files).title != "stale"


def test_errors_are_never_cached(cache_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rubric"
    bad.write_text("rubric r:\n    essential a: A.\n    use nowhere\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RubricError):
            rubricdsl.load(bad)
    assert not entry_of(bad).exists()


def test_strings_are_cached_by_their_text(cache_dir: Path, tmp_path: Path) -> None:
    text = "rubric r:\n    essential a: States A.\n"
    first = rubricdsl.loads(text, root=tmp_path)
    assert len(list(cache_dir.glob("*.json"))) == 1
    assert rubricdsl.loads(text, root=tmp_path) == first
    assert rubricdsl.loads(text.replace("A.", "B."), root=tmp_path).leaves()[0].text == "States B."
    assert len(list(cache_dir.glob("*.json"))) == 2


def test_the_switch_turns_it_off(cache_dir: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ir_cache.ENV_SWITCH, "0")
    rubricdsl.load_rubric(files)
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_no_ir_cache_flag_of_the_command(cache_dir: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ir_cache.ENV_SWITCH, "1")  # restored after the test: the flag sets it for the process
    result = CliRunner().invoke(main, ["--no-ir-cache", "compile", str(files)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "answer"
    assert not cache_dir.exists() or not list(cache_dir.iterdir())
    monkeypatch.setenv(ir_cache.ENV_SWITCH, "1")
    cached = CliRunner().invoke(main, ["compile", str(files)])
    assert cached.exit_code == 0 and entry_of(files).is_file()
    again = CliRunner().invoke(main, ["compile", str(files)])
    assert again.output == cached.output == result.output  # the same IR, whether compiled or read back


def test_an_unwritable_cache_directory_only_costs_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             files: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("RUBRICDSL_CACHE_DIR", str(blocker))  # `ir/` cannot be made below a file
    assert rubricdsl.load_rubric(files).name == "answer"


LOAD_MANY = """
import sys
import rubricdsl
hashes = {rubricdsl.load_rubric(sys.argv[1]).content_hash for _ in range(40)}
print(hashes.pop())
"""


def test_two_processes_loading_at_once_both_succeed(cache_dir: Path, files: Path) -> None:
    env = {**os.environ, "RUBRICDSL_CACHE_DIR": str(cache_dir.parent)}
    runs = [subprocess.Popen([sys.executable, "-c", LOAD_MANY, str(files)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    expected = rubricdsl.load_rubric(files).content_hash
    assert [out.strip() for out, _ in outputs] == [expected, expected]
    assert not list(cache_dir.glob("*.tmp"))  # every temporary file was renamed into place
