"""Step 3, product review (SPEC §4.3): hits, evergreens, problem products, quadrants and Pareto (ABC)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from .channels import _column, _ge, _gt, _le, _lt, _merge_thresholds, _num, _ratio, cv
from .report import charts
from .report.fmt import money as _money, pct as _pct
from .report.i18n import t as _t

# Defaults of SPEC §4.3; settings.yaml `thresholds` overrides them.
DEFAULTS: dict[str, float] = {
    "problem_return_rate_min": 0.10,   # returns at/above max(this, multiple × company) -> problem
    "problem_return_multiple": 2,
    "problem_days_of_cover": 180,      # days of cover above this -> problem (slow-moving)
    "slow_days": 90,                   # window at the end of P in which a stocked SKU must sell
    "hit_revenue_share": 0.50,         # SKUs ranked above a hit make less than this of revenue
    "evergreen_month_share": 0.75,
    "evergreen_cv": 0.5,
    "restock_days": 30,                # a hit with fewer days of cover than this needs restocking
}

CLASSES = ("problem", "hit", "evergreen", "long_tail")
CLASS_COLOURS = {cls: charts.PALETTE[cls] for cls in CLASSES}

# action_lists() keys -> action codes in the `action` column.
ACTION_LISTS = {"restock": "restock", "clearance": "clearance", "fix": "fix_listing_or_quality",
                "delist": "delist", "reprice": "reprice", "replicate": "replicate",
                "bundle": "bundle_or_refresh", "review": "review"}

QUADRANTS = ("hit", "product_problem", "needs_traffic", "reassess_fit")
QUADRANT_COLOURS = {"hit": charts.PALETTE["hit"], "product_problem": charts.PALETTE["problem"],
                    "needs_traffic": charts.PALETTE["cash_cow"], "reassess_fit": charts.PALETTE["steady"]}

_COLUMNS = ["product_name", "category", "units", "revenue", "gross_profit", "gross_margin", "return_rate",
            "refund_rate", "share", "revenue_rank", "share_above", "months_with_sales", "units_cv", "growth",
            "stock_on_hand", "units_last_90", "days_of_cover", "sessions", "conversion_rate", "class",
            "action", "reason"]


def product_table(kpis: pd.DataFrame, prev_kpis: pd.DataFrame | None, monthly_units: pd.DataFrame,
                  units_last_90: pd.Series, products: pd.DataFrame | None, company: dict,
                  sku_traffic: pd.DataFrame | None = None, thresholds: dict | None = None,
                  lang: str = "zh", currency: str = "USD") -> pd.DataFrame:
    """One row per SKU: SPEC §4.3 metrics, class, action and reason, sorted by revenue (desc, then sku).

    Money in the base currency; rates and shares as fractions. The SKUs are those of `kpis` plus
    SKUs of `products` with stock_on_hand > 0 that did not sell in P (the clearest slow movers).
    revenue_rank / share_above: position by revenue and the share of revenue of the SKUs ranked above.
    days_of_cover = stock_on_hand ÷ (units_last_90 ÷ 90): None without stock data, and None when
    nothing sold in the last 90 days (the "no sale" problem rule covers a stocked SKU then).
    action: ';'-joined action codes, e.g. "replicate;restock" (one string keeps CSV and JSON flat);
    a problem SKU gets its single most specific action: delist (loss-making and slow) > clearance
    (slow) > fix_listing_or_quality (high returns) > reprice (loss-making).
    """
    thr = _merge_thresholds(DEFAULTS, thresholds)
    stock_table = _by_sku(products)
    extra = []
    if stock_table is not None and "stock_on_hand" in stock_table.columns:
        stocked = pd.to_numeric(stock_table["stock_on_hand"], errors="coerce") > 0
        extra = [s for s in stock_table.index[stocked] if s not in set(map(str, kpis.index))]
    index = pd.Index([str(s) for s in kpis.index] + sorted(extra), name="sku")
    k = _by_sku(kpis).reindex(index)

    out = pd.DataFrame(index=index)
    for col in ("product_name", "category"):
        out[col] = (stock_table[col].reindex(index).astype(object).where(lambda s: s.notna(), None)
                    if stock_table is not None and col in stock_table.columns else None)
    for col in ("units", "revenue", "gross_profit"):
        out[col] = _column(k, col, index).fillna(0.0)
    for col in ("gross_margin", "return_rate", "refund_rate"):
        out[col] = _column(k, col, index)
    total = out["revenue"].sum()
    out["share"] = out["revenue"] / total if total > 0 else np.nan
    order = out.assign(_sku=index).sort_values(["revenue", "_sku"], ascending=[False, True]).index
    above = out.loc[order, "revenue"].cumsum().shift(1, fill_value=0.0)
    out["revenue_rank"] = pd.Series(range(1, len(order) + 1), index=order)
    out["share_above"] = above / total if total > 0 else np.nan

    months = monthly_units.rename(columns=str) if monthly_units is not None else pd.DataFrame()
    n_months = len(months.index)
    sold = months.reindex(columns=index).fillna(0.0).astype(float)
    out["months_with_sales"] = (sold > 0).sum().astype(int) if n_months else 0
    out["units_cv"] = [cv(sold[s]) if n_months else None for s in index]

    prev_revenue = _column(_by_sku(prev_kpis), "revenue", index)
    out["growth"] = _ratio(out["revenue"], prev_revenue.where(prev_revenue > 0)) - 1

    out["stock_on_hand"] = _column(stock_table, "stock_on_hand", index)
    last90 = pd.to_numeric(units_last_90, errors="coerce") if units_last_90 is not None else None
    out["units_last_90"] = (last90.set_axis([str(s) for s in last90.index]).reindex(index).fillna(0.0)
                            if last90 is not None else np.nan)
    out["days_of_cover"] = _ratio(out["stock_on_hand"], out["units_last_90"] / thr["slow_days"])

    traffic = _by_sku(sku_traffic)
    out["sessions"] = _column(traffic, "sessions", index)
    out["conversion_rate"] = _ratio(_column(traffic, "orders", index), out["sessions"])

    ctx = _Context(thr, _num((company or {}).get("return_rate")), n_months, lang, currency)
    decided = [_classify(row, ctx) for row in out.itertuples()]
    out["class"] = [d[0] for d in decided]
    out["action"] = [d[1] for d in decided]
    out["reason"] = [d[2] for d in decided]
    return out.loc[order, _COLUMNS]


def _by_sku(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The frame indexed by sku as str (a `sku` column becomes the index)."""
    if frame is None:
        return None
    if "sku" in frame.columns:
        frame = frame.set_index("sku")
    return frame.set_axis(pd.Index([str(s) for s in frame.index], name="sku"))


