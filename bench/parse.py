"""Benchmark: parse + compile N ten-item rubrics from one file, next to `json.loads` of their IR.

    python bench/parse.py [N]

Both are measured in the same run on the same machine and printed as a ratio, so the figure travels
between machines: how many times slower than reading the compiled JSON is reading the source.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from rubricdsl.api import loads_all

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


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    source = make_source(count)
    print(f"{count} rubrics, {source.count(chr(10))} lines, {len(source) / 1e6:.1f} MB")
    loads_all(make_source(2))  # build (or load) the parser tables outside the timing
    gc.collect()
    compiled: dict = {}

    def parse_and_compile() -> None:
        compiled.update(loads_all(source))

    runs = 1 if count >= 5000 else 3
    t_parse = best_of(runs, parse_and_compile)
    ir_json = json.dumps([ir.to_json() for ir in compiled.values()])
    t_json = best_of(3, lambda: json.loads(ir_json))
    print(f"parse + compile: {t_parse:8.3f} s  ({t_parse / count * 1e6:7.1f} µs per rubric)")
    print(f"json.loads IR:   {t_json:8.3f} s  ({t_json / count * 1e6:7.1f} µs per rubric)")
    print(f"ratio (parse+compile / json.loads): {t_parse / t_json:.1f}x")


if __name__ == "__main__":
    main()
