"""End to end: the runner executes the notebooks with papermill and writes a clean, complete report."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecomreview import demo
from ecomreview.cli import main
from ecomreview.report.html import assert_clean_html
from ecomreview.runner import run_review

from conftest import TINY, write_workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory):
    return demo.generate(tmp_path_factory.mktemp("demo") / "demo-seller", n_lines=20000, seed=2025)


@pytest.fixture(scope="session")
def demo_report(demo_ws, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return run_review(demo_ws, "2025", out=out, lang="zh")


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_layout_and_metrics(demo_report):
    d = demo_report.out_dir
    assert d.name == "2025" and d.parent.name == "demo-seller"
    for name in ("index.html", "01-data-audit.html", "metrics.json"):
        assert (d / name).exists(), name
    assert (d / "notebooks" / "01_data_audit.ipynb").exists()
    assert (d / "tables" / "monthly_trend.csv").exists()
    m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    for key in ("client", "period", "currency", "kpis", "kpis_previous", "health", "data_quality"):
        assert key in m, key
    assert m["period"] == "2025" and m["currency"] == "USD"
    assert m["kpis"]["revenue"] > 0 and m["kpis_previous"]["revenue"] > 0
    assert set(m["health"]["gross_margin"]) >= {"value", "status", "threshold"}
    assert m["data_quality"]["duplicate_lines"] == 2
    assert not list(d.parent.glob(".*tmp*")), "no temporary folder is left behind"


def test_every_step_lands_in_the_report(demo_report, demo_ws):
    d = demo_report.out_dir
    planted = json.loads((demo_ws / "planted.json").read_text(encoding="utf-8"))
    m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    assert {ch: v["class"] for ch, v in m["channels"].items()} == planted["channels"]
    assert {s: m["products"][s]["class"] for s in planted["products"]} == \
        {s: v["class"] for s, v in planted["products"].items()}
    assert {c: v["verdict"] for c, v in m["promotions"].items()} == planted["promotions"]
    for cid, v in m["campaigns"].items():
        assert set(v) == {"roas", "acos", "breakeven_roas", "verdict"}
        if v["verdict"] != "unknown":
            assert v["verdict"] == planted["campaigns"][cid], cid
    for page, nb in (("02-channels.html", "02_channels"), ("03-products.html", "03_products"),
                     ("04-campaigns.html", "04_campaigns"), ("05-smart-plan.html", "05_smart_plan")):
        assert (d / page).exists(), page
        assert (d / "notebooks" / f"{nb}.ipynb").exists(), nb
    for table in ("channels", "products", "products_restock", "campaigns", "promotions", "keywords"):
        assert (d / "tables" / f"{table}.csv").exists(), table
    index = (d / "index.html").read_text(encoding="utf-8")
    for page in ("02-channels.html", "03-products.html", "04-campaigns.html"):
        assert f'href="{page}"' in index, page
    assert "利润奶牛" in index and "爆款" in index and "ROAS" in index  # each step's finding paragraph


def test_reports_are_clean(demo_report):
    for page in demo_report.out_dir.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert assert_clean_html(html) == [], page.name
        assert "<svg" in html or page.name == "index.html"


def test_english_and_escaping(tmp_path):
    files = dict(TINY)
    files["orders.csv"] = TINY["orders.csv"].replace("S2,", "<script>alert(1)</script>,")
    files["products.csv"] = TINY["products.csv"].replace("S2,", "<script>alert(1)</script>,")
    files["settings.yaml"] = "client: <b>Acme & Co</b>\nlang: en\n"
    ws = write_workspace(tmp_path / "acme", files)
    before = _digest(ws)
    res = run_review(ws, "2025", out=tmp_path / "out", steps="audit")
    assert _digest(ws) == before, "inputs are never modified"
    index = (res.out_dir / "index.html").read_text(encoding="utf-8")
    audit = (res.out_dir / "01-data-audit.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in audit
    assert "<b>Acme" not in index and "&lt;b&gt;Acme" in index
    assert "Data audit" in audit and "数据盘点" not in audit


def test_failed_run_keeps_previous_report(tmp_path, monkeypatch):
    ws = write_workspace(tmp_path / "shop", TINY)
    out = tmp_path / "out"
    first = run_review(ws, "2025", out=out, steps="audit")
    before = _digest(first.out_dir)
    broken = tmp_path / "nb"
    broken.mkdir()
    from ecomreview import runner
    src = runner.notebooks_dir()
    for nb in src.glob("*.ipynb"):
        shutil.copy(nb, broken / nb.name)
    text = (broken / "01_data_audit.ipynb").read_text().replace("audit.show_trend(ctx)", "1/0")
    (broken / "01_data_audit.ipynb").write_text(text)
    monkeypatch.setattr(runner, "notebooks_dir", lambda: broken)
    with pytest.raises(runner.StepFailed) as e:
        run_review(ws, "2025", out=out, steps="audit")
    assert "ZeroDivisionError" in str(e.value)
    assert _digest(first.out_dir) == before, "the previous complete report is untouched"
    failed = first.out_dir.parent / "2025.failed"
    assert (failed / "FAILED.txt").exists() and (failed / "notebooks" / "01_data_audit.ipynb").exists()
    assert not (failed / "index.html").exists()


def test_cli_exit_codes(tmp_path, capsys):
    ws = write_workspace(tmp_path / "bad", {"orders.csv": "order_id,order_date\nA1,2025-01-01\n"})
    assert main(["validate", str(ws)]) == 1
    err = capsys.readouterr().err
    assert "orders.csv" in err and "required column channel" in err and "Traceback" not in err
    assert main(["run", str(ws), "--period", "2025", "--out", str(tmp_path / "o")]) == 1
    assert main(["run", str(ws), "--period", "20x5"]) == 2
    good = write_workspace(tmp_path / "good", TINY)
    assert main(["validate", str(good)]) == 0
    assert main(["run", str(good), "--period", "2019", "--out", str(tmp_path / "o")]) == 1


def test_console_script_usage_error():
    r = subprocess.run([sys.executable, "-m", "ecomreview.cli", "run"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