class _Context:
    """What every SKU's classification needs besides its own row."""

    def __init__(self, thr: dict, company_return: float | None, n_months: int, lang: str, currency: str):
        self.thr, self.company_return, self.n_months = thr, company_return, n_months
        self.lang, self.currency = lang, currency
        floor = thr["problem_return_rate_min"]
        # Without a company return rate the 10% floor is the only bar left.
        self.return_limit = (max(thr["problem_return_multiple"] * company_return, floor)
                             if company_return is not None else floor)

    def say(self, key: str, **kw) -> str:
        return _t(f"products.{key}", self.lang, **kw)

    def pct(self, x: float) -> str:
        return _pct(x, self.lang)


def _classify(row, ctx: _Context) -> tuple[str, str, str]:
    """(class, action, reason) by the first matching rule of SPEC §4.3."""
    notes = []
    if _num(row.stock_on_hand) is None:
        notes.append(ctx.say("note.no_stock"))
    if _num(row.gross_margin) is None and row.revenue:
        notes.append(ctx.say("note.no_margin"))

    def result(cls: str, actions: list[str], conditions: list[str]) -> tuple[str, str, str]:
        text = ctx.say("reason", label=ctx.say(f"class.{cls}"), conditions=ctx.say("sep").join(conditions))
        return cls, ";".join(actions), " ".join([text, *notes])

    problem = _problem_conditions(row, ctx)
    if problem:
        return result("problem", [_problem_action(set(problem))], list(problem.values()))

    share_above, revenue = _num(row.share_above), _num(row.revenue)
    hit_limit = ctx.thr["hit_revenue_share"]
    if share_above is not None and revenue is not None and revenue > 0 and _lt(share_above, hit_limit):
        conditions = [ctx.say("cond.hit", rank=row.revenue_rank, above=ctx.pct(share_above),
                              threshold=ctx.pct(hit_limit))]
        actions = ["replicate"]
        days = _num(row.days_of_cover)
        if days is not None and _lt(days, ctx.thr["restock_days"]):
            actions.append("restock")
            conditions.append(ctx.say("cond.restock", days=days, threshold=ctx.thr["restock_days"]))
        return result("hit", actions, conditions)
    not_hit = (ctx.say("cond.not_hit", rank=row.revenue_rank, above=ctx.pct(share_above),
                       threshold=ctx.pct(hit_limit)) if share_above is not None else None)

    checks = _evergreen_checks(row, ctx)
    if len(checks) == 3 and all(ok for ok, _ in checks):
        return result("evergreen", ["bundle_or_refresh"], [phrase for _, phrase in checks])
    why_not = [phrase for ok, phrase in checks if not ok][:1]
    return result("long_tail", ["review"], [p for p in [not_hit, *why_not] if p] or [ctx.say("cond.unknown")])


