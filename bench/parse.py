"""Benchmark: load N ten-item rubrics from files, cold (parse + compile) and warm (the compiled-IR cache),
next to `json.loads` of their IR.

    python bench/parse.py [N]

The rubrics are written to files of at most 1,000 rubrics (about 0.8 MB each; the language allows 5 MB) in
a temporary directory, with the IR cache in another. All three are measured in the same run on the same
machine and printed as ratios, so the figures travel between machines: how many times slower than reading
the compiled JSON is reading the source, and reading it back from the cache.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rubricdsl.api import load, loads_all

PER_FILE = 1_000

KINDS = [
    "essential",
    "important",
    "optional",
    "pitfall",
    "principle",
    "criterion 4",
    "hard",
    "essential 3",
    "optional",
    "hard",
]


def make_source(count: int) -> str:
    blocks = []
    for r in range(count):
        lines = [
            f"rubric r{r}:",
            f"    title: Rubric number {r}",
            "    prompt: Explain what happens to the energy.",
            "",
        ]
        for i, kind in enumerate(KINDS):
            lines.append(f"    {kind} item_{i}: The response states fact number {i} about rubric {r}.")
            if kind == "hard" and i == 6:
                lines.append('        check: words <= 250 and not contains "As an AI"')
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def write_files(count: int, directory: Path) -> list[Path]:
    paths = []
    for start in range(0, count, PER_FILE):
        path = directory / f"part{start // PER_FILE:03d}.rubric"
        text = make_source(min(PER_FILE, count - start)).replace("rubric r", f"rubric p{start // PER_FILE}_r")
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RUBRICDSL_CACHE_DIR"] = str(Path(tmp) / "cache")
        paths = write_files(count, Path(tmp))
        size = sum(p.stat().st_size for p in paths)
        print(f"{count} rubrics in {len(paths)} files, {size / 1e6:.1f} MB")
        loads_all(make_source(2))  # build (or load) the parser tables outside the timing
        gc.collect()
        compiled: dict = {}

        def load_all() -> None:
            for path in paths:
                compiled.update(load(path))

        os.environ["RUBRICDSL_IR_CACHE"] = "0"
        t_cold = best_of(1 if count >= 5000 else 3, load_all)
        os.environ["RUBRICDSL_IR_CACHE"] = "1"
        load_all()  # fills the cache
        t_warm = best_of(3, load_all)
    ir_json = json.dumps([ir.to_json() for ir in compiled.values()])
    t_json = best_of(3, lambda: json.loads(ir_json))
    print(f"cold, parse + compile: {t_cold:8.3f} s  ({t_cold / count * 1e6:7.1f} µs per rubric)")
    print(f"warm, IR cache:        {t_warm:8.3f} s  ({t_warm / count * 1e6:7.1f} µs per rubric)")
    print(f"json.loads IR:         {t_json:8.3f} s  ({t_json / count * 1e6:7.1f} µs per rubric)")
    print(f"ratio cold / json.loads: {t_cold / t_json:.1f}x; warm / json.loads: {t_warm / t_json:.1f}x; "
          f"cold / warm: {t_cold / t_warm:.1f}x")


if __name__ == "__main__":
    main()
