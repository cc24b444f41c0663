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
    L = L[L["_cust"] >= 0]
    first = metrics.first_order_dates(review, L["_cust"])
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
    L = L[L["_cust"] >= 0]
    if L.empty:
        return pd.DataFrame()
    cohort = metrics.first_order_dates(review, L["_cust"]).dt.to_period("M")
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
    L = review.lines
    in_p = period.contains(L["order_date"])
    known_channels = set(L["channel"]) | set(review.channels["channel"].dropna())
    checks: list[tuple[str, int, list[str]]] = []

    def add(name, mask_or_count, examples=()):
        checks.append((name, int(mask_or_count), [str(e) for e in list(examples)[:5]]))

    cancelled = review.cancelled
    add("cancelled_lines", len(cancelled), cancelled["order_id"].astype(str).unique())
    dup_rows = raw_facts(review)["duplicate_rows"]
    add("duplicate_lines", len(dup_rows), (f"row {r}" for r in dup_rows))
    add("lines_outside_period", (~in_p).sum(), L.loc[~in_p, "order_date"].dt.strftime("%Y-%m-%d").unique())
    no_cost = L[in_p & ~L["has_cost"]]
    add("skus_without_cost", no_cost["sku"].nunique(), no_cost["sku"].unique())
    add("lines_without_cost", len(no_cost), (f"row {r}" for r in no_cost["_row"]))
    q = L["quantity"] <= 0
    add("non_positive_quantity", q.sum(), (f"row {r}" for r in L.loc[q, "_row"]))
    pr = L["unit_price"] <= 0
    add("non_positive_price", pr.sum(), (f"row {r}" for r in L.loc[pr, "_row"]))
    # only an actual refund can exceed its line; 0 against a negative-value line is no refund at all
    big = (L["refund"] > 0) & (L["refund"] > L["value"] + L["shipping"] + 1e-9)
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


def raw_facts(review: Review) -> dict:
    """What the audit needs from the raw order table, computed once and kept in the review's cache.

    The runner computes this before handing the review to the step kernels without the raw table (it is
    as large as the lines): duplicate_rows (source rows of exact duplicates, the first kept) and the
    raw_counts figures.
    """
    if "raw_facts" not in review.cache:
        raw = review.raw_orders
        cols = [c for c in raw.columns if c not in ("_row", "month")]
        dup = raw.duplicated(cols, keep="first")
        review.cache["raw_facts"] = {
            "duplicate_rows": raw.loc[dup, "_row"].tolist(),
            "counts": {
                "lines": int(len(raw)),
                "orders": int(raw["order_id"].nunique()),
                "customers": int(raw["customer_id"].nunique()),
                "countries": int(raw["country"].nunique()),
                "cancelled_lines": int(len(review.cancelled)),
                "lines_without_customer": int(raw["customer_id"].isna().sum()),
                "first_date": raw["order_date"].min().strftime("%Y-%m-%d") if len(raw) else None,
                "last_date": raw["order_date"].max().strftime("%Y-%m-%d") if len(raw) else None,
            },
        }
    return review.cache["raw_facts"]


def raw_counts(review: Review) -> dict:
    """What the data holds before any exclusion: lines, orders (invoices), customers, countries."""
    return dict(raw_facts(review)["counts"])


# ------------------------------------------------------------------ charts (return Figures; never shown here)

def trend_chart(trend: pd.DataFrame, lang: str, currency: str):
    from .report import charts
    from .report.i18n import t
    fig, ax = charts.figure(t("audit.trend.title", lang), t("audit.trend.x", lang),
                            t("audit.trend.y", lang, currency=currency))
    x = np.arange(len(trend))
    ax.bar(x - 0.2, trend["revenue"], width=0.4, label=t("metric.revenue", lang), color="#4C72B0")
    ax.bar(x + 0.2, trend["gross_profit"].fillna(0), width=0.4, label=t("metric.gross_profit", lang),
           color="#55A868")
    ax.set_xticks(x, [m[2:] for m in trend.index], rotation=45)
    ax2 = ax.twinx()
    ax2.plot(x, trend["orders"], color="#C44E52", marker="o", label=t("metric.orders", lang))
    ax2.set_ylabel(t("audit.trend.y2", lang))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    return fig


