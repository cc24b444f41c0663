"""Batch reviews: many clients × periods from one YAML file, in local worker processes or on a Dask cluster."""
from __future__ import annotations

import base64
import datetime as _dt
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml

from .errors import InputError, UsageError
from .period import Period
from .report.i18n import t
from .safety import csv_safe, slug

TOP_KEYS = ("out", "workers", "lang", "defaults", "clients")
CLIENT_KEYS = ("workspace", "name", "periods", "lang", "consultant", "logo", "plan", "steps")
DEFAULT_KEYS = ("lang", "consultant", "logo", "steps")
# Logos are embedded in the index page and copied next to the reports: raster images only (an SVG can
# carry scripts), recognised by their first bytes, not by the file name.
_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"GIF87a": "gif", b"GIF89a": "gif"}
_LOGO_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Job:
    """One review to run: a client's workspace for one period. Paths are absolute."""

    folder: str               # the client's report folder under OUT (slug of the workspace folder name)
    workspace: str
    period: str               # Period label, e.g. 2025Q3
    lang: str | None = None
    name: str | None = None   # client name shown in the report; None = settings.yaml's client
    consultant: str | None = None
    plan: str | None = None
    steps: str | None = None


@dataclass
class JobResult:
    """How one job ended: status ok/failed, the step that failed and the message, where the report is."""

    folder: str
    period: str
    client: str
    status: str
    step: str = ""
    message: str = ""
    report: str = ""          # index.html of the report, relative to OUT (ok only)
    failed_notebook: str = ""  # kept notebook of a failed step, relative to OUT
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)


@dataclass
class Batch:
    """A validated batch file: where reports go, how many workers, which jobs, each client's logo."""

    out: Path
    workers: int | None
    lang: str
    jobs: list[Job]
    logos: dict[str, Path] = field(default_factory=dict)         # client folder -> logo image
    consultants: dict[str, str] = field(default_factory=dict)    # client folder -> consultant name


# --- the batch file ---------------------------------------------------------------------------------------


def load_batch(path: str | Path) -> Batch:
    """Read and check a batch YAML file; UsageError listing every problem (exit 2) when it is not usable.

    Relative paths are taken from the batch file's folder and must stay inside it.
    """
    path = Path(path)
    file = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UsageError(t("batch.error.file", "en", file=path, reason=_one_line(e))) from None
    if not isinstance(data, dict) or "clients" not in data:
        raise UsageError(t("batch.error.top", "en", file=file))
    problems: list[str] = []
    base = path.resolve().parent
    _check_keys(data, TOP_KEYS, file, problems)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(t("batch.error.client", "en", where=f"{file} defaults"))
        defaults = {}
    _check_keys(defaults, DEFAULT_KEYS, f"{file} defaults", problems)
    out = _inside(base, data.get("out", "reports"), "out", file, problems, must_exist=False)
    workers = _workers(data.get("workers"), file, problems)
    lang = _lang(data.get("lang", defaults.get("lang", "zh")), file, problems) or "zh"
    clients = data.get("clients")
    if not isinstance(clients, list) or not clients:
        problems.append(t("batch.error.no_clients", "en", file=file))
        clients = []
    batch = Batch(out=out or base / "reports", workers=workers, lang=lang, jobs=[])
    seen: dict[str, str] = {}
    for i, entry in enumerate(clients, start=1):
        _client_jobs(entry, f"{file} client {i}", base, defaults, batch, seen, problems)
    if problems:
        raise UsageError("the batch file has problems:\n  " + "\n  ".join(problems))
    return batch


def _client_jobs(entry, where: str, base: Path, defaults: dict, batch: Batch, seen: dict, problems: list) -> None:
    if not isinstance(entry, dict) or "workspace" not in entry:
        problems.append(t("batch.error.client", "en", where=where))
        return
    _check_keys(entry, CLIENT_KEYS, where, problems)
    merged = {**defaults, **entry}
    ws = _inside(base, entry["workspace"], "workspace", where, problems)
    if ws is not None and not ws.is_dir():
        problems.append(t("batch.error.not_dir", "en", where=where, value=entry["workspace"]))
        ws = None
    periods = _periods(entry.get("periods"), where, problems)
    lang = _lang(merged.get("lang"), where, problems)
    texts = {k: _text(merged.get(k), k, where, problems) for k in ("name", "consultant", "steps")}
    plan = _inside(base, merged["plan"], "plan", where, problems) if merged.get("plan") else None
    logo = _logo(base, merged.get("logo"), where, problems)
    if ws is None:
        return
    folder = slug(ws.name)   # the runner names the report folder after the workspace folder
    if folder in seen and seen[folder] != str(ws):
        problems.append(t("batch.error.same_folder", "en", where=where, value=entry["workspace"], folder=folder))
        return
    seen[folder] = str(ws)
    if logo is not None:
        batch.logos[folder] = logo
    if texts["consultant"]:
        batch.consultants[folder] = texts["consultant"]
    for p in periods:
        # The plan tracks quarters against the annual plan; an annual run makes its own plan.
        batch.jobs.append(Job(folder=folder, workspace=str(ws), period=p.label, lang=lang, name=texts["name"],
                              consultant=texts["consultant"], steps=texts["steps"],
                              plan=str(plan) if plan is not None and p.quarter else None))


