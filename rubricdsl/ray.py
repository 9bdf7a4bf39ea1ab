"""Grading a dataset on Ray: Ray Data reads the rows, a pool of actors grades them, the driver writes.

```python
import rubricdsl.ray

summary = rubricdsl.ray.grade_dataset(grader_or_factory, "rows.jsonl", "out.jsonl", actors=8, concurrency=16)
```

The input is read by Ray Data (so any path its readers take: a local file on a one-machine cluster, a
shared filesystem, `s3://...`), line by line with line numbers, and parsed by the local engine's own row
parser, so ids, prompts, chat rows and unreadable lines mean exactly what they mean locally. A first pass
collects the ids (a duplicate id stops the run before anything is graded, as locally); the second sends
the rows through `map_batches` over a pool of actors. Each actor holds the grader(s) (its own event loop in
a thread, so provider clients are created inside the actor and live as long as it does) and grades up to
`concurrency` rows at once; in total `actors × concurrency` rows are in flight, and that product is what
a provider's rate limit sees. Results stream back to the driver, which appends them to the output as the
local engine does (same lines, same lock, same repair), so a run resumes the same way: ids that already
have a result are skipped by the actors.

`ray` here is the `ray` package (absolute imports; this module is `rubricdsl.ray`).

This module is the driver; the input is read by `ray_read` and graded by the actors of `ray_actor`.
"""

from __future__ import annotations

import logging
import os
from typing import Any, cast

try:
    import pyarrow as pa
    import ray
    import ray.data
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the Ray engine needs Ray Data: pip install 'rubricdsl[ray]'") from exc

from .dataset import (
    DatasetSummary,
    GraderFactory,
    GraderPool,
    Plan,
    Progress,
    RunCounts,
    require_judges,
    summarize_run,
)
from .dataset_io import DatasetError, open_output, parse_result_line
from .judging.grader import Grader
from .judging.retry import JudgeConfigError
from .ray_actor import GradeActor
from .ray_read import JsonLines, block_ids
from .scoring import GradeResult

__all__ = ["grade_dataset"]

_FORWARDED = ("ANTHROPIC_", "OPENAI_", "RUBRICDSL_")


def _connect(address: str | None, init: dict[str, Any], verbose: bool) -> bool:
    """Join the Ray this process already uses, or `ray.init(address)`; True when we started or joined it here.

    `address` None follows Ray's own rule: `RAY_ADDRESS` when set, else a new local instance.
    """
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": verbose, **init}
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:  # no cluster there, or a version mismatch
        where = address or os.environ.get("RAY_ADDRESS") or "local"
        raise DatasetError(f"cannot start or reach Ray (address {where}): {exc}") from None
    return True


