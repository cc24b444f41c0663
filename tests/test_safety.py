"""Hostile data: escaped in HTML, inert in CSV/Excel, unable to leave the output folder or run code through notebook
parameters; reports load nothing from the network; inputs are never modified and an interrupted run never leaves a
half-written report that looks complete."""
from __future__ import annotations

import hashlib
import html as html_lib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ecomreview.report.html import assert_clean_html
from ecomreview.runner import run_review
from ecomreview.safety import cell_safe, csv_safe, inside, slug

from conftest import TINY, write_workspace

SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{'ab'*3}}"                     # rendered by a template engine it would read "ababab"
CODE = "\"; import pathlib; pathlib.Path('PWNED').touch() #"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"


# ------------------------------------------------------------------ spreadsheet formulas

@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "＝1+1"])
def test_formula_text_is_made_inert(text):
    assert cell_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["PAD-XL", "a=b", "", None, -3, 2.5, float("nan")])
def test_other_values_are_unchanged(value):
    out = cell_safe(value)
    assert out is value or out == value or (out != out and value != value)


def test_csv_safe_covers_cells_index_headers_and_keeps_numbers():
    df = pd.DataFrame({"sku": [FORMULA, "ok"], "=cmd": ["@x", None], "revenue": [-5.0, 3.0]},
                      index=pd.Index(["+idx", "b"], name="k"))
    df["cat"] = pd.Categorical(["-bad", "fine"])
    out = csv_safe(df)
    assert out["sku"].tolist() == ["'" + FORMULA, "ok"]
    assert out["'=cmd"].tolist()[0] == "'@x" and out["'=cmd"].isna().tolist()[1]
    assert out["cat"].tolist() == ["'-bad", "fine"]
    assert out["revenue"].tolist() == [-5.0, 3.0]          # numbers stay numbers, negative or not
    assert out.index.tolist() == ["'+idx", "b"] and out.index.name == "k"
    assert df["sku"].iloc[0] == FORMULA, "the input frame is not modified"
    multi = csv_safe(pd.DataFrame({"v": [1]}, index=pd.MultiIndex.from_tuples([("=a", "b")])))
    assert multi.index[0] == ("'=a", "b")


# ------------------------------------------------------------------ folder names

@pytest.mark.parametrize("name", ["../../etc", "..", "/abs/path", "a/../../b", "C:\\Windows\\x", "", "...", "CON"])
def test_slug_never_leaves_the_folder(name, tmp_path):
    s = slug(name)
    assert s and "/" not in s and "\\" not in s and ".." not in s and s not in ("con", "nul")
    assert tmp_path in inside(tmp_path, name).parents


def test_slug_keeps_distinct_chinese_clients_apart():
    a, b = slug("深圳小店"), slug("广州小店")
    assert a != b and a.startswith("client-") and b.startswith("client-")
    assert slug("深圳小店") == a, "deterministic: the next run finds the same folder"
    assert slug("Acme Pet Supplies") == "acme-pet-supplies" and slug("Café") == "cafe"


def test_inside_slugs_every_part(tmp_path):
    assert inside(tmp_path, "../../x", "2025") == (tmp_path / "x" / "2025").resolve()


# ------------------------------------------------------------------ a full run on hostile data (notebooks)

def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _hostile_workspace(root: Path) -> Path:
    files = dict(TINY)
    files["orders.csv"] = (TINY["orders.csv"].replace(",S2,", f",{SCRIPT},")
                           .replace("A2,2025-02-05,shop,S1", f"A2,2025-02-05,shop,{FORMULA.replace(',', ';')}"))
    files["products.csv"] = """
        sku,unit_cost,product_name,category
        S1,2,"{t}","{c}"
        {s},5,"{c}","{t}"
        """.format(t=TEMPLATE, c=CODE.replace('"', '""'), s=SCRIPT)
    files["campaigns.csv"] = """
        campaign_id,channel,type,start_date,end_date,spend,campaign_name,keyword
        C1,amz,ads,2025-02-01,2025-02-10,100,{s},"{c}"
        C2,shop,ads,2024-12-27,2025-01-05,100,"{t}",{s}
        """.format(s=SCRIPT, t=TEMPLATE, c=CODE.replace('"', '""'))
    files["settings.yaml"] = f'client: "{SCRIPT} {TEMPLATE}"\nconsultant: "<img src=x onerror=alert(2)>"\nlang: en\n'
    # the folder name reaches the notebooks as the `workspace` parameter
    return write_workspace(root / "shop\"; __import__('pathlib').Path('PWNED').touch(); x=\"", files)


