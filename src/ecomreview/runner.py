"""Running a review: load once, execute the step notebooks with papermill, render HTML, write atomically."""
from __future__ import annotations

import datetime as _dt
import json
import os
import pickle
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .context import resolve_workspace
from .errors import InputError, UsageError
from .period import Period
from .report.i18n import t
from .review import prepare
from .loader import load_workspace
from .safety import slug

# step id, notebook file, output page
STEPS = (
    ("audit", "01_data_audit", "01-data-audit.html"),
    ("channels", "02_channels", "02-channels.html"),
    ("products", "03_products", "03-products.html"),
    ("campaigns", "04_campaigns", "04-campaigns.html"),
    ("plan", "05_smart_plan", "05-smart-plan.html"),
)
STEP_IDS = tuple(s[0] for s in STEPS)


class StepFailed(Exception):
    """A step notebook raised: a bug or data the kit does not handle (exit 3; the failed notebook is kept)."""

    def __init__(self, step: str, message: str, notebook: Path):
        self.step, self.message, self.notebook = step, message, notebook
        super().__init__(f"step {step} failed: {message} (failed notebook kept at {notebook})")

    def __str__(self) -> str:
        return f"step {self.step} failed: {self.message} (failed notebook kept at {self.notebook})"


@dataclass
class RunResult:
    out_dir: Path
    index: Path
    timings: dict = field(default_factory=dict)


def notebooks_dir() -> Path:
    here = Path(__file__).resolve()
    for cand in (here.parent / "notebooks", here.parents[2] / "notebooks"):
        if (cand / "01_data_audit.ipynb").exists():
            return cand
    raise FileNotFoundError("the step notebooks were not found; install ecomreview from its source folder")


def parse_steps(steps: str | list | None) -> list[str]:
    if not steps:
        return list(STEP_IDS)
    items = steps.split(",") if isinstance(steps, str) else list(steps)
    chosen = []
    for s in (x.strip() for x in items if x.strip()):
        match = [sid for sid, nb, _ in STEPS if s in (sid, nb, nb[:2], nb[1:2])]
        if not match:
            raise UsageError(f'unknown step "{s}": choose from {", ".join(STEP_IDS)} (or 1-5)')
        chosen.extend(m for m in match if m not in chosen)
    if "audit" not in chosen:
        chosen.insert(0, "audit")  # the index page's KPI cards and health check come from step 1
    return [sid for sid in STEP_IDS if sid in chosen]


def output_dir(out: str | Path, workspace: Path, period: Period) -> Path:
    return Path(out) / slug(workspace.resolve().name) / period.label


