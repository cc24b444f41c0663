"""Running a review: load once, execute the step notebooks with papermill, render HTML, write atomically."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import gc
import json
import os
import pickle
import shutil
import tempfile
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
        # The raw order table is as large as the lines and only the audit's few raw figures need it: compute
        # those here and hand the kernels the review without it, so two steps fit side by side in memory.
        from .audit import raw_facts
        raw_facts(review)
        with open(cache, "wb") as f:
            pickle.dump(dataclasses.replace(review, raw_orders=review.raw_orders.iloc[0:0]), f,
                        protocol=pickle.HIGHEST_PROTOCOL)
        params = dict(workspace=str(ws_path.resolve()), period=p.label, lang=lang, cache=str(cache.resolve()),
                      out_dir=str(work.resolve()), plan=str(Path(plan).resolve()) if plan else "")
        currency = review.currency
        # The kernels read the pickle; this process must not keep its own copy (and the raw tables) meanwhile.
        del review, ws
        gc.collect()
        _execute(chosen, work, params, timings, log)
        _render(chosen, work, settings, p, lang, currency, timings)
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
    """Execute the chosen step notebooks into ``work/notebooks``: steps 1–4 side by side, then step 5.

    Notebooks run in warm kernels from this process's pool (``_KERNELS``): each kernel is started once,
    with pandas, matplotlib and the kit already imported, and is reset between notebooks, so a batch pays
    for kernel start-up and imports once per worker instead of once per notebook. Up to ``step_kernels()``
    notebooks run at the same time. Raises StepFailed for the first failing step (in step order); the
    failed notebook is written with its outputs up to the error.
    """
    t0 = time.perf_counter()
    src = notebooks_dir()
    todo = [(sid, nb) for sid, nb, _ in STEPS if sid in chosen]
    # Step 5 reads the findings of steps 1–4 (out_dir/parts/*.json), so it waits for them.
    waves = [[s for s in todo if s[0] != "plan"], [s for s in todo if s[0] == "plan"]]
    parallel = step_kernels(Path(params["cache"]).stat().st_size if params.get("cache") else 0)
    for wave in filter(None, waves):
        _KERNELS.run(_run_wave(wave, src, work, params, timings, log, parallel))
    timings["execute"] = time.perf_counter() - t0


# Memory the step kernels of one review may use together, and what one kernel needs at its peak per byte of
# the prepared-review pickle (measured on the demo at 60k and 1M lines: 3.3–3.8×; the margin covers the rest).
KERNEL_MEMORY_BUDGET = 2_600_000_000
KERNEL_BYTES_PER_PICKLE_BYTE = 4


def step_kernels(cache_bytes: int = 0) -> int:
    """How many step notebooks of one review run at once.

    ECOMREVIEW_STEP_KERNELS when set; else as many as fit KERNEL_MEMORY_BUDGET (ECOMREVIEW_MEMORY_BUDGET
    bytes overrides it), at least 1 and at most the CPU count (at most 4).
    """
    value = os.environ.get("ECOMREVIEW_STEP_KERNELS", "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    budget = os.environ.get("ECOMREVIEW_MEMORY_BUDGET", "")
    budget = int(budget) if budget.strip().isdigit() else KERNEL_MEMORY_BUDGET
    fit = budget // max(1, KERNEL_BYTES_PER_PICKLE_BYTE * cache_bytes)
    return int(max(1, min(4, os.cpu_count() or 1, fit)))


async def _run_wave(wave, src: Path, work: Path, params: dict, timings: dict, log, parallel: int) -> None:
    import asyncio

    gate = asyncio.Semaphore(parallel)
    failed = []

    async def one(sid: str, nb: str) -> None:
        async with gate:
            if failed:        # a sibling step already failed: the run is lost, do not start more work
                return
            t0 = time.perf_counter()
            log(f"running {nb}")
            try:
                await _run_notebook(src / f"{nb}.ipynb", work / "notebooks" / f"{nb}.ipynb", sid, params,
                                    str(work.resolve()))
            except BaseException:
                failed.append(sid)
                raise
            timings[sid] = time.perf_counter() - t0
            log(f"finished {nb} in {timings[sid]:.1f} s")

    # Wait for every started notebook before reporting, so none is still writing into the run's folder.
    results = await asyncio.gather(*(one(sid, nb) for sid, nb in wave), return_exceptions=True)
    for res in results:
        if isinstance(res, BaseException):
            raise res


async def _run_notebook(src_nb: Path, out_nb: Path, sid: str, params: dict, cwd: str) -> None:
    """Parameterise like papermill (an ``injected-parameters`` cell), execute with nbclient, write the result."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = parameterize_notebook(load_notebook_node(str(src_nb)), params, kernel_name="python3", language="python")
    nb.metadata["papermill"] = {"input_path": str(src_nb), "output_path": str(out_nb), "parameters": params}
    kernel = await _KERNELS.acquire(cwd)
    healthy = False
    try:
        client = NotebookClient(nb, km=kernel.km, kernel_name="python3", timeout=None, allow_errors=False)
        client.kc = kernel.kc
        try:
            await client.async_execute()
            healthy = True
        except CellExecutionError as exc:
            healthy = True    # the kernel is fine, the notebook's code raised
            raise StepFailed(sid, f"{exc.ename}: {exc.evalue}", out_nb) from None
        except DeadKernelError:
            raise StepFailed(sid, "the notebook's kernel died (out of memory?)", out_nb) from None
        finally:
            nbformat.write(nb, str(out_nb))
    finally:
        await _KERNELS.release(kernel, healthy)