def _check_keys(mapping: dict, allowed: tuple, where: str, problems: list) -> None:
    unknown = [str(k) for k in mapping if k not in allowed]
    if unknown:
        problems.append(t("batch.error.unknown_keys", "en", where=where, keys=", ".join(unknown),
                          allowed=", ".join(allowed)))


def _inside(base: Path, value, key: str, where: str, problems: list, must_exist: bool = True) -> Path | None:
    """``base/value`` when value is a relative path that stays inside base (no absolute paths, no ..)."""
    if not isinstance(value, str) or not value.strip():
        problems.append(t("batch.error.text", "en", where=where, setting=key, found=type(value).__name__))
        return None
    text = value.strip()
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or PureWindowsPath(text).drive
            or ".." in parts or text.startswith("~")):
        problems.append(t("batch.error.path", "en", where=where, setting=key, value=text))
        return None
    full = (base / text).resolve()
    if not full.is_relative_to(base):      # a symlink pointing elsewhere
        problems.append(t("batch.error.path", "en", where=where, setting=key, value=text))
        return None
    if must_exist and not full.exists():
        problems.append(t("batch.error.missing", "en", where=where, setting=key, value=text))
        return None
    return full


def _periods(value, where: str, problems: list) -> list[Period]:
    items = value if isinstance(value, list) else [value] if isinstance(value, (str, int)) else []
    if not items:
        problems.append(t("batch.error.periods", "en", where=where))
        return []
    out: list[Period] = []
    for item in items:
        try:
            p = Period.parse(item) if isinstance(item, (str, int)) and not isinstance(item, bool) else None
        except UsageError as e:
            problems.append(t("batch.error.period", "en", where=where, reason=str(e)))
            continue
        if p is None:
            problems.append(t("batch.error.periods", "en", where=where))
        elif p not in out:
            out.append(p)
    return out


def _lang(value, where: str, problems: list) -> str | None:
    if value is None or value in ("zh", "en"):
        return value
    problems.append(t("batch.error.lang", "en", where=where, value=value))
    return None


def _text(value, key: str, where: str, problems: list) -> str | None:
    if value is None or isinstance(value, str):
        return value.strip() or None if value else None
    if key == "steps" and isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(str(v) for v in value)
    problems.append(t("batch.error.text", "en", where=where, setting=key, found=type(value).__name__))
    return None


def _workers(value, where: str, problems: list) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 64:
        return value
    problems.append(t("batch.error.workers", "en", where=where, value=value))
    return None


def _logo(base: Path, value, where: str, problems: list) -> Path | None:
    if not value:
        return None
    path = _inside(base, value, "logo", where, problems)
    if path is None:
        return None
    if not path.is_file() or path.stat().st_size > _LOGO_MAX_BYTES or image_type(path) is None:
        problems.append(t("batch.error.logo", "en", where=where, value=value))
        return None
    return path


def image_type(path: Path) -> str | None:
    """png, jpeg, gif or webp from the file's first bytes; None for anything else (SVG included)."""
    head = path.read_bytes()[:12]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((kind for magic, kind in _IMAGE_MAGIC.items() if head.startswith(magic)), None)


# --- one job ----------------------------------------------------------------------------------------------


