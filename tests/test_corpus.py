"""Malformed inputs (tests/corpus, cases.yaml): each gives its message with file, row, column and fix, the SPEC §7
exit code, never a traceback, and leaves the input untouched; usable data shows up in the data-quality audit."""
from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ecomreview import audit, cli
from ecomreview.cli import main
from ecomreview.errors import InputError
from ecomreview.loader import MAX_EXAMPLES, load_workspace
from ecomreview.period import Period
from ecomreview.review import prepare

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _live_stderr(monkeypatch):
    """cli._print_problems binds sys.stderr when imported; under pytest that can be a stale capture stream."""
    orig = cli._print_problems
    monkeypatch.setattr(cli, "_print_problems", lambda problems, out=None: orig(problems, out=sys.stderr))


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(args, capsys) -> tuple[int, str]:
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_every_corpus_folder_has_an_expectation():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders == set(CASES), "cases.yaml and the corpus folders list the same cases"


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate(case, tmp_path, capsys):
    spec = CASES[case]
    ws = tmp_path / case
    shutil.copytree(CORPUS / case, ws)
    before = _digest(ws)
    rc, text = _cli(["validate", str(ws)], capsys)
    assert rc == spec["exit"], text
    assert "Traceback" not in text
    for msg in spec.get("messages", []):
        assert msg in text, f"{msg!r} not in:\n{text}"
    assert _digest(ws) == before, "validate never modifies the input"
    assert _digest(CORPUS / case) == _digest(ws)


@pytest.mark.parametrize("case", sorted(c for c, s in CASES.items() if s["exit"] == 1))
def test_run_on_bad_input_exits_1_and_writes_nothing(case, tmp_path, capsys):
    ws = tmp_path / case
    shutil.copytree(CORPUS / case, ws)
    before = _digest(ws)
    out = tmp_path / "reports"
    rc, text = _cli(["run", str(ws), "--period", "2025", "--out", str(out)], capsys)
    assert rc == 1 and "Traceback" not in text
    assert CASES[case]["messages"][0] in text
    assert not out.exists() or not any(out.rglob("index.html"))
    assert _digest(ws) == before


@pytest.mark.parametrize("case", sorted(c for c, s in CASES.items() if "audit" in s))
def test_usable_data_is_counted_in_the_data_quality_audit(case):
    dq = audit.data_quality(prepare(load_workspace(CORPUS / case)), Period.parse("2025"))
    counts = dict(zip(dq["check"], dq["count"]))
    for check, n in CASES[case]["audit"].items():
        assert counts[check] == n, (check, counts)
    # the checks this case is not about stay at zero (the corpus plants one kind of problem per case)
    planted = set(CASES[case]["audit"]) | {"lines_without_customer", "lines_without_cost", "skus_without_cost"}
    assert all(v == 0 for k, v in counts.items() if k not in planted), counts


def test_no_refund_is_not_above_a_negative_line():
    dq = audit.data_quality(prepare(load_workspace(CORPUS / "negative_and_zero")), Period.parse("2025"))
    # no line of this case has a refund, so no refund can be larger than its line
    assert dict(zip(dq["check"], dq["count"]))["refund_above_line"] == 0


def test_workbook_row_numbers_are_the_sheet_rows():
    # xlsx_blank_rows: three blank rows, header on row 4, data on rows 5 and 26
    ws = load_workspace(CORPUS / "xlsx_blank_rows")
    assert ws.tables["orders"]["_row"].tolist() == [5, 26]


def test_merged_order_id_fills_its_rows():
    o = load_workspace(CORPUS / "xlsx_merged_cells").tables["orders"]
    assert o["order_id"].tolist() == ["A1", "A1", "A2"]
    assert o["channel"].tolist() == ["shop"] * 3 and o["sku"].tolist() == ["S1", "S2", "S1"]


def test_cached_formula_values_are_used():
    o = load_workspace(CORPUS / "xlsx_formulas_calculated").tables["orders"]
    assert o["quantity"].tolist() == [2.0] and o["unit_price"].tolist() == [10.0]


def test_accepted_date_forms_keep_the_written_day():
    o = load_workspace(CORPUS / "dates_accepted_forms").tables["orders"]
    # '2025-03-04T23:10:00+08:00' stays on the 4th: an offset is dropped, never converted
    assert (o["order_date"] == pd.Timestamp("2025-03-04")).all()


