"""Blank templates: the committed copies match the schema, the workbook is complete, init is safe."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from ecomreview import templates
from ecomreview.audit import DEFAULTS as THRESHOLDS
from ecomreview.errors import UsageError
from ecomreview.schema import SETTINGS_DEFAULTS, TABLES

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data_templates"
N_COLUMNS = sum(len(t.columns) for t in TABLES.values())


def _csv_header(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no UTF-8 BOM"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1, f"{path.name} should hold the header row only"
    return rows[0]


def _check_workbook(path: Path) -> None:
    wb = load_workbook(path)
    assert wb.sheetnames == [templates.README_SHEET] + list(TABLES)
    for name, table in TABLES.items():
        sheet = wb[name]
        header = [c.value for c in sheet[1]]
        assert header == table.column_names, name
        assert sheet.max_row == 1
        assert sheet.freeze_panes == "A2"
        for cell, col in zip(sheet[1], table.columns):
            assert cell.font.bold
            assert col.zh in cell.comment.text and col.zh_help in cell.comment.text
    readme = wb[templates.README_SHEET]
    rows = list(readme.iter_rows(min_row=2, values_only=True))
    assert len(rows) == N_COLUMNS                       # one row per column of every table
    assert [(r[0], r[1]) for r in rows] == [(t.name, c.name) for t in TABLES.values() for c in t.columns]
    assert len(rows[0]) == len(templates.README_COLUMNS)
    order_id = rows[0]
    assert order_id[2] == "订单号" and order_id[3].startswith("yes")


@pytest.mark.parametrize("name", list(TABLES))
def test_committed_csv_headers_match_schema(name):
    assert _csv_header(COMMITTED / f"{name}.csv") == TABLES[name].column_names


def test_committed_folder_holds_exactly_the_templates():
    expected = {f"{n}.csv" for n in TABLES} | {"workbook.xlsx", "settings.yaml", "README.txt"}
    assert {p.name for p in COMMITTED.iterdir()} == expected


def test_committed_workbook_matches_schema():
    _check_workbook(COMMITTED / "workbook.xlsx")


def test_committed_text_files_are_up_to_date():
    assert (COMMITTED / "settings.yaml").read_text(encoding="utf-8") == templates.settings_text()
    assert (COMMITTED / "README.txt").read_text(encoding="utf-8") == templates.readme_text()
    assert (ROOT / "docs" / "templates.md").read_text(encoding="utf-8") == templates.docs_table_markdown()


def test_settings_template_parses_to_defaults_and_lists_thresholds(tmp_path):
    text = templates.write_settings(tmp_path / "settings.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    expected = {k: v for k, v in SETTINGS_DEFAULTS.items() if k != "thresholds"}
    assert {k: v for k, v in data.items() if k != "thresholds"} == expected
    assert data["thresholds"] is None                     # all overrides commented out
    for name, default in {"gross_margin_red": 0.30, "gross_margin_green": 0.40, "ltv_cac_red": 1,
                          "ltv_cac_green": 3, "channel_share_red": 0.70, "return_rate_amber": 0.127,
                          "repeat_rate_red": 0.15, "repeat_rate_green": 0.30, "tacos_amber": 0.15,
                          "logistics_amber": 0.25, "days_of_cover_amber": 60}.items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"# {name}:"))
        # Uncommenting the line gives exactly the default.
        assert yaml.safe_load(line.strip()[2:].split("#")[0]) == {name: default}
    assert all(f"# {n}:" in text for n in THRESHOLDS)     # every threshold the audit knows
    for key in SETTINGS_DEFAULTS:                          # every key has a zh and an en comment
        i = text.splitlines().index(next(ln for ln in text.splitlines() if ln.startswith(f"{key}:")))
        zh, en = text.splitlines()[i - 2: i]
        assert zh.startswith("# ") and en.startswith("# ") and zh != en


def test_init_workspace_writes_everything(tmp_path):
    path = templates.init_workspace(tmp_path / "client_a")
    for name, table in TABLES.items():
        assert _csv_header(path / f"{name}.csv") == table.column_names
    _check_workbook(path / "workbook.xlsx")
    readme = (path / "README.txt").read_text(encoding="utf-8")
    assert "precedence" in readme and "优先" in readme
    assert yaml.safe_load((path / "settings.yaml").read_text(encoding="utf-8"))["base_currency"] == "USD"


def test_init_workspace_accepts_an_existing_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert (templates.init_workspace(tmp_path / "empty") / "orders.csv").exists()


def test_init_workspace_refuses_a_non_empty_folder(tmp_path):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "orders.csv").write_text("my data", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty"):
        templates.init_workspace(folder)
    assert (folder / "orders.csv").read_text(encoding="utf-8") == "my data"   # untouched
    assert not (folder / "workbook.xlsx").exists()


def test_init_workspace_refuses_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        templates.init_workspace(f)


def test_docs_have_one_table_per_template_table():
    md = templates.docs_table_markdown()
    for name, table in TABLES.items():
        section = md.split(f"## `{name}` ")[1].split("\n## ")[0]
        body = [ln for ln in section.splitlines() if ln.startswith("| `")]
        assert [ln.split("`")[1] for ln in body] == table.column_names, name
    assert "thresholds.return_rate_amber` | 0.127" in md


def test_main_regenerates_into_a_root(tmp_path):
    assert templates.main(["--root", str(tmp_path)]) == 0
    assert _csv_header(tmp_path / "data_templates" / "orders.csv") == TABLES["orders"].column_names
    assert (tmp_path / "docs" / "templates.md").read_text(encoding="utf-8") == templates.docs_table_markdown()


def test_blank_workbook_is_read_by_the_loader_as_a_workspace(tmp_path):
    """Only workbook.xlsx (no CSVs): the loader finds the sheets and reports the empty orders table."""
    from ecomreview.errors import InputError
    from ecomreview.loader import load_workspace
    templates.write_workbook(tmp_path / "workbook.xlsx")
    with pytest.raises(InputError, match="no data rows"):
        load_workspace(tmp_path)
