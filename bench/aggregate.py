"""Benchmark: `aggregate_many` on 10^6 responses × 20 leaf items, next to a plain weighted sum.

The rubric has 20 leaf items: 2 hard rules, 3 pitfalls and 15 positive items (default scoring: weighted,
positive, zero gate). Credits are random in [0, 1] (seeded). The baseline is `credits @ w`, the least any
weighted rubric reward can cost, on the same matrix in the same run. Each timing is the best of --repeat
runs after one warm-up.

    python bench/aggregate.py [--rows 1000000] [--repeat 5] [--nan 0.0] [--tree]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from rubricdsl.ir import ItemIR, RubricIR, ScoringIR
from rubricdsl.scoring import aggregate_many

POSITIVE = [("essential", 5.0)] * 3 + [("important", 3.0)] * 5 + [("optional", 1.0)] * 4
POSITIVE += [("criterion", 2.0)] * 3


def _leaves() -> list[ItemIR]:
    leaves = [ItemIR(name=f"hard_{k}", kind="hard", weight=None, text="t") for k in range(2)]
    leaves += [ItemIR(name=f"pitfall_{k}", kind="pitfall", weight=-1.0 - k, text="t") for k in range(3)]
    for k, (kind, w) in enumerate(POSITIVE):
        leaves.append(ItemIR(name=f"{kind}_{k}", kind=kind, weight=w, text="t"))  # type: ignore[arg-type]
    return leaves


def build_rubric(tree: bool) -> RubricIR:
    """20 leaves; with `tree`, the positive items sit in two nested groups (same leaves, same order)."""
    leaves = _leaves()
    if not tree:
        return RubricIR(name="bench", title="bench", items=tuple(leaves), scoring=ScoringIR())
    inner = ItemIR(name="inner", kind="group", weight=1.0, text="t", items=tuple(leaves[10:]))
    outer = ItemIR(name="outer", kind="group", weight=3.0, text="t", items=(*leaves[5:10], inner))
    return RubricIR(name="bench", title="bench", items=(*leaves[:5], outer), scoring=ScoringIR())


def best_of(repeat: int, run: Callable[[], object]) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nan", type=float, default=0.0, help="share of undecided (NaN) cells")
    parser.add_argument("--tree", action="store_true", help="put the positive items in nested groups")
    args = parser.parse_args()

    rubric = build_rubric(args.tree)
    leaves = rubric.leaves()
    rng = np.random.default_rng(0)
    credits = rng.random((args.rows, len(leaves)))
    if args.nan:
        credits[rng.random(credits.shape) < args.nan] = np.nan
    weights = np.array([leaf.weight or 0.0 for leaf in leaves])

    rewards = aggregate_many(rubric, credits)
    ours = best_of(args.repeat, lambda: aggregate_many(rubric, credits))
    plain = best_of(args.repeat, lambda: credits @ weights)
    print(f"matrix: {args.rows:,} responses × {len(leaves)} leaf items ({'tree' if args.tree else 'flat'})")
    print(f"aggregate_many:      {ours * 1e3:8.1f} ms  ({args.rows / ours / 1e6:.1f} M rows/s)")
    print(f"credits @ w (numpy): {plain * 1e3:8.1f} ms  ({args.rows / plain / 1e6:.1f} M rows/s)")
    print(f"ratio:               {ours / plain:8.1f} ×")
    gate = np.mean((credits[:, :2] >= 0.5).all(axis=1))  # the two hard rules are the first columns
    print(f"mean reward {np.nanmean(rewards):.4f}, gate pass rate {gate:.4f}, failed rows {np.isnan(rewards).sum()}")


if __name__ == "__main__":
    main()
