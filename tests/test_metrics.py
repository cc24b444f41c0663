"""SPEC §3 metrics on the TINY workspace (tests/conftest.py); every expectation worked out by hand."""
from __future__ import annotations

import math

import pandas as pd

import pytest

from ecomreview import metrics
from ecomreview.loader import load_workspace
from ecomreview.period import Period
from ecomreview.review import prepare

P = Period.parse("2025")


@pytest.fixture
def k(tiny):
    return metrics.kpis(prepare(load_workspace(tiny)), P)


@pytest.fixture
def review(tiny):
    return prepare(load_workspace(tiny))


# Lines in 2025, not cancelled: A1/S1 2×10 disc 2 ship 5; A1/S2 1×20; A2/S1 1×10 ship 5 refund 10 returned 1;
# A3/S2 3×20 EUR at 1.1 = 66.  A4 is cancelled, A0 is in 2024.
def test_sales(k):
    assert k["gross_sales"] == pytest.approx(116.0)        # 20 + 20 + 10 + 66
    assert k["discounts"] == pytest.approx(2.0)
    assert k["refunds"] == pytest.approx(10.0)
    assert k["net_sales"] == pytest.approx(104.0)          # 116 − 2 − 10
    assert k["shipping_revenue"] == pytest.approx(10.0)    # 5 + 5
    assert k["revenue"] == pytest.approx(114.0)            # 104 + 10
    assert k["orders"] == 3                                # A1, A2, A3
    assert k["units"] == pytest.approx(7.0)                # 2 + 1 + 1 + 3
    assert k["aov"] == pytest.approx(38.0)                 # (116 − 2) ÷ 3
    assert k["units_per_order"] == pytest.approx(7 / 3)
    assert k["discount_rate"] == pytest.approx(2 / 116)
    assert k["refund_rate"] == pytest.approx(10 / 114)     # refunds ÷ (gross − discounts)
    assert k["return_rate"] == pytest.approx(1 / 3)        # A2 has a refund


def test_costs(k):
    # landed S1 = (20 × 1.1 + 1 + 1) CNY = 24 CNY × 0.14 = 3.36; S2 = 5 USD
    # product_cogs = 2×3.36 + 5 + (3.36 − 1×3.36×0.5) + 3×5 = 6.72 + 5 + 1.68 + 15 = 28.40
    assert k["product_cogs"] == pytest.approx(28.40)
    assert k["cost_coverage"] == pytest.approx(1.0)
    assert k["commission"] == pytest.approx(9.9)           # amz 15% × 66
    # shop: 3% × (18+5 + 20 + 10+5) = 1.74, + 0.30 × 2 orders = 2.34
    assert k["payment_fees"] == pytest.approx(2.34)
    # shop 4 × 2 orders + amz 3 × 3 units + logistics expense 20
    assert k["fulfillment"] == pytest.approx(37.0)
    assert k["cogs"] == pytest.approx(87.64)               # 28.40 + 9.9 + 2.34 + 37 + platform 10
    assert k["gross_profit"] == pytest.approx(26.36)       # 114 − 87.64
    assert k["gross_margin"] == pytest.approx(26.36 / 114)
    assert k["product_margin"] == pytest.approx((114 - 28.40) / 114)
    # C1 100 (10 days, all in 2025) + C2 100 × 5/10 days in 2025 + advertising expense 50
    assert k["ad_spend"] == pytest.approx(200.0)
    assert k["contribution_profit"] == pytest.approx(-173.64)
    assert k["contribution_margin"] == pytest.approx(-173.64 / 114)
    assert k["overheads"] == pytest.approx(100.0)
    assert k["net_profit"] == pytest.approx(-273.64)
    assert k["net_margin"] == pytest.approx(-273.64 / 114)
    assert k["tacos"] == pytest.approx(200 / 114)


def test_customers(k):
    # c1 (A1, A3; first order 2024-06-01) and c2 (A2, first order in 2025)
    assert k["customers"] == 2
    assert k["new_customers"] == 1
    assert k["returning_customers"] == 1
    assert k["repeat_purchase_rate"] == pytest.approx(0.5)   # c1 has 2 orders
    assert k["cac"] == pytest.approx(200.0)                  # 200 ÷ 1 new customer
    assert k["retention_rate"] == pytest.approx(1.0)         # 2024: {c1}; c1 bought again
    # lifespan = 1 ÷ (1 − 1) → capped at 5; ltv = 114 ÷ 2 × (26.36 ÷ 114) × 5 = 65.9
    assert k["ltv"] == pytest.approx(65.9)
    assert k["ltv_cac"] == pytest.approx(65.9 / 200)
    assert k["lifespan_assumed"] is False


def test_traffic(k):
    # Jan shop: 100 sessions, orders counted = 1 (A1); Feb shop: 50 sessions, 1 (A2)
    assert k["sessions"] == pytest.approx(150)
    assert k["conversion_rate"] == pytest.approx(2 / 150)
    assert k["cart_abandonment_rate"] == pytest.approx(1 - 1 / 10)   # only the Jan row has add_to_cart


