"""Profit waterfall, loss diagnosis and landed-cost traps (SPEC §4.5) on hand-made numbers."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from ecomreview import diagnosis as dg  # noqa: E402
from ecomreview import metrics  # noqa: E402
from ecomreview.loader import load_workspace  # noqa: E402
from ecomreview.period import Period  # noqa: E402
from ecomreview.report.charts import check_labelled  # noqa: E402
from ecomreview.review import prepare  # noqa: E402

# ------------------------------------------------------------------ waterfall

K = {"revenue": 1000.0, "product_cogs": 400.0, "commission": 100.0, "payment_fees": 30.0, "fulfillment": 150.0,
     "platform_expenses": 20.0, "ad_spend": 200.0, "overheads": 50.0, "net_profit": 50.0}


def test_waterfall_steps_and_running_total():
    df = dg.waterfall(K)
    assert df["step"].tolist() == ["revenue", "product_cost", "fees", "fulfilment", "platform", "ads", "overheads",
                                   "net_profit"]
    # 1000 − 400 = 600; − (100 + 30) = 470; − 150 = 320; − 20 = 300; − 200 = 100; − 50 = 50
    assert df["amount"].tolist() == [1000, -400, -130, -150, -20, -200, -50, 50]
    assert df["running"].tolist() == [1000, 600, 470, 320, 300, 100, 50, 50]
    assert df["start"].tolist() == [0, 1000, 600, 470, 320, 300, 100, 0]
    assert df["kind"].tolist() == ["total"] + ["delta"] * 6 + ["total"]
    assert df.attrs["reconciles"] is True


def test_waterfall_total_is_the_reported_net_profit_exactly():
    # Awkward decimals: summed in another order the total can differ in the last bit; the reported
    # net profit is what the chart must show when the two agree.
    k = {"revenue": 1234.57, "product_cogs": 456.79, "commission": 123.46, "payment_fees": 37.03,
         "fulfillment": 211.11, "platform_expenses": 9.99, "ad_spend": 300.01, "overheads": 77.77}
    cogs = k["product_cogs"] + k["commission"] + k["payment_fees"] + k["fulfillment"] + k["platform_expenses"]
    k["net_profit"] = (k["revenue"] - cogs) - k["ad_spend"] - k["overheads"]   # the engine's order
    df = dg.waterfall(k)
    assert df["amount"].iloc[-1] == k["net_profit"]
    assert df.attrs["reconciles"] is True


def test_waterfall_flags_inconsistent_inputs_and_needs_revenue():
    df = dg.waterfall({**K, "net_profit": 49.0})
    assert df.attrs["reconciles"] is False and df["amount"].iloc[-1] == 50     # shows its own sum
    df = dg.waterfall({"revenue": 100.0})                                      # missing costs count as 0
    assert df["amount"].iloc[-1] == 100 and df.attrs["reconciles"] is False
    with pytest.raises(ValueError):
        dg.waterfall({"ad_spend": 5.0})


def _review(tiny):
    return prepare(load_workspace(tiny))


def test_waterfall_of_the_metric_engine_reconciles(tiny):
    review = _review(tiny)
    P = Period.parse("2025")
    k = metrics.kpis(review, P)
    df = dg.waterfall(k)
    assert df.attrs["reconciles"] and df["amount"].iloc[-1] == k["net_profit"]
    by_channel = metrics.kpis(review, P, by="channel")
    for channel, row in by_channel.iterrows():
        kc = metrics.frame_row_to_dict(row)
        w = dg.waterfall(kc)
        assert w.attrs["reconciles"], channel
        assert w["amount"].iloc[-1] == kc["net_profit"], channel


def test_waterfall_on_partial_cost_coverage_uses_the_costed_lines(tiny):
    text = (tiny / "products.csv").read_text().replace("S2,5,,,,,\n", "")
    (tiny / "products.csv").write_text(text)
    k = metrics.kpis(_review(tiny), Period.parse("2025"))
    assert k["cost_coverage"] < 1
    df = dg.waterfall(k)
    assert df["amount"].iloc[0] == k["revenue_costed"]
    assert df.attrs["reconciles"] and df.attrs["partial"]
    assert df["amount"].iloc[-1] == k["net_profit"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_waterfall_figure_is_labelled(lang):
    fig = dg.waterfall_figure(dg.waterfall(K), lang, "USD", "Title")
    ax = fig.axes[0]
    assert ax.get_title() == "Title" and check_labelled(fig) == []
    assert "USD" in ax.get_ylabel()
    assert len(ax.patches) == 8
    # the ads bar floats from 100 to 300
    ads = ax.patches[5]
    assert ads.get_y() == pytest.approx(100) and ads.get_height() == pytest.approx(200)
    labels = [x.get_text() for x in ax.get_xticklabels()]
    assert labels[0] == ("收入" if lang == "zh" else "Revenue")
    matplotlib.pyplot.close(fig)


def test_waterfall_figure_without_the_chart_style(monkeypatch):
    # diagnosis must stay usable when report.charts is absent: a plain labelled Figure
    import sys

    import ecomreview.report as report
    monkeypatch.delattr(report, "charts", raising=False)
    monkeypatch.setitem(sys.modules, "ecomreview.report.charts", None)
    fig = dg.waterfall_figure(dg.waterfall(K), "en", "USD", "Title")
    assert fig.axes[0].get_title() == "Title" and check_labelled(fig) == []


# ------------------------------------------------------------------ diagnose

def _k(**over):
    """A loss-making company: revenue 10,000; every rule of thumb met unless overridden."""
    base = {"revenue": 10000.0, "product_cogs": 3000.0, "commission": 1000.0, "payment_fees": 300.0,
            "fulfillment": 1500.0, "platform_expenses": 200.0, "ad_spend": 1000.0, "overheads": 500.0,
            "refunds": 0.0, "return_rate": 0.05, "product_margin": 0.7}
    base.update(over)
    cogs = sum(base[n] for n in ("product_cogs", "commission", "payment_fees", "fulfillment", "platform_expenses"))
    base.setdefault("gross_profit", base["revenue"] - cogs)
    base.setdefault("gross_margin", base["gross_profit"] / base["revenue"])
    base.setdefault("contribution_profit", base["gross_profit"] - base["ad_spend"])
    base.setdefault("net_profit", base["contribution_profit"] - base["overheads"])
    base.setdefault("tacos", base["ad_spend"] / base["revenue"])
    return base


def test_healthy_company_gives_an_empty_frame():
    k = _k()   # gross profit 4,000 (40%), contribution 3,000, net 2,500
    df = dg.diagnose(k, None, {}, "en")
    assert df.empty and df.attrs["healthy"] is True and df.attrs["triggers"] == []
    assert list(df.columns) == dg.DIAGNOSIS_COLUMNS


def test_without_costs_health_is_unknown():
    df = dg.diagnose({"revenue": 100.0, "gross_margin": None, "net_profit": None}, None, {}, "en")
    assert df.empty and df.attrs["healthy"] is None


def test_gross_margin_just_below_green_triggers():
    k = _k(product_cogs=3001.0)   # gross margin 39.99%, profits still positive
    df = dg.diagnose(k, None, {}, "en")
    assert df.attrs["healthy"] is False and df.attrs["triggers"] == ["low_gross_margin"]
    # shortfall (0.40 − 0.3999) × 10,000 = 1, nothing else explains it → product driver, effect 1
    assert df["driver"].tolist() == ["product_returns"]
    assert df["effect"].iloc[0] == pytest.approx(1.0)


def test_ad_spend_planted_ranks_traffic_cost_first():
    # ads 4,000 (TACoS 40%); product cost 4,000 → gross profit 3,000 (30%); net = 3,000 − 4,000 − 500 = −1,500
    k = _k(ad_spend=4000.0, product_cogs=4000.0)
    df = dg.diagnose(k, None, None, "en")
    assert df.attrs["triggers"] == ["net_loss", "contribution_loss", "low_gross_margin"]
    assert df["driver"].tolist()[:2] == ["traffic_cost", "product_returns"]
    assert df["effect"].iloc[0] == pytest.approx(4000 - 0.15 * 10000)   # 2,500 above a 15% TACoS
    assert df["effect"].iloc[1] == pytest.approx(0.40 * 10000 - 3000)   # 1,000 of margin shortfall
    assert "40.0%" in df["evidence"].iloc[0] and "15.0%" in df["rule"].iloc[0]
    assert "15.0%" in df["action"].iloc[0]


def test_fulfilment_planted_ranks_fees_and_logistics_first():
    # fulfilment 4,000 (40%): gross profit 10,000 − 8,500 = 1,500 (15%); net = 1,500 − 1,000 − 600 = −100
    k = _k(fulfillment=4000.0, overheads=600.0)
    df = dg.diagnose(k, None, None, "zh")
    assert df["driver"].iloc[0] == "fees_logistics"
    assert df["effect"].iloc[0] == pytest.approx(4000 - 0.25 * 10000)        # 1,500 above 25% of revenue
    # product: shortfall 4,000 − 1,500 = 2,500, less the 1,500 logistics explains → 1,000 (not counted twice)
    assert df.set_index("driver").loc["product_returns", "effect"] == pytest.approx(1000)
    assert "traffic_cost" not in set(df["driver"])                          # ads 10% of revenue
    # overheads 600 exceed the contribution of 500 by 100: a driver, but the smallest
    assert df["driver"].tolist() == ["fees_logistics", "product_returns", "overheads"]
    assert df["effect"].iloc[-1] == pytest.approx(100)
    assert df["name"].iloc[0] == "费用与物流成本" and "40.0%" in df["evidence"].iloc[0]


@pytest.mark.parametrize("rate, excess", [(0.127, 0.0), (0.254, 150.0)])
def test_returns_above_the_norm(rate, excess):
    # refunds 300 at a 25.4% return rate: half of them lie above the 12.7% norm → 150
    k = _k(refunds=300.0, return_rate=rate, net_profit=-1.0, gross_margin=0.40)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    got = df.loc["product_returns", "effect"] if "product_returns" in df.index else 0.0
    assert got == pytest.approx(excess)


def test_traffic_cost_against_ltv():
    # TACoS 10% is fine, but 100 new customers worth LTV 15 justify only 100 × 15 ÷ 3 = 500 of ads
    k = _k(net_profit=-1.0, ltv=15.0, new_customers=100, ltv_cac=1.5, cac=10.0)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["traffic_cost", "effect"] == pytest.approx(1000 - 500)
    # LTV/CAC below 3 is flagged even when the money rule is met
    k = _k(net_profit=-1.0, ltv=60.0, new_customers=100, ltv_cac=2.9)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["traffic_cost", "effect"] == 0.0


def test_conversion_below_benchmark():
    # 10,000 sessions at 1% against 2%: 100 orders missed × AOV 50 × gross margin 40% = 2,000
    k = _k(net_profit=-1.0, sessions=10000.0, conversion_rate=0.01, aov=50.0)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["conversion", "effect"] == pytest.approx(2000)
    k = _k(net_profit=-1.0, sessions=10000.0, conversion_rate=0.02, aov=50.0)
    assert "conversion" not in set(dg.diagnose(k, None, {}, "en")["driver"])


def test_inventory_storage_and_risk_without_amount():
    k = _k(net_profit=-1.0, inventory_days=120.0, storage_expenses=200.0)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["inventory", "effect"] == pytest.approx(200 * (1 - 60 / 120))
    k = _k(net_profit=-1.0, inventory_days=60.0, storage_expenses=200.0)
    assert "inventory" not in set(dg.diagnose(k, None, {}, "en")["driver"])
    k = _k(net_profit=-1.0, inventory_days=90.0)
    df = dg.diagnose(k, None, {}, "en")
    assert df["driver"].iloc[-1] == "inventory" and math.isnan(df["effect"].iloc[-1])


def test_overheads_not_covered_by_contribution():
    # contribution 100, overheads 300 (3% of revenue, under 15%): 200 uncovered = the net loss
    k = _k(contribution_profit=100.0, overheads=300.0, net_profit=-200.0)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["overheads", "effect"] == pytest.approx(200)
    # overheads 2,000 (20%) with a negative contribution: 2,000 − 1,500 = 500 above the share rule
    k = _k(overheads=2000.0, contribution_profit=-10.0, net_profit=-2010.0)
    df = dg.diagnose(k, None, {}, "en").set_index("driver")
    assert df.loc["overheads", "effect"] == pytest.approx(500)


@pytest.mark.parametrize("amz, flagged", [(70.0, False), (70.01, True)])
def test_concentration_is_a_risk_ranked_last(amz, flagged):
    ch = pd.DataFrame({"revenue": [amz, 100 - amz]}, index=pd.Index(["amz", "shop"], name="channel"))
    k = _k(ad_spend=4000.0, product_cogs=4000.0)
    df = dg.diagnose(k, ch, {}, "en")
    assert ("concentration" in set(df["driver"])) is flagged
    if flagged:
        assert df["driver"].iloc[-1] == "concentration" and math.isnan(df["effect"].iloc[-1])
        assert "amz" in df["evidence"].iloc[-1]


def test_threshold_overrides():
    k = _k(ad_spend=4000.0, product_cogs=4000.0)
    df = dg.diagnose(k, None, {"tacos_amber": 0.30, "unknown_key": 1}, "en").set_index("driver")
    assert df.loc["traffic_cost", "effect"] == pytest.approx(4000 - 3000)


# ------------------------------------------------------------------ landed-cost traps

def _lines(rows):
    df = pd.DataFrame(rows, columns=["order_id", "order_date", "channel", "sku", "quantity", "value", "shipping",
                                     "returned_qty", "has_cost", "landed_unit_cost"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    return df


CHANNELS = pd.DataFrame({"channel": ["shop", "amz", "fba"], "shipping_cost_per_order": [0.0, 4.0, 0.0],
                         "fulfillment_cost_per_unit": [0.0, 0.0, 3.5], "payment_fee_rate": [0.029, 0.0, 0.0]})
PRODUCTS = pd.DataFrame({"sku": ["S1", "S2", "S3"], "return_salvage_rate": [np.nan, 0.0, 0.3]})


def _traps(lines, expenses=None, **kw):
    return dg.landed_cost_traps(lines, CHANNELS, expenses, PRODUCTS, **kw).set_index("check")


def test_free_shipping_uncosted():
    lines = _lines([
        ("O1", "2025-01-02", "shop", "S3", 1, 10.0, 0.0, 0, True, 5.0),    # free, shop has no cost → trap
        ("O2", "2025-01-02", "shop", "S3", 1, 10.0, 5.0, 0, True, 5.0),    # shipping charged
        ("O3", "2025-01-02", "amz", "S3", 1, 10.0, 0.0, 0, True, 5.0),     # amz costs 4 per order
        ("O4", "2025-01-02", "ebay", "S3", 1, 10.0, 0.0, 0, True, 5.0),    # channel not in the table → trap
        ("O5", "2025-01-02", "shop", "S3", 1, 10.0, 0.0, 0, True, 5.0),    # second line charges 3
        ("O5", "2025-01-02", "shop", "S2", 1, 10.0, 3.0, 0, True, 5.0),
        ("O6", "2025-01-02", "shop", "S3", 2, 20.0, np.nan, 0, True, 5.0),  # missing shipping = 0 → trap
        ("O7", "2025-01-02", "fba", "S3", 1, 10.0, 0.0, 0, True, 5.0),     # the FBA fee includes delivery
    ])
    row = _traps(lines).loc["free_shipping_uncosted"]
    assert row["count"] == 3 and row["examples"] == ["O1", "O4", "O6"]


def test_payment_fees_double():
    lines = _lines([("O1", "2025-01-02", "amz", "S3", 1, 10.0, 1.0, 0, True, 5.0)])
    exp = pd.DataFrame({"month": ["2025-01", "2025-01"], "category": ["platform", "software"],
                        "amount": [30.0, 9.0], "channel": [None, None], "note": ["PayPal fees", "payment app"]})
    row = _traps(lines, exp).loc["payment_fees_double"]
    assert row["count"] == 1 and row["examples"] == ["shop"]          # shop has a rate; amz has none
    exp_amz = exp.assign(channel=["amz", None])                        # the payment row belongs to amz only
    assert _traps(lines, exp_amz).loc["payment_fees_double", "count"] == 0
    exp_zh = pd.DataFrame({"month": ["2025-01"], "category": ["other"], "amount": [5.0], "channel": ["shop"],
                           "note": ["支付手续费"]})
    assert _traps(lines, exp_zh).loc["payment_fees_double", "count"] == 1
    assert _traps(lines, exp.assign(note=["Shopify plan", None])).loc["payment_fees_double", "count"] == 0


def test_returns_without_salvage():
    lines = _lines([
        ("O1", "2025-01-02", "amz", "S1", 2, 20.0, 1.0, 1, True, 5.0),    # S1 has no salvage rate → trap
        ("O2", "2025-01-02", "amz", "S2", 1, 10.0, 1.0, 1, True, 5.0),    # S2's rate is 0, given
        ("O3", "2025-01-02", "amz", "S1", 1, 10.0, 1.0, 0, True, 5.0),    # nothing returned
        ("O4", "2025-01-02", "amz", "S9", 1, 10.0, 1.0, 1, False, np.nan),  # unknown SKU: the no-cost check's job
    ])
    row = _traps(lines).loc["returns_without_salvage"]
    assert row["count"] == 1 and row["examples"] == ["O1/S1"]


def test_landed_cost_above_price():
    lines = _lines([
        ("O1", "2025-01-02", "amz", "S1", 1, 10.0, 1.0, 0, True, 12.0),   # S1: cost 12 > price 10 → trap
        ("O2", "2025-01-02", "amz", "S2", 2, 20.0, 1.0, 0, True, 10.0),   # S2: cost 10 = price 10 → fine
        ("O3", "2025-01-02", "amz", "S3", 1, 30.0, 1.0, 0, True, 14.0),   # S3: cost (14 + 8) ÷ 2 = 11 < 40 ÷ 2 = 20
        ("O4", "2025-01-02", "amz", "S3", 1, 10.0, 1.0, 0, True, 8.0),
        ("O5", "2025-01-02", "amz", "S9", 1, 1.0, 1.0, 0, False, np.nan),  # no cost: not judged
    ])
    row = _traps(lines).loc["landed_cost_above_price"]
    assert row["count"] == 1 and row["examples"] == ["S1"]


def test_traps_period_filter_and_clean_data():
    lines = _lines([("O1", "2024-12-31", "shop", "S1", 1, 10.0, 0.0, 1, True, 12.0)])
    P = Period.parse("2025")
    df = dg.landed_cost_traps(lines, CHANNELS, None, PRODUCTS, period=P)
    assert df["check"].tolist() == list(dg.TRAP_CHECKS)
    assert df["count"].tolist() == [0, 0, 0, 0] and df["examples"].tolist() == [[], [], [], []]
    everything = dg.landed_cost_traps(lines, CHANNELS, None, PRODUCTS)   # no period: the 2024 line counts
    assert everything.set_index("check")["count"].to_dict() == {
        "free_shipping_uncosted": 1, "payment_fees_double": 0, "returns_without_salvage": 1,
        "landed_cost_above_price": 1}
    # no channels or products tables at all: every free-shipping order is uncosted, nothing else is known
    bare = dg.landed_cost_traps(lines, None, None, None).set_index("check")["count"]
    assert bare.tolist() == [1, 0, 0, 1]


def test_traps_on_a_prepared_workspace(tiny):
    review = _review(tiny)
    df = dg.landed_cost_traps(review.lines, review.channels, review.expenses, review.products,
                              period=Period.parse("2025")).set_index("check")
    # tiny: amz's A3 charges no shipping, but amz has a per-unit fulfilment fee (3); shop costs 4 an order
    assert df.loc["free_shipping_uncosted", "count"] == 0
    text = (tiny / "channels.csv").read_text().replace("amz,15%,0,0,3,0", "amz,15%,0,0,0,0")
    (tiny / "channels.csv").write_text(text)
    review = _review(tiny)
    df = dg.landed_cost_traps(review.lines, review.channels, review.expenses, review.products,
                              period=Period.parse("2025")).set_index("check")
    assert df.loc["free_shipping_uncosted", "examples"] == ["A3"]
    # A2 returned one S1, whose salvage rate is 0.5
    assert df.loc["returns_without_salvage", "count"] == 0