# Code run once in a new kernel: the imports every step notebook needs, so each notebook starts warm.
_WARMUP = """
import importlib as _il
for _m in ("pandas", "numpy", "matplotlib.pyplot", "ecomreview.context", "ecomreview.report.display",
           "ecomreview.audit", "ecomreview.channels", "ecomreview.products", "ecomreview.campaigns",
           "ecomreview.goals", "ecomreview.goal_tracker"):
    try:
        _il.import_module(_m)
    except Exception:   # a module that cannot be imported fails in its own notebook, with its message
        pass
"""
# Code run after each notebook whose kernel is kept: empty namespace, no figures, memory given back now
# (an idle kernel must not hold a large review while the next one loads).
_RESET = """
get_ipython().run_line_magic("reset", "-f")
import gc as _gc, matplotlib.pyplot as _plt
_plt.close("all")
_gc.collect()
del _gc, _plt
"""
_CHDIR = "import os as _os; _os.chdir({cwd!r}); del _os"


_IPC = {"dir": None, "n": 0}


def _ipc_prefix() -> str:
    """A fresh socket-path prefix in this process's private folder (removed when the process exits)."""
    if _IPC["dir"] is None:
        import atexit
        _IPC["dir"] = tempfile.mkdtemp(prefix="ecomreview-kernels-")
        atexit.register(shutil.rmtree, _IPC["dir"], True)
    _IPC["n"] += 1
    return str(Path(_IPC["dir"]) / f"k{_IPC['n']}")


@dataclass
class _Kernel:
    km: object
    kc: object


class _KernelPool:
    """Warm IPython kernels of this process, all driven from one event-loop thread.

    One loop owns every kernel client (zmq sockets belong to the loop that made them), which also lets
    ``run_review`` be called from any thread: a notebook with its own loop, a Dask worker thread.
    """

    max_idle = 4

    def __init__(self):
        import threading
        self._idle: list[_Kernel] = []
        self._loop = None
        self._lock = threading.Lock()

    def run(self, coro, grace: float = 15.0):
        """Run a coroutine on the pool's loop and wait for it (from any thread but the loop's own).

        On Ctrl-C (or any error here) the coroutine is cancelled, and this waits up to ``grace`` seconds
        for its notebooks to be written and their kernels stopped, so nothing writes into the run's
        folder after the runner has moved it aside.
        """
        import asyncio
        import threading
        loop = self._ensure_loop()
        finished = threading.Event()

        async def tracked():
            try:
                return await coro
            finally:
                finished.set()

        fut = asyncio.run_coroutine_threadsafe(tracked(), loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()
            finished.wait(grace)
            raise

    def _ensure_loop(self):
        import asyncio
        import atexit
        import threading
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="ecomreview-kernels", daemon=True).start()
                atexit.register(self.shutdown)
            return self._loop

    async def acquire(self, cwd: str) -> _Kernel:
        while self._idle:
            kernel = self._idle.pop()
            if await kernel.km.is_alive():
                await self._exec(kernel, _CHDIR.format(cwd=cwd))
                return kernel
            await self._stop(kernel)
        return await self._start(cwd)

    async def release(self, kernel: _Kernel, healthy: bool) -> None:
        if healthy and len(self._idle) < self.max_idle:
            try:
                await self._exec(kernel, _RESET)
            except Exception:      # a kernel that cannot be reset is not reused
                await self._stop(kernel)
                return
            self._idle.append(kernel)
        else:
            await self._stop(kernel)

    async def _start(self, cwd: str) -> _Kernel:
        from jupyter_client.manager import AsyncKernelManager
        # ipc: local sockets, no TCP ports (and no "running over TCP without encryption" warning on stderr)
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=_ipc_prefix())
        # No history database: parallel kernels would contend for one SQLite file.
        await km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            kernel = _Kernel(km, kc)
            await self._exec(kernel, _WARMUP)
        except BaseException:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        return kernel

    @staticmethod
    async def _exec(kernel: _Kernel, code: str) -> None:
        reply = await kernel.kc.execute_interactive(code, store_history=False, output_hook=lambda msg: None,
                                                    timeout=120)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel set-up failed: {reply['content'].get('evalue', '')}")

    @staticmethod
    async def _stop(kernel: _Kernel) -> None:
        kernel.kc.stop_channels()
        try:
            await kernel.km.shutdown_kernel(now=True)
        except Exception:   # already gone
            pass

    def shutdown(self) -> None:
        """Stop every idle kernel (at exit; kernels also exit by themselves when this process dies)."""
        import asyncio
        if self._loop is None or not self._loop.is_running():
            return
        idle, self._idle = self._idle, []

        async def stop_all():
            await asyncio.gather(*(self._stop(k) for k in idle))
        try:
            asyncio.run_coroutine_threadsafe(stop_all(), self._loop).result(timeout=30)
        except Exception:
            pass


_KERNELS = _KernelPool()


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