@pytest.mark.slow
def test_hostile_text_is_escaped_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = _hostile_workspace(tmp_path / "in")
    before = _digest(ws)
    res = run_review(ws, "2025", out=tmp_path / "out", steps="audit")
    assert _digest(ws) == before, "inputs are never modified"
    assert res.out_dir.resolve().is_relative_to((tmp_path / "out").resolve())
    assert not list(tmp_path.rglob("PWNED")), "text from the data or a parameter ran as code"
    pages = list(res.out_dir.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "01-data-audit.html"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert assert_clean_html(html) == [], page.name
        assert SCRIPT not in html and "<img src=x" not in html, page.name
        assert "ababab" not in html, f"{page.name}: data text went through a template engine"
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I), page.name
        assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.I), page.name
    index = (res.out_dir / "index.html").read_text(encoding="utf-8")
    assert f"{SCRIPT} {TEMPLATE}" in html_lib.unescape(index)  # the client name is shown, as text
    for table in (res.out_dir / "tables").glob("*.csv"):
        for line in table.read_text(encoding="utf-8-sig").splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith(("=", "+", "@")), (table.name, cell)


# ------------------------------------------------------------------ durability

def _start_run(ws: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "ecomreview.cli", "run", str(ws), "--period", "2025",
                             "--steps", "audit", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def _wait_for_notebook(proc: subprocess.Popen, client_dir: Path, timeout: float = 120) -> None:
    """Until the run is executing its notebook in the temporary folder.

    The prepared-review cache exists from just before the kernels start until every step has finished (the
    executed notebook itself is written only when it completes, too late to interrupt reliably).
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if list(client_dir.glob(".2025.tmp-*/.review.pkl")):
            time.sleep(1.0)   # the kernel is up and running the notebook (it takes several seconds)
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never reached its notebooks")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_run_keeps_the_previous_report(tmp_path, sig):
    ws = write_workspace(tmp_path / "shop", TINY)
    inputs = _digest(ws)
    out = tmp_path / "out"
    first = run_review(ws, "2025", out=out, steps="audit")
    report = _digest(first.out_dir)
    proc = _start_run(ws, out)
    try:
        _wait_for_notebook(proc, first.out_dir.parent)
        assert proc.poll() is None, "the run finished before it could be interrupted"
        if sig == signal.SIGINT:
            proc.send_signal(sig)          # Ctrl-C: the runner cleans up and marks the run failed
            proc.wait(timeout=60)
        else:
            os.killpg(proc.pid, sig)       # power cut: nothing can clean up
            proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    assert _digest(first.out_dir) == report, "the previous complete report is untouched"
    assert _digest(ws) == inputs, "inputs are never modified"
    visible = sorted(p.name for p in first.out_dir.parent.iterdir() if not p.name.startswith("."))
    if sig == signal.SIGINT:
        assert visible in (["2025"], ["2025", "2025.failed"]), err
        failed = first.out_dir.parent / "2025.failed"
        if failed.exists():
            assert (failed / "FAILED.txt").exists() and not (failed / "index.html").exists()
        assert proc.returncode == 130, f"Ctrl-C is reported as an interruption (exit 130):\n{err}"
        assert visible == ["2025", "2025.failed"], err
    else:
        assert visible == ["2025"], "no half-written report folder appears under a report's name"
        leftovers = [p.name for p in first.out_dir.parent.iterdir() if p.name.startswith(".")]
        assert all(re.fullmatch(r"\.2025\.tmp-\d+-\d+", n) for n in leftovers), leftovers