def _problem_conditions(row, ctx: _Context) -> dict[str, str]:
    """The problem rules that fire, as {"loss" | "returns" | "slow" | "no_sale": phrase}."""
    fired = {}
    margin, returns = _num(row.gross_margin), _num(row.return_rate)
    stock, days, last90 = _num(row.stock_on_hand), _num(row.days_of_cover), _num(row.units_last_90)
    if margin is not None and _lt(margin, 0):
        fired["loss"] = ctx.say("cond.loss", margin=ctx.pct(margin))
    if returns is not None and _ge(returns, ctx.return_limit):
        company = ctx.pct(ctx.company_return) if ctx.company_return is not None else "—"
        fired["returns"] = ctx.say("cond.returns", rate=ctx.pct(returns), threshold=ctx.pct(ctx.return_limit),
                                   multiple=f"{ctx.thr['problem_return_multiple']:g}", company=company,
                                   floor=ctx.pct(ctx.thr["problem_return_rate_min"]))
    if days is not None and _gt(days, ctx.thr["problem_days_of_cover"]):
        fired["slow"] = ctx.say("cond.cover", days=days, threshold=ctx.thr["problem_days_of_cover"])
    if stock is not None and stock > 0 and last90 is not None and last90 <= 0:
        fired["no_sale"] = ctx.say("cond.no_sale", stock=stock, days=ctx.thr["slow_days"])
    return fired


def _problem_action(fired: set[str]) -> str:
    """The single most specific action for a problem SKU (see product_table)."""
    slow = bool(fired & {"slow", "no_sale"})
    if slow and "loss" in fired:
        return "delist"
    if slow:
        return "clearance"
    if "returns" in fired:
        return "fix_listing_or_quality"
    return "reprice"