def test_breakdowns_sum_to_total(review):
    total = metrics.kpis(review, P)
    for by in ("channel", "sku", "country", "month"):
        f = metrics.kpis(review, P, by=by)
        for m in ("gross_sales", "revenue", "units", "product_cogs", "commission", "payment_fees"):
            assert f[m].sum() == pytest.approx(total[m]), (by, m)


def test_channel_breakdown(review):
    f = metrics.kpis(review, P, by="channel")
    assert f.loc["shop", "revenue"] == pytest.approx(48.0)   # (20−2+5) + 20 + (10−10+5)
    assert f.loc["amz", "revenue"] == pytest.approx(66.0)
    # amz ad spend: C1 100 + its own advertising expense 50; company-wide expenses are not allocated
    assert f.loc["amz", "ad_spend"] == pytest.approx(150.0)
    assert f.loc["shop", "ad_spend"] == pytest.approx(50.0)
    assert f.loc["shop", "overheads"] == pytest.approx(0.0)


def test_sku_split_of_per_order_amounts(review):
    f = metrics.kpis(review, P, by="sku")
    # A1 values: S1 18, S2 20. S1 gets 18/38 of A1's 0.30 fixed fee and 4.00 shipping cost.
    # S1 payment_fees = 3% × (23 + 15) + 0.30 × 18/38 + 0.30 × 1 (A2 alone) = 1.14 + 0.142105 + 0.30
    assert f.loc["S1", "payment_fees"] == pytest.approx(1.14 + 0.3 * 18 / 38 + 0.30)
    assert f.loc["S1", "fulfillment"] == pytest.approx(4 * 18 / 38 + 4)


def test_empty_denominators_are_null(tiny):
    review = prepare(load_workspace(tiny))
    k = metrics.kpis(review, Period.parse("2023"))
    assert k["orders"] == 0
    for m in ("aov", "gross_margin", "return_rate", "conversion_rate", "tacos", "cac", "repeat_purchase_rate"):
        assert k[m] is None, m


def test_no_costs_means_null_cost_metrics(tiny):
    (tiny / "products.csv").unlink()
    k = metrics.kpis(prepare(load_workspace(tiny)), P)
    assert k["cost_coverage"] == 0
    for m in metrics.COST_BASED:
        assert k[m] is None, m
    assert k["ad_spend"] == pytest.approx(200.0)


def test_partial_cost_coverage(tiny):
    # drop S2's cost: covered lines are A1/S1 (revenue 23) and A2/S1 (revenue 5) → 28 of 114
    text = (tiny / "products.csv").read_text().replace("S2,5,,,,,\n", "")
    (tiny / "products.csv").write_text(text)
    k = metrics.kpis(prepare(load_workspace(tiny)), P)
    assert k["cost_coverage"] == pytest.approx(28 / 114)
    assert k["product_cogs"] == pytest.approx(6.72 + 1.68)
    assert k["product_margin"] == pytest.approx((28 - 8.40) / 28)


def test_no_previous_period_assumes_lifespan(tiny):
    text = (tiny / "orders.csv").read_text().replace("A0,2024-06-01,shop,S1,1,10,0,0,0,0,c1,US,USD,\n", "")
    (tiny / "orders.csv").write_text(text)
    k = metrics.kpis(prepare(load_workspace(tiny)), P)
    assert k["retention_rate"] is None
    assert k["lifespan_assumed"] is True
    assert k["new_customers"] == 2
    # lifespan = default 1 year: ltv = 114 ÷ 2 × gross_margin
    assert k["ltv"] == pytest.approx(57 * k["gross_margin"])


def test_growth(review):
    s = metrics.kpi_summary(review, P)
    # 2024: one line, revenue 10 → revenue growth 114 ÷ 10 − 1
    assert s["kpis_previous"]["revenue"] == pytest.approx(10.0)
    assert s["growth"]["revenue"] == pytest.approx(10.4)
    assert not math.isnan(s["growth"]["orders"])


def test_quarter_period(review):
    k = metrics.kpis(review, Period.parse("2025Q1"))
    assert k["revenue"] == pytest.approx(114.0)
    # C2: 5 of its 10 days fall in Q1
    assert k["ad_spend"] == pytest.approx(200.0)


def test_category_breakdown_and_window(tiny):
    from ecomreview.period import Window
    text = (tiny / "products.csv").read_text().replace("return_salvage_rate\n", "return_salvage_rate,category\n")
    text = text.replace("CNY,0.5\n", "CNY,0.5,Pet\n").replace("S2,5,,,,,\n", "S2,5,,,,,,Home\n")
    (tiny / "products.csv").write_text(text)
    review = prepare(load_workspace(tiny))
    f = metrics.kpis(review, P, by="category")
    # Pet = S1 lines: (20−2+5) + (10−10+5) = 28; Home = S2: 20 + 66 = 86
    assert f.loc["Pet", "revenue"] == pytest.approx(28.0)
    assert f.loc["Home", "revenue"] == pytest.approx(86.0)
    # a window of arbitrary days: January 2025 only → A1
    k = metrics.kpis(review, Window(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-31")))
    assert k["revenue"] == pytest.approx(43.0)