def run_job(job: Job, out: str, progress=None, step_kernels: int | None = None) -> JobResult:
    """Run one review and report how it ended; never raises for bad data or a failing step.

    progress, if given, is called with 1 each time a step notebook finishes (from any thread).
    step_kernels sets how many step notebooks of this review run at once (see runner.step_kernels).
    """
    from .runner import StepFailed, run_review

    if step_kernels:
        os.environ["ECOMREVIEW_STEP_KERNELS"] = str(step_kernels)
    phase = {"step": "load", "running": []}

    def log(msg: str) -> None:
        # Steps 1–4 may run side by side: the phase is the earliest step still running, "render" after all.
        word, _, rest = msg.partition(" ")
        if word == "running":
            phase["running"].append(_step_of(rest.split()[0]))
        elif word == "finished":
            sid = _step_of(rest.split()[0])
            if sid in phase["running"]:
                phase["running"].remove(sid)
            if progress is not None:
                progress(1)
        else:
            return
        phase["step"] = phase["running"][0] if phase["running"] else "render"

    t0 = time.perf_counter()
    res = JobResult(folder=job.folder, period=job.period, client=job.name or job.folder, status="failed")
    try:
        run = run_review(job.workspace, job.period, out=out, lang=job.lang, steps=job.steps, plan=job.plan,
                         consultant=job.consultant, client=job.name, log=log)
    except StepFailed as e:
        res.step, res.message = e.step, e.message
        res.failed_notebook = _relative(e.notebook, out)
    except (InputError, UsageError) as e:
        res.step, res.message = phase["step"], _one_line(e)
    except Exception as e:   # a bug must not stop the other clients; the summary says where it happened
        res.step, res.message = phase["step"], f"{type(e).__name__}: {_one_line(e)}"
    else:
        res.status, res.timings = "ok", {k: round(v, 2) for k, v in run.timings.items()}
        res.report = _relative(run.index, out)
        res.client = _client_name(run.out_dir) or res.client
    res.seconds = round(time.perf_counter() - t0, 2)
    return res


def _step_of(notebook: str) -> str:
    from .runner import STEPS
    return next((sid for sid, nb, _ in STEPS if nb == notebook), notebook)


def _client_name(report_dir: Path) -> str | None:
    import json
    try:
        return json.loads((report_dir / "metrics.json").read_text(encoding="utf-8")).get("client")
    except (OSError, ValueError):
        return None


def _relative(path, out) -> str:
    try:
        return Path(path).resolve().relative_to(Path(out).resolve()).as_posix()
    except ValueError:
        return ""


def _one_line(e: BaseException, limit: int = 3) -> str:
    if isinstance(e, InputError):
        lines = [str(p) for p in e.problems]
        more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
        return "; ".join(lines[:limit]).lstrip(": ") + more
    return " ".join(str(e).split())


def job_steps(job: Job) -> int:
    """How many step notebooks the job runs (for the progress bar)."""
    from .runner import parse_steps
    try:
        return len(parse_steps(job.steps))
    except UsageError:
        return 1


# --- running many jobs ------------------------------------------------------------------------------------


