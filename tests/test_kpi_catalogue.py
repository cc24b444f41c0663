"""The 82-KPI catalogue (SPEC §4.5): declaration, extras on a hand-made frame, evaluation against targets."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ecomreview import kpi_catalogue as kc
from ecomreview import metrics
from ecomreview.errors import InputError
from ecomreview.loader import load_workspace
from ecomreview.period import Period
from ecomreview.review import prepare
from ecomreview.spread import prorate

Q1 = Period.parse("2025Q1")


# ------------------------------------------------------------------ the declaration

def test_82_kpis_in_nine_modules_of_the_seeds_sizes():
    assert len(kc.CATALOGUE) == 82
    assert list(kc.MODULES) == ["scale", "conversion", "customers", "marketing", "supply_chain", "finance",
                                "experience", "market", "compliance"]
    assert {m: len(ks) for m, ks in kc.by_module().items()} == {
        "scale": 8, "conversion": 10, "customers": 12, "marketing": 12, "supply_chain": 12, "finance": 8,
        "experience": 10, "market": 5, "compliance": 5}
    ids = [k.id for k in kc.CATALOGUE]
    assert len(set(ids)) == 82
    assert all(i == i.lower() and " " not in i for i in ids)


def test_every_kpi_is_fully_described():
    for k in kc.CATALOGUE:
        assert k.zh and k.en and k.formula_zh and k.formula_en and k.needs_zh and k.needs_en, k.id
        assert k.unit in kc.UNITS, k.id
        assert set(k.stages) <= set(kc.STAGES), k.id


def test_sources_name_real_metrics_extras_or_inputs():
    extras = kc.compute_extras(_lines(), _products(), _traffic(), _campaigns(), _expenses(), KPIS, Q1, PREV)
    for k in kc.CATALOGUE:
        kind, name = k.source
        assert kind in ("metric", "extra", "input"), k.id
        if kind == "metric":
            assert name in metrics.METRICS, k.id
        elif kind == "extra":
            assert name in extras, k.id
        else:
            assert name == k.id and f"kpi={k.id}" in k.needs_en, k.id


def test_stage_focus_lists_follow_the_seed():
    focus = {s: {k.id for k in kc.CATALOGUE if s in k.stages} for s in kc.STAGES}
    assert focus["launch"] == {"cac", "roas", "conversion_rate", "aov", "delivery_days", "customs_clearance_rate"}
    assert focus["growth"] == {"ltv", "repeat_order_share", "inventory_days", "region_profit_margin"}
    assert focus["mature"] == {"compliance_cost_share", "nps", "market_penetration", "net_margin",
                               "cash_conversion_cycle"}


def test_targets_of_the_seed():
    tg = {k.id: (k.target.op, k.target.value, k.target.high) for k in kc.CATALOGUE if k.target}
    assert tg == {
        "ltv_cac": (">", 3.0, None), "nps": (">", 40.0, None), "positive_review_share": (">", 0.85, None),
        "complaint_resolution_rate": (">", 0.90, None), "first_screen_load_s": ("<", 3.0, None),
        "inventory_days": ("between", 30.0, 60.0), "logistics_cost_ratio": ("between", 0.15, 0.25),
        "compliance_cost_share": ("between", 0.05, 0.10), "service_response_minutes": ("<", 10.0, None)}


@pytest.mark.parametrize("target, x, met", [
    (kc.Target(">", 3.0), 2.99, False), (kc.Target(">", 3.0), 3.0, False), (kc.Target(">", 3.0), 3.01, True),
    (kc.Target("<", 3.0), 2.99, True), (kc.Target("<", 3.0), 3.0, False), (kc.Target("<", 3.0), 3.01, False),
    (kc.Target(">=", 0.3), 0.1 + 0.2, True), (kc.Target("<=", 0.3), 0.30001, False),
    (kc.Target("between", 30, 60), 29.9, False), (kc.Target("between", 30, 60), 30, True),
    (kc.Target("between", 30, 60), 60, True), (kc.Target("between", 30, 60), 60.1, False),
    (kc.Target("between", 0.05, 0.10), 0.7 / 7, True),   # 0.09999999999999999 counts as at 10%
])
def test_target_boundaries(target, x, met):
    assert target.met(x) is met


def test_target_text():
    assert kc.target_text(kc.get("nps"), "en") == "> 40"
    assert kc.target_text(kc.get("positive_review_share"), "zh") == "> 85%"
    assert kc.target_text(kc.get("inventory_days"), "en") == "30–60 days"
    assert kc.target_text(kc.get("inventory_days"), "zh") == "30–60 天"
    assert kc.target_text(kc.get("logistics_cost_ratio"), "en") == "15%–25%"
    assert kc.target_text(kc.get("first_screen_load_s"), "en") == "< 3 s"
    assert kc.target_text(kc.get("aov"), "en") == ""


# ------------------------------------------------------------------ a hand-made review, 2025Q1

def _lines() -> pd.DataFrame:
    """Review.lines-shaped frame. Line-level costs: product_cogs = half of gross where has_cost."""
    rows = [
        # order, date, channel, sku, country, customer, qty, gross, has_cost, fulfillment
        ("A6", "2024-06-01", "shop", "S1", "US", "c5", 1, 10.0, True, 0.0),   # c5: dormant, never back
        ("A0", "2024-09-15", "shop", "S1", "US", "c1", 1, 10.0, True, 0.0),   # c1: dormant 108 days, back in A1
        ("B0", "2024-12-20", "shop", "S1", "US", "c2", 1, 10.0, True, 0.0),   # c2: 12 days before P, not dormant
        ("A1", "2025-01-10", "shop", "S1", "US", "c1", 2, 20.0, True, 0.0),
        ("A2", "2025-02-05", "amz", "S2", "DE", "c3", 1, 30.0, True, 0.0),
        ("A3", "2025-03-10", "amz", "S2", "DE", "c3", 1, 30.0, True, 12.0),
        ("A4", "2025-03-20", "shop", "S3", "US", "c4", 1, 20.0, False, 0.0),
        ("A5", "2025-03-25", "amz", "S1", None, "c2", 1, 10.0, True, 0.0),
    ]
    df = pd.DataFrame(rows, columns=["order_id", "order_date", "channel", "sku", "country", "customer_id",
                                     "quantity", "gross", "has_cost", "fulfillment"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["month"] = df["order_date"].dt.strftime("%Y-%m")
    for c in ("discount", "shipping", "refund", "returned_qty", "commission", "payment_fees"):
        df[c] = 0.0
    df["net_sales"] = df["gross"] - df["discount"] - df["refund"]
    df["revenue"] = df["net_sales"] + df["shipping"]
    df["value"] = df["gross"] - df["discount"]
    df["landed_unit_cost"] = np.where(df["has_cost"], df["gross"] / df["quantity"] / 2, np.nan)
    df["product_cogs"] = df["quantity"] * df["landed_unit_cost"]
    return df


def _products() -> pd.DataFrame:
    return pd.DataFrame({
        "sku": ["S1", "S2", "S3"], "category": ["Pet", "Home", "Pet"],
        "launch_date": pd.to_datetime(["2023-01-01", "2025-01-20", None]),
        "stock_on_hand": [0.0, 3.0, np.nan], "return_salvage_rate": [np.nan, np.nan, np.nan],
    })


def _campaigns() -> pd.DataFrame:
    nan = np.nan
    return pd.DataFrame([
        # id, type, spend, impressions, clicks, orders, attributed_sales, tags
        ("C1", "ads", 100.0, 10000.0, 200.0, 10.0, 400.0, ["brand"]),
        ("C2", "ads", 50.0, nan, 50.0, 5.0, nan, ["Retargeting"]),
        ("E1", "email", 10.0, 1000.0, 40.0, nan, nan, []),
        ("K1", "influencer", 200.0, nan, nan, nan, 300.0, []),
        ("T1", "content", 30.0, 5000.0, nan, nan, nan, []),
    ], columns=["campaign_id", "type", "spend", "impressions", "clicks", "orders", "attributed_sales", "tags"])


def _traffic() -> pd.DataFrame:
    nan = np.nan
    return pd.DataFrame([
        ("2025-01", "shop", nan, 1000.0, 10.0, nan),   # orders counted from lines: A1 → 1
        ("2025-03", "amz", nan, 500.0, 4.0, 3.0),      # orders given
        ("2025-02", "amz", nan, 400.0, nan, nan),      # no checkouts → not used
        ("2024-12", "shop", nan, 900.0, 100.0, 1.0),   # outside P
    ], columns=["month", "channel", "sku", "sessions", "checkouts", "orders"])


def _expenses() -> pd.DataFrame:
    return pd.DataFrame({"month": ["2025-01", "2025-02", "2025-03", "2024-12"],
                         "category": ["storage", "compliance", "platform", "storage"],
                         "amount": [11.0, 5.5, 20.0, 100.0], "channel": [None] * 4, "note": [None] * 4})


# SPEC §3 metrics of the frame above, as the engine would give them (only the keys extras read).
KPIS = {"revenue": 110.0, "fulfillment": 22.0, "commission": 10.0, "payment_fees": 5.0, "ad_spend": 40.0,
        "overheads": 30.0, "product_cogs": 33.0, "contribution_profit": 8.0, "net_profit": -22.0,
        "customers": 4, "cart_abandonment_rate": 0.75}
PREV = {"revenue": 88.0}


@pytest.fixture
def extras():
    return kc.compute_extras(_lines(), _products(), _traffic(), _campaigns(), _expenses(), KPIS, Q1, PREV)


def test_scale_extras(extras):
    # revenue in P: Jan 20, Feb 30, Mar 60 (A3 30 + A4 20 + A5 10) = 110
    assert extras["revenue_growth_mom"] == pytest.approx(60 / 30 - 1)          # March vs February
    assert extras["revenue_share_by_country"] == pytest.approx(60 / 100)       # DE 60 of 100 with a country
    assert extras["revenue_share_by_channel"] == pytest.approx(70 / 110)       # amz 30+30+10
    assert extras["active_skus_30d"] == 3                                      # after 03-01: S2, S3, S1
    assert extras["revenue_growth_yoy"] == pytest.approx(110 / 88 - 1)         # from prev_kpis


def test_product_extras(extras):
    assert extras["category_share"] == pytest.approx(60 / 110)     # Home 60, Pet 30 + 20
    assert extras["new_product_share"] == pytest.approx(60 / 110)  # S2 launched 01-20: sold at 16 and 49 days
    # stock of SKUs with a figure: S1 0 + S2 3; their units 2025-01-01..03-31: 2 + 1 + 1 + 1 = 5 → 5/90 a day
    assert extras["inventory_days"] == pytest.approx(3 / (5 / 90))
    assert extras["stockout_rate"] == pytest.approx(1 / 2)         # S1 sold in P with stock 0, of S1 and S2


def test_customer_extras(extras):
    assert extras["repeat_order_share"] == pytest.approx(3 / 5)       # A1 (c1), A3 (c3), A5 (c2) of A1..A5
    assert extras["returning_revenue_share"] == pytest.approx(30 / 110)  # c1 20 + c2 10
    assert extras["top_customer_share"] == pytest.approx(60 / 110)    # top 20% of 4 customers = 1: c3 60
    assert extras["acquisition_channel_mix"] == pytest.approx(1 / 2)  # new: c3 on amz, c4 on shop
    assert extras["winback_rate"] == pytest.approx(1 / 2)             # dormant c1 (back), c5 (not)


def test_campaign_extras(extras):
    assert extras["roas"] == pytest.approx(400 / 100)        # ads rows with attributed sales: C1
    assert extras["ctr"] == pytest.approx(200 / 10000)       # ads rows with both: C1
    assert extras["cpm"] == pytest.approx(100 / 10000 * 1000)
    assert extras["cpc"] == pytest.approx(150 / 250)         # C1 + C2
    assert extras["email_click_rate"] == pytest.approx(40 / 1000)
    assert extras["retargeting_cvr"] == pytest.approx(5 / 50)   # tag matched case-insensitively
    assert extras["content_reach"] == 5000
    assert extras["kol_roi"] == pytest.approx(300 / 200)


def test_traffic_and_finance_extras(extras):
    assert extras["payment_success_rate"] == pytest.approx((1 + 3) / (10 + 4))
    assert extras["storage_cost_ratio"] == pytest.approx(11 / 110)       # December's 100 is outside P
    assert extras["compliance_cost_share"] == pytest.approx(5.5 / 110)
    assert extras["logistics_cost_ratio"] == pytest.approx(22 / 110)
    assert extras["channel_roi"] == pytest.approx(8 / 40)
    assert extras["operating_cost_structure"] == pytest.approx(40 / (10 + 5 + 22 + 40 + 30 + 20))
    assert extras["profit_per_customer"] == pytest.approx(-22 / 4)
    assert extras["fixed_cost_share"] == pytest.approx((30 + 20) / (30 + 20 + 33 + 10 + 5 + 22 + 40))
    assert extras["cart_conversion_rate"] == pytest.approx(0.25)
    # US: A1 (20 − 10) / 20 = 0.5 (A4 has no cost); DE: A2 + A3 (60 − 30 − 12) / 60 = 0.3 → lowest 0.3
    assert extras["region_profit_margin"] == pytest.approx(0.3)


def test_extras_are_absent_without_data():
    lines = _lines()
    empty = kc.compute_extras(lines, None, None, None, None, {"revenue": 0.0}, Q1, None)
    for name in ("category_share", "inventory_days", "roas", "kol_roi", "payment_success_rate",
                 "storage_cost_ratio", "compliance_cost_share", "logistics_cost_ratio", "revenue_growth_yoy",
                 "channel_roi", "cart_conversion_rate", "profit_per_customer"):
        assert empty[name] is None, name
    no_cust = kc.compute_extras(lines.assign(customer_id=None), None, None, None, None, KPIS, Q1, None)
    assert no_cust["repeat_order_share"] is None and no_cust["winback_rate"] is None
    # growth_revenue from the engine wins over prev_kpis
    assert kc.compute_extras(lines, None, None, None, None, {**KPIS, "growth_revenue": 0.1}, Q1,
                             PREV)["revenue_growth_yoy"] == pytest.approx(0.1)


def test_mom_with_no_sales_in_the_month_before_is_absent():
    lines = _lines()
    lines = lines[lines["month"] != "2025-02"]   # March vs an empty February
    assert kc.compute_extras(lines, None, None, None, None, KPIS, Q1, None)["revenue_growth_mom"] is None


# ------------------------------------------------------------------ evaluate

def _inputs(rows):
    return pd.DataFrame(rows, columns=["kpi", "value", "period", "note"])


def test_evaluate_statuses_and_needs(extras):
    kpis = {**KPIS, "ltv_cac": 3.0, "aov": 27.5, "conversion_rate": None}
    inputs = _inputs([("nps", 41, "", ""), ("positive_review_share", 85, "2025Q1", "typed as %"),
                      ("first_screen_load_s", 2.5, "2024", "other period: ignored")])
    df = kc.evaluate(kpis, extras, inputs, "2025Q1", "growth", "en").set_index("id")
    assert len(df) == 82
    assert df.loc["ltv_cac", "status"] == "missed"              # LTV/CAC must be > 3; 3.0 is not
    assert df.loc["nps", "status"] == "met" and df.loc["nps", "value"] == 41
    assert df.loc["positive_review_share", "value"] == pytest.approx(0.85)   # 85 read as 85%
    assert df.loc["positive_review_share", "status"] == "missed"             # > 85% needed
    assert df.loc["first_screen_load_s", "status"] == "not_available"
    assert "kpi=first_screen_load_s" in df.loc["first_screen_load_s", "needs"]
    assert df.loc["aov", "status"] == "no_target" and df.loc["aov", "needs"] == ""
    assert df.loc["conversion_rate", "status"] == "not_available"
    assert "traffic" in df.loc["conversion_rate", "needs"]
    assert df.loc["inventory_days", "status"] == "met"          # 54 days, within 30–60
    assert df.loc["logistics_cost_ratio", "status"] == "met"    # 20%
    assert df.loc["compliance_cost_share", "status"] == "met"   # exactly 5%
    assert df.loc["aov", "name"] == "Average order value (AOV)"
    assert df.loc["aov", "target"] == "" and df.loc["nps", "target"] == "> 40"


def test_kpi_inputs_period_row_wins_and_fill_missing_computations():
    inputs = _inputs([("NPS ", 30, "2025Q1", ""), ("nps", 50, None, ""), ("roas", 2.5, "", "ads console")])
    df = kc.evaluate({}, {"roas": None}, inputs, "2025Q1", "launch", "zh").set_index("id")
    assert df.loc["nps", "value"] == 30 and df.loc["nps", "status"] == "missed"
    assert df.loc["roas", "value"] == 2.5 and df.loc["roas", "needs"] == ""
    assert df.loc["nps", "name"] == "净推荐值(NPS)"
    other = kc.evaluate({}, {}, inputs, "2025Q2", "launch", "zh").set_index("id")
    assert other.loc["nps", "value"] == 50                      # only the any-period row applies


def test_focus_first_then_module_order(extras):
    df = kc.evaluate(KPIS, extras, None, "2025Q1", "mature", "en")
    assert list(df["id"][:5]) == ["market_penetration", "net_margin", "cash_conversion_cycle", "nps",
                                  "compliance_cost_share"]
    assert df["focus"].tolist() == [True] * 5 + [False] * 77
    rest = df[~df["focus"]]
    order = [list(kc.MODULES).index(m) for m in rest["module"]]
    assert order == sorted(order)


def test_unknown_stage_is_an_input_error():
    with pytest.raises(InputError, match="stage"):
        kc.evaluate({}, {}, None, "2025", "scale-up", "en")


def test_coverage_and_metrics_json(extras):
    df = kc.evaluate(KPIS, extras, _inputs([("nps", 41, "", "")]), "2025Q1", "growth", "en")
    computed = int((df["status"] != "not_available").sum())
    assert kc.coverage(df) == pytest.approx(computed / 82)
    j = kc.to_metrics_json(df)
    assert len(j) == 82
    assert j["nps"] == {"value": 41.0, "status": "met", "needs": ""}
    assert j["csat"]["value"] is None and j["csat"]["status"] == "not_available" and "csat" in j["csat"]["needs"]
    assert all(v["value"] is None or math.isfinite(v["value"]) for v in j.values())


def test_on_a_prepared_workspace(tiny):
    # End to end on the shared tiny workspace: every extra computes from real Review frames.
    review = prepare(load_workspace(tiny))
    P = Period.parse("2025")
    summary = metrics.kpi_summary(review, P)
    camp = prorate(review.campaigns, P.start, P.end)
    ex = kc.compute_extras(review.lines, review.products, review.traffic, camp, review.expenses,
                           summary["kpis"], P, summary["kpis_previous"])
    df = kc.evaluate(summary["kpis"], ex, review.kpi_inputs, P.label, review.settings["stage"], "zh")
    assert len(df) == 82
    assert ex["roas"] is None                                   # the tiny campaigns have no attributed sales
    assert ex["logistics_cost_ratio"] == pytest.approx(summary["kpis"]["fulfillment"] / summary["kpis"]["revenue"])
    assert 0 < kc.coverage(df) < 1