def share_chart(table: pd.DataFrame, dim_label: str, lang: str, currency: str):
    from .report import charts
    from .report.i18n import t
    top = table.head(12).iloc[::-1]
    fig, ax = charts.figure(t("audit.share.title", lang, dim=dim_label), t("audit.share.x", lang, currency=currency),
                            t("audit.share.y", lang, dim=dim_label), size=(8, max(2.5, 0.4 * len(top) + 1)))
    ax.barh([str(i) for i in top.index], top["revenue"], color="#4C72B0")
    for y, (rev, share) in enumerate(zip(top["revenue"], top["share"])):
        if share == share:
            ax.text(rev, y, f" {share:.0%}", va="center", fontsize=8)
    return fig


def cohort_chart(rates: pd.DataFrame, lang: str):
    from .report import charts
    from .report.i18n import t
    data = rates.drop(columns="customers")
    fig, ax = charts.figure(t("audit.cohort.title", lang), t("audit.cohort.x", lang), t("audit.cohort.y", lang),
                            size=(8, max(3, 0.35 * len(data) + 1.5)))
    im = ax.imshow(data.to_numpy(dtype=float), aspect="auto", cmap="Blues", vmin=0, vmax=max(0.3, np.nanmax(
        data.drop(columns=0, errors="ignore").to_numpy(dtype=float)) if data.shape[1] > 1 else 1))
    ax.set_xticks(range(data.shape[1]), [str(c) for c in data.columns])
    ax.set_yticks(range(len(data)), list(data.index))
    fig.colorbar(im, ax=ax, format=lambda v, _: f"{v:.0%}")
    return fig


def funnel_chart(f: pd.DataFrame, lang: str):
    from .report import charts
    from .report.i18n import t
    fig, ax = charts.figure(t("audit.funnel.title", lang), t("audit.funnel.x", lang), t("audit.funnel.y", lang),
                            size=(8, 3))
    labels = [t(f"audit.stage.{s}", lang) for s in f["stage"]][::-1]
    ax.barh(labels, f["count"].fillna(0)[::-1], color="#8172B2")
    for y, (c, r) in enumerate(zip(f["count"][::-1], f["rate_from_sessions"][::-1])):
        if c == c and r == r:
            ax.text(c, y, f" {c:,.0f} ({r:.1%})", va="center", fontsize=8)
    return fig


# ------------------------------------------------------------------ notebook sections (display only)

def _fmt_kind(v, kind, ctx):
    from .report import fmt
    if kind == "money":
        return fmt.money(v, ctx.currency, ctx.lang)
    if kind == "pct":
        return fmt.pct(v, ctx.lang)
    if kind == "ratio":
        return fmt.ratio(v, ctx.lang)
    return fmt.number(v, ctx.lang)


def show_table(df: pd.DataFrame, **kw) -> None:
    """Display a formatted, escaped table (see report.display.table for the keyword arguments)."""
    from .report.display import show, table
    show(table(df, **kw))


def show_intro(ctx) -> None:
    from .report.display import heading, para
    heading(ctx.t("audit.title"), 1)
    para(ctx.t("audit.intro", period=ctx.period.label, currency=ctx.currency))