def _quiet() -> None:
    """No Ray Data progress bars or per-run INFO lines: the command prints its own progress and summary."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    if hasattr(context, "print_on_execution_start"):
        context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _judge_env() -> dict[str, str]:
    """The driver's judge settings (ANTHROPIC_*, OPENAI_*, RUBRICDSL_*) for the actors.

    Ray's worker processes keep the environment their node started with: without this, a key exported where
    the command runs would be missing in the actors of a running cluster (or of a Ray started earlier).
    """
    return {name: value for name, value in os.environ.items() if name.startswith(_FORWARDED)}


def _input_path(rows_path: str | os.PathLike[str]) -> str:
    """An absolute path for a local file (read tasks may run in another directory); URLs as given."""
    path = os.fspath(rows_path)
    if "://" in path:
        return path
    if not os.path.isfile(path):
        raise DatasetError(f"no such file: {path}")
    return os.path.abspath(path)


def _plan(lines: ray.data.Dataset, rows_path: str) -> dict[str, str | None]:
    """Id key → rubric name in input order, refusing a duplicate id as `dataset.plan_run` does."""
    found: list[tuple[int, str, str | None]] = []
    for block in lines.map_batches(block_ids, batch_format="pyarrow", batch_size=None).iter_batches(
        batch_format="pyarrow", batch_size=None
    ):
        batch = cast(pa.Table, block)
        found += zip(
            batch.column("line").to_pylist(),
            batch.column("key").to_pylist(),
            batch.column("rubric").to_pylist(),
            strict=True,
        )
    found.sort()
    rubric_of: dict[str, str | None] = {}
    first_line: dict[str, int] = {}
    for line, key, rubric in found:
        if key in first_line:
            raise DatasetError(f"{rows_path}:{line}: id {key} was already used on line {first_line[key]}")
        first_line[key], rubric_of[key] = line, rubric
    return rubric_of


def grade_dataset(
    source: Grader | GraderFactory,
    rows_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    address: str | None = None,
    actors: int = 2,
    concurrency: int = 16,
    batch_size: int | None = None,
    num_cpus: float = 0.5,
    progress: Progress | None = None,
    verbose: bool = True,
    ray_init: dict[str, Any] | None = None,
) -> DatasetSummary:
    """Grade the rows of `rows_path` missing from `out_path` on Ray; append their results; summarise.

    `source` is a Grader or a factory from a row's `rubric` to a Grader, as for the local engine; it is
    pickled into each actor. `actors` actors each grade `concurrency` rows at once, reserving `num_cpus`
    (grading waits on the network: half a CPU is plenty); each gets `batch_size` rows at a time (default
    4 × concurrency). Ray is joined as it is when this process already initialised it, else started or
    reached with `ray.init(address, **ray_init)` (None: `RAY_ADDRESS`, else a local instance) and shut down
    at the end. `verbose=False` silences Ray Data's progress bars and logs. Raises as the local engine does:
    DatasetError for unusable input, JudgeConfigError for a run that cannot be judged.
    """
    if actors < 1 or concurrency < 1:
        raise ValueError("actors and concurrency must be at least 1")
    _require_picklable(source)
    path = _input_path(rows_path)
    started = _connect(address, dict(ray_init or {}), verbose)
    try:
        if not verbose:
            _quiet()
        writer, repair = open_output(out_path)
        with writer:
            lines = ray.data.read_datasource(JsonLines(path))
            rubric_of = _plan(lines, os.fspath(rows_path))
            done = {key: result for key, (_, result) in repair.kept.items() if key in rubric_of}
            plan = Plan(rubric_of, done, repair)
            graders = GraderPool(source)
            pending = plan.pending
            require_judges(graders, {rubric_of[key] for key in pending})
            counts = RunCounts()
            new: dict[str, GradeResult] = {}
            if progress is not None:
                progress(0, len(pending))
            if pending:
                graded = _on_actors(lines, source, frozenset(done), actors, concurrency, batch_size, num_cpus)
                for batch in graded.iter_batches(batch_format="pyarrow", batch_size=None):
                    _record(cast(pa.Table, batch), writer, new, counts)
                    if progress is not None:
                        progress(len(new), len(pending))
        return summarize_run(plan, new, counts, graders)
    finally:
        if started:
            ray.shutdown()


def _require_picklable(source: Grader | GraderFactory) -> None:
    """Checked before anything else: Ray's own report of an unpicklable closure is long and comes after the
    planning pass."""
    try:
        ray.cloudpickle.dumps(source)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise TypeError(
            f"the grader (or grader factory) is sent to each Ray actor, so it must pickle: {exc}. "
            "Capture settings (URLs, keys), not live objects such as servers, clients or locks"
        ) from None


def _on_actors(
    lines: ray.data.Dataset,
    source: Grader | GraderFactory,
    done: frozenset[str],
    actors: int,
    concurrency: int,
    batch_size: int | None,
    num_cpus: float,
) -> ray.data.Dataset:
    """The rows graded by a pool of `GradeActor`s (lazy: the results stream as the driver iterates them)."""
    return lines.map_batches(
        GradeActor,
        fn_constructor_kwargs={
            "source": source,
            "done": done,
            "concurrency": concurrency,
            "env": _judge_env(),
        },
        compute=ray.data.ActorPoolStrategy(size=actors),
        batch_size=batch_size or 4 * concurrency,
        batch_format="pyarrow",
        num_cpus=num_cpus,
    )


def _record(batch: pa.Table, writer: Any, new: dict[str, GradeResult], counts: RunCounts) -> None:
    for key, line, fatal in zip(
        batch.column("key").to_pylist(),
        batch.column("line").to_pylist(),
        batch.column("fatal").to_pylist(),
        strict=True,
    ):
        if fatal is not None:
            raise JudgeConfigError(fatal)  # stops the run; the results written so far stay valid
        parsed = parse_result_line(line)
        if parsed is None:  # cannot happen for lines made by `result_line`; never write what cannot be read
            raise RuntimeError(f"an actor returned an unreadable result for id {key}")
        if key in new:
            continue  # a batch retried by Ray after an actor died: the first result stands
        writer.write(line)
        result = parsed[1]
        new[key] = result
        counts.rows += 1
        counts.judge_calls += result.judge_calls
        counts.usage = counts.usage + result.usage
