"""Loader: encodings, Chinese headers, money and rate strings, lazy validation with file/row/column messages."""
from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from ecomreview.errors import InputError
from ecomreview.loader import load_workspace, parse_money, parse_rate
from ecomreview.review import prepare

from conftest import TINY, write_workspace


def test_parse_money_formats():
    s = pd.Series(["$1,234.50", "Rs. 1,234", "¥99", "(12.50)", "1.234,50", "-3", "12,5O", "₹ 2,000"])
    v = parse_money(s)
    assert v.tolist()[:6] == [1234.50, 1234.0, 99.0, -12.50, 1234.50, -3.0]
    assert pd.isna(v[6])
    assert v[7] == 2000.0


def test_parse_rate():
    v = parse_rate(pd.Series(["2.9%", "0.029", "15 %"]))
    assert v.tolist() == pytest.approx([0.029, 0.029, 0.15])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings_and_chinese_headers(tmp_path, encoding):
    files = {"orders.csv": """
        订单号,下单日期,渠道,SKU,数量,单价,状态
        A1,2025-01-10,淘宝海外,杯子,2,"￥1,000.50",已取消
        A2,2025-01-11,淘宝海外,杯子,1,99,
        """}
    ws = load_workspace(write_workspace(tmp_path / "w", files, encoding=encoding))
    o = ws.tables["orders"]
    assert o["unit_price"].tolist() == [1000.50, 99.0]
    assert o["channel"].iloc[0] == "淘宝海外"
    r = prepare(ws)
    assert len(r.cancelled) == 1 and len(r.lines) == 1


def test_all_problems_at_once_with_row_and_column(tmp_path):
    files = {"orders.csv": """
        order_id,order_date,channel,sku,quantity,unit_price
        A1,2025-13-01,shop,S1,2,10
        A2,2025-01-02,shop,S1,two,10
        A3,2025-01-02,shop,,1,"12,5O"
        """}
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", files))
    text = str(e.value)
    assert "orders.csv row 2, column order_date" in text
    assert "orders.csv row 3, column quantity" in text and '"two"' in text
    assert "orders.csv row 4, column sku" in text


def test_ragged_row_names_the_row(tmp_path):
    files = {"orders.csv": "order_id,order_date,channel,sku,quantity,unit_price\nA1,2025-01-01,s,S1,1,1,234.50\n"}
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", files))
    assert "orders.csv row 2: this row has 7 values but the header has 6 columns" in str(e.value)


def test_missing_required_column_and_table(tmp_path):
    files = {"orders.csv": "order_id,order_date,channel,sku,quantity\nA1,2025-01-01,s,S1,1\n"}
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", files))
    assert "required column unit_price" in str(e.value)
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "empty", {"products.csv": "sku,unit_cost\n"}))
    assert "orders table" in str(e.value)


def test_empty_file(tmp_path):
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", {"orders.csv": ""}))
    assert "orders.csv: the file is empty" in str(e.value)


def test_currency_without_rate_is_an_error(tmp_path):
    files = dict(TINY)
    files["fx_rates.csv"] = TINY["fx_rates.csv"].replace("        2025-02,EUR,1.1\n", "")
    with pytest.raises(InputError) as e:
        prepare(load_workspace(write_workspace(tmp_path / "w", files)))
    assert "no exchange rate for EUR in 2025-02" in str(e.value)
    assert "row 5" in str(e.value)   # A3 is the 4th data line = spreadsheet row 5


def test_inputs_not_modified(tiny):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiny.iterdir()}
    prepare(load_workspace(tiny))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiny.iterdir()}
    assert before == after


def test_workbook(tmp_path, tiny):
    import openpyxl
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in ("orders", "products", "channels", "fx_rates"):
        df = pd.read_csv(tiny / f"{name}.csv", dtype=str, keep_default_na=False)
        sh = book.create_sheet(name)
        sh.append(list(df.columns))
        for row in df.itertuples(index=False):
            sh.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in row])
        sh.append([None] * len(df.columns))  # trailing blank row
    folder = tmp_path / "wb"
    folder.mkdir()
    book.save(folder / "workbook.xlsx")
    # a blank template CSV left beside the filled workbook does not hide the sheet
    (folder / "orders.csv").write_text("order_id,order_date,channel,sku,quantity,unit_price\n")
    ws = load_workspace(folder)
    assert ws.sources["orders"] == "workbook.xlsx [orders]"
    assert len(ws.tables["orders"]) == 6
    r = prepare(ws)
    assert r.lines["gross"].sum() == pytest.approx(116.0 + 10.0)


def test_settings_errors(tiny):
    (tiny / "settings.yaml").write_text("lang: fr\nbase_currency: dollars\nthresholds: {gross_margin_red: 25%}\n")
    with pytest.raises(InputError) as e:
        load_workspace(tiny)
    assert "lang must be zh or en" in str(e.value)
    assert "base_currency" in str(e.value)


def test_duplicated_column(tmp_path):
    files = {"orders.csv": "order_id,order_date,channel,sku,quantity,unit_price,sku\nA1,2025-01-01,s,S1,1,1,S2\n"}
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", files))
    assert 'columns "sku" and "sku" both mean sku' in str(e.value)


def test_header_only_orders(tmp_path):
    files = {"orders.csv": "order_id,order_date,channel,sku,quantity,unit_price\n"}
    with pytest.raises(InputError) as e:
        load_workspace(write_workspace(tmp_path / "w", files))
    assert "has no data rows" in str(e.value)