def show_kpis(ctx) -> None:
    from .report import fmt
    from .report.display import heading, note
    s = ctx.summary
    k = s["kpis"]
    ctx.record("kpis", {**k, "growth": s["growth"]})
    ctx.record("kpis_previous", s["kpis_previous"])
    ctx.record("growth", s["growth"])
    heading(ctx.t("audit.kpis"))
    kt = kpi_table(s)
    prev_label = ctx.period.year_earlier().label
    rows = pd.DataFrame({
        ctx.t("audit.col.metric"): [ctx.t(f"metric.{m}") for m in kt["metric"]],
        ctx.t("audit.col.value", period=ctx.period.label): [_fmt_kind(v, kd, ctx) for v, kd in zip(kt["value"], kt["kind"])],
        ctx.t("audit.col.previous", period=prev_label): [_fmt_kind(v, kd, ctx) for v, kd in zip(kt["previous"], kt["kind"])],
        ctx.t("audit.col.growth"): [fmt.signed_pct(g, ctx.lang) for g in kt["growth"]],
    })
    show_table(rows, lang=ctx.lang, currency=ctx.currency)
    if s["kpis_previous"] is None:
        note(ctx.t("audit.no_previous", period=prev_label))
    cov = k.get("cost_coverage")
    if cov == 0:
        note(ctx.t("audit.no_costs"))
    elif cov is not None and cov < 1:
        note(ctx.t("audit.partial_costs", coverage=fmt.pct(cov, ctx.lang, 2)))
    if k.get("lifespan_assumed") and k.get("customers"):
        note(ctx.t("audit.lifespan_assumed", years=fmt.number(k.get("lifespan_years"), ctx.lang, 1)))


def show_trend(ctx) -> None:
    from .report.display import heading, show
    heading(ctx.t("audit.trend"))
    trend = monthly_trend(ctx.review, ctx.period)
    show(trend_chart(trend, ctx.lang, ctx.currency))
    ctx.write_table("monthly_trend", trend)
    out = trend[["revenue", "gross_profit", "orders"]].reset_index()
    show_table(out, lang=ctx.lang, currency=ctx.currency, money=("revenue", "gross_profit"), number=("orders",),
          labels={"month": ctx.t("audit.trend.x"), "revenue": ctx.t("metric.revenue"),
                  "gross_profit": ctx.t("metric.gross_profit"), "orders": ctx.t("metric.orders")})


def show_mix(ctx) -> None:
    from .report.display import heading, note, show
    for by in ("channel", "country"):
        heading(ctx.t(f"audit.by_{by}"))
        f = revenue_by(ctx.review, ctx.period, by)
        if by == "country" and (f.empty or list(f.index) == ["(none)"]):
            note(ctx.t("audit.no_country"))
            continue
        ctx.write_table(f"revenue_by_{by}", f)
        show(share_chart(f, ctx.t(f"audit.col.{by}"), ctx.lang, ctx.currency))
        show_table(f.reset_index(), lang=ctx.lang, currency=ctx.currency, money=("revenue",), pct=("share",),
              number=("orders",), labels={by: ctx.t(f"audit.col.{by}"), "revenue": ctx.t("audit.col.revenue"),
                                          "orders": ctx.t("audit.col.orders"), "share": ctx.t("audit.col.share")})


def show_customers(ctx) -> None:
    from .report.display import heading, note, para, show
    heading(ctx.t("audit.customers"))
    mix = customer_mix(ctx.review, ctx.period)
    if mix["customers"].sum() == 0:
        note(ctx.t("audit.no_customers"))
        return
    out = mix.reset_index()
    out["segment"] = [ctx.t(f"audit.segment.{s}") for s in out["segment"]]
    show_table(out, lang=ctx.lang, currency=ctx.currency, money=("revenue",), pct=("revenue_share",),
          number=("customers", "orders"),
          labels={"segment": ctx.t("audit.col.segment"), "customers": ctx.t("audit.col.customers"),
                  "orders": ctx.t("audit.col.orders"), "revenue": ctx.t("audit.col.revenue"),
                  "revenue_share": ctx.t("audit.col.revenue_share")})
    heading(ctx.t("audit.cohorts"), 3)
    rates = cohort_retention(ctx.review, ctx.period)
    if rates.empty:
        note(ctx.t("audit.no_customers"))
        return
    ctx.write_table("cohort_retention", rates)
    para(ctx.t("audit.cohort.note"))
    show(cohort_chart(rates, ctx.lang))


