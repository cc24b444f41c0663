"""Batch reviews: the batch file's checks, one job's outcome, a mixed batch end to end, local vs Dask."""
from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest
import yaml

from ecomreview import batch as B
from ecomreview import demo
from ecomreview.cli import main
from ecomreview.errors import InputError, UsageError
from ecomreview.report.html import assert_clean_html

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _write(folder: Path, spec: dict) -> Path:
    path = folder / "batch.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path):
    """A batch folder with two (empty) workspace folders and a logo; enough for the file checks."""
    for name in ("acme", "beta"):
        (tmp_path / "clients" / name).mkdir(parents=True)
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "plan.csv").write_text("x\n", encoding="utf-8")
    return tmp_path


# --- the batch file ---------------------------------------------------------------------------------------


def test_jobs_from_file(base):
    path = _write(base, {"out": "reports", "workers": 2,
                         "defaults": {"lang": "zh", "consultant": "Lily", "logo": "logo.png"},
                         "clients": [{"workspace": "clients/acme", "name": "Acme", "lang": "en",
                                      "periods": [2025, "2025Q1", "2025 q1"], "plan": "plan.csv"},
                                     {"workspace": "clients/beta", "periods": "2025Q2", "steps": ["audit"]}]})
    b = B.load_batch(path)
    assert b.out == base / "reports" and b.workers == 2 and b.lang == "zh"
    # "2025 q1" is the same period as 2025Q1: one job, not two
    assert [(j.folder, j.period, j.lang) for j in b.jobs] == [
        ("acme", "2025", "en"), ("acme", "2025Q1", "en"), ("beta", "2025Q2", "zh")]
    acme_year, acme_q1, beta = b.jobs
    # the plan tracks quarters; the annual run makes its own plan
    assert acme_year.plan is None and acme_q1.plan == str(base / "plan.csv")
    assert beta.steps == "audit" and beta.name is None and beta.consultant == "Lily"
    assert b.logos == {"acme": base / "logo.png", "beta": base / "logo.png"}


@pytest.mark.parametrize("field, value, expected", [
    ("periods", ["2025Q5"], "2025Q5"),
    ("periods", [], "periods"),
    ("workspace", "/etc", "relative path"),
    ("workspace", "../outside", "relative path"),
    ("workspace", "clients/../../x", "relative path"),
    ("workspace", "clients/none", "does not exist"),
    ("lang", "fr", "lang must be zh or en"),
    ("logo", "plan.csv", "not a PNG"),
    ("plan", "C:\\plans\\p.csv", "relative path"),
    ("colour", "red", "unknown setting"),
])
def test_bad_client_fields(base, field, value, expected):
    client = {"workspace": "clients/acme", "periods": [2025], field: value}
    with pytest.raises(UsageError, match="(?s)" + expected.replace(".", r"\.")):
        B.load_batch(_write(base, {"clients": [client]}))


def test_every_problem_listed_at_once(base):
    path = _write(base, {"out": "/tmp/elsewhere", "workers": 0,
                         "clients": [{"workspace": "clients/acme", "periods": ["20x5"]}, "beta"]})
    with pytest.raises(UsageError) as e:
        B.load_batch(path)
    text = str(e.value)
    for part in ("`out`", "workers", "20x5", "client 2"):
        assert part in text, part


def test_logo_must_really_be_an_image(base):
    # an SVG (which can carry script) renamed .png is refused: the type comes from the bytes
    (base / "fake.png").write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>")
    with pytest.raises(UsageError, match="fake.png"):
        B.load_batch(_write(base, {"clients": [{"workspace": "clients/acme", "periods": [2025],
                                                "logo": "fake.png"}]}))


def test_two_clients_cannot_share_a_report_folder(base):
    (base / "other" / "acme").mkdir(parents=True)
    with pytest.raises(UsageError, match="same report folder"):
        B.load_batch(_write(base, {"clients": [{"workspace": "clients/acme", "periods": [2025]},
                                               {"workspace": "other/acme", "periods": [2025]}]}))


def test_bad_batch_file_exits_2(base, capsys):
    (base / "broken.yaml").write_text("clients: [\n", encoding="utf-8")
    assert main(["batch", str(base / "broken.yaml")]) == 2
    assert main(["batch", str(_write(base, {"clients": [{"workspace": "/", "periods": [2025]}]}))]) == 2
    assert "relative path" in capsys.readouterr().err


# --- one job, with the runner replaced: how each kind of failure is reported ------------------------------


