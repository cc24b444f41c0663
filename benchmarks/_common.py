"""Shared helpers of the benchmarks: which steps exist, peak memory of the process tree, timing."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil

from ecomreview.runner import STEPS, notebooks_dir


def available_steps() -> list[str]:
    """Steps whose notebook exists (steps 2–4 may still be missing in a development tree)."""
    folder = notebooks_dir()
    return [sid for sid, nb, _ in STEPS if (folder / f"{nb}.ipynb").exists()]


class PeakRSS:
    """Samples the resident memory of this process plus all its descendants (kernels, workers) every 0.1 s."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _loop(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def gb(self) -> float:
        return self.peak / 1e9


def fmt_timings(timings: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())


def folder(name: str) -> Path:
    import tempfile
    return Path(tempfile.mkdtemp(prefix=f"ecomreview-bench-{name}-"))
