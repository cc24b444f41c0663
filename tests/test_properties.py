"""Invariants of the metric engine on generated workspaces (hypothesis): breakdowns add up to the total, money
scales, ratios do not, row order and cancelled lines change nothing, and a base-currency round trip is stable."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomreview import audit, metrics, schema
from ecomreview.loader import Workspace, parse_table
from ecomreview.period import Period
from ecomreview.review import prepare

P = Period.parse("2025")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHANNELS = ("amz", "shop", "ebay")
SKUS = ("S0", "S1", "S2", "S3")
# Metrics that are sums over order lines: every breakdown adds up to them.
LINE_SUMS = ("gross_sales", "discounts", "refunds", "net_sales", "shipping_revenue", "revenue", "units",
             "product_cogs", "commission", "payment_fees")
# Sums that also take in expenses and campaign spend: they add up over channels (all our generated expenses and
# campaigns belong to a channel) and over months.
PROFIT_SUMS = ("fulfillment", "cogs", "gross_profit", "ad_spend", "contribution_profit", "overheads", "net_profit")
SCALE_FREE = tuple(m for m in metrics.METRICS if m not in metrics.MONEY)


def money(lo=0, hi=20000):
    return st.integers(lo, hi).map(lambda c: f"{c / 100:.2f}")


@st.composite
def shops(draw) -> dict[str, pd.DataFrame]:
    """A small workspace as text tables (what the loader reads), all in the base currency."""
    n = draw(st.integers(1, 14))
    orders = pd.DataFrame([{
        "order_id": f"O{draw(st.integers(0, 8))}",
        "order_date": f"2025-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
        "channel": draw(st.sampled_from(CHANNELS)), "sku": draw(st.sampled_from(SKUS)),
        "quantity": str(draw(st.integers(1, 6))), "unit_price": draw(money(1)),
        "discount": draw(money(0, 500)), "shipping_charged": draw(money(0, 900)),
        "refund_amount": draw(st.sampled_from(["0", "0", "3.50", "12"])),
        "returned_qty": draw(st.sampled_from(["0", "0", "1"])),
        "customer_id": f"c{draw(st.integers(0, 5))}", "country": draw(st.sampled_from(["US", "DE", "CN"])),
    } for _ in range(n)])
    costed = draw(st.lists(st.sampled_from(SKUS), unique=True, max_size=len(SKUS)))
    products = pd.DataFrame([{"sku": s, "unit_cost": draw(money(0, 3000)), "inbound_freight": draw(money(0, 300)),
                              "packaging_cost": draw(money(0, 100)), "duty_rate": draw(st.sampled_from(["0", "7.5%"])),
                              "return_salvage_rate": draw(st.sampled_from(["", "30%"]))} for s in costed],
                            columns=["sku", "unit_cost", "inbound_freight", "packaging_cost", "duty_rate",
                                     "return_salvage_rate"])
    channels = pd.DataFrame([{"channel": c, "commission_rate": draw(st.sampled_from(["0", "15%"])),
                              "payment_fee_rate": draw(st.sampled_from(["0", "2.9%"])),
                              "payment_fee_fixed": draw(money(0, 50)), "fulfillment_cost_per_unit": draw(money(0, 400)),
                              "shipping_cost_per_order": draw(money(0, 700))} for c in CHANNELS])
    expenses = pd.DataFrame([{"month": f"2025-{draw(st.integers(1, 12)):02d}",
                              "category": draw(st.sampled_from(schema.EXPENSE_CATEGORIES)),
                              "amount": draw(money(0, 50000)), "channel": draw(st.sampled_from(CHANNELS))}
                             for _ in range(draw(st.integers(0, 4)))], columns=["month", "category", "amount", "channel"])
    campaigns = pd.DataFrame([{"campaign_id": f"C{i}", "channel": draw(st.sampled_from(CHANNELS)), "type": "ads",
                               "start_date": f"2025-{draw(st.integers(1, 11)):02d}-01",
                               "end_date": f"2025-{draw(st.integers(11, 12)):02d}-15", "spend": draw(money(0, 90000))}
                              for i in range(draw(st.integers(0, 2)))],
                             columns=["campaign_id", "channel", "type", "start_date", "end_date", "spend"])
    traffic = pd.DataFrame([{"month": "2025-01", "channel": c, "sessions": str(draw(st.integers(1, 500)))}
                            for c in CHANNELS])
    return {"orders": orders, "products": products, "channels": channels, "expenses": expenses,
            "campaigns": campaigns, "traffic": traffic}


def review_of(tables: dict[str, pd.DataFrame], base: str = "USD", fx: pd.DataFrame | None = None):
    """Parse the text tables as the loader does (no disk) and prepare the review."""
    tables = dict(tables)
    if fx is not None:
        tables["fx_rates"] = fx
    parsed, problems = {}, []
    for name, raw in tables.items():
        raw = raw.astype(str).copy()
        raw.index = pd.RangeIndex(2, len(raw) + 2)
        parsed[name] = parse_table(schema.TABLES[name], raw, f"{name}.csv", problems)
    assert not [p for p in problems if p.severity == "error"], [str(p) for p in problems]
    settings_ = {**schema.SETTINGS_DEFAULTS, "base_currency": base, "thresholds": {}}
    return prepare(Workspace(path=Path("."), tables=parsed, settings=settings_,
                             sources={k: f"{k}.csv" for k in parsed}, problems=problems))


def same(a, b, rel=1e-9, abs_=1e-6) -> bool:
    absent = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    if absent(a) or absent(b):
        return absent(a) and absent(b)
    return a == pytest.approx(b, rel=rel, abs=abs_)


def assert_same(k1: dict, k2: dict, names, factor: float = 1.0) -> None:
    for m in names:
        a = k1[m]
        b = None if k2[m] is None else k2[m] / factor
        assert same(a, b), (m, k1[m], k2[m], factor)


@SETTINGS
@given(shops(), st.sampled_from(["channel", "sku", "country", "month"]))
def test_breakdowns_sum_to_the_total(tables, by):
    r = review_of(tables)
    total = metrics.kpis(r, P)
    parts = metrics.kpis(r, P, by=by)
    names = LINE_SUMS + (PROFIT_SUMS if by in ("channel", "month") else ())
    if not parts["cost_coverage"].eq(1).all():
        # A group with sales but no cost at all has null cost-based metrics (SPEC §3 cost_coverage) while its
        # expenses still count in the company's: the parts then need not add up.
        names = [m for m in names if m not in metrics.COST_BASED or m == "product_cogs"]
    for m in names:
        if total[m] is None:  # absent when no line has a cost; so are the parts that have sales
            assert parts.loc[parts["line_count"] > 0, m].isna().all(), m
            continue
        assert parts[m].fillna(0).sum() == pytest.approx(total[m], rel=1e-9, abs=1e-6), (m, by)


def _scaled(tables: dict[str, pd.DataFrame], k: float) -> dict[str, pd.DataFrame]:
    cols = {"orders": ("unit_price", "discount", "shipping_charged", "refund_amount"),
            "products": ("unit_cost", "inbound_freight", "packaging_cost"),
            "channels": ("payment_fee_fixed", "fulfillment_cost_per_unit", "shipping_cost_per_order"),
            "expenses": ("amount",), "campaigns": ("spend",)}
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for c in cols.get(name, ()):
            df[c] = (df[c].astype(float) * k).map(repr)
        out[name] = df
    return out


@SETTINGS
@given(shops(), st.sampled_from([2.0, 0.5, 7.3, 1000.0]))
def test_money_scales_and_ratios_do_not(tables, k):
    base = metrics.kpis(review_of(tables), P)
    scaled = metrics.kpis(review_of(_scaled(tables, k)), P)
    assert_same(base, scaled, [m for m in metrics.METRICS if m in metrics.MONEY], factor=k)
    assert_same(base, scaled, SCALE_FREE)


@SETTINGS
@given(shops(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(tables, rnd):
    shuffled = {}
    for name, df in tables.items():
        idx = list(range(len(df)))
        rnd.shuffle(idx)
        shuffled[name] = df.iloc[idx].reset_index(drop=True)
    r1, r2 = review_of(tables), review_of(shuffled)
    assert_same(metrics.kpis(r1, P), metrics.kpis(r2, P), metrics.METRICS)
    for by in ("channel", "sku"):
        a, b = metrics.kpis(r1, P, by=by), metrics.kpis(r2, P, by=by)
        pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_exact=False, rtol=1e-9, atol=1e-6)


@SETTINGS
@given(shops(), st.sampled_from(["cancelled", "已取消", "Canceled"]), st.sampled_from(CHANNELS + ("newshop",)))
def test_a_cancelled_line_changes_only_the_audit_count(tables, status, channel):
    extra = pd.DataFrame([{"order_id": "X-CANCEL", "order_date": "2025-06-30", "channel": channel, "sku": "S9",
                           "quantity": "3", "unit_price": "999", "customer_id": "c-new", "country": "FR",
                           "status": status}])
    with_cancel = dict(tables, orders=pd.concat([tables["orders"], extra], ignore_index=True).fillna(""))
    r1, r2 = review_of(tables), review_of(with_cancel)
    assert_same(metrics.kpis(r1, P), metrics.kpis(r2, P), metrics.METRICS)
    q1, q2 = (dict(zip(d["check"], d["count"])) for d in (audit.data_quality(r1, P), audit.data_quality(r2, P)))
    assert q2.pop("cancelled_lines") == q1.pop("cancelled_lines") + 1
    assert q1 == q2


@SETTINGS
@given(shops(), st.sampled_from([0.9, 1.0837, 7.1]))
def test_base_currency_round_trip(tables, rate):
    """Amounts in USD reviewed in EUR (rate EUR per USD) scale money by the rate; the same amounts written in
    EUR and reviewed back in USD (rate 1/rate) give the USD figures again."""
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    usd = metrics.kpis(review_of(tables), P)

    in_eur_base = _with_currency(tables, "USD")
    in_eur_base["channels"] = _scaled(tables, rate)["channels"]  # channel money is in the base currency
    fx = pd.DataFrame({"month": months, "currency": "USD", "rate_to_base": repr(rate)})
    eur = metrics.kpis(review_of(in_eur_base, base="EUR", fx=fx), P)
    assert_same(usd, eur, [m for m in metrics.METRICS if m in metrics.MONEY], factor=rate)
    assert_same(usd, eur, SCALE_FREE)

    back = _with_currency(_scaled(tables, rate), "EUR")
    back["channels"] = tables["channels"]
    fx_back = pd.DataFrame({"month": months, "currency": "EUR", "rate_to_base": repr(1 / rate)})
    assert_same(usd, metrics.kpis(review_of(back, base="USD", fx=fx_back), P), metrics.METRICS)


def _with_currency(tables: dict[str, pd.DataFrame], cur: str) -> dict[str, pd.DataFrame]:
    out = {k: v.copy() for k, v in tables.items()}
    out["orders"]["currency"] = cur
    out["products"]["cost_currency"] = cur
    out["expenses"]["currency"] = cur
    out["campaigns"]["currency"] = cur
    return out


def test_channel_with_costs_but_no_sales_hides_its_loss():
    tables = {
        "orders": pd.DataFrame([{"order_id": "O1", "order_date": "2025-03-01", "channel": "shop", "sku": "S0",
                                 "quantity": "1", "unit_price": "100"}]),
        "products": pd.DataFrame([{"sku": "S0", "unit_cost": "40"}]),
        "expenses": pd.DataFrame([{"month": "2025-03", "category": "staff", "amount": "30", "channel": "ebay"}]),
    }
    r = review_of(tables)
    total = metrics.kpis(r, P)
    by = metrics.kpis(r, P, by="channel")
    assert total["net_profit"] == pytest.approx(30.0)           # 100 − 40 − 30 (ebay's staff)
    assert by.loc["shop", "net_profit"] == pytest.approx(60.0)  # 100 − 40
    assert by.loc["ebay", "net_profit"] == pytest.approx(-30.0)  # its loss is shown, so the channels add up to the total


@pytest.mark.parametrize("by", [None, "channel", "sku"])
def test_customer_id_is_optional(by):
    """SPEC §2: customer_id is optional. Without it every sales metric is computed, the customer counts are 0
    and the ratios over customers are absent (used to raise TypeError in metrics._customers)."""
    tables = {"orders": pd.DataFrame([{"order_id": "O1", "order_date": "2025-03-01", "channel": "shop", "sku": "S0",
                                       "quantity": "2", "unit_price": "10"}])}
    r = review_of(tables)
    k = metrics.kpis(r, P) if by is None else metrics.kpis(r, P, by=by).iloc[0].to_dict()
    assert k["revenue"] == pytest.approx(20.0)                   # 2 × 10
    assert k["customers"] == 0 and k["new_customers"] == 0
    assert same(k["repeat_purchase_rate"], None) and same(k["cac"], None)
