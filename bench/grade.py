"""Benchmark: grading throughput against a judge with a fixed latency, and how much of a request is cached.

The judge is the fake Anthropic server of `rubricdsl.testing`, answering every request after a fixed
latency (default 100 ms). It runs in its own process, as a real judge runs on another machine: in this
process it would take the GIL from the client being measured. The rubric is rubrics/physics.rubric.

Throughput: N responses (default 400) graded with `Grader.grade_many` at concurrency C (default 32). A
judge that answers in L seconds allows at most C / L calls a second; the figure printed is the achieved
rate as a share of that (goal ≥ 0.8), with the client's CPU time per call, which bounds the rate when the
share falls short (at most 1 / cpu-per-call calls a second on one core). For calibration, the same request
bodies are then sent with the bare anthropic SDK (no instructor, no grader) at the same concurrency.

Prompt cache: a group of G responses (default 16) to one prompt, as in GRPO, is graded against an
in-process server that records every request body. For each request, the bytes of the tools and system
blocks (the prefix marked with `cache_control`) are compared with the bytes of the user message other
than the response itself (goal: the prefix holds ≥ 0.95 of the non-response bytes), and the server's
simulated cache accounting shows how many requests read the prefix instead of paying for it.

    python bench/grade.py [--responses 400] [--concurrency 32] [--latency 0.1] [--group 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import rubricdsl
from rubricdsl.ir import RubricIR
from rubricdsl.judging import Grader, build_requests
from rubricdsl.testing import JudgeServer
from rubricdsl.testing.judge_server import spawn as spawn_judge_server

RUBRIC = Path(__file__).resolve().parent.parent / "rubrics" / "physics.rubric"
MODEL = "anthropic/claude-bench"
MARKERS = ["[energy_conserved]", "[numeric_breakdown]", "[pendulum_example]", "[friction_ignored]"]


def responses(count: int, tag: str) -> list[str]:
    """Distinct responses of a realistic length (about 120 words), with varying oracle markers."""
    body = ("The ball starts with potential energy mgh = 2 × 9.8 × 10 = 196 J and no kinetic energy. As it "
            "falls, potential energy turns into kinetic energy; halfway down each is 98 J. Just before impact "
            "the kinetic energy is 196 J, so the total mechanical energy stays 196 J throughout. ") * 2
    return [f"{tag} {n}: {body}{' '.join(m for k, m in enumerate(MARKERS) if (n >> k) & 1)}" for n in range(count)]


def throughput(rubric: RubricIR, count: int, concurrency: int, latency: float) -> dict[str, float]:
    process, url = spawn_judge_server(latency)
    try:
        grader = Grader(rubric, judge=MODEL, api_key="test", base_url=url, concurrency=concurrency)
        grader.grade_many(responses(concurrency, "warm-up"))  # imports, schemas, a full connection pool
        wall, cpu = time.perf_counter(), time.process_time()
        results = grader.grade_many(responses(count, "response"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        process.terminate()
        process.wait(timeout=10)
    failed = sum(r.reward is None for r in results)
    calls = sum(r.judge_calls for r in results)
    ceiling = concurrency / latency
    return {"responses": count, "failed": failed, "calls": calls, "seconds": wall, "calls_per_second": calls / wall,
            "ceiling": ceiling, "share": calls / wall / ceiling, "cpu_ms_per_call": 1000 * cpu / calls,
            "calls_per_response": calls / count}


def sdk_alone(rubric: RubricIR, count: int, concurrency: int, latency: float) -> dict[str, float]:
    """Calibration: the same request bodies sent with the bare anthropic SDK (no instructor, no grader)."""
    import anthropic

    process, url = spawn_judge_server(latency)
    model = MODEL.split("/", 1)[1]
    bodies = [build_requests(rubric, text)[0].anthropic_body(model) for text in responses(count, "response")]

    async def run() -> tuple[float, float]:
        client = anthropic.AsyncAnthropic(api_key="test", base_url=url, max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def send(body: dict[str, Any]) -> None:
            async with gate:
                await client.messages.create(**body)

        await asyncio.gather(*(send(body) for body in bodies[:concurrency]))  # warm-up: the connection pool
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(send(body) for body in bodies))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await client.close()
        return wall, cpu

    try:
        wall, cpu = asyncio.run(run())
    finally:
        process.terminate()
        process.wait(timeout=10)
    return {"share": count / wall / (concurrency / latency), "cpu_ms_per_call": 1000 * cpu / count}


def _bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def prefix_share(rubric: RubricIR, group: int) -> dict[str, float]:
    """Cached prefix vs the rest of each request (the response itself excluded), for one prompt's group."""
    with JudgeServer() as server:
        grader = Grader(rubric, judge=MODEL, api_key="test", base_url=server.url, concurrency=group)
        grader.grade_many(responses(group, "group member"))
        records = server.requests
    shares, prefixes = [], set()
    for record in records:
        body, response = record.body, record.response_text or ""
        prefix = [body["tools"], body["system"]]
        prefixes.add(json.dumps(prefix, sort_keys=True))
        assert body["system"][-1].get("cache_control") == {"type": "ephemeral"}
        cached = _bytes(body["tools"]) + _bytes(body["system"])
        (message,) = body["messages"]
        other = len(message["content"].encode("utf-8")) - len(response.encode("utf-8"))
        shares.append(cached / (cached + other))
    usage = [r.reply["usage"] for r in records]
    read = sum(u["cache_read_input_tokens"] for u in usage)
    written = sum(u["cache_creation_input_tokens"] for u in usage)
    fresh = sum(u["input_tokens"] for u in usage)
    return {"requests": len(records), "distinct_prefixes": len(prefixes), "min_share": min(shares),
            "mean_share": sum(shares) / len(shares), "prefix_bytes": cached, "other_bytes": other,
            "reads": sum(u["cache_read_input_tokens"] > 0 for u in usage), "read_tokens": read,
            "written_tokens": written, "uncached_tokens": fresh}


