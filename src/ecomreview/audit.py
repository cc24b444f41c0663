"""Step 1, the data audit (SPEC §4.1): KPI table, trends, mix, cohorts, funnel, health check, data quality."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics
from .period import Period
from .review import Review

# Health-check thresholds (SPEC §4.1), overridable in settings.yaml `thresholds`.
DEFAULTS = {
    "gross_margin_red": 0.30, "gross_margin_green": 0.40,
    "ltv_cac_red": 1.0, "ltv_cac_green": 3.0,
    "channel_share_red": 0.70,
    "return_rate_amber": 0.127,
    "repeat_rate_red": 0.15, "repeat_rate_green": 0.30,
    "tacos_amber": 0.15,
    "logistics_amber": 0.25,
    "days_of_cover_amber": 60.0,
}

# Metrics shown in the KPI table, with how to format them.
KPI_ROWS = (
    ("revenue", "money"), ("net_sales", "money"), ("gross_sales", "money"), ("orders", "number"),
    ("units", "number"), ("aov", "money"), ("units_per_order", "ratio"), ("discount_rate", "pct"),
    ("refund_rate", "pct"), ("return_rate", "pct"), ("gross_profit", "money"), ("gross_margin", "pct"),
    ("product_margin", "pct"), ("ad_spend", "money"), ("tacos", "pct"), ("contribution_profit", "money"),
    ("contribution_margin", "pct"), ("overheads", "money"), ("net_profit", "money"), ("net_margin", "pct"),
    ("customers", "number"), ("new_customers", "number"), ("returning_customers", "number"),
    ("repeat_purchase_rate", "pct"), ("retention_rate", "pct"), ("cac", "money"), ("ltv", "money"),
    ("ltv_cac", "ratio"), ("sessions", "number"), ("conversion_rate", "pct"), ("cart_abandonment_rate", "pct"),
    ("cost_coverage", "pct"),
)


def kpi_table(summary: dict) -> pd.DataFrame:
    """metric, kind, value in P, value a year earlier, YoY growth (from metrics.kpi_summary)."""
    cur, prev, g = summary["kpis"], summary["kpis_previous"] or {}, summary["growth"]
    return pd.DataFrame([{"metric": m, "kind": kind, "value": cur.get(m), "previous": prev.get(m),
                          "growth": g.get(m)} for m, kind in KPI_ROWS])


def monthly_trend(review: Review, period: Period) -> pd.DataFrame:
    """Revenue, gross profit and orders for every month of P (months without sales are 0)."""
    f = metrics.kpis(review, period, by="month")
    return f.loc[period.months, ["revenue", "gross_profit", "orders", "net_sales"]].rename_axis("month")


def revenue_by(review: Review, period: Period, by: str) -> pd.DataFrame:
    """Revenue, orders and share of revenue by channel or country, largest first."""
    f = metrics.kpis(review, period, by=by)
    f = f[(f["revenue"] != 0) | (f["orders"] > 0)]
    out = pd.DataFrame({"revenue": f["revenue"], "orders": f["orders"]})
    out["share"] = metrics.div(out["revenue"], pd.Series(out["revenue"].sum(), index=out.index))
    return out.sort_values("revenue", ascending=False).rename_axis(by)


def customer_mix(review: Review, period: Period) -> pd.DataFrame:
    """New vs returning customers in P, their counts, orders and revenue (lines with a customer_id)."""
    L = metrics.period_lines(review, period)
    L = L[L["customer_id"].notna()]
    first = L["customer_id"].map(metrics._first_order_dates(review))
    is_new = (first >= period.start) & (first <= period.end)
    seg = np.where(is_new, "new", "returning")
    g = L.groupby(seg)
    out = pd.DataFrame({"customers": g["customer_id"].nunique(), "orders": g["order_id"].nunique(),
                        "revenue": g["revenue"].sum()}).reindex(["new", "returning"]).fillna(0.0)
    out["revenue_share"] = metrics.div(out["revenue"], pd.Series(out["revenue"].sum(), index=out.index))
    return out.rename_axis("segment")


def cohort_retention(review: Review, period: Period) -> pd.DataFrame:
    """Share of each first-order-month cohort (first orders in P) buying again k months later, within P."""
    L = metrics.period_lines(review, period)
    L = L[L["customer_id"].notna()]
    if L.empty:
        return pd.DataFrame()
    first = metrics._first_order_dates(review)
    cohort = L["customer_id"].map(first).dt.to_period("M")
    in_p = (cohort >= pd.Period(period.start, "M")) & (cohort <= pd.Period(period.end, "M"))
    L, cohort = L[in_p], cohort[in_p]
    if L.empty:
        return pd.DataFrame()
    age = (L["order_date"].dt.to_period("M") - cohort).map(lambda d: d.n)
    active = pd.DataFrame({"cohort": cohort.astype(str), "age": age, "c": L["customer_id"]}).drop_duplicates()
    counts = active.pivot_table(index="cohort", columns="age", values="c", aggfunc="nunique", fill_value=0)
    size = counts[0] if 0 in counts else counts.max(axis=1)
    rates = counts.div(size, axis=0)
    # a cohort cannot be observed beyond the end of P: blank those cells instead of showing 0%
    last = pd.Period(period.end, "M")
    for c in rates.index:
        horizon = (last - pd.Period(c, "M")).n
        rates.loc[c, [a for a in rates.columns if a > horizon]] = np.nan
    rates.insert(0, "customers", size)
    return rates


def funnel(review: Review, period: Period) -> pd.DataFrame | None:
    """Sessions → add to cart → checkouts → orders over the channel-level traffic rows of P."""
    t = review.traffic
    if t.empty:
        return None
    t = t[t["month"].isin(period.months) & t["sku"].isna()]
    if t.empty:
        return None
    k = metrics.kpis(review, period)
    stages = [("sessions", t["sessions"].sum())]
    if t["add_to_cart"].notna().any():
        stages.append(("add_to_cart", t["add_to_cart"].sum()))
    if t["checkouts"].notna().any():
        stages.append(("checkouts", t["checkouts"].sum()))
    orders = t["orders"].sum() if t["orders"].notna().all() else None
    if orders is None and k["sessions"]:
        orders = (k["conversion_rate"] or 0) * k["sessions"]
    stages.append(("orders", orders))
    f = pd.DataFrame(stages, columns=["stage", "count"])
    f["rate_from_sessions"] = metrics.div(f["count"], pd.Series(f["count"].iloc[0], index=f.index))
    return f


def days_of_cover(review: Review, period: Period) -> float | None:
    """Stock on hand ÷ (units sold in the last 90 days of P ÷ 90), over SKUs with a stock figure."""
    p = review.products
    if p.empty or p["stock_on_hand"].isna().all():
        return None
    stock = p["stock_on_hand"].fillna(0).sum()
    L = review.lines
    last90 = L[(L["order_date"] > period.end - pd.Timedelta(days=90)) & (L["order_date"] <= period.end)]
    rate = last90[last90["sku"].isin(p.loc[p["stock_on_hand"].notna(), "sku"])]["quantity"].sum() / 90
    return metrics.div(stock, rate) if rate else None


def _status(value, *, red=None, green=None, amber_above=None, red_above=None):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    if red_above is not None:
        return "red" if value > red_above else "green"
    if amber_above is not None:
        return "amber" if value > amber_above else "green"
    if value < red:
        return "red"
    return "green" if value >= green else "amber"


def health_check(k: dict, by_channel: pd.DataFrame | None, dcover: float | None, th: dict) -> list[dict]:
    """SPEC §4.1 traffic lights: each {metric, value, status, threshold (the rule, machine-readable)}."""
    share = None
    if by_channel is not None and len(by_channel) and by_channel["revenue"].sum() > 0:
        share = float(by_channel["revenue"].max() / by_channel["revenue"].sum())
    logistics = metrics.div(k.get("fulfillment"), k.get("revenue")) if k.get("fulfillment") is not None else None
    logistics = None if logistics is None or np.isnan(logistics) else float(logistics)
    rows = [
        ("gross_margin", k.get("gross_margin"), dict(red=th["gross_margin_red"], green=th["gross_margin_green"])),
        ("ltv_cac", k.get("ltv_cac"), dict(red=th["ltv_cac_red"], green=th["ltv_cac_green"])),
        ("channel_concentration", share, dict(red_above=th["channel_share_red"])),
        ("return_rate", k.get("return_rate"), dict(amber_above=th["return_rate_amber"])),
        ("repeat_purchase_rate", k.get("repeat_purchase_rate"),
         dict(red=th["repeat_rate_red"], green=th["repeat_rate_green"])),
        ("tacos", k.get("tacos"), dict(amber_above=th["tacos_amber"])),
        ("logistics_ratio", logistics, dict(amber_above=th["logistics_amber"])),
        ("days_of_cover", dcover, dict(amber_above=th["days_of_cover_amber"])),
    ]
    return [{"metric": m, "value": v, "status": _status(v, **rule), "threshold": rule,
             "partial": m in ("gross_margin", "ltv_cac") and (k.get("cost_coverage") or 0) < 1}
            for m, v, rule in rows]


# ------------------------------------------------------------------ data-quality audit

def data_quality(review: Review, period: Period) -> pd.DataFrame:
    """Counts and examples of every SPEC §4.1 data-quality check (check, count, examples)."""
    raw = review.raw_orders
    L = review.lines
    in_p = period.contains(L["order_date"])
    known_channels = set(L["channel"]) | set(review.channels["channel"].dropna())
    checks: list[tuple[str, int, list[str]]] = []

    def add(name, mask_or_count, examples=()):
        checks.append((name, int(mask_or_count), [str(e) for e in list(examples)[:5]]))

    cancelled = review.cancelled
    add("cancelled_lines", len(cancelled), cancelled["order_id"].astype(str).unique())
    cols = [c for c in raw.columns if c not in ("_row", "month")]
    dup = raw.duplicated(cols, keep="first")
    add("duplicate_lines", dup.sum(), (f"row {r}" for r in raw.loc[dup, "_row"]))
    add("lines_outside_period", (~in_p).sum(), L.loc[~in_p, "order_date"].dt.strftime("%Y-%m-%d").unique())
    no_cost = L[in_p & ~L["has_cost"]]
    add("skus_without_cost", no_cost["sku"].nunique(), no_cost["sku"].unique())
    add("lines_without_cost", len(no_cost), (f"row {r}" for r in no_cost["_row"]))
    q = L["quantity"] <= 0
    add("non_positive_quantity", q.sum(), (f"row {r}" for r in L.loc[q, "_row"]))
    pr = L["unit_price"] <= 0
    add("non_positive_price", pr.sum(), (f"row {r}" for r in L.loc[pr, "_row"]))
    big = L["refund"] > L["value"] + L["shipping"] + 1e-9
    add("refund_above_line", big.sum(), (f"row {r}" for r in L.loc[big, "_row"]))
    add("currencies_without_rate", 0, [])  # a missing rate stops the run in review.prepare (SPEC §2)
    t = review.traffic
    unknown_t = t[t["channel"].notna() & ~t["channel"].isin(known_channels)]
    add("traffic_unknown_channel", len(unknown_t), unknown_t["channel"].unique())
    c = review.campaigns
    unknown_c = c[c["channel"].notna() & ~c["channel"].isin(known_channels)]
    add("campaigns_unknown_channel", len(unknown_c), unknown_c["campaign_id"].astype(str).unique())
    lp = L[in_p]
    miss = lp["customer_id"].isna()
    add("lines_without_customer", miss.sum(), (f"row {r}" for r in lp.loc[miss, "_row"]))
    out = pd.DataFrame(checks, columns=["check", "count", "examples"])
    share = metrics.div(float(miss.sum()), float(len(lp))) if len(lp) else None
    out.attrs["missing_customer_share"] = None if share is None or np.isnan(share) else float(share)
    return out


def raw_counts(review: Review) -> dict:
    """What the data holds before any exclusion: lines, orders (invoices), customers, countries."""
    raw = review.raw_orders
    return {
        "lines": int(len(raw)),
        "orders": int(raw["order_id"].nunique()),
        "customers": int(raw["customer_id"].nunique()),
        "countries": int(raw["country"].nunique()),
        "cancelled_lines": int(len(review.cancelled)),
        "lines_without_customer": int(raw["customer_id"].isna().sum()),
        "first_date": raw["order_date"].min().strftime("%Y-%m-%d") if len(raw) else None,
        "last_date": raw["order_date"].max().strftime("%Y-%m-%d") if len(raw) else None,
    }