def _evergreen_checks(row, ctx: _Context) -> list[tuple[bool, str]]:
    """(holds, phrase) for each evergreen condition whose inputs are known."""
    checks = []
    if ctx.n_months:
        share = row.months_with_sales / ctx.n_months
        ok = _ge(share, ctx.thr["evergreen_month_share"])
        checks.append((ok, ctx.say(f"cond.months_{'ok' if ok else 'fail'}", sold=row.months_with_sales,
                                   months=ctx.n_months, share=ctx.pct(share),
                                   threshold=ctx.pct(ctx.thr["evergreen_month_share"]))))
    units_cv = _num(row.units_cv)
    if units_cv is not None:
        ok = _le(units_cv, ctx.thr["evergreen_cv"])
        checks.append((ok, ctx.say(f"cond.cv_{'ok' if ok else 'fail'}", cv=units_cv,
                                   threshold=ctx.thr["evergreen_cv"])))
    returns = _num(row.return_rate)
    if returns is not None and ctx.company_return is not None:
        ok = _le(returns, ctx.company_return)
        checks.append((ok, ctx.say(f"cond.company_returns_{'ok' if ok else 'fail'}", rate=ctx.pct(returns),
                                   company=ctx.pct(ctx.company_return))))
    return checks


# --- summaries ---------------------------------------------------------------------------------------