def request_counts(rubric: RubricIR) -> dict[str, int]:
    """Judge calls per response for the other ways of asking (JUDGING.md: the cost is reported, not hidden)."""
    item = rubric.model_copy(update={"judge": rubric.judge.model_copy(update={"granularity": "item"})})
    return {"granularity response, 1 sample": len(build_requests(rubric, "x")),
            "granularity response, 3 samples": len(build_requests(rubric, "x", samples=3)),
            "granularity item, 1 sample": len(build_requests(item, "x")),
            "granularity item, 3 samples": len(build_requests(item, "x", samples=3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responses", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1, help="the judge's fixed latency, seconds")
    parser.add_argument("--group", type=int, default=16, help="responses to one prompt for the cache figure")
    args = parser.parse_args()
    rubric = rubricdsl.load_rubric(RUBRIC)

    t = throughput(rubric, args.responses, args.concurrency, args.latency)
    print(f"throughput: {t['calls']:.0f} calls for {t['responses']:.0f} responses ({t['failed']:.0f} failed) "
          f"in {t['seconds']:.2f} s at concurrency {args.concurrency}, judge latency {1000 * args.latency:.0f} ms")
    print(f"  {t['calls_per_second']:.1f} calls/s of a possible {t['ceiling']:.0f} "
          f"(C / latency): share {t['share']:.2f} (goal >= 0.80)")
    print(f"  judge calls per response: {t['calls_per_response']:.2f}")
    print(f"  client CPU per call: {t['cpu_ms_per_call']:.1f} ms (one core allows at most "
          f"{1000 / t['cpu_ms_per_call']:.0f} calls/s)")

    sdk = sdk_alone(rubric, args.responses, args.concurrency, args.latency)
    print(f"  calibration, the same bodies through the bare anthropic SDK: share {sdk['share']:.2f}, "
          f"client CPU per call {sdk['cpu_ms_per_call']:.1f} ms")

    p = prefix_share(rubric, args.group)
    print(f"prompt cache, a group of {p['requests']:.0f} responses to one prompt:")
    print(f"  distinct prefixes (tools + system): {p['distinct_prefixes']:.0f}")
    print(f"  non-response bytes inside the cached prefix: min {p['min_share']:.3f}, mean {p['mean_share']:.3f} "
          f"(goal >= 0.95; {p['prefix_bytes']:.0f} prefix bytes vs {p['other_bytes']:.0f} in the user message)")
    print(f"  requests reading the prefix from the cache: {p['reads']:.0f} of {p['requests']:.0f}; tokens: "
          f"{p['written_tokens']:.0f} written once, {p['read_tokens']:.0f} read, {p['uncached_tokens']:.0f} uncached")

    print("judge calls per response for the physics rubric:")
    for way, count in request_counts(rubric).items():
        print(f"  {way}: {count}")


if __name__ == "__main__":
    main()