@pytest.mark.parametrize("exc, step, message", [
    (InputError("orders.csv row 3: bad date"), "load", "orders.csv row 3: bad date"),
    (RuntimeError("boom"), "load", "RuntimeError: boom"),
])
def test_job_failure_reported_not_raised(monkeypatch, tmp_path, exc, step, message):
    import ecomreview.runner as runner

    def fake(*a, **kw):
        raise exc
    monkeypatch.setattr(runner, "run_review", fake)
    res = B.run_job(B.Job(folder="acme", workspace=str(tmp_path), period="2025"), str(tmp_path))
    assert (res.status, res.step, res.message) == ("failed", step, message)


def test_step_failure_names_the_step_and_keeps_the_notebook(monkeypatch, tmp_path):
    import ecomreview.runner as runner

    kept = tmp_path / "acme" / "2025.failed" / "notebooks" / "02_channels.ipynb"

    def fake(*a, log, **kw):
        log("running 01_data_audit")
        log("finished 01_data_audit in 1.0 s")
        log("running 02_channels")
        raise runner.StepFailed("channels", "KeyError: 'x'", kept)
    monkeypatch.setattr(runner, "run_review", fake)
    seen = []
    res = B.run_job(B.Job(folder="acme", workspace=str(tmp_path), period="2025"), str(tmp_path),
                    progress=seen.append)
    assert (res.status, res.step, res.message) == ("failed", "channels", "KeyError: 'x'")
    assert res.failed_notebook == "acme/2025.failed/notebooks/02_channels.ipynb"
    assert seen == [1]     # one step finished before the failure


def test_exit_code():
    ok = B.JobResult(folder="a", period="2025", client="A", status="ok")
    bad = B.JobResult(folder="a", period="2025Q1", client="A", status="failed")
    assert B.exit_code([ok, ok]) == 0
    assert B.exit_code([ok, bad]) == 1


# --- end to end on small demo workspaces (steps: audit) ---------------------------------------------------


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    demo.generate(root / "clients" / "acme", n_lines=5000, seed=1)
    demo.generate(root / "clients" / "beta", n_lines=5000, seed=2)
    broken = demo.generate(root / "clients" / "broken", n_lines=5000, seed=3)
    orders = broken / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[4].split(",")
    row[header.index("order_date")] = "2025-13-45"     # not a date: a user's input error
    lines[4] = ",".join(row)
    orders.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "logo.png").write_bytes(PNG)
    return root


def _spec(out: str) -> dict:
    return {"out": out, "workers": 2,
            "defaults": {"lang": "en", "steps": "audit", "consultant": "Lily <b>Consulting</b>", "logo": "logo.png"},
            "clients": [{"workspace": "clients/acme", "name": "=Acme <script>", "periods": [2025, "2025Q4"]},
                        {"workspace": "clients/beta", "periods": ["2025Q2", 2019]},
                        {"workspace": "clients/broken", "periods": [2025]}]}


@pytest.fixture(scope="module")
def local_run(clients):
    path = _write(clients, _spec("reports"))
    code = main(["batch", str(path), "--no-progress"])
    return clients / "reports", code


