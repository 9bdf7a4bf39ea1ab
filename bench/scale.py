"""Benchmark: the same dataset graded by the local engine and by the Ray engine, in responses per second.

The judge is the fake Anthropic server of `rubricdsl.testing`, in its own process, answering every request
after a fixed latency (default 100 ms). The dataset is N responses (default 10,000) to the physics rubric,
with varying oracle markers. The local engine grades it in this process at concurrency C (default 32);
the Ray engine with A actors (default 2) on a local Ray, each at concurrency C, so A × C requests are in
flight (the figure a provider's rate limit would see). Both write their JSONL output; the rewards are
compared row by row, and the judge cache is off, so every response costs one judge call in both runs.

A judge answering in L seconds allows at most C / L responses a second per process: the printed ceiling.
Short of it, the client's CPU is the bound (instructor, pydantic, the SDK: a few ms per call on one core),
and that is what more processes buy. The Ray figure includes its planning pass and starting the actors
(`ray.init` itself is timed apart); both share this machine's cores with the judge server.

    python bench/scale.py [--responses 10000] [--concurrency 32] [--actors 2] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

import rubricdsl
import rubricdsl.ray
from rubricdsl.dataset import DatasetSummary, agrade_dataset
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader
from rubricdsl.testing.judge_server import spawn as spawn_judge_server

RUBRIC = Path(__file__).resolve().parent.parent / "rubrics" / "physics.rubric"
MODEL = "anthropic/claude-bench"
MARKERS = ["[energy_conserved]", "[numeric_breakdown]", "[pendulum_example]", "[friction_ignored]"]


def write_dataset(path: Path, count: int) -> None:
    """Distinct responses of a realistic length (about 60 words), with varying oracle markers."""
    body = ("The ball starts with potential energy mgh = 2 × 9.8 × 10 = 196 J and no kinetic energy. As it "
            "falls, potential energy turns into kinetic energy; halfway down each is 98 J. Just before impact "
            "the kinetic energy is 196 J, so the total mechanical energy stays 196 J throughout.")
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            markers = " ".join(m for k, m in enumerate(MARKERS) if (n >> k) & 1)
            handle.write(json.dumps({"id": n, "response": f"Response {n}: {body} {markers}"}) + "\n")


class Factory:
    """The grader factory both engines get; a plain picklable object, as Ray sends it to every actor."""

    def __init__(self, rubric: RubricIR, url: str, concurrency: int) -> None:
        self.rubric, self.url, self.concurrency = rubric, url, concurrency
        self.made: list[Grader] = []

    def __call__(self, name: str | None) -> Grader:
        self.made.append(Grader(self.rubric, judge=MODEL, api_key="test", base_url=self.url, cache=False,
                                concurrency=self.concurrency))
        return self.made[-1]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "made": []}


def grade_locally(factory: Factory, rows: Path, out: Path, concurrency: int) -> DatasetSummary:
    """The local engine, closing its judges' clients on the loop that made them."""

    async def run() -> DatasetSummary:
        try:
            return await agrade_dataset(factory, rows, out, concurrency=concurrency)
        finally:
            for grader in factory.made:
                await grader.aclose()
            factory.made.clear()

    return asyncio.run(run())


def rewards(path: Path) -> dict[int, float | None]:
    return {row["id"]: row["reward"] for row in map(json.loads, path.read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32, help="rows in flight per process (per actor)")
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.1, help="the judge's fixed latency, seconds")
    args = parser.parse_args()
    rubric = rubricdsl.load_rubric(RUBRIC)
    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "rows.jsonl"
        write_dataset(rows, args.responses)
        process, url = spawn_judge_server(args.latency)
        try:
            factory = Factory(rubric, url, args.concurrency)
            grade_locally(factory, _warm_up(rows, tmp), Path(tmp) / "warm.jsonl", args.concurrency)

            started = time.perf_counter()
            local = grade_locally(factory, rows, Path(tmp) / "local.jsonl", args.concurrency)
            local_seconds = time.perf_counter() - started

            started = time.perf_counter()
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
            init_seconds = time.perf_counter() - started
            try:
                started = time.perf_counter()
                on_ray = rubricdsl.ray.grade_dataset(factory, rows, Path(tmp) / "ray.jsonl", actors=args.actors,
                                                     concurrency=args.concurrency, verbose=False)
                ray_seconds = time.perf_counter() - started
            finally:
                ray.shutdown()
            same = rewards(Path(tmp) / "local.jsonl") == rewards(Path(tmp) / "ray.jsonl")
        finally:
            process.terminate()
            process.wait(timeout=10)

    n, latency = args.responses, args.latency
    local_rate, ray_rate = n / local_seconds, n / ray_seconds
    print(f"{n} responses, judge latency {1000 * latency:.0f} ms, concurrency {args.concurrency} per process; "
          f"one judge call per response (cache off); failed: local {local.failed}, ray {on_ray.failed}")
    print(f"  local engine: {local_seconds:6.1f} s  {local_rate:7.1f} responses/s  "
          f"(ceiling C / L = {args.concurrency / latency:.0f}/s)")
    print(f"  ray engine:   {ray_seconds:6.1f} s  {ray_rate:7.1f} responses/s  ({args.actors} actors, "
          f"{args.actors * args.concurrency} in flight, ceiling {args.actors * args.concurrency / latency:.0f}/s; "
          f"ray.init {init_seconds:.1f} s not included)")
    print(f"  ratio ray / local: {ray_rate / local_rate:.2f}")
    print(f"  rewards identical row for row: {same}")


def _warm_up(rows: Path, tmp: str) -> Path:
    """The first rows again, under other ids: imports, schemas and the connection pool before the clock runs."""
    warm = Path(tmp) / "warm-rows.jsonl"
    lines = rows.read_text().splitlines()[:64]
    warm.write_text("".join(json.dumps({**json.loads(line), "id": f"w{i}"}) + "\n" for i, line in enumerate(lines)))
    return warm


if __name__ == "__main__":
    main()