def show_funnel(ctx) -> None:
    from .report.display import heading, note, show
    heading(ctx.t("audit.funnel"))
    f = funnel(ctx.review, ctx.period)
    if f is None:
        note(ctx.t("audit.no_traffic"))
        return
    show(funnel_chart(f, ctx.lang))
    out = f.assign(stage=[ctx.t(f"audit.stage.{s}") for s in f["stage"]])
    show_table(out, lang=ctx.lang, currency=ctx.currency, number=("count",), pct=("rate_from_sessions",),
          labels={"stage": ctx.t("audit.col.stage"), "count": ctx.t("audit.col.count"),
                  "rate_from_sessions": ctx.t("audit.col.rate")})


def show_health(ctx) -> None:
    from .index import HEALTH_KIND, format_value, threshold_text
    from .report.display import heading
    heading(ctx.t("audit.health"))
    k = ctx.summary["kpis"]
    rows = health_check(k, ctx.kpis_by("channel"), days_of_cover(ctx.review, ctx.period), ctx.thresholds(DEFAULTS))
    ctx.record("health", {r["metric"]: {"value": r["value"], "status": r["status"], "threshold": r["threshold"],
                                         "partial": r["partial"]} for r in rows})
    out = pd.DataFrame({
        ctx.t("audit.col.metric"): [ctx.t(f"metric.{r['metric']}") + (ctx.t("audit.health.partial") if r["partial"]
                                                                      else "") for r in rows],
        ctx.t("audit.col.value", period=ctx.period.label): [
            format_value(r["value"], HEALTH_KIND[r["metric"]], ctx.lang, ctx.currency) for r in rows],
        "status": [r["status"] for r in rows],
        ctx.t("audit.col.threshold"): [threshold_text(r["metric"], r["threshold"], ctx.lang) for r in rows],
    })
    show_table(out, lang=ctx.lang, currency=ctx.currency, status_col="status", labels={"status": ctx.t("audit.col.status")})


def show_data_quality(ctx) -> None:
    from .report import fmt
    from .report.display import heading, para
    heading(ctx.t("audit.dq"))
    dq = data_quality(ctx.review, ctx.period)
    counts = raw_counts(ctx.review)
    ctx.record("data_quality", {**dict(zip(dq["check"], dq["count"].astype(int))), "raw": counts,
                                "missing_customer_share": dq.attrs.get("missing_customer_share")})
    para(ctx.t("audit.dq.intro", lines=fmt.number(counts["lines"], ctx.lang),
               orders=fmt.number(counts["orders"], ctx.lang), customers=fmt.number(counts["customers"], ctx.lang),
               countries=fmt.number(counts["countries"], ctx.lang), first=counts["first_date"],
               last=counts["last_date"]))
    out = pd.DataFrame({"check": [ctx.t(f"audit.check.{c}") for c in dq["check"]], "count": dq["count"],
                        "examples": ["; ".join(e) for e in dq["examples"]]})
    show_table(out, lang=ctx.lang, currency=ctx.currency, number=("count",),
          labels={"check": ctx.t("audit.col.check"), "count": ctx.t("audit.col.count"),
                  "examples": ctx.t("audit.col.examples")})
    share = dq.attrs.get("missing_customer_share")
    if share:
        para(ctx.t("audit.dq.missing_customer_share", share=fmt.pct(share, ctx.lang)))
    ctx.write_table("data_quality", out, index=False)


def finish(ctx) -> None:
    """The step's finding for the index page, then save its results."""
    from .report import fmt
    k, g = ctx.summary["kpis"], ctx.summary["growth"]
    health = ctx.parts.get("health", {})
    growth = ctx.t("audit.growth_yoy", g=fmt.signed_pct(g.get("revenue"), ctx.lang)) if g.get("revenue") is not None \
        else ctx.t("audit.growth_none")
    ctx.finding(ctx.t("audit.finding", period=ctx.period.label, revenue=fmt.money(k["revenue"], ctx.currency, ctx.lang),
                      growth=growth, gm=fmt.pct(k.get("gross_margin"), ctx.lang),
                      np=fmt.money(k.get("net_profit"), ctx.currency, ctx.lang),
                      red=sum(h["status"] == "red" for h in health.values()),
                      amber=sum(h["status"] == "amber" for h in health.values())))
    ctx.save()


