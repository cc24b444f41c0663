"""What a step notebook works with: the prepared review, the period, the language, and where results go."""
from __future__ import annotations

import json
import math
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics
from .period import Period
from .report.i18n import t as _t
from .review import Review, load_review

DEMO_ALIAS = "demo"


def demo_workspace() -> Path:
    """The bundled demo seller's workspace, generated once into the user's cache folder."""
    from . import __version__, demo
    root = Path(os.environ.get("ECOMREVIEW_CACHE", Path.home() / ".cache" / "ecomreview"))
    folder = root / f"demo-{__version__}"
    if not (folder / "orders.csv").exists():
        tmp = root / f".demo-{os.getpid()}"
        demo.generate(tmp)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp.rename(folder)
        except OSError:  # another process won the race; use its copy
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def resolve_workspace(workspace: str | Path) -> Path:
    return demo_workspace() if str(workspace) == DEMO_ALIAS else Path(workspace)


@dataclass
class StepContext:
    step: str
    review: Review
    period: Period
    lang: str
    out_dir: Path | None = None
    parts: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.review.currency

    def t(self, key: str, **kw) -> str:
        return _t(key, self.lang, **kw)

    @property
    def summary(self) -> dict:
        """kpis of P, of a year earlier, and YoY (computed once per review and period)."""
        key = ("summary", self.period.label)
        if key not in self.review.cache:
            self.review.cache[key] = metrics.kpi_summary(self.review, self.period)
        return self.review.cache[key]

    def kpis_by(self, by: str, period: Period | None = None) -> pd.DataFrame:
        """metrics.kpis by a breakdown for P (or ``period``); the engine memoises it per review."""
        return metrics.kpis(self.review, period or self.period, by=by)

    def memo(self, name: str, compute):
        """``compute()`` once per review, period and language (a step's analysis, used by all its sections)."""
        key = (name, self.period.label, self.lang)
        if key not in self.review.cache:
            self.review.cache[key] = compute()
        return self.review.cache[key]

    def thresholds(self, defaults: dict) -> dict:
        return self.review.thresholds(defaults)

    def show_thresholds(self, area: str, defaults: dict, value_text) -> None:
        """The thresholds a step used (settings.yaml overrides the defaults), so a reader can check every call.

        ``value_text(key, value)`` formats one value; texts come from ``<area>.h.thresholds``,
        ``<area>.threshold.<key>``, ``<area>.col.{setting,meaning,value,source}`` and ``<area>.note.thresholds``.
        """
        from .audit import show_table
        from .report.display import heading, note
        heading(self.t(f"{area}.h.thresholds"))
        used = self.thresholds(defaults)
        rows = pd.DataFrame({
            "setting": list(used), "meaning": [self.t(f"{area}.threshold.{k}") for k in used],
            "value": [value_text(k, v) for k, v in used.items()],
            "source": [self.t(f"{area}.threshold." + ("changed" if defaults[k] != v else "default"))
                       for k, v in used.items()]})
        show_table(rows, lang=self.lang, currency=self.currency, labels={c: self.t(f"{area}.col.{c}") for c in rows})
        note(self.t(f"{area}.note.thresholds"))

    def record(self, key: str, value) -> None:
        """Keep a result for metrics.json."""
        self.parts[key] = value

    def finding(self, text: str) -> None:
        """A sentence for this step's paragraph on the index page."""
        self.findings.append(text)

    def write_table(self, name: str, df: pd.DataFrame, index: bool = True) -> None:
        if self.out_dir is None:
            return
        from .safety import csv_safe
        folder = self.out_dir / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        csv_safe(df).to_csv(folder / f"{name}.csv", index=index, encoding="utf-8-sig")

    def save(self) -> None:
        """Write this step's metrics and findings for the runner (nothing when run interactively)."""
        if self.out_dir is None:
            return
        folder = self.out_dir / "parts"
        folder.mkdir(parents=True, exist_ok=True)
        data = {"step": self.step, "metrics": jsonable(self.parts), "findings": self.findings}
        tmp = folder / f".{self.step}.json.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, folder / f"{self.step}.json")


def open_step(step: str, workspace: str, period: str, lang: str = "zh", cache: str = "",
              out_dir: str = "") -> StepContext:
    """Load the review (from the runner's cache when given) and return the step's context."""
    if cache and Path(cache).exists():
        with open(cache, "rb") as f:
            review = pickle.load(f)
    else:
        review = load_review(resolve_workspace(workspace))
    return StepContext(step=step, review=review, period=Period.parse(period), lang=lang,
                       out_dir=Path(out_dir) if out_dir else None)


def jsonable(obj):
    """Plain JSON types; NaN/inf become None (SPEC: absent, never 0 or inf)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if obj is None or obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, (pd.Timestamp,)):
        return obj.strftime("%Y-%m-%d")
    if isinstance(obj, pd.DataFrame):
        return jsonable(obj.to_dict(orient="index"))
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    return obj