def run_batch(batch: Batch, *, workers: int | None = None, executor: str = "local", scheduler: str | None = None,
              progress: bool = True) -> list[JobResult]:
    """Run every job of the batch and write OUT/batch-summary.csv and OUT/index.html; results in job order.

    executor "local" runs ``workers`` processes on this machine (default: the batch file's workers, else
    the CPU count); "dask" submits the same jobs to the Dask cluster at ``scheduler``.
    """
    import threading

    from tqdm import tqdm

    batch.out.mkdir(parents=True, exist_ok=True)
    total = sum(job_steps(j) for j in batch.jobs)
    clients = {j.folder for j in batch.jobs}
    bar = tqdm(total=total, desc=t("batch.progress.steps", batch.lang), unit="step", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    results: dict[int, JobResult] = {}
    state = {"done_steps": {}}
    lock = threading.Lock()   # step messages arrive on a listener thread, results on this one

    def on_result(i: int, res: JobResult) -> None:
        with lock:
            _count_result(i, res)

    def _count_result(i: int, res: JobResult) -> None:
        results[i] = res
        # A failed job's remaining steps count as done, so the bar ends at 100%.
        bar.update(job_steps(batch.jobs[i]) - state["done_steps"].pop(i, 0))
        done = sum(1 for c in clients if all(k in results for k, j in enumerate(batch.jobs) if j.folder == c))
        failed = sum(r.status != "ok" for r in results.values())
        bar.set_postfix_str(t("batch.progress.clients", batch.lang, done=done, total=len(clients), failed=failed))

    def on_step(i: int) -> None:
        with lock:
            if i in results:      # the job's result came first; its steps are already counted
                return
            state["done_steps"][i] = state["done_steps"].get(i, 0) + 1
            bar.update(1)

    try:
        if executor == "dask":
            _run_dask(batch, scheduler, on_result)
        else:
            _run_local(batch, workers or batch.workers or os.cpu_count() or 1, on_result, on_step)
    finally:
        bar.close()
    ordered = [results[i] for i in range(len(batch.jobs))]
    names = {r.folder: r.client for r in ordered if r.status == "ok"}
    for r in ordered:     # a failed period shows the client's name as its good periods found it
        r.client = names.get(r.folder, r.client)
    _copy_logos(batch)
    write_summary(ordered, batch)
    return ordered


def _run_local(batch: Batch, workers: int, on_result, on_step) -> None:
    import concurrent.futures as cf
    import multiprocessing as mp
    import threading

    workers = max(1, min(workers, len(batch.jobs)))
    # Split the CPUs between jobs: with as many workers as CPUs, each review runs its steps one by one.
    kernels = max(1, (os.cpu_count() or 1) // workers)
    ctx = mp.get_context("spawn")   # fresh interpreters: no threads or kernels inherited from this process
    steps_q = ctx.Queue()

    def listen():
        while (item := steps_q.get()) is not None:
            on_step(item)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(steps_q,)) as pool:
            futures = {pool.submit(_local_job, i, job, str(batch.out.resolve()), kernels): i
                       for i, job in enumerate(batch.jobs)}
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    res = fut.result()
                except Exception as e:   # the worker process itself died (e.g. killed for memory)
                    res = _lost(batch.jobs[i], e)
                on_result(i, res)
    finally:
        steps_q.put(None)
        listener.join(timeout=5)


_WORKER_QUEUE = None


def _init_worker(steps_q) -> None:
    global _WORKER_QUEUE
    _WORKER_QUEUE = steps_q


def _local_job(i: int, job: Job, out: str, kernels: int) -> JobResult:
    q = _WORKER_QUEUE
    return run_job(job, out, progress=(lambda n: q.put(i)) if q is not None else None, step_kernels=kernels)


def _run_dask(batch: Batch, scheduler: str | None, on_result) -> None:
    if not scheduler:
        raise UsageError(t("batch.error.executor", "en"))
    try:
        import distributed
    except ImportError:
        raise UsageError(t("batch.error.no_distributed", "en")) from None
    with distributed.Client(scheduler) as client:
        futures = {client.submit(run_job, job, str(batch.out.resolve()), None, 1, pure=False): i
                   for i, job in enumerate(batch.jobs)}
        for fut in distributed.as_completed(futures):
            i = futures[fut]
            try:
                res = fut.result()
            except Exception as e:   # the worker was lost
                res = _lost(batch.jobs[i], e)
            on_result(i, res)


def _lost(job: Job, e: BaseException) -> JobResult:
    return JobResult(folder=job.folder, period=job.period, client=job.name or job.folder, status="failed",
                     step="internal", message=f"{type(e).__name__}: {_one_line(e)}")


# --- summary: table, CSV, index page ----------------------------------------------------------------------


def exit_code(results: list[JobResult]) -> int:
    """0 when every job is ok, 1 when any failed (bad input, a failing step or a bug in one job)."""
    return 0 if all(r.status == "ok" for r in results) else 1


def summary_rows(results: list[JobResult], lang: str) -> list[dict]:
    """One row per job, with headers and words in ``lang``."""
    col = {c: t(f"batch.col.{c}", lang) for c in ("client", "folder", "period", "status", "step", "message",
                                                  "seconds", "report")}
    return [{col["client"]: r.client, col["folder"]: r.folder, col["period"]: r.period,
             col["status"]: t(f"batch.status.{r.status}", lang), col["step"]: step_label(r.step, lang),
             col["message"]: r.message, col["seconds"]: r.seconds, col["report"]: r.report or r.failed_notebook}
            for r in results]


def step_label(step: str, lang: str) -> str:
    """The failing step as the reader knows it: a report step's title, or loading / report pages / internal."""
    if not step:
        return ""
    if step in ("load", "render", "internal"):
        return t(f"batch.step.{step}", lang)
    return t(f"run.step.{step}", lang)


def write_summary(results: list[JobResult], batch: Batch) -> tuple[Path, Path]:
    """Write OUT/batch-summary.csv (cells safe for Excel) and OUT/index.html; return both paths."""
    import pandas as pd

    from .report.html import write_atomic

    rows = summary_rows(results, batch.lang)
    csv_path = batch.out / "batch-summary.csv"
    tmp = batch.out / ".batch-summary.csv.tmp"
    csv_safe(pd.DataFrame(rows)).to_csv(tmp, index=False, encoding="utf-8-sig")
    os.replace(tmp, csv_path)
    index = batch.out / "index.html"
    write_atomic(index, render_index(results, batch))
    return csv_path, index


def print_table(results: list[JobResult], lang: str, file=None) -> None:
    """The summary as a plain-text table (client, period, status, step, message)."""
    file = file or sys.stdout
    rows = summary_rows(results, lang)
    cols = [t(f"batch.col.{c}", lang) for c in ("client", "period", "status", "step", "message")]
    widths = {c: min(60, max(_width(c), *(_width(str(r[c])) for r in rows))) for c in cols}
    print("  ".join(_pad(c, widths[c]) for c in cols), file=file)
    for r in rows:
        print("  ".join(_pad(_clip(str(r[c]), 60), widths[c]) for c in cols), file=file)
    ok = sum(r.status == "ok" for r in results)
    print(t("batch.summary.header", lang, ok=ok, total=len(results), failed=len(results) - ok), file=file)


def _width(text: str) -> int:
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    while _width(text) > width:
        text = text[:-2] + "…"
    return text


_INDEX = """<!DOCTYPE html>
<html lang="{{ html_lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t("batch.index.title") }}</title><style>{{ css }}</style></head>
<body><main>
<h1>{{ t("batch.index.title") }}</h1>
<p>{{ t("batch.index.intro", ok=ok, total=total, failed=failed) }}</p>
{% for c in clients %}
<section class="batch-client">
  <h2>{% if c.logo %}<img src="{{ c.logo }}" alt="" style="max-height:3em;vertical-align:middle;margin-right:.5em">{% endif %}{{ c.name }}</h2>
  {% if c.consultant %}<p>{{ t("batch.index.prepared_by", consultant=c.consultant) }}</p>{% endif %}
  <table><thead><tr><th>{{ t("batch.col.period") }}</th><th>{{ t("batch.col.status") }}</th>
  <th>{{ t("batch.col.step") }}</th><th>{{ t("batch.col.message") }}</th><th>{{ t("batch.col.report") }}</th></tr></thead>
  <tbody>{% for r in c.rows %}<tr class="{{ r.status }}"><td>{{ r.period }}</td><td>{{ r.status_text }}</td>
  <td>{{ r.step }}</td><td>{{ r.message }}</td>
  <td>{% if r.report %}<a href="{{ r.report }}">{{ t("batch.index.open") }}</a>{% elif r.failed_notebook %}<a href="{{ r.failed_notebook }}">{{ t("batch.index.failed_notebook") }}</a>{% endif %}</td></tr>
  {% endfor %}</tbody></table>
</section>
{% endfor %}
<footer><p>{{ t("batch.index.generated", when=generated) }}</p></footer>
</main></body></html>
"""


def render_index(results: list[JobResult], batch: Batch) -> str:
    """The batch index page: per client (name, logo, consultant), each period's status, message and link."""
    import jinja2
    from markupsafe import Markup

    from .report.display import stylesheet
    from .report.html import HTML_LANG

    lang = batch.lang
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    clients: dict[str, dict] = {}
    for r, row in zip(results, summary_rows(results, lang)):
        c = clients.setdefault(r.folder, {"name": r.client, "consultant": batch.consultants.get(r.folder, ""),
                                          "logo": _data_uri(batch.logos.get(r.folder)), "rows": []})
        if r.status == "ok":
            c["name"] = r.client
        c["rows"].append({"period": r.period, "status": r.status, "status_text": row[t("batch.col.status", lang)],
                          "step": row[t("batch.col.step", lang)], "message": r.message,
                          "report": r.report, "failed_notebook": r.failed_notebook})
    ok = sum(r.status == "ok" for r in results)
    return env.from_string(_INDEX).render(
        html_lang=HTML_LANG[lang], css=Markup(stylesheet()), t=lambda key, **kw: t(key, lang, **kw),
        clients=list(clients.values()), ok=ok, total=len(results), failed=len(results) - ok,
        generated=_dt.datetime.now().isoformat(timespec="seconds"))


def _data_uri(path: Path | None) -> str:
    """The logo embedded in the page (a self-contained report loads nothing from elsewhere)."""
    if path is None:
        return ""
    return f"data:image/{image_type(path)};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _copy_logos(batch: Batch) -> None:
    """Copy each client's logo into its report folder as logo.<type>, for the consultant's own use."""
    for folder, logo in batch.logos.items():
        target = batch.out / folder
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(logo, target / f"logo.{image_type(logo)}")


def results_as_dicts(results: list[JobResult]) -> list[dict]:
    """Plain dicts (for JSON or comparison in tests)."""
    return [asdict(r) for r in results]