# ------------------------------------------------------------------ issue 9: waterfall, diagnosis, KPI catalogue

def _kpi_value_text(v, unit: str, ctx) -> str:
    from .report import fmt
    if v is None or v != v:
        return "—"
    if unit == "money":
        return fmt.money(v, ctx.currency, ctx.lang)
    if unit in ("share", "rate"):
        return fmt.pct(v, ctx.lang)
    if unit == "count":
        return fmt.number(v, ctx.lang)
    return fmt.number(v, ctx.lang, 2)


def _waterfall_table(ctx, wf: pd.DataFrame):
    from .report.display import table
    out = pd.DataFrame({"step": [ctx.t(f"diagnosis.step.{s}") for s in wf["step"]], "amount": wf["amount"],
                        "running": wf["running"]})
    return table(out, lang=ctx.lang, currency=ctx.currency, money=("amount", "running"),
                 labels={"step": ctx.t("diagnosis.waterfall.x"), "amount": ctx.t("audit.col.amount"),
                         "running": ctx.t("audit.col.running")})


def show_waterfall(ctx) -> None:
    """Revenue → product cost → fees → fulfilment → platform → ads → overheads → net profit (SPEC §4.5)."""
    from . import diagnosis
    from .report.display import heading, note, show
    heading(ctx.t("diagnosis.waterfall.title"))
    k = ctx.summary["kpis"]
    if k.get("cost_coverage") in (None, 0) or k.get("net_profit") is None:
        note(ctx.t("audit.no_costs"))
        return
    wf = diagnosis.waterfall(k)
    if wf.attrs.get("partial"):
        note(ctx.t("diagnosis.waterfall.partial"))
    show(diagnosis.waterfall_figure(wf, ctx.lang, ctx.currency))
    show(_waterfall_table(ctx, wf))
    ctx.record("waterfall", dict(zip(wf["step"], wf["amount"])))
    by = ctx.kpis_by("channel")
    heading(ctx.t("audit.waterfall_by_channel"), 3)
    note(ctx.t("audit.waterfall_channel_note"))
    per = {}
    for ch in by.sort_values("revenue", ascending=False).index:
        row = {c: (None if v != v else v) for c, v in by.loc[ch].items()}
        if not row.get("revenue") or row.get("net_profit") is None:
            continue
        w = diagnosis.waterfall(row)
        per[ch] = dict(zip(w["step"], w["amount"]))
        show(diagnosis.waterfall_figure(w, ctx.lang, ctx.currency,
                                        title=ctx.t("diagnosis.waterfall.channel_title", channel=ch)))
    ctx.record("waterfall_by_channel", per)


def show_diagnosis(ctx) -> None:
    """Why the business loses money: drivers ranked by their effect on profit (seed 000)."""
    from . import diagnosis
    from .report import fmt
    from .report.display import heading, note, para, show, table
    heading(ctx.t("diagnosis.title"))
    k = dict(ctx.summary["kpis"])
    extras = _extras(ctx)
    k["inventory_days"] = extras.get("inventory_days")
    th = ctx.thresholds(diagnosis.DEFAULTS)
    d = diagnosis.diagnose(k, ctx.kpis_by("channel"), th, ctx.lang, ctx.currency)
    ctx.record("diagnosis", {"healthy": d.attrs.get("healthy"), "triggers": d.attrs.get("triggers"),
                             "drivers": [{"driver": r.driver, "effect": r.effect, "evidence": r.evidence}
                                         for r in d.itertuples()]})
    if d.attrs.get("healthy") is None:
        note(ctx.t("audit.no_costs"))
        return
    if d.attrs.get("healthy"):
        para(ctx.t("diagnosis.healthy", green=fmt.pct(th["gross_margin_green"], ctx.lang)))
        return
    para(ctx.t("diagnosis.intro") + " " + "; ".join(ctx.t(f"diagnosis.trigger.{w}") for w in d.attrs["triggers"]))
    out = d[["name", "effect", "evidence", "rule", "action"]].copy()
    out["effect"] = [fmt.money(e, ctx.currency, ctx.lang) if e == e else ctx.t("diagnosis.no_effect")
                     for e in out["effect"]]
    show(table(out, lang=ctx.lang, currency=ctx.currency,
               labels={c: ctx.t(f"diagnosis.col.{'driver' if c == 'name' else c}") for c in out.columns}))
    if len(d):
        ctx.finding(ctx.t("audit.finding_loss", driver=d["name"].iloc[0], evidence=d["evidence"].iloc[0]))


