"""Benchmark: 3 clients × 4 quarters — `ecomreview batch` against the by-hand way, and the ratio.

The by-hand way is what a user would script on the same notebooks and data: for every client, quarter and
step notebook, `papermill` then `jupyter nbconvert --to html`, each as a command, one after another.
Target (issue 7, 2-core machine): batch at least 3× faster. Run: python benchmarks/bench_batch.py
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from _common import available_steps, folder

from ecomreview import demo
from ecomreview.runner import STEPS, notebooks_dir

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
BIN = Path(sys.executable).parent


def by_hand(clients: list[Path], out: Path, steps: list[str]) -> float:
    """papermill + nbconvert per notebook, as separate commands; returns wall seconds."""
    t0 = time.perf_counter()
    for ws in clients:
        for q in QUARTERS:
            target = out / ws.name / q
            target.mkdir(parents=True)
            for sid, nb, _ in STEPS:
                if sid not in steps:
                    continue
                executed = target / f"{nb}.ipynb"
                subprocess.run([str(BIN / "papermill"), str(notebooks_dir() / f"{nb}.ipynb"), str(executed),
                                "-p", "workspace", str(ws), "-p", "period", q, "-p", "lang", "zh",
                                "--no-progress-bar", "--log-level", "ERROR"], check=True, capture_output=True)
                subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                               check=True, capture_output=True)
    return time.perf_counter() - t0


def with_batch(root: Path, clients: list[Path], steps: list[str], workers: int) -> float:
    spec = {"out": "batch-reports", "workers": workers, "defaults": {"lang": "zh", "steps": steps},
            "clients": [{"workspace": ws.relative_to(root).as_posix(), "periods": QUARTERS} for ws in clients]}
    (root / "batch.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "ecomreview"), "batch", str(root / "batch.yaml"), "--no-progress"], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=60000, help="order lines per client (default: the demo's)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    root = folder("batch")
    try:
        clients = [demo.generate(root / "clients" / f"client-{i}", n_lines=args.lines, seed=2025 + i)
                   for i in range(3)]
        steps = available_steps()
        print(f"3 clients × 4 quarters, {args.lines:,} order lines each, steps {','.join(steps)}")
        fast = with_batch(root, clients, steps, args.workers)
        print(f"ecomreview batch (--workers {args.workers}): {fast:.1f} s")
        slow = by_hand(clients, root / "by-hand", steps)
        print(f"by hand (papermill + jupyter nbconvert per notebook): {slow:.1f} s")
        print(f"ratio: {slow / fast:.1f}x faster")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
