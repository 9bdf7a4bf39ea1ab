"""Configuration from `[tool.rubricdsl]` in the nearest `pyproject.toml` (pydantic at this boundary).

```toml
[tool.rubricdsl]
root = "rubrics"            # import root, relative to the pyproject.toml
judge = "anthropic/claude-sonnet-4-5"

[tool.rubricdsl.lint]
select = ["W"]              # code prefixes to report (default: all)
ignore = ["W112"]
min-items = 3
max-items = 20
max-words = 60
```
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class LintConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    min_items: int = Field(default=3, alias="min-items", ge=0)
    max_items: int = Field(default=20, alias="max-items", ge=1)
    max_words: int = Field(default=60, alias="max-words", ge=1)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    root: str | None = None
    judge: str | None = None
    cache: str | None = None
    concurrency: int | None = Field(default=None, ge=1)
    lint: LintConfig = Field(default_factory=LintConfig)
    # Where the configuration was read from (for resolving `root`); not a setting.
    source: str | None = Field(default=None, exclude=True)


class ConfigError(ValueError):
    """A malformed `[tool.rubricdsl]` table; the message names the file and the key."""


def find_pyproject(start: Path) -> Path | None:
    here = start.resolve()
    for directory in (here, *here.parents) if here.is_dir() else (here.parent, *here.parent.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    pyproject = find_pyproject(start or Path.cwd())
    if pyproject is None:
        return Config()
    try:
        data: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("rubricdsl", {})
    try:
        config = Config.model_validate({**table, "source": str(pyproject)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{pyproject}: [tool.rubricdsl] {where}: {first['msg']}") from None
    return config


def configured_root(config: Config) -> Path | None:
    if config.root is None or config.source is None:
        return None
    return (Path(config.source).parent / config.root).resolve()
