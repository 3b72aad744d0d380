"""Grading speed: model load, one answer against a 5-key-point card, batch throughput.

    python benchmarks/bench_grading.py [--backend use|e5|st] [--repeat 50]

Prints figures; asserts nothing (targets: load ≤ 2 s, one answer ≤ 30 ms after load, one
thread). "warm" means the card's reference and key points are already in the embedding cache
(as in a review session after the first answer); "cold" embeds them too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REFERENCE = (
    "Multi-head attention runs several attention functions in parallel. Each head has its own "
    "learned projections of the queries, keys and values into a lower-dimensional subspace, "
    "computes scaled dot-product attention there, and the outputs of all heads are concatenated "
    "and mixed by an output projection W_O. Because each head attends in a different subspace, "
    "heads can specialise in different relations such as syntax, position or coreference, which "
    "a single head would average together. The total cost is about the same as one "
    "full-dimensional head."
)
KEY_POINTS = [
    "Each head projects Q, K and V into its own lower-dimensional subspace.",
    "Heads attend in parallel.",
    "Outputs are concatenated and projected by W_O.",
    "Different heads can capture different relations, which one head would average out.",
    "The cost is similar to a single head of full dimension.",
]
ANSWERS = [
    "We split attention into h heads, each with separate W_Q, W_K, W_V mapping into a smaller "
    "subspace; the heads run in parallel, their outputs are concatenated and multiplied by W_O. "
    "Different heads capture different relations at roughly the same cost.",
    "多头注意力把 Q、K、V 投影到多个低维子空间并行计算，输出拼接后乘 W_O，不同的头学到不同的关系。",
    "All heads share one projection and their outputs are summed.",
]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("use", "e5", "st"), default="use")
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--batch-items", type=int, default=0, help="grade only the first N dev answers batched"
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    from labdeck.grading.grader import Grader  # noqa: F401 - import cost without a model

    t_import = time.perf_counter() - t0

    from labdeck.grading.build import build_grader

    t0, c0 = time.perf_counter(), time.process_time()
    first = build_grader(args.backend, args.model, threads=args.threads)
    first.grade(REFERENCE, "warm up", KEY_POINTS)  # lazy parts (first encode) count as load
    t_load, c_load = time.perf_counter() - t0, time.process_time() - c0

    cold, warm, warm_cpu = [], [], []
    for i in range(args.repeat):
        answer = ANSWERS[i % len(ANSWERS)]
        # a fresh grader has a fresh in-memory cache: the card is embedded too
        grader = build_grader(args.backend, args.model, threads=args.threads)
        t0 = time.perf_counter()
        grader.grade(REFERENCE, answer, KEY_POINTS)
        cold.append(time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.process_time()
        grader.grade(REFERENCE, answer + " ", KEY_POINTS)
        warm.append(time.perf_counter() - t0)
        warm_cpu.append(time.process_time() - c0)

    dev = ROOT / "tests" / "data" / "grading_dev.jsonl"
    items = [json.loads(x) for x in dev.read_text(encoding="utf-8").splitlines() if x.strip()]
    if args.batch_items > 0:
        items = items[: args.batch_items]
    grader = build_grader(args.backend, args.model, threads=args.threads)
    t0 = time.perf_counter()
    grader.grade_many(items)
    t_batch = time.perf_counter() - t0

    print(f"backend {args.backend} · model {first.model_id} · threads {args.threads}")
    print(f"import labdeck.grading.grader     {_ms(t_import)}")
    print(f"model load                        {_ms(t_load)}   (CPU {_ms(c_load)}; target ≤ 2 s)")
    print(
        f"one answer, 5 key points, warm    {_ms(statistics.median(warm))} median, "
        f"{_ms(max(warm))} max, CPU {_ms(statistics.median(warm_cpu))}   (target ≤ 30 ms)"
    )
    print(
        f"one answer, 5 key points, cold    {_ms(statistics.median(cold))} median, "
        f"{_ms(max(cold))} max"
    )
    print(
        f"dev set, {len(items)} answers, batched  {t_batch:7.2f} s   "
        f"({len(items) / t_batch:.0f} answers/s, cold cache)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