def action_lists(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """SKUs per action: restock, clearance, fix, delist, reprice, replicate, bundle, review
    (a hit that needs restocking is in both replicate and restock)."""
    actions = table["action"].fillna("").str.split(";")
    return {name: table[actions.map(lambda acts, code=code: code in acts)]
            for name, code in ACTION_LISTS.items()}


def metrics_json(table: pd.DataFrame) -> dict:
    """sku -> {class, action, reason, revenue, gross_margin, return_rate, days_of_cover}, JSON-safe."""
    numbers = ("revenue", "gross_margin", "return_rate", "days_of_cover")
    return {str(sku): {"class": row["class"], "action": row["action"], "reason": row["reason"],
                       **{k: _num(row[k]) for k in numbers}}
            for sku, row in table.iterrows()}


def abc_classes(table: pd.DataFrame, a: float = 0.80, b: float = 0.95) -> pd.Series:
    """Pareto class per SKU: "A" while the SKUs ranked above make < 80% of revenue, "B" while < 95%,
    else "C" (so the SKU that crosses 80% is still A, as with hits)."""
    above = pd.to_numeric(table["share_above"], errors="coerce")
    return pd.Series(np.where(above < a - 1e-9, "A", np.where(above < b - 1e-9, "B", "C")),
                     index=table.index, name="abc").where(above.notna(), None)


# --- traffic × conversion quadrants ------------------------------------------------------------------

def quadrants(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Traffic × conversion quadrant per SKU with SKU traffic, split at the medians of sessions and
    conversion_rate (a value at the median counts as high). Medians in attrs["sessions_median"] and
    attrs["conversion_median"]; empty when no SKU has both numbers."""
    data = table[["sessions", "conversion_rate"]].apply(pd.to_numeric, errors="coerce").dropna()
    data = data[data["sessions"] > 0]
    cols = ["sessions", "conversion_rate", "traffic", "conversion", "quadrant", "diagnosis"]
    if data.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="sku"))
    s_med, c_med = float(data["sessions"].median()), float(data["conversion_rate"].median())
    high_traffic = data["sessions"] >= s_med - 1e-9
    high_conv = data["conversion_rate"] >= c_med - 1e-12
    quadrant = np.select([high_traffic & high_conv, high_traffic & ~high_conv, ~high_traffic & high_conv],
                         ["hit", "product_problem", "needs_traffic"], "reassess_fit")
    out = data.assign(traffic=np.where(high_traffic, "high", "low"),
                      conversion=np.where(high_conv, "high", "low"), quadrant=quadrant)
    out["diagnosis"] = [
        _t(f"products.quadrant.{q}.diagnosis", lang, sessions=f"{s:,.0f}", conversion=_pct(c, lang),
           sessions_median=f"{s_med:,.0f}", conversion_median=_pct(c_med, lang))
        for q, s, c in zip(out["quadrant"], out["sessions"], out["conversion_rate"])]
    out.attrs.update(sessions_median=s_med, conversion_median=c_med)
    return out[cols]


def quadrant_chart(quads: pd.DataFrame, lang: str = "zh") -> Figure:
    """Sessions (x) against conversion rate (y), median lines, colour = quadrant, SKUs annotated."""
    fig, ax = charts.figure(_t("products.quadrant_chart.title", lang), _t("products.quadrant_chart.xlabel", lang),
                            _t("products.quadrant_chart.ylabel", lang), size=(8, 5.5))
    handles = []
    for q in QUADRANTS:
        part = quads[quads["quadrant"] == q]
        if part.empty:
            continue
        ax.scatter(part["sessions"], part["conversion_rate"], s=60, color=QUADRANT_COLOURS[q], alpha=0.8)
        handles.append(Line2D([], [], ls="", marker="o", color=QUADRANT_COLOURS[q],
                              label=_t(f"products.quadrant.{q}.label", lang)))
    for sku, row in quads.iterrows():
        ax.annotate(str(sku), (row["sessions"], row["conversion_rate"]), textcoords="offset points",
                    xytext=(5, 5), fontsize="small")
    if "sessions_median" in quads.attrs:
        ax.axvline(quads.attrs["sessions_median"], color="#555555", ls="--", lw=1)
        ax.axhline(quads.attrs["conversion_median"], color="#555555", ls="--", lw=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize="small")
    return fig


def pareto_chart(table: pd.DataFrame, lang: str = "zh", currency: str = "USD", max_labels: int = 40) -> Figure:
    """Pareto (ABC): revenue bars sorted descending, cumulative share line (right axis), A/B/C bands
    where the SKUs above make < 80% / < 95% of revenue. SKU labels only up to `max_labels` bars."""
    data = table.sort_values(["revenue_rank"])
    abc = abc_classes(data)
    total = data["revenue"].sum()
    cumulative = data["revenue"].cumsum() / total if total > 0 else data["revenue"] * np.nan
    x = np.arange(len(data))
    fig, ax = charts.figure(_t("products.pareto.title", lang), _t("products.pareto.xlabel", lang),
                            _t("products.pareto.ylabel", lang, currency=currency), size=(9, 5))
    band_colours = dict(zip("ABC", charts.SERIES))
    ax.bar(x, data["revenue"], color=[band_colours.get(c, "#cccccc") for c in abc])
    for band, colour in band_colours.items():
        idx = x[(abc == band).to_numpy()]
        if idx.size:
            ax.axvspan(idx.min() - 0.5, idx.max() + 0.5, color=colour, alpha=0.08)
            ax.text((idx.min() + idx.max()) / 2, 0.97, band, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontweight="bold", color=colour)
    right = ax.twinx()
    right.plot(x, cumulative, color="#222222", marker="o", markersize=3)
    for level in (0.80, 0.95):
        right.axhline(level, color="#555555", ls=":", lw=1)
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_ylabel(_t("products.pareto.y2label", lang))
    ax.set_xticks(x if len(x) <= max_labels else [])
    if len(x) <= max_labels:
        ax.set_xticklabels([str(s) for s in data.index], rotation=60, ha="right", fontsize="small")
    return fig


def summary(table: pd.DataFrame, lang: str = "zh", currency: str = "USD") -> list[str]:
    """One sentence per class present: how many SKUs and their share of revenue."""
    total = table["revenue"].sum()
    out = []
    for cls in CLASSES:
        part = table[table["class"] == cls]
        if len(part):
            share = _pct(part["revenue"].sum() / total, lang) if total > 0 else "—"
            out.append(_t(f"products.summary.{cls}", lang, count=len(part), share=share,
                          revenue=_money(part["revenue"].sum(), currency, lang)))
    return out


# --- the step's report (notebooks/03_products.ipynb) -------------------------------------------------

# The HTML shows this many SKUs per table; the CSVs under tables/ hold them all.
SHOWN_ROWS = 60
# The action lists a seller works through on Monday, in that order (SPEC §4.3; issue 3).
WORK_LISTS = ("restock", "clearance", "fix", "delist", "reprice")


def analyse(ctx) -> pd.DataFrame:
    """product_table for the context's review and period (computed once per review, period and language)."""
    from .metrics import monthly_sum

    def compute() -> pd.DataFrame:
        review, period = ctx.review, ctx.period
        thr = ctx.thresholds(DEFAULTS)
        prev_p = period.year_earlier()
        k = ctx.kpis_by("sku")
        traffic = k.loc[k["sessions"].notna(), ["sessions", "traffic_orders"]].rename(
            columns={"traffic_orders": "orders"})
        return product_table(
            k, ctx.kpis_by("sku", prev_p) if review.has_data(prev_p) else None,
            monthly_sum(review, period, "sku", "quantity"), units_last(review, period, int(thr["slow_days"])),
            review.products, ctx.summary["kpis"], traffic if len(traffic) else None, thr, ctx.lang, ctx.currency)
    return ctx.memo("products", compute)


def units_last(review, period, days: int = 90) -> pd.Series:
    """Units per SKU sold in the last `days` days of P (both ends included)."""
    from .metrics import period_lines
    from .period import Window
    window = Window(max(period.start, period.end - pd.Timedelta(days=days - 1)), period.end)
    lines = period_lines(review, window)
    return lines.groupby(lines["sku"].astype(str))["quantity"].sum()


def _actions_text(codes, lang: str) -> str:
    return _t("products.sep", lang).join(_t(f"products.action.{c}", lang) for c in str(codes).split(";") if c)


def _shown(table: pd.DataFrame, ctx) -> pd.DataFrame:
    return table.assign(sku=table.index, class_label=[ctx.t(f"products.class.{c}") for c in table["class"]],
                        action_label=[_actions_text(a, ctx.lang) for a in table["action"]])


def _show_sku_table(ctx, table: pd.DataFrame, cols: list[str], csv_name: str | None = None) -> None:
    from .audit import show_table
    from .report.display import note
    show_table(_shown(table, ctx)[cols], lang=ctx.lang, currency=ctx.currency,
               money=[c for c in ("revenue", "gross_profit") if c in cols],
               pct=[c for c in ("gross_margin", "return_rate", "share", "conversion_rate") if c in cols],
               ratio=[c for c in ("units_cv",) if c in cols],
               number=[c for c in ("units", "stock_on_hand", "units_last_90", "days_of_cover", "sessions",
                                   "months_with_sales") if c in cols],
               growth=[c for c in ("growth",) if c in cols],
               labels={c: ctx.t(f"products.col.{c}") for c in cols}, max_rows=SHOWN_ROWS)
    if csv_name and len(table) > SHOWN_ROWS:
        note(ctx.t("products.note.full_list", shown=SHOWN_ROWS, total=len(table), file=f"tables/{csv_name}.csv"))


def show_intro(ctx) -> None:
    from .report.display import heading, para
    heading(ctx.t("products.title"), 1)
    para(ctx.t("products.intro", period=ctx.period.label, currency=ctx.currency))


def show_summary(ctx) -> None:
    """How many SKUs fell in each class and what share of revenue they carry, plus what data was missing."""
    from .report.display import bullets, heading, note
    table = analyse(ctx)
    heading(ctx.t("products.h.summary"))
    if table.empty:
        note(ctx.t("products.note.no_sales", period=ctx.period.label))
        return
    bullets(summary(table, ctx.lang, ctx.currency))
    if table["stock_on_hand"].isna().all():
        note(ctx.t("products.note.stock_needed"))
    if table["gross_margin"].isna().any():
        note(ctx.t("products.note.costs_needed", count=int(table["gross_margin"].isna().sum())))
    if not ctx.review.has_data(ctx.period.year_earlier()):
        note(ctx.t("products.note.no_previous", previous=ctx.period.year_earlier().label))


def show_actions(ctx) -> None:
    """The Monday lists: restock, clear, fix, delist, reprice — each a table here and a CSV under tables/."""
    from .report.display import heading, note, para
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("products.h.actions"))
    lists = action_lists(table)
    cols = ["sku", "product_name", "revenue", "gross_margin", "return_rate", "stock_on_hand", "days_of_cover",
            "reason"]
    for name in WORK_LISTS:
        part = lists[name]
        heading(ctx.t(f"products.list.{name}", count=len(part)), 3)
        para(ctx.t(f"products.list.{name}.why"))
        if part.empty:
            note(ctx.t("products.list.empty"))
            continue
        ctx.write_table(f"products_{name}", part)
        _show_sku_table(ctx, part, cols, f"products_{name}")


def show_all(ctx) -> None:
    """Every SKU with its numbers, class, action and reason (the full list is tables/products.csv)."""
    from .report.display import heading
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("products.h.all"))
    ctx.write_table("products", table)
    # numbers and verdicts in one table, the reason sentences in a second: together they do not fit a page
    _show_sku_table(ctx, table, ["sku", "units", "revenue", "share", "gross_margin", "return_rate",
                                 "months_with_sales", "units_cv", "growth", "stock_on_hand", "days_of_cover"],
                    "products")
    heading(ctx.t("products.h.reasons"), 3)
    _show_sku_table(ctx, table, ["sku", "product_name", "class_label", "action_label", "reason"], "products")


