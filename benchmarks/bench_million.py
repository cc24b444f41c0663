"""Benchmark: a full review of 1,000,000 order lines — wall time and peak memory of the process tree.

Target (issue 7, 2-core machine): ≤ 60 s wall, peak ≤ 3 GB. Run: python benchmarks/bench_million.py
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
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()
    root = folder("million")
    try:
        t0 = time.perf_counter()
        ws = demo.generate(root / "big-seller", n_lines=args.lines)
        print(f"generated {args.lines:,} lines in {time.perf_counter() - t0:.1f} s (not part of the review)")
        steps = available_steps()
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            res = run_review(ws, "2025", out=root / "reports", steps=steps)
            wall = time.perf_counter() - t0
        print(f"full review, steps {','.join(steps)}: wall {wall:.1f} s   peak RSS (process tree): {mem.gb:.2f} GB")
        print(f"where the time goes: {fmt_timings(res.timings)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