@pytest.mark.slow
def test_mixed_batch(local_run):
    out, code = local_run
    assert code == 1, "a failed job makes the exit code non-zero"
    for rel in ("acme/2025", "acme/2025Q4", "beta/2025Q2"):
        assert (out / rel / "index.html").exists() and (out / rel / "01-data-audit.html").exists(), rel
    assert not (out / "beta" / "2019").exists() and not (out / "broken" / "2025").exists()
    with open(out / "batch-summary.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    by_job = {(r["Folder"], r["Period"]): r for r in rows}
    assert [by_job[k]["Status"] for k in [("acme", "2025"), ("acme", "2025Q4"), ("beta", "2025Q2")]] == ["ok"] * 3
    assert by_job[("beta", "2019")]["Status"] == "failed" and "no order lines fall in 2019" in by_job[("beta", "2019")]["Message"]
    broken = by_job[("broken", "2025")]
    assert broken["Status"] == "failed" and broken["Step"] == "loading" and "order_date" in broken["Message"]
    assert by_job[("acme", "2025")]["Client"] == "'=Acme <script>", "a formula-like name is defused in the CSV"
    html = (out / "index.html").read_text(encoding="utf-8")
    for rel in ("acme/2025/index.html", "acme/2025Q4/index.html", "beta/2025Q2/index.html"):
        assert f'href="{rel}"' in html
    assert "<script>" not in html and "=Acme &lt;script&gt;" in html
    assert "Lily &lt;b&gt;Consulting&lt;/b&gt;" in html and "data:image/png;base64," in html
    assert assert_clean_html(html) == []
    assert (out / "acme" / "logo.png").read_bytes() == PNG


def _report_digest(out: Path) -> dict:
    """What a report says, without the time it was made."""
    digest = {}
    for m in sorted(out.glob("*/*/metrics.json")):
        data = json.loads(m.read_text(encoding="utf-8"))
        data.pop("generated_at", None)
        digest[m.parent.relative_to(out).as_posix()] = (data, sorted(p.name for p in m.parent.iterdir()))
    return digest


@pytest.mark.slow
def test_dask_gives_the_same_reports(clients, local_run):
    distributed = pytest.importorskip("distributed")
    path = _write(clients, _spec("reports-dask"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = main(["batch", str(path), "--no-progress", "--executor", "dask", "--scheduler", cluster.scheduler_address])
    assert code == local_run[1] == 1
    local, dask = _report_digest(local_run[0]), _report_digest(clients / "reports-dask")
    assert set(local) == {"acme/2025", "acme/2025Q4", "beta/2025Q2"}
    assert dask == local


# --- the runner's step execution: steps 1–4 side by side in warm kernels, step 5 after them ----------------


def _fake_notebooks(folder: Path, fail: str = "") -> Path:
    """Five tiny step notebooks that record when they ran (and one that raises, if asked)."""
    import nbformat
    from ecomreview.runner import STEPS
    folder.mkdir()
    for sid, nb, _ in STEPS:
        params = nbformat.v4.new_code_cell('out_dir = ""\nperiod = ""')
        params.metadata["tags"] = ["parameters"]
        body = ("import time, pathlib, os\nstart = time.time()\ntime.sleep(0.8)\n"
                f"assert 'start' in dir() and 'leftover' not in dir()\nleftover = 1\n"
                f"pathlib.Path(out_dir, '{sid}.txt').write_text(f'{{start}} {{time.time()}} {{os.getpid()}}')\n")
        if sid == fail:
            body += "1/0\n"
        nbformat.write(nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(body)]),
                       str(folder / f"{nb}.ipynb"))
    return folder


def _times(work: Path, sid: str) -> tuple[float, float, int]:
    start, end, pid = (work / f"{sid}.txt").read_text().split()
    return float(start), float(end), int(pid)


@pytest.mark.slow
def test_steps_run_side_by_side_then_plan(tmp_path, monkeypatch):
    import ecomreview.runner as runner
    nbs = _fake_notebooks(tmp_path / "nb")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: nbs)
    monkeypatch.setenv("ECOMREVIEW_STEP_KERNELS", "2")
    work = tmp_path / "work"
    (work / "notebooks").mkdir(parents=True)
    timings, logged = {}, []
    params = {"out_dir": str(work), "period": "2025"}
    runner._execute(list(runner.STEP_IDS), work, params, timings, logged.append)
    t = {sid: _times(work, sid) for sid in runner.STEP_IDS}
    assert t["audit"][0] < t["channels"][1] and t["channels"][0] < t["audit"][1], "steps 1 and 2 overlap"
    assert t["plan"][0] >= max(t[s][1] for s in ("audit", "channels", "products", "campaigns")), "plan waits"
    assert len({pid for _, _, pid in t.values()}) == 2, "two kernels, reused"
    assert {"audit", "plan", "execute"} <= set(timings)
    assert sum(m.startswith("finished ") for m in logged) == 5
    # a second run reuses the warm kernels: the namespace is empty (the notebook asserts no `leftover`)
    runner._execute(["audit"], work, params, {}, logged.append)
    assert _times(work, "audit")[2] in {pid for _, _, pid in t.values()}


@pytest.mark.slow
def test_failing_step_stops_the_run(tmp_path, monkeypatch):
    import nbformat
    import ecomreview.runner as runner
    nbs = _fake_notebooks(tmp_path / "nb", fail="products")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: nbs)
    work = tmp_path / "work"
    (work / "notebooks").mkdir(parents=True)
    with pytest.raises(runner.StepFailed) as e:
        runner._execute(list(runner.STEP_IDS), work, {"out_dir": str(work), "period": "2025"}, {}, lambda m: None)
    assert e.value.step == "products" and e.value.message.startswith("ZeroDivisionError")
    assert not (work / "plan.txt").exists(), "step 5 does not run after a failure"
    kept = nbformat.read(str(work / "notebooks" / "03_products.ipynb"), as_version=4)
    assert any(o.get("output_type") == "error" for c in kept.cells for o in c.get("outputs", []))