def show_quadrants(ctx) -> None:
    from .audit import show_table
    from .report.display import heading, note, show
    table = analyse(ctx)
    heading(ctx.t("products.h.quadrants"))
    quads = quadrants(table, ctx.lang)
    if quads.empty:
        note(ctx.t("products.note.traffic_needed"))
        return
    show(quadrant_chart(quads, ctx.lang))
    ctx.write_table("products_quadrants", quads)
    rows = quads.assign(sku=quads.index, quadrant=[ctx.t(f"products.quadrant.{q}.label") for q in quads["quadrant"]])
    show_table(rows[["sku", "sessions", "conversion_rate", "quadrant", "diagnosis"]], lang=ctx.lang,
               currency=ctx.currency, number=("sessions",), pct=("conversion_rate",), max_rows=SHOWN_ROWS,
               labels={c: ctx.t(f"products.col.{c}") for c in ("sku", "sessions", "conversion_rate", "quadrant",
                                                                  "diagnosis")})


def show_pareto(ctx) -> None:
    from .report.display import heading, para, show
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("products.h.pareto"))
    show(pareto_chart(table, ctx.lang, ctx.currency))
    abc = abc_classes(table)
    total = table["revenue"].sum()
    counts = {b: int((abc == b).sum()) for b in "ABC"}
    shares = {b: (table.loc[abc == b, "revenue"].sum() / total if total > 0 else None) for b in "ABC"}
    para(ctx.t("products.pareto.summary", a=counts["A"], b=counts["B"], c=counts["C"], total=len(table),
               a_share=_pct(shares["A"], ctx.lang), b_share=_pct(shares["B"], ctx.lang),
               c_share=_pct(shares["C"], ctx.lang)))


# Thresholds that are shares (shown as %); the rest are counts of days or multiples.
_FRACTION_THRESHOLDS = {"problem_return_rate_min", "hit_revenue_share", "evergreen_month_share"}


def show_thresholds(ctx) -> None:
    ctx.show_thresholds("products", DEFAULTS,
                        lambda k, v: _pct(v, ctx.lang) if k in _FRACTION_THRESHOLDS else f"{v:g}")


def finish(ctx) -> None:
    """metrics.json `products`, the finding for the index page, then save."""
    table = analyse(ctx)
    ctx.record("products", metrics_json(table))
    if table.empty:
        ctx.finding(ctx.t("products.finding_none", period=ctx.period.label))
    else:
        lists = action_lists(table)
        counts = {cls: int((table["class"] == cls).sum()) for cls in CLASSES}
        ctx.finding(ctx.t("products.finding", n=len(table), hits=counts["hit"], evergreen=counts["evergreen"],
                          problem=counts["problem"], restock=len(lists["restock"]), clearance=len(lists["clearance"]),
                          fix=len(lists["fix"]), delist=len(lists["delist"]), reprice=len(lists["reprice"])))
    ctx.save()