def test_gbk_and_utf16_read_the_same_table():
    frames = [load_workspace(CORPUS / c).tables["orders"] for c in ("gbk", "utf16_excel_unicode_text")]
    assert frames[0]["unit_price"].tolist() == [1000.50, 99.0]
    assert frames[1]["unit_price"].tolist() == [1000.50, 99.0]
    assert frames[0]["channel"].tolist() == frames[1]["channel"].tolist() == ["淘宝海外", "淘宝海外"]


# ------------------------------------------------------------------ a 1,000,000-row file

def _big_orders(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    return pd.DataFrame({
        "order_id": "O" + pd.Series(np.arange(n) // 2).astype(str),
        "order_date": days.strftime("%Y-%m-%d"),
        "channel": rng.choice(["amazon_us", "shopify"], n),
        "sku": rng.choice([f"SKU-{i}" for i in range(300)], n),
        "quantity": rng.integers(1, 5, n).astype(str),
        "unit_price": (rng.integers(500, 5000, n) / 100).astype(str),
        "customer_id": "c" + pd.Series(rng.integers(0, 80_000, n)).astype(str),
    })


@pytest.mark.slow
def test_million_rows_load_fast(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    _big_orders(1_000_000).to_csv(folder / "orders.csv", index=False)
    t0 = time.perf_counter()
    review = prepare(load_workspace(folder))
    elapsed = time.perf_counter() - t0
    print(f"1,000,000 rows: load + validate + prepare in {elapsed:.1f} s")
    assert len(review.lines) == 1_000_000
    assert elapsed < 30


@pytest.mark.slow
def test_million_rows_with_errors_give_a_bounded_message(tmp_path, capsys):
    folder = tmp_path / "big-bad"
    folder.mkdir()
    df = _big_orders(1_000_000)
    df.loc[df.index % 1000 == 7, "quantity"] = "two"       # 1,000 bad quantities
    df.loc[df.index % 5000 == 9, "order_date"] = "03/04/2025"  # 200 ambiguous dates
    df.to_csv(folder / "orders.csv", index=False)
    with pytest.raises(InputError) as e:
        load_workspace(folder)
    probs = e.value.problems
    assert len(probs) == 2 * (MAX_EXAMPLES + 1), [str(p) for p in probs]
    assert any("995 more rows with the same problem" in str(p) for p in probs)
    assert any("195 more rows with the same problem" in str(p) for p in probs)
    rc, text = _cli(["validate", str(folder)], capsys)
    assert rc == 1 and "Traceback" not in text and len(text) < 5000


# ------------------------------------------------------------------ usable data through the whole audit step

def _has_customer_ids(case: str) -> bool:
    ws = load_workspace(CORPUS / case)
    return bool(ws.tables["orders"]["customer_id"].notna().any())


RUN_CASES = ["unknown_channels", "utf16_without_bom", "negative_and_zero", "duplicate_lines", "gbk",
             "xlsx_merged_cells"]


def test_run_cases_cover_workspaces_without_customer_ids():
    # customer_id is optional (SPEC §2); the clean-report run below must cover both kinds
    kinds = {_has_customer_ids(c) for c in RUN_CASES}
    assert kinds == {True, False}


@pytest.mark.slow
@pytest.mark.parametrize("case", RUN_CASES)
def test_run_on_usable_data_gives_a_clean_report(case, tmp_path, capsys):
    from ecomreview.report.html import assert_clean_html
    ws = tmp_path / case
    shutil.copytree(CORPUS / case, ws)
    before = _digest(ws)
    rc, text = _cli(["run", str(ws), "--period", "2025", "--steps", "audit", "--out", str(tmp_path / "out")], capsys)
    assert rc == 0, text
    assert _digest(ws) == before
    for page in (tmp_path / "out").rglob("*.html"):
        assert assert_clean_html(page.read_text(encoding="utf-8")) == [], page


def test_validate_a_file_or_a_missing_folder(tmp_path, capsys):
    rc, text = _cli(["validate", str(CORPUS / "gbk" / "orders.csv")], capsys)
    assert rc == 1 and "orders.csv: this is a file, not a workspace folder. give the folder" in text
    rc, text = _cli(["validate", str(tmp_path / "nowhere")], capsys)
    assert rc == 1 and "this workspace folder does not exist. create it with: ecomreview init" in text
    # a workbook given directly is read as the workspace
    rc, text = _cli(["validate", str(CORPUS / "xlsx_blank_rows" / "workbook.xlsx")], capsys)
    assert rc == 0 and "Traceback" not in text
