"""Shared test fixtures: golden files with an update flag, and the path to the real data in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CORPUS = Path(__file__).resolve().parent / "data"  # real published data, see tests/data/SOURCES.md


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files (review the diff!)")


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with a golden file; `pytest --update-goldens` rewrites it for review in git diff."""
    update = request.config.getoption("--update-goldens")

    def check(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"missing golden {path}: run pytest --update-goldens and review it"
        assert actual == path.read_text(encoding="utf-8"), f"{relative} differs from its golden file"

    return check


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the test data is missing at {CORPUS}")
    return CORPUS
