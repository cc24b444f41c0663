"""Importers: platform exports -> workspace tables (issue 6). Tiny hand-made files, fixtures, real files."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecomreview.errors import InputError, UsageError
from ecomreview.importers import KINDS, guess_kind, import_files
from ecomreview.importers.common import allocate, currency_from_header, norm, parse_dates, parse_number
from ecomreview.importers.merge import write_all

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
needs_real = pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


def read(ws: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(ws / f"{table}.csv", dtype=str, keep_default_na=False)


def snapshot(ws: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(ws.iterdir())}


# ---------------------------------------------------------------- parsing helpers


def test_parse_number_money_formats():
    s = pd.Series(["$1,234.50", "Rs. 1,234", "Rs.201.68", "(12.00)", "₹99", "--", "", "12,5O", "-3", "2.9%"])
    vals, bad = parse_number(s)
    assert vals.tolist()[:5] == [1234.5, 1234.0, 201.68, -12.0, 99.0]
    assert np.isnan(vals[5]) and np.isnan(vals[6]) and not bad[5] and not bad[6]  # empty is not an error
    assert bad[7] and np.isnan(vals[7])
    assert vals[8] == -3 and vals[9] == 2.9


def test_header_normalisation_and_currency():
    assert norm(" 14 Day Total Sales (₹) ") == "14 day total sales"
    assert norm("Sessions – Total") == "sessions - total"
    assert norm("7天总销售额（$）") == "7天总销售额"
    assert norm("(Child) ASIN") == "(child) asin"  # a leading parenthesis is part of the name
    assert currency_from_header("14 Day Total Sales (₹)") == "INR"
    assert currency_from_header("Spend (USD)") == "USD"
    assert currency_from_header("Spend") is None


def test_parse_dates_one_format_per_column():
    d, bad = parse_dates(pd.Series(["Feb 1, 2020", "Feb 29, 2020", ""]))
    assert d[0] == pd.Timestamp("2020-02-01") and d[1] == pd.Timestamp("2020-02-29") and not bad.any()
    # 03/04/2025 and 13/04/2025 only fit day/month together: both are April
    d, bad = parse_dates(pd.Series(["03/04/2025", "13/04/2025"]))
    assert d.tolist() == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-13")]
    d, bad = parse_dates(pd.Series(["2023-05-31 23:06:04 -0700"]))  # Shopify: local wall time kept
    assert d[0] == pd.Timestamp("2023-05-31 23:06:04")


def test_allocate_cents_add_up():
    group = pd.Series(["a", "a", "a", "b", "b"])
    total = pd.Series([10.0, 10.0, 10.0, 5.0, 5.0])
    # a: 10.00 over equal weights -> 3.34, 3.33, 3.33 (the spare cent to the first); b: weights 0 -> even
    got = allocate(total, pd.Series([1.0, 1.0, 1.0, 0.0, 0.0]), group)
    assert got.tolist() == [3.34, 3.33, 3.33, 2.5, 2.5]
    # pro rata: 7.00 over values 20 and 50 -> 2.00 and 5.00
    got = allocate(pd.Series([7.0, 7.0]), pd.Series([20.0, 50.0]), pd.Series(["x", "x"]))
    assert got.tolist() == [2.0, 5.0]


def test_guess_kind_signatures():
    assert guess_kind(["Name", "Email", "Lineitem quantity", "Lineitem price"]) == "shopify-orders"
    assert guess_kind(["Handle", "Title", "Variant SKU"]) == "shopify-products"
    assert guess_kind(["日期", "广告活动名称", "花费"]) == "amazon-ads"
    assert guess_kind(["Search term", "Campaign", "Cost"]) == "google-ads"
    assert guess_kind(["foo", "bar"]) is None
    assert set(KINDS) == {"shopify-orders", "shopify-products", "amazon-ads", "amazon-business-report",
                          "google-ads", "mapping"}


# ---------------------------------------------------------------- Shopify orders

SHOPIFY_HEADER = ("Name,Email,Financial Status,Currency,Subtotal,Shipping,Total,Discount Code,Discount Amount,"
                  "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country,"
                  "Shipping Country,Cancelled at,Refunded Amount,Lineitem discount")
SHOPIFY = SHOPIFY_HEADER + """
#1001,Ann@Example.com,partially_refunded,USD,40.00,7.00,47.00,SAVE10,10.00,2025-03-01 10:00:00 -0500,2,Pad,10.00,PAD,US,CA,,5.00,0.00
#1001,Ann@Example.com,,,,,,,,2025-03-01 10:00:00 -0500,1,Ramp,30.00,RAMP,,,,,0.00
#1002,bob@example.com,refunded,USD,10.00,0.00,10.00,,0.00,2025-03-02 09:00:00 -0500,1,Pad,10.00,PAD,DE,,2025-03-02 12:00:00 -0500,10.00,0.00
#1003,cy@example.com,paid,USD,18.00,0.00,18.00,,2.00,2025-03-03 09:00:00 -0500,1,Pad,10.00,PAD,US,US,,0.00,2.00
#1003,cy@example.com,,,,,,,,2025-03-03 09:00:00 -0500,1,Tip,5.00,,,,,,0.00
"""


def test_shopify_orders_allocation(tmp_path):
    src = write(tmp_path / "orders_export.csv", SHOPIFY)
    res = import_files("shopify-orders", [src], tmp_path / "ws")
    o = read(tmp_path / "ws", "orders")
    assert len(o) == 5 and o["order_id"].nunique() == 3
    a = o[o["order_id"] == "#1001"]
    # line values 2 × 10 = 20 and 1 × 30 = 30 (total 50): discount 10 -> 4 and 6; refund 5 -> 2 and 3;
    # shipping 7 on the first line
    assert a["discount"].tolist() == ["4", "6"]
    assert a["refund_amount"].tolist() == ["2", "3"]
    assert a["shipping_charged"].tolist() == ["7", "0"]
    assert a["customer_id"].tolist() == ["ann@example.com"] * 2          # e-mail, lower-cased
    assert a["country"].tolist() == ["CA", "CA"]                          # Shipping Country wins
    assert a["order_date"].tolist() == ["2025-03-01"] * 2
    assert a["currency"].tolist() == ["USD", "USD"] and set(a["channel"]) == {"shopify"}
    b = o[o["order_id"] == "#1002"].iloc[0]
    assert b["status"] == "cancelled" and b["country"] == "DE"            # Billing Country fallback
    c = o[o["order_id"] == "#1003"]
    # Lineitem discount 2 already equals Discount Amount 2: nothing left to spread onto the tip line
    assert c["discount"].tolist() == ["2", "0"]
    assert c["sku"].tolist() == ["PAD", "NOSKU:Tip"]
    assert res.tables["orders"].rows_in == 5 and res.tables["orders"].added == 5


def test_shopify_refund_capped_at_goods(tmp_path):
    # refunded 12.50 incl. tax on goods worth 10: only 10 is a refund of sales
    text = SHOPIFY_HEADER + "\n#9,a@b.c,refunded,USD,10,0,12.5,,0,2025-01-01 00:00:00 +0000,1,X,10,X,US,US,,12.50,0\n"
    res = import_files("shopify-orders", [write(tmp_path / "o.csv", text)], tmp_path / "ws")
    assert read(tmp_path / "ws", "orders")["refund_amount"].tolist() == ["10"]
    assert any(n.key == "importers.note.refund_capped" and n.count == 1 for n in res.notes)


def test_shopify_orders_channel_override_and_reimport_replaces(tmp_path):
    ws = tmp_path / "ws"
    src = write(tmp_path / "o.csv", SHOPIFY)
    import_files("shopify-orders", [src], ws, options={"channel": "shop_eu"})
    first = snapshot(ws)
    res = import_files("shopify-orders", [src], ws, options={"channel": "shop_eu"})
    assert snapshot(ws) == first                                          # idempotent, byte for byte
    assert res.tables["orders"].replaced == 5 and res.tables["orders"].added == 0
    # a corrected export where #1001 lost a line: its rows are replaced, not added to
    fixed = SHOPIFY.replace("#1001,Ann@Example.com,,,,,,,,2025-03-01 10:00:00 -0500,1,Ramp,30.00,RAMP,,,,,0.00\n", "")
    import_files("shopify-orders", [write(tmp_path / "o2.csv", fixed)], ws, options={"channel": "shop_eu"})
    o = read(ws, "orders")
    assert (o["order_id"] == "#1001").sum() == 1 and len(o) == 4 and set(o["channel"]) == {"shop_eu"}


def test_wrong_kind_names_what_it_looks_like(tmp_path):
    products = write(tmp_path / "products_export.csv", "Handle,Title,Variant SKU,Cost per item\nh,T,S1,3\n")
    with pytest.raises(InputError) as err:
        import_files("shopify-orders", [products], tmp_path / "ws")
    assert "this looks like a Shopify products export, not a Shopify orders export" in str(err.value)
    assert err.value.problems[0].file == "products_export.csv" and "shopify-products" in err.value.problems[0].fix
    with pytest.raises(InputError) as err:
        import_files("shopify-orders", [products], tmp_path / "ws", lang="zh")
    assert "这看起来是Shopify 产品导出" in str(err.value)
    other = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="missing column"):
        import_files("amazon-ads", [other], tmp_path / "ws")
    with pytest.raises(UsageError):
        import_files("tiktok", [other], tmp_path / "ws")


def test_failed_import_leaves_workspace_byte_identical(tmp_path):
    ws = tmp_path / "ws"
    import_files("shopify-orders", [write(tmp_path / "o.csv", SHOPIFY)], ws)
    before = snapshot(ws)
    bad = write(tmp_path / "bad.csv", "Handle,Title,Variant SKU\nh,T,S\n")
    with pytest.raises(InputError):
        import_files("shopify-orders", [write(tmp_path / "o3.csv", SHOPIFY), bad], ws)  # second file fails
    assert snapshot(ws) == before


def test_write_all_is_all_or_nothing(tmp_path):
    ws = tmp_path / "ws"
    write(ws / "orders.csv", "order_id\nA\n")
    before = snapshot(ws)

    class Broken:
        def to_csv(self, *a, **k):
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_all(ws, {"orders": pd.DataFrame({"order_id": ["B"]}), "campaigns": Broken()})
    assert snapshot(ws) == before  # orders.csv untouched and no temp files left behind


# ---------------------------------------------------------------- Shopify products

PRODUCTS = """
Handle,Title,Product Category,Type,Option1 Name,Option1 Value,Variant SKU,Cost per item,Variant Price
pad,Magic Pee Pads,Animals & Pet Supplies > Pet Supplies > Dog Supplies,Pads,Size,XL,'PAD-XL,12.50,29.99
pad,,,,,L,PAD-L,,24.99
pad,,,,,,,,
mug,White Mug,,Drinkware,Title,Default Title,MUG,4,14.70
"""


def test_shopify_products_names_costs_and_lacks(tmp_path):
    res = import_files("shopify-products", [write(tmp_path / "p.csv", PRODUCTS)], tmp_path / "ws")
    p = read(tmp_path / "ws", "products").set_index("sku")
    # PAD-L has no cost: a products row needs unit_cost, so it is left out and listed as lacking
    assert list(p.index) == ["PAD-XL", "MUG"]                             # Excel's leading ' removed
    assert p.loc["PAD-XL", "product_name"] == "Magic Pee Pads - XL"
    assert p.loc["PAD-XL", "category"] == "Dog Supplies"                  # last level of Product Category
    assert p.loc["MUG", "category"] == "Drinkware" and p.loc["MUG", "product_name"] == "White Mug"
    assert p.loc["PAD-XL", "unit_cost"] == "12.5" and p.loc["MUG", "unit_cost"] == "4"
    skipped = {s.key: s.count for s in res.tables["products"].skipped}
    assert skipped == {"importers.skip.no_variant_sku": 1, "importers.skip.no_cost_left_out": 1}
    assert res.tables["products"].mapped == 2
    assert any("1 SKUs have no unit_cost in the export and were left out" in x and "PAD-L" in x for x in res.lacks)


def test_products_update_keeps_typed_cost(tmp_path):
    ws = write(tmp_path / "ws" / "products.csv", "sku,unit_cost,inbound_freight\nPAD-L,9.90,1.20\nOLD,3,\n").parent
    res = import_files("shopify-products", [write(tmp_path / "p.csv", PRODUCTS)], ws)
    p = read(ws, "products").set_index("sku")
    # the export has no cost for PAD-L: the typed 9.90 and freight stay; the name comes in
    assert p.loc["PAD-L", "unit_cost"] == "9.90" and p.loc["PAD-L", "inbound_freight"] == "1.20"
    assert p.loc["PAD-L", "product_name"] == "Magic Pee Pads - L"
    assert p.loc["OLD", "unit_cost"] == "3" and len(p) == 4
    assert (res.tables["products"].added, res.tables["products"].replaced, res.tables["products"].kept) == (2, 1, 1)
    before = snapshot(ws)
    import_files("shopify-products", [tmp_path / "p.csv"], ws)
    assert snapshot(ws) == before


# ---------------------------------------------------------------- Amazon ads


def test_amazon_ads_chinese_headers_aggregate_per_month(tmp_path):
    src = write(tmp_path / "st.csv", """
        日期,广告活动名称,客户搜索词,展示量,点击量,花费,7天总销售额($),7天总订单数
        2025-01-03,SP-Pads,pee pads,100,4,"$1,234.50",$50.00,2
        2025-01-20,SP-Pads,pee pads,50,1,$0.50,$0,0
        2025-02-02,SP-Pads,pee pads,10,0,$0,$0,0
        2025-01-05,SP-Pads,dog pads,5,0,$0,$0,0
        """)
    import_files("amazon-ads", [src], tmp_path / "ws")
    c = read(tmp_path / "ws", "campaigns")
    jan = c[(c["keyword"] == "pee pads") & (c["start_date"] == "2025-01-03")].iloc[0]
    # two January rows: spend 1234.50 + 0.50 = 1235, impressions 150, clicks 5; first/last day seen
    assert (jan["end_date"], jan["spend"], jan["impressions"], jan["clicks"]) == ("2025-01-20", "1235", "150", "5")
    assert (jan["attributed_sales"], jan["orders"], jan["channel"], jan["currency"], jan["type"]) == \
        ("50", "2", "amazon_us", "USD", "ads")
    assert len(c) == 3 and set(c["start_date"]) == {"2025-01-03", "2025-02-02", "2025-01-05"}


def test_amazon_ads_english_variants_and_rupees(tmp_path):
    # trailing spaces, other capitalisation, 14-day columns, Rs. money, ASIN -> sku, Targeting keyword
    src = write(tmp_path / "tg.csv", """
        Date ,campaign name,Targeting,Advertised ASIN,IMPRESSIONS,Clicks,Spend ,14 Day Total Sales (₹),14 Day Total Orders (#)
        "Feb 1, 2020",Oil SP,knee oil,B07B7NSLLP,14,1,"Rs.1,031.35","Rs.320",1
        "Feb 9, 2020",Oil SP,knee oil,B07B7NSLLP,20,2,Rs.10.00,Rs.0,0
        """)
    res = import_files("amazon-ads", [src], tmp_path / "ws")
    c = read(tmp_path / "ws", "campaigns").iloc[0]
    assert (c["channel"], c["currency"], c["sku"], c["keyword"]) == ("amazon_in", "INR", "B07B7NSLLP", "knee oil")
    assert (c["spend"], c["attributed_sales"], c["start_date"], c["end_date"]) == \
        ("1041.35", "320", "2020-02-01", "2020-02-09")
    assert any(n.key == "importers.note.attribution_window" and n.params["days"] == "14" for n in res.notes)
    import_files("amazon-ads", [src], tmp_path / "ws2", options={"channel": "amz_india"})
    assert read(tmp_path / "ws2", "campaigns")["channel"].tolist() == ["amz_india"]


# ---------------------------------------------------------------- Google Ads

GOOGLE = '''
Search terms report
"March 1, 2024 - March 31, 2024"
Search term,Match type,Campaign,Ad group,Keyword,Impr.,Clicks,Currency code,Cost,Conversions
solar panels,Exact match,G_Brand,Solar,[solar panels],"1,200",30,USD,45.10,2.00
solar panels,Phrase match,G_Brand,Solar 2,"""solar""",100,3,USD,4.90,0.50
total solar eclipse,Broad match,G_Brand,Solar,solar,7,0,USD,0.00,0.00
Total: Search terms,,,,,"1,307",33,USD,50.00,2.50
Total: Account,,,,,"1,307",33,USD,50.00,2.50
'''


def test_google_ads_title_range_and_total_rows(tmp_path):
    res = import_files("google-ads", [write(tmp_path / "g.csv", GOOGLE)], tmp_path / "ws")
    c = read(tmp_path / "ws", "campaigns")
    r = c[c["keyword"] == "solar panels"].iloc[0]
    # two rows of the same term summed: 45.10 + 4.90 = 50, impressions 1200 + 100, conversions 2.5
    assert (r["spend"], r["impressions"], r["clicks"], r["orders"]) == ("50", "1300", "33", "2.5")
    assert (r["start_date"], r["end_date"], r["channel"], r["type"]) == ("2024-03-01", "2024-03-31", "shopify", "ads")
    assert len(c) == 2                     # "total solar eclipse" is a search term, not a Total row
    t = res.tables["campaigns"]
    assert t.rows_in == 3 and t.skipped[0].count == 2 and t.skipped[0].key == "importers.skip.total_row"


def test_google_ads_without_range_needs_month(tmp_path):
    src = write(tmp_path / "g.csv", "Search term,Campaign,Impr.,Clicks,Cost\nx,C,1,0,0\n")
    with pytest.raises(InputError, match="date range"):
        import_files("google-ads", [src], tmp_path / "ws")
    import_files("google-ads", [src], tmp_path / "ws", options={"month": "2024-02"})
    c = read(tmp_path / "ws", "campaigns").iloc[0]
    assert (c["start_date"], c["end_date"]) == ("2024-02-01", "2024-02-29")


# ---------------------------------------------------------------- Amazon business report


def test_business_report_new_layout(tmp_path):
    src = FIXTURES / "amazon_business_report_child_2025-03.csv"
    res = import_files("amazon-business-report", [src], tmp_path / "ws", options={"month": "2025-03"})
    t = read(tmp_path / "ws", "traffic").set_index("sku")
    # "Sessions - Total" (not the B2B column), "1,284" -> 1284; orders = Total Order Items
    assert t.loc["PAD-XL", "sessions"] == "1284" and t.loc["PAD-XL", "orders"] == "131"
    assert t.loc["B0C7RAMPNA", "sessions"] == "418"          # no SKU: the child ASIN stands in
    assert set(t["month"]) == {"2025-03"} and set(t["channel"]) == {"amazon_us"}
    assert res.tables["traffic"].mapped == 5


def test_business_report_old_layout_and_month_required(tmp_path):
    src = FIXTURES / "amazon_business_report_child_old.csv"
    with pytest.raises(InputError, match="--month"):
        import_files("amazon-business-report", [src], tmp_path / "ws")
    with pytest.raises(InputError):
        import_files("amazon-business-report", [src], tmp_path / "ws", options={"month": "2025-13"})
    assert not (tmp_path / "ws").exists()
    import_files("amazon-business-report", [src], tmp_path / "ws", options={"month": "2025-02", "channel": "amazon_uk"})
    t = read(tmp_path / "ws", "traffic")
    assert t[["sku", "sessions", "orders", "channel"]].values.tolist() == [
        ["OIL-100", "640", "21", "amazon_uk"], ["OIL-200", "920", "30", "amazon_uk"]]


# ---------------------------------------------------------------- mapping (UCI sample)

UCI_SPEC = EXAMPLES / "uci_online_retail.mapping.yaml"
UCI_SAMPLE = FIXTURES / "uci_online_retail_sample.csv"


def test_mapping_uci_sample(tmp_path):
    ws = tmp_path / "ws"
    res = import_files("mapping", [UCI_SPEC, UCI_SAMPLE], ws)
    o = read(ws, "orders")
    # the sample: 114 lines, 24 invoices, 28 lines on C-invoices, 5 negative-quantity adjustments
    assert len(o) == 114 and o["order_id"].nunique() == 24
    assert (o["status"] == "cancelled").sum() == 28
    assert o.loc[o["status"] == "cancelled", "quantity"].astype(float).lt(0).all()   # raw numbers kept
    ret = o[o["returned_qty"] != ""]
    assert len(ret) == 5 and (ret["quantity"] == "0").all()
    first = o.iloc[0]
    assert (first["order_date"], first["customer_id"], first["channel"], first["currency"]) == \
        ("2010-12-01", "17850", "uk_webshop", "GBP")
    assert (o["customer_id"] == "").sum() == 6
    assert res.tables["orders"].rows_in == 114
    before = snapshot(ws)
    import_files("mapping", [UCI_SPEC, UCI_SAMPLE], ws)
    assert snapshot(ws) == before


def test_mapping_return_rule_and_date_format(tmp_path):
    spec = write(tmp_path / "m.yaml", """
        columns:
          order_id: Invoice
          order_date: {column: When, format: "%m/%d/%Y %H:%M"}
          sku: Item
          quantity: Qty
          unit_price: Price
        constants: {channel: shop, currency: EUR}
        cancellation: {column: Invoice, prefix: C}
        """)
    data = write(tmp_path / "d.csv", """
        Invoice,When,Item,Qty,Price
        1,12/1/2010 8:26,A,3,2.50
        2,12/2/2010 9:00,A,-2,2.50
        C3,12/3/2010 10:00,A,-1,2.50
        4,13/45/2010 10:00,A,1,2.50
        """)
    res = import_files("mapping", [spec, data], tmp_path / "ws")
    o = read(tmp_path / "ws", "orders").set_index("order_id")
    # invoice 2: -2 units, not cancelled -> quantity 0, returned 2, refund 2 × 2.50 = 5
    assert (o.loc["2", "quantity"], o.loc["2", "returned_qty"], o.loc["2", "refund_amount"]) == ("0", "2", "5")
    assert (o.loc["C3", "quantity"], o.loc["C3", "status"]) == ("-1", "cancelled")
    assert o.loc["1", "order_date"] == "2010-12-01" and "4" not in o.index
    assert res.tables["orders"].skipped[0].count == 1


def test_mapping_errors(tmp_path):
    bad = write(tmp_path / "m.yaml", "columns:\n  order_id: Invoice\n  colour: X\n")
    data = write(tmp_path / "d.csv", "Invoice\n1\n")
    with pytest.raises(InputError, match="colour"):
        import_files("mapping", [bad, data], tmp_path / "ws")
    with pytest.raises(UsageError):
        import_files("mapping", [data], tmp_path / "ws")


def test_workbook_rows_seed_the_csv(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    old = pd.DataFrame({"order_id": ["W1"], "order_date": ["2024-01-01"], "channel": ["amazon_us"],
                        "sku": ["S"], "quantity": ["1"], "unit_price": ["5"]})
    with pd.ExcelWriter(ws / "workbook.xlsx") as xw:
        old.to_excel(xw, sheet_name="orders", index=False)
    res = import_files("shopify-orders", [write(tmp_path / "o.csv", SHOPIFY)], ws)
    o = read(ws, "orders")
    assert o["order_id"].tolist()[0] == "W1" and len(o) == 6
    keys = [n.key for n in res.notes]
    assert "importers.note.seeded_from_workbook" in keys and "importers.note.workbook_present" in keys
    assert "workbook.xlsx" in res.summary("en") and "workbook.xlsx" in res.summary("zh")


def test_summary_and_lacks_in_both_languages(tmp_path):
    write(tmp_path / "ws" / "settings.yaml", "base_currency: USD\n")
    res = import_files("amazon-ads", [write(tmp_path / "a.csv", "Date,Campaign Name,Spend,Currency\n"
                                            "2025-01-01,C1,3,GBP\n")], tmp_path / "ws")
    en, zh = res.summary("en"), res.summary("zh")
    assert "orders.csv: no orders yet" in en and "fx_rates.csv" in en and "GBP" in en
    assert "还没有订单" in zh and "amazon_uk" in zh
    assert "orders.csv: no orders yet" in res.lacks


def test_gbk_encoded_export(tmp_path):
    src = write(tmp_path / "cn.csv", "日期,广告活动名称,展示量,点击量,花费\n2025-01-01,推广一,10,1,2.5\n", encoding="gb18030")
    import_files("amazon-ads", [src], tmp_path / "ws", options={"currency": "USD"})
    c = read(tmp_path / "ws", "campaigns").iloc[0]
    assert (c["campaign_id"], c["spend"]) == ("推广一", "2.5")
    assert (tmp_path / "ws" / "campaigns.csv").read_bytes().decode("utf-8")  # written as UTF-8


# ---------------------------------------------------------------- the real files under ../shared


@needs_real
def test_real_shopify_orders(tmp_path):
    src = REALDATA / "shopify-orders-alphapaw-us" / "orders_export_1.pseudonymised.csv"
    before = src.read_bytes()
    res = import_files("shopify-orders", [src], tmp_path / "ws")
    o = read(tmp_path / "ws", "orders")
    assert len(o) == 5121 and o["order_id"].nunique() == 3885          # SOURCE.txt
    assert o.loc[o["status"] == "cancelled", "order_id"].nunique() == 35
    # every order's Discount Amount and Shipping arrive in full (sums of the export's first rows)
    assert round(o["discount"].astype(float).sum(), 2) == 80372.20
    assert round(o["shipping_charged"].astype(float).sum(), 2) == 4677.00
    assert src.read_bytes() == before                                     # input never modified
    ws_before = snapshot(tmp_path / "ws")
    import_files("shopify-orders", [src], tmp_path / "ws")
    assert snapshot(tmp_path / "ws") == ws_before
    assert res.tables["orders"].rows_in == 5121


@needs_real
def test_real_shopify_products(tmp_path):
    src = REALDATA / "shopify-orders-alphapaw-us" / "products_export_1 (6).csv"
    res = import_files("shopify-products", [src], tmp_path / "ws")
    t = res.tables["products"]
    # 3,399 rows: 1,110 without Variant SKU, 137 repeats -> 2,152 SKUs, of which 29 have no cost
    assert t.rows_in == 3399 and t.mapped == 2152 - 29 and len(read(tmp_path / "ws", "products")) == 2123
    assert {s.key: s.count for s in t.skipped} == {"importers.skip.no_variant_sku": 1110,
                                                   "importers.skip.duplicate_sku": 137,
                                                   "importers.skip.no_cost_left_out": 29}
    assert any(x.startswith("products.csv: 29 SKUs have no unit_cost") for x in res.lacks)
    with pytest.raises(InputError, match="Shopify products export, not a Shopify orders export"):
        import_files("shopify-orders", [src], tmp_path / "ws")


@needs_real
def test_real_amazon_ads_reports(tmp_path):
    folder = REALDATA / "amazon-ads-sp-inr"
    res = import_files("amazon-ads", [folder / "Sponsored Products Search term report.xlsx"], tmp_path / "st")
    assert res.tables["campaigns"].rows_in == 923
    c = read(tmp_path / "st", "campaigns")
    assert set(c["channel"]) == {"amazon_in"} and set(c["currency"]) == {"INR"}
    assert (c["keyword"] != "").all() and set(c["start_date"].str[:7]) == {"2020-02"}
    # every SP report of this seller carries the same total spend, ₹47,108.12
    assert round(c["spend"].astype(float).sum(), 2) == 47108.12
    for name in ("Sponsored Products Campaign report.csv", "Sponsored Products Advertised product report.xlsx",
                 "Sponsored Products Targeting report (1).xlsx", "Sponsored Products Placement report (1).xlsx"):
        ws = tmp_path / name.split()[2]
        import_files("amazon-ads", [folder / name], ws)
        assert round(read(ws, "campaigns")["spend"].astype(float).sum(), 2) == 47108.12
        before = snapshot(ws)
        import_files("amazon-ads", [folder / name], ws)
        assert snapshot(ws) == before
    skus = read(tmp_path / "Advertised", "campaigns")["sku"]
    assert (skus != "").all() and "B07B7NSLLP" in set(skus)        # advertised ASIN -> sku
    with pytest.raises(InputError, match="Campaign Name"):  # no campaign column: not importable
        import_files("amazon-ads", [folder / "Sponsored Products Performance Over Time report (2).xlsx"],
                     tmp_path / "pot")


@needs_real
def test_real_google_ads_search_terms(tmp_path):
    src = REALDATA / "google-ads-searchterms-solar-us" / "Search terms report.csv"
    res = import_files("google-ads", [src], tmp_path / "ws")
    t = res.tables["campaigns"]
    assert t.rows_in == 29762 and [(s.key, s.count) for s in t.skipped] == [("importers.skip.total_row", 8)]
    c = read(tmp_path / "ws", "campaigns")
    assert set(c["start_date"]) == {"2024-01-17"} and set(c["end_date"]) == {"2024-02-15"}
    # the rows add up to the report's own "Total: Search terms" line: 74,999 impr., 2,910 clicks; its cost
    # $45,131.04 is summed by Google before rounding, the 29,762 rounded row costs add up to $45,131.01
    assert int(c["impressions"].astype(float).sum()) == 74999 and int(c["clicks"].astype(float).sum()) == 2910
    assert round(c["spend"].astype(float).sum(), 2) == 45131.01
    with pytest.raises(InputError, match="looks like a Google Ads"):
        import_files("amazon-ads", [src], tmp_path / "ws")


@needs_real
def test_real_uci_online_retail(tmp_path):
    src = REALDATA / "uci-online-retail" / "online_retail.csv"
    t0 = time.perf_counter()
    res = import_files("mapping", [UCI_SPEC, src], tmp_path / "ws")
    assert time.perf_counter() - t0 < 60
    o = read(tmp_path / "ws", "orders")
    assert len(o) == 541909 and res.tables["orders"].rows_in == 541909
    assert o["order_id"].nunique() == 25900
    assert o.loc[o["customer_id"] != "", "customer_id"].nunique() == 4372
    assert o["country"].nunique() == 38
    assert (o["status"] == "cancelled").sum() == 9288
    assert (o["customer_id"] == "").sum() == 135080
    assert (o["returned_qty"] != "").sum() == 1336     # negative quantity, not on a C-invoice