def _extras(ctx) -> dict:
    from . import kpi_catalogue
    from .spread import prorate
    r = ctx.review
    return ctx.memo("extras", lambda: kpi_catalogue.compute_extras(
        r.lines, r.products, r.traffic, prorate(r.campaigns, ctx.period.start, ctx.period.end), r.expenses,
        {**ctx.summary["kpis"], "growth_revenue": ctx.summary["growth"].get("revenue")}, ctx.period,
        ctx.summary["kpis_previous"]))


def show_kpi_catalogue(ctx) -> None:
    """All 82 KPIs of seed 002, module by module, focus KPIs of the stage first, with coverage (SPEC §4.5)."""
    from . import kpi_catalogue
    from .report import fmt
    from .report.display import heading, para, show, table
    stage = ctx.review.settings.get("stage", "growth")
    df = kpi_catalogue.evaluate(ctx.summary["kpis"], _extras(ctx), ctx.review.kpi_inputs, ctx.period.label, stage,
                                ctx.lang)
    cov = kpi_catalogue.coverage(df)
    ctx.record("kpi_catalogue", kpi_catalogue.to_metrics_json(df))
    ctx.record("kpi_coverage", cov)
    heading(ctx.t("kpi.title"))
    stage_name = ctx.t(f"kpi.stage.{stage}")
    para(ctx.t("kpi.intro", stage=stage_name))
    n = int(df["value"].notna().sum())
    para(ctx.t("kpi.coverage", n=n, total=len(df), share=fmt.pct(cov, ctx.lang)))
    ctx.write_table("kpi_catalogue", df.drop(columns=["_pos"], errors="ignore"), index=False)

    def view(part: pd.DataFrame):
        out = pd.DataFrame({
            "name": part["name"], "value": [_kpi_value_text(v, u, ctx) for v, u in zip(part["value"], part["unit"])],
            "target": part["target"], "status": [ctx.t(f"kpi.status.{s}") for s in part["status"]],
            "needs": part["needs"]})
        return table(out, lang=ctx.lang, currency=ctx.currency,
                     labels={c: ctx.t(f"kpi.col.{c}") for c in out.columns})

    heading(ctx.t("kpi.focus", stage=stage_name), 3)
    show(view(df[df["focus"]]))
    for module, part in df[~df["focus"]].groupby("module", sort=False):
        heading(part["module_name"].iloc[0], 3)
        show(view(part))


def show_traps(ctx) -> None:
    """Seed 001's landed-cost traps, part of the data-quality audit."""
    from . import diagnosis
    from .report.display import heading, show, table
    r = ctx.review
    traps = diagnosis.landed_cost_traps(r.lines, r.channels, r.expenses, r.products, period=ctx.period)
    dq = ctx.parts.setdefault("data_quality", {})
    dq.update({c: int(n) for c, n in zip(traps["check"], traps["count"])})
    heading(ctx.t("diagnosis.traps.title"), 3)
    out = pd.DataFrame({"check": [ctx.t(f"diagnosis.trap.{c}") for c in traps["check"]], "count": traps["count"],
                        "examples": ["; ".join(map(str, e)) for e in traps["examples"]],
                        "fix": [ctx.t(f"diagnosis.trap_fix.{c}") if n else "" for c, n in
                                zip(traps["check"], traps["count"])]})
    show(table(out, lang=ctx.lang, currency=ctx.currency, number=("count",),
               labels={"check": ctx.t("diagnosis.col.check"), "count": ctx.t("diagnosis.col.count"),
                       "examples": ctx.t("diagnosis.col.examples"), "fix": ctx.t("audit.col.fix")}))