def run_review(workspace: str | Path, period: str, *, out: str | Path = "reports", lang: str | None = None,
               steps=None, plan: str | Path | None = None, consultant: str | None = None,
               client: str | None = None, log=None) -> RunResult:
    """Run the review of one workspace for one period and return where the report is.

    Raises InputError for bad input (nothing written), StepFailed when a step notebook fails (the previous
    report, if any, stays in place; the failed run is kept next to it as ``<period>.failed``).
    """
    log = log or (lambda msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    p = Period.parse(period)
    ws_path = resolve_workspace(workspace)
    ws = load_workspace(ws_path)
    review = prepare(ws)
    if not review.has_data(p):
        raise InputError(f"{ws.sources.get('orders', 'orders.csv')}: no order lines fall in {p.label} "
                         f"(the data runs from {review.data_start:%Y-%m-%d} to {review.data_end:%Y-%m-%d}). "
                         "Choose a period inside the data.")
    if plan is not None and not Path(plan).exists():
        raise InputError(f"{plan}: the plan file does not exist. Give the goal_plan.csv of an annual run.")
    settings = review.settings
    lang = lang or settings.get("lang") or "zh"
    if lang not in ("zh", "en"):
        raise UsageError(f'--lang must be zh or en, not "{lang}"')
    if client:
        settings["client"] = client
    if consultant:
        settings["consultant"] = consultant
    chosen = parse_steps(steps)
    if "plan" in chosen:
        from .goal_tracker import read_plan_csv
        from .goals import validate_goals
        validate_goals(review, p, lang)      # malformed goals: exit 1 naming the rows, before any step runs
        if plan is not None:
            read_plan_csv(plan)              # not a goal plan: exit 1 saying which columns are missing
    timings["load"] = time.perf_counter() - t0

    final = output_dir(out, ws_path, p)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / f".{p.label}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
    work.mkdir()
    try:
        (work / "notebooks").mkdir()
        cache = work / ".review.pkl"
        with open(cache, "wb") as f:
            pickle.dump(review, f, protocol=pickle.HIGHEST_PROTOCOL)
        params = dict(workspace=str(ws_path.resolve()), period=p.label, lang=lang, cache=str(cache.resolve()),
                      out_dir=str(work.resolve()), plan=str(Path(plan).resolve()) if plan else "")
        _execute(chosen, work, params, timings, log)
        _render(chosen, work, settings, p, lang, review.currency, timings)
        cache.unlink()
        shutil.rmtree(work / "parts", ignore_errors=True)
    except BaseException as exc:
        failed = final.parent / f"{p.label}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        cache = work / ".review.pkl"
        if cache.exists():
            cache.unlink()
        (work / "FAILED.txt").write_text("This review run failed; it is not a complete report.\n", encoding="utf-8")
        work.rename(failed)
        if isinstance(exc, StepFailed):
            exc.notebook = failed / exc.notebook.relative_to(work)
        raise
    _replace(work, final)
    timings["total"] = time.perf_counter() - t0
    return RunResult(out_dir=final, index=final / "index.html", timings=timings)


def _execute(chosen, work: Path, params: dict, timings: dict, log) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = notebooks_dir()
    for sid, nb, _ in STEPS:
        if sid not in chosen:
            continue
        t0 = time.perf_counter()
        out_nb = work / "notebooks" / f"{nb}.ipynb"
        log(f"running {nb}")
        try:
            pm.execute_notebook(str(src / f"{nb}.ipynb"), str(out_nb), parameters=params, progress_bar=False,
                                log_output=False, kernel_name="python3", cwd=str(work))
        except PapermillExecutionError as exc:
            raise StepFailed(sid, f"{exc.ename}: {exc.evalue}", out_nb) from None
        timings[sid] = time.perf_counter() - t0


def _render(chosen, work: Path, settings: dict, p: Period, lang: str, currency: str, timings: dict) -> None:
    from .report.html import export_notebook, render_index
    t0 = time.perf_counter()
    parts = {}
    for f in sorted((work / "parts").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        parts[data["step"]] = data
    nav = [(t("run.nav.index", lang), "index.html")] + [
        (t(f"run.step.{sid}", lang), page) for sid, _, page in STEPS if sid in chosen]
    common = dict(lang=lang, client=settings["client"], period=p.label, consultant=settings.get("consultant", ""),
                  nav=nav, generated_note=f"ecomreview {__version__}")
    for sid, nb, page in STEPS:
        if sid in chosen:
            export_notebook(work / "notebooks" / f"{nb}.ipynb", work / page,
                            title=t(f"run.step.{sid}", lang), **common)
    metrics = {"client": settings["client"], "period": p.label, "currency": currency, "lang": lang,
               "generated_at": _dt.datetime.now().isoformat(timespec="seconds"), "ecomreview": __version__}
    for sid in STEP_IDS:
        metrics.update(parts.get(sid, {}).get("metrics", {}))
    tmp = work / ".metrics.json"
    tmp.write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, work / "metrics.json")
    from .index import index_context
    render_index(index_context(metrics, parts, chosen, settings, p, lang, currency), work / "index.html")
    timings["render"] = time.perf_counter() - t0


def _replace(work: Path, final: Path) -> None:
    """Swap the finished folder into place; the previous report is removed only after the swap."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        final.rename(old)
    work.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(final.parent / f"{final.name}.failed", ignore_errors=True)
