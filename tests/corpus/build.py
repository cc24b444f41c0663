"""Regenerates the malformed-input corpus (python tests/corpus/build.py); cases.yaml says what each must produce.

Text cases are plain files; the binary ones (GBK, UTF-16, xlsx, a PNG) are written from here so that
their bytes are reproducible. The 1,000,000-row case is generated inside the test, not committed.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
H = "order_id,order_date,channel,sku,quantity,unit_price"
OK_ORDERS = f"""{H},customer_id
A1,2025-01-10,shop,S1,2,10,c1
A2,2025-02-05,shop,S2,1,20,c2
"""
PRODUCTS = "sku,unit_cost\nS1,4\nS2,8\n"


def text_cases() -> dict[str, dict[str, str]]:
    return {
        "missing_column": {"orders.csv": "order_id,order_date,channel,sku,quantity\nA1,2025-01-10,shop,S1,2\n"},
        "duplicated_column": {"orders.csv": f"{H},订单号\nA1,2025-01-10,shop,S1,2,10,A1\n"},
        "header_only": {"orders.csv": H + "\n"},
        "empty_file": {"orders.csv": ""},
        "blank_lines_only": {"orders.csv": "\n\n  \n"},
        "text_in_numbers": {"orders.csv": f"""{H},discount
            A1,2025-01-10,shop,S1,two,10,0
            A2,2025-01-10,shop,S1,1,"12,5O",0
            A3,2025-01-10,shop,S1,1,10,abc
            A4,2025-01-10,shop,S1,1e400,10,0
            """},
        "dates_ambiguous": {"orders.csv": f"{H}\nA1,03/04/2025,shop,S1,1,10\nA2,2025-03-05,shop,S1,1,10\n"},
        "dates_day_first": {"orders.csv": f"{H}\nA1,13/04/2025,shop,S1,1,10\n"},
        "dates_excel_number": {"orders.csv": f"{H}\nA1,45678,shop,S1,1,10\n"},
        "dates_impossible": {"orders.csv": f"{H}\nA1,2025-02-30,shop,S1,1,10\nA2,0001-01-01,shop,S1,1,10\n"
                                           "A3,March 4 2025,shop,S1,1,10\n"},
        "dates_accepted_forms": {"orders.csv": f"""{H}
            A1,2025/03/04,shop,S1,1,10
            A2,2025.3.4,shop,S1,1,10
            A3,2025-03-04T23:10:00+08:00,shop,S1,1,10
            A4,2025-03-04 10:00Z,shop,S1,1,10
            A5,2025-03-04 10:00:59,shop,S1,1,10
            """},
        "negative_and_zero": {"orders.csv": f"""{H}
            A1,2025-01-10,shop,S1,-1,10
            A2,2025-01-10,shop,S1,0,10
            A3,2025-01-10,shop,S1,1,0
            A4,2025-01-10,shop,S1,1,-5
            A5,2025-01-10,shop,S1,1,10
            """, "products.csv": PRODUCTS},
        "refund_above_line": {"orders.csv": f"{H},refund_amount\nA1,2025-01-10,shop,S1,1,10,25\n"
                                            "A2,2025-01-10,shop,S1,1,10,10\n", "products.csv": PRODUCTS},
        "duplicate_lines": {"orders.csv": f"{H}\nA1,2025-01-10,shop,S1,1,10\nA1,2025-01-10,shop,S1,1,10\n"
                                          "A2,2025-01-10,shop,S1,1,10\n", "products.csv": PRODUCTS},
        "sku_without_cost": {"orders.csv": f"{H}\nA1,2025-01-10,shop,S1,1,10\nA2,2025-01-10,shop,S9,1,10\n",
                             "products.csv": PRODUCTS},
        "cancelled_lines": {"orders.csv": f"{H},status\nA1,2025-01-10,shop,S1,1,10,cancelled\n"
                                          "A2,2025-01-10,shop,S1,1,10,已取消\nA3,2025-01-10,shop,S1,1,10,\n",
                            "products.csv": PRODUCTS},
        "currency_without_rate": {"orders.csv": f"{H},currency\nA1,2025-01-10,shop,S1,1,10,USD\n"
                                                "A2,2025-02-05,shop,S1,1,10,EUR\n",
                                  "fx_rates.csv": "month,currency,rate_to_base\n2025-01,EUR,1.1\n"},
        "cost_currency_without_rate": {"orders.csv": OK_ORDERS, "products.csv": "sku,unit_cost,cost_currency\n"
                                       "S1,20,CNY\nS2,8,\n"},
        "unknown_channels": {"orders.csv": OK_ORDERS, "products.csv": PRODUCTS,
                             "traffic.csv": "month,channel,sessions\n2025-01,shop,100\n2025-01,tiktok,50\n",
                             "campaigns.csv": "campaign_id,channel,type,start_date,end_date,spend\n"
                                              "C1,shop,ads,2025-01-01,2025-01-10,10\n"
                                              "C2,ebay_de,ads,2025-01-01,2025-01-10,10\n"},
        "ragged_row": {"orders.csv": f"{H}\nA1,2025-01-10,shop,S1,1,1,234.50\n"},
        "unclosed_quote": {"orders.csv": f'{H}\nA1,2025-01-10,shop,"S1,1,10\nA2,2025-01-10,shop,S1,1,10\n'},
        "html_not_csv": {"orders.csv": "<!DOCTYPE html><html><body><h1>Report</h1></body></html>\n"},
        "title_rows_above_header": {"orders.csv": f"Orders export 2025,,,,,\n,,,,,\n{H}\n"
                                                  "A1,2025-01-10,shop,S1,1,10\n"},
        "semicolon_decimal_comma": {"orders.csv": "order_id;order_date;channel;sku;quantity;unit_price\n"
                                                  "A1;2025-01-10;shop;S1;1;12,50\n"},
        "many_unknown_columns": {"orders.csv": H + "," + ",".join(f"extra{i}" for i in range(40)) + "\n"
                                               + "A1,2025-01-10,shop,S1,1,10" + "," * 40 + "\n"},
        "bad_enum_and_campaign_dates": {"orders.csv": OK_ORDERS,
                                        "expenses.csv": "month,category,amount\n2025-01,snacks,10\n2025-13,software,5\n",
                                        "campaigns.csv": "campaign_id,channel,type,start_date,end_date,spend\n"
                                                         "C1,shop,ads,2025-01-10,2025-01-01,10\n"},
        "campaign_end_before_start": {"orders.csv": OK_ORDERS,
                                      "campaigns.csv": "campaign_id,channel,type,start_date,end_date,spend\n"
                                                       "C1,shop,ads,2025-01-10,2025-01-01,10\n"},
        "negative_cost_and_big_rate": {"orders.csv": OK_ORDERS, "products.csv": "sku,unit_cost,duty_rate\n"
                                       "S1,-4,7.5%\nS2,8,150%\n"},
        "duplicate_keys": {"orders.csv": OK_ORDERS, "products.csv": "sku,unit_cost\nS1,4\nS1,5\nS2,8\n",
                           "fx_rates.csv": "month,currency,rate_to_base\n2025-01,EUR,1.1\n2025-01,EUR,1.2\n"},
        "settings_bad": {"orders.csv": OK_ORDERS, "settings.yaml": "lang: fr\nbase_currency: dollars\n"
                                                                  "default_lifespan_years: long\nstage: [a]\n"},
        "settings_not_yaml": {"orders.csv": OK_ORDERS, "settings.yaml": "client: [unclosed\n  lang: zh\n"},
        "required_cells_empty": {"orders.csv": f"{H}\n,2025-01-10,shop,S1,1,10\nA2,,shop,,1,10\n"},
        "orders_missing": {"products.csv": PRODUCTS},
        "folder_named_like_a_table": {"orders.csv/README.txt": "a folder where orders.csv should be\n"},
        "settings_is_a_folder": {"orders.csv": OK_ORDERS, "settings.yaml/README.txt": "a folder\n"},
        "settings_not_finite": {"orders.csv": OK_ORDERS, "settings.yaml": "thresholds: {gross_margin_red: .nan}\n"
                                                                         "default_lifespan_years: -2\n"},
        "all_lines_cancelled": {"orders.csv": f"{H},status\nA1,2025-01-10,shop,S1,1,10,cancelled\n"
                                              "A2,2025-01-10,shop,S1,1,10,已取消\n"},
        "excel_sep_hint_and_blank_lines": {"orders.csv": f"sep=;\n\n{H.replace(',', ';')}\nA1;2025-01-10;shop;S1;x;10\n"},
    }


def write(case: str, name: str, data: bytes) -> None:
    f = HERE / case / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(data)


def binary_cases() -> None:
    zh = "订单号,下单日期,渠道,SKU,数量,单价,状态\nA1,2025-01-10,淘宝海外,杯子,2,\"￥1,000.50\",已取消\nA2,2025-01-11,淘宝海外,杯子,1,99,\n"
    write("gbk", "orders.csv", zh.encode("gbk"))
    write("utf16_excel_unicode_text", "orders.csv", zh.replace(",", "\t").replace('"￥1\t000.50"', "1000.50")
          .replace("\n", "\r\n").encode("utf-16"))
    write("utf16_without_bom", "orders.csv", OK_ORDERS.encode("utf-16-le"))
    write("png_not_csv", "orders.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write("settings_binary", "orders.csv", OK_ORDERS.encode())
    write("settings_binary", "settings.yaml", bytes(range(128, 256)) * 4)
    write("xls_named_xlsx", "workbook.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    write("corrupt_xlsx", "workbook.xlsx", b"PK\x03\x04 this zip is cut short")
    _xlsx_cases()


def _book(case: str, build) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    build(wb)
    (HERE / case).mkdir(parents=True, exist_ok=True)
    wb.save(HERE / case / "workbook.xlsx")


HEAD = H.split(",")


def _xlsx_cases() -> None:
    import xlsxwriter

    def merged(wb):
        s = wb.create_sheet("orders")
        s.append(HEAD)
        s.append(["A1", dt.datetime(2025, 1, 10), "shop", "S1", 2, 10])
        s.append([None, None, None, "S2", 1, 20])
        s.append(["A2", dt.datetime(2025, 1, 11), "shop", "S1", 1, 10])
        for ref in ("A2:A3", "B2:B3", "C2:C3"):
            s.merge_cells(ref)
    _book("xlsx_merged_cells", merged)

    def hidden(wb):
        s = wb.create_sheet("Sheet1")
        s.append(["notes"])
        s = wb.create_sheet("orders")
        s.append(HEAD)
        s.append(["A1", "2025-01-10", "shop", "S1", 2, 10])
        s.sheet_state = "hidden"
    _book("xlsx_hidden_sheet", hidden)

    def uncalculated(wb):
        s = wb.create_sheet("orders")
        s.append(HEAD)
        s.append(["A1", "2025-01-10", "shop", "S1", 2, "=5*2"])
        s.append(["A2", "2025-01-10", "shop", "S1", "=1+1", 10])
    _book("xlsx_formulas_never_calculated", uncalculated)

    def blank_rows(wb):
        s = wb.create_sheet("orders")
        for _ in range(3):
            s.append([None])
        s.append(HEAD)
        s.append(["A1", dt.datetime(2025, 1, 10), "shop", "S1", 2, 10])
        for _ in range(20):
            s.append([None] * 6)
        s.append(["A2", dt.datetime(2025, 1, 11, 13, 5), "shop", "S1", 2, 10])
        for _ in range(20):
            s.append([None] * 6)
    _book("xlsx_blank_rows", blank_rows)

    def missing(wb):
        s = wb.create_sheet("products")
        s.append(["sku", "unit_cost"])
        s.append(["S1", 3])
    _book("xlsx_missing_sheets", missing)

    def serial(wb):
        s = wb.create_sheet("orders")
        s.append(HEAD)
        s.append(["A1", 45678, "shop", "S1", 2, 10])
        s.append(["A2", "2025-01-10", "shop", "S1", 1, "#N/A"])
    _book("xlsx_date_numbers_and_errors", serial)

    def beside_csv(wb):
        s = wb.create_sheet("orders")
        s.append(HEAD)
        s.append(["B1", "2025-03-01", "shop", "S1", 1, 10])
    _book("csv_and_workbook_both_hold_orders", beside_csv)
    (HERE / "csv_and_workbook_both_hold_orders" / "orders.csv").write_text(OK_ORDERS, encoding="utf-8")

    # xlsxwriter stores a cached result with each formula, as Excel does
    folder = HERE / "xlsx_formulas_calculated"
    folder.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(folder / "workbook.xlsx")
    s = wb.add_worksheet("orders")
    s.write_row(0, 0, HEAD)
    s.write_row(1, 0, ["A1", "2025-01-10", "shop", "S1"])
    s.write_formula(1, 4, "=1+1", None, 2)
    s.write_formula(1, 5, "=5*2", None, 10)
    hidden_sheet = wb.add_worksheet("scratch")
    hidden_sheet.write(0, 0, "x")
    hidden_sheet.hide()
    wb.close()


def main() -> None:
    # text cases are indented for reading and stripped line by line, so YAML in them uses {} flow style
    for case in [p for p in HERE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]:
        shutil.rmtree(case)
    for case, files in text_cases().items():
        for name, text in files.items():
            lines = [ln.strip() for ln in text.splitlines()]  # the cases are indented for reading
            write(case, name, ("\n".join(lines) + ("\n" if text.endswith("\n") else "")).encode("utf-8"))
    binary_cases()


if __name__ == "__main__":
    main()
