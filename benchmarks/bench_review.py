"""Benchmark: one full review (all steps and the index) of the demo seller — wall time and peak memory.

Target (issue 7, 2-core machine): ≤ 20 s wall. Run: python benchmarks/bench_review.py [--lines N]
"""
from __future__ import annotations

import argparse
import shutil
import time

from _common import PeakRSS, available_steps, fmt_timings, folder

from ecomreview import demo
from ecomreview.runner import run_review


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=60000, help="order lines of the demo data (default: the demo's)")
    ap.add_argument("--period", default="2025")
    args = ap.parse_args()
    root = folder("review")
    try:
        ws = demo.generate(root / "demo-seller", n_lines=args.lines)
        steps = available_steps()
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            res = run_review(ws, args.period, out=root / "reports", steps=steps)
            wall = time.perf_counter() - t0
        print(f"demo review, {args.lines:,} order lines, period {args.period}, steps {','.join(steps)}")
        print(f"wall: {wall:.1f} s   peak RSS (process tree): {mem.gb:.2f} GB")
        print(f"where the time goes: {fmt_timings(res.timings)}")
        print("(step times overlap: steps 1–4 run side by side; 'execute' is their wall time)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
