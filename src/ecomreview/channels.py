"""Step 2, channel analysis (SPEC §4.2): cash cows, potentials and problem channels, with reasons."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from .report import charts
from .report.fmt import money as _money, pct as _pct, signed_pct as _signed_pct
from .report.i18n import t as _t

# Defaults of SPEC §4.2 (and the §4.1 concentration check); settings.yaml `thresholds` overrides them.
DEFAULTS: dict[str, float] = {
    "problem_growth": -0.10,        # growth at or below this, with a below-company margin -> problem
    "potential_growth": 0.20,       # growth at or above this ...
    "potential_share": 0.25,        # ... with a revenue share below this -> potential
    "cash_cow_profit_share": 0.25,  # share of the channels' positive contribution profit -> cash cow
    "concentration_share": 0.70,    # largest channel's revenue share above this -> red
}

CLASSES = ("problem", "potential", "cash_cow", "steady")
CLASS_COLOURS = {cls: charts.PALETTE[cls] for cls in CLASSES}

# Rates are compared with this tolerance so that a value that is exactly at a threshold in decimal
# (90 / 100 - 1 = -0.09999999999999998) counts as at the threshold, as a reader would expect.
EPS = 1e-9

_COLUMNS = ["revenue", "share", "gross_profit", "gross_margin", "contribution_profit",
            "contribution_margin", "ad_spend", "tacos", "aov", "orders", "growth", "growth_method",
            "volatility", "ops_hours", "profit_per_hour", "profit_share", "rank", "class", "reason"]


# --- small shared helpers (also used by products.py) ------------------------------------------------

def _num(x) -> float | None:
    """A finite float, or None for None/NaN/inf/non-numbers."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _ge(a: float, b: float) -> bool:
    return a >= b - EPS


def _le(a: float, b: float) -> bool:
    return a <= b + EPS


def _lt(a: float, b: float) -> bool:
    return a < b - EPS


def _gt(a: float, b: float) -> bool:
    return a > b + EPS


def _merge_thresholds(defaults: dict, thresholds: dict | None) -> dict:
    """Defaults overridden by the keys of `thresholds` that this step knows (others are ignored)."""
    out = dict(defaults)
    for key, value in (thresholds or {}).items():
        if key in defaults and value is not None:
            out[key] = float(value)
    return out


def _column(frame: pd.DataFrame | None, name: str, index: pd.Index) -> pd.Series:
    """frame[name] as floats aligned on index; NaN where the frame, the column or the row is missing."""
    if frame is None or name not in frame.columns:
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").astype(float).reindex(index)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den with NaN where den is zero or missing (SPEC §3: absent, never 0 or inf)."""
    return num / den.where(den != 0)


def cv(values) -> float | None:
    """Coefficient of variation: population standard deviation ÷ mean; None when the mean is ≤ 0."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0 or not np.isfinite(arr).all():
        return None
    mean = arr.mean()
    return float(arr.std(ddof=0) / mean) if mean > 0 else None


def trend_growth(values) -> float | None:
    """Annualised trend growth: least-squares slope per month × 12 ÷ mean (fraction).

    None with fewer than two months or a mean ≤ 0. Months are equally spaced (0, 1, 2, …).
    """
    y = np.asarray(values, dtype=float)
    if y.size < 2 or not np.isfinite(y).all() or y.mean() <= 0:
        return None
    x = np.arange(y.size, dtype=float)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return float(slope * 12 / y.mean())


# --- the channel table -----------------------------------------------------------------------------

def channel_table(kpis: pd.DataFrame, prev_kpis: pd.DataFrame | None, monthly_revenue: pd.DataFrame,
                  channels: pd.DataFrame | None, company: dict, thresholds: dict | None = None,
                  lang: str = "zh", currency: str = "USD") -> pd.DataFrame:
    """One row per channel: SPEC §4.2 metrics, rank, class and reason, sorted by rank.

    Money in the base currency; shares, margins and growth as fractions (0.2 = 20%).
    growth is YoY revenue growth when the channel had revenue a year earlier; otherwise the in-period
    trend (`trend_growth`, growth_method "trend", biased by seasonality); None with neither.
    rank: by profit per operating hour when every channel has ops_hours > 0, otherwise by
    contribution profit for all channels (mixing the two would compare unlike numbers); the basis
    is in ``table.attrs["rank_by"]``. Ties go to the channel name.
    """
    thr = _merge_thresholds(DEFAULTS, thresholds)
    index = pd.Index([str(c) for c in kpis.index], name="channel")
    k = kpis.set_axis(index)
    out = pd.DataFrame(index=index)
    for col in ("revenue", "gross_profit", "gross_margin", "contribution_profit", "contribution_margin",
                "ad_spend", "tacos", "aov", "orders"):
        out[col] = _column(k, col, index)
    total = out["revenue"].sum()
    out["share"] = out["revenue"] / total if total > 0 else np.nan

    growth, method = _growth(out["revenue"], prev_kpis, monthly_revenue, index)
    out["growth"] = growth
    out["growth_method"] = method
    out["volatility"] = [_monthly_cv(monthly_revenue, ch) for ch in index]

    ops = (channels.set_index(channels["channel"].astype(str))
           if channels is not None and "channel" in channels.columns else None)
    out["ops_hours"] = _column(ops, "ops_hours", index)
    out["profit_per_hour"] = _ratio(out["contribution_profit"], out["ops_hours"].where(out["ops_hours"] > 0))
    out["profit_share"] = _profit_share(out["contribution_profit"])

    rank_by = "profit_per_hour" if len(out) and out["profit_per_hour"].notna().all() else "contribution_profit"
    order = out.assign(_name=index).sort_values([rank_by, "_name"], ascending=[False, True], na_position="last")
    out["rank"] = pd.Series(range(1, len(order) + 1), index=order.index)

    company_margin = _num((company or {}).get("contribution_margin"))
    decided = [_classify(row, company_margin, thr, lang, currency) for row in out.itertuples()]
    out["class"] = [c for c, _ in decided]
    out["reason"] = [r for _, r in decided]
    out = out.sort_values("rank")[_COLUMNS]
    out.attrs["rank_by"] = rank_by
    return out


def _growth(revenue: pd.Series, prev_kpis: pd.DataFrame | None, monthly: pd.DataFrame,
            index: pd.Index) -> tuple[list, list]:
    """Per channel (growth, method): YoY when last year's revenue is > 0, else the monthly trend."""
    prev = None
    if prev_kpis is not None:
        prev = _column(prev_kpis.set_axis([str(c) for c in prev_kpis.index]), "revenue", index)
    growth, method = [], []
    for ch in index:
        before = _num(prev[ch]) if prev is not None else None
        now = _num(revenue[ch])
        if before is not None and before > 0 and now is not None:
            growth.append(now / before - 1)
            method.append("yoy")
            continue
        g = trend_growth(monthly[ch]) if monthly is not None and ch in monthly.columns else None
        growth.append(g)
        method.append("trend" if g is not None else None)
    return growth, method


def _monthly_cv(monthly: pd.DataFrame | None, channel: str) -> float | None:
    if monthly is None or channel not in monthly.columns:
        return None
    return cv(pd.to_numeric(monthly[channel], errors="coerce").fillna(0.0))


def _profit_share(profit: pd.Series) -> pd.Series:
    """Share of the channels' positive contribution profit; 0 at or below 0, NaN when unknown."""
    positive = profit.clip(lower=0)
    total = positive.sum()
    share = positive / total if total > 0 else positive * 0.0
    return share.where(profit.notna())


def _classify(row, company_margin: float | None, thr: dict, lang: str, currency: str) -> tuple[str, str]:
    """(class, reason) by the first matching rule of SPEC §4.2."""
    profit, margin = _num(row.contribution_profit), _num(row.contribution_margin)
    growth, share, pshare = _num(row.growth), _num(row.share), _num(row.profit_share)
    money = lambda x: _money(x, currency, lang)  # noqa: E731 - local shorthand
    pct = lambda x: _pct(x, lang)  # noqa: E731
    say = lambda key, **kw: _t(f"channels.{key}", lang, **kw)  # noqa: E731

    notes = []
    if profit is None:
        notes.append(say("note.no_profit"))
    if growth is None:
        notes.append(say("note.no_growth"))
    elif row.growth_method == "trend":
        notes.append(say("note.trend"))

    def reason(cls: str, conditions: list[str]) -> tuple[str, str]:
        text = say("reason", label=say(f"class.{cls}"), conditions=say("sep").join(conditions))
        return cls, " ".join([text, *notes])

    # 1. problem
    if profit is not None and _le(profit, 0):
        return reason("problem", [say("cond.profit_le", value=money(profit))])
    if growth is not None and _le(growth, thr["problem_growth"]):
        if company_margin is None:
            notes.append(say("note.no_company_margin"))
        elif margin is not None and _lt(margin, company_margin):
            return reason("problem", [say("cond.decline", growth=_signed_pct(growth, lang),
                                          threshold=_signed_pct(thr["problem_growth"], lang),
                                          margin=pct(margin), company=pct(company_margin))])
    # 2. potential: all three must hold; the first one that fails explains a later class
    checks = []  # (holds, phrase) for the conditions whose inputs are known
    if growth is not None:
        ok = _ge(growth, thr["potential_growth"])
        checks.append((ok, say(f"cond.growth_{'ok' if ok else 'fail'}", value=_signed_pct(growth, lang),
                                threshold=pct(thr["potential_growth"]))))
    if share is not None:
        ok = _lt(share, thr["potential_share"])
        checks.append((ok, say(f"cond.share_{'ok' if ok else 'fail'}", value=pct(share),
                                threshold=pct(thr["potential_share"]))))
    if margin is not None:
        ok = _ge(margin, 0)
        checks.append((ok, say(f"cond.margin_{'ok' if ok else 'fail'}", value=pct(margin))))
    if len(checks) == 3 and all(ok for ok, _ in checks):
        return reason("potential", [phrase for _, phrase in checks])
    why_not_potential = [phrase for ok, phrase in checks if not ok][:1]
    # 3. cash cow
    if pshare is not None:
        ok = _ge(pshare, thr["cash_cow_profit_share"])
        phrase = say(f"cond.profit_share_{'ok' if ok else 'fail'}", value=pct(pshare),
                     threshold=pct(thr["cash_cow_profit_share"]))
        if ok:
            return reason("cash_cow", [phrase])
        return reason("steady", why_not_potential + [phrase])
    return reason("steady", why_not_potential or [say("cond.unknown")])


# --- summaries --------------------------------------------------------------------------------------

def concentration(table: pd.DataFrame, thresholds: dict | None = None, lang: str = "zh") -> dict:
    """Largest channel by revenue and its share (fraction); status "red" when the share is above
    concentration_share (SPEC §4.1), with a sentence in `message`."""
    thr = _merge_thresholds(DEFAULTS, thresholds)["concentration_share"]
    shares = pd.to_numeric(table["share"], errors="coerce").dropna() if len(table) else pd.Series(dtype=float)
    if shares.empty:
        return {"channel": None, "share": None, "threshold": thr, "status": None, "red": False, "message": None}
    top = shares.sort_values(ascending=False, kind="stable").index[0]
    share = float(shares[top])
    status = "red" if _gt(share, thr) else "green"
    message = _t(f"channels.concentration.{status}", lang, channel=str(top), share=_pct(share, lang),
                 threshold=_pct(thr, lang))
    return {"channel": str(top), "share": share, "threshold": thr, "status": status,
            "red": status == "red", "message": message}


def recommendations(table: pd.DataFrame, lang: str = "zh") -> list[str]:
    """One short recommendation per class present, naming its channels (problem first)."""
    out = []
    for cls in CLASSES:
        names = [str(c) for c in table.index[table["class"] == cls]]
        if names:
            out.append(_t(f"channels.advice.{cls}", lang, channels=_t("channels.list_sep", lang).join(names)))
    return out


def metrics_json(table: pd.DataFrame) -> dict:
    """channel -> {class, reason, revenue, share, contribution_profit, contribution_margin, growth,
    profit_per_hour}, JSON-safe (floats or None)."""
    numbers = ("revenue", "share", "contribution_profit", "contribution_margin", "growth", "profit_per_hour")
    return {str(ch): {"class": row["class"], "reason": row["reason"], **{k: _num(row[k]) for k in numbers}}
            for ch, row in table.iterrows()}


# --- chart -------------------------------------------------------------------------------------------

def bubble_chart(table: pd.DataFrame, lang: str = "zh", currency: str = "USD",
                 thresholds: dict | None = None) -> Figure:
    """Growth (y) against share of revenue (x); bubble area ∝ |contribution profit|, hollow = loss;
    colour = class; dashed lines at the potential/problem thresholds. Channels without growth are
    listed under the chart instead of being placed at an invented height."""
    thr = _merge_thresholds(DEFAULTS, thresholds)
    fig, ax = charts.figure(_t("channels.chart.title", lang), _t("channels.chart.xlabel", lang),
                            _t("channels.chart.ylabel", lang), size=(8, 5.5))
    shown = table[table["growth"].notna() & table["share"].notna()]
    raw_profit = pd.to_numeric(shown["contribution_profit"], errors="coerce")
    is_loss = raw_profit.notna() & (raw_profit <= 0)  # unknown profit (no costs) is not drawn as a loss
    profit = raw_profit.fillna(0.0)
    biggest = profit.abs().max() if len(profit) else 0.0
    sizes = 80 + 1500 * profit.abs() / biggest if biggest > 0 else pd.Series(200.0, index=shown.index)
    handles = []
    for cls in CLASSES:
        part = shown["class"] == cls
        if not part.any():
            continue
        colour = CLASS_COLOURS[cls]
        gain, loss = part & ~is_loss, part & is_loss
        ax.scatter(shown.loc[gain, "share"], shown.loc[gain, "growth"], s=sizes[gain], color=colour, alpha=0.6)
        # losses hollow, so a big loss never looks like a big earner
        ax.scatter(shown.loc[loss, "share"], shown.loc[loss, "growth"], s=sizes[loss],
                   facecolors="none", edgecolors=colour, linewidths=2)
        handles.append(Line2D([], [], ls="", marker="o", markersize=9, color=colour, alpha=0.6,
                              label=_t(f"channels.class.{cls}", lang)))
    if is_loss.any():
        handles.append(Line2D([], [], ls="", marker="o", markersize=9, markerfacecolor="none",
                              markeredgecolor="#333333", label=_t("channels.chart.loss", lang)))
    for ch, row in shown.iterrows():
        ax.annotate(str(ch), (row["share"], row["growth"]), textcoords="offset points", xytext=(6, 6))
    ax.axhline(thr["potential_growth"], color=CLASS_COLOURS["potential"], ls="--", lw=1)
    ax.axhline(thr["problem_growth"], color=CLASS_COLOURS["problem"], ls="--", lw=1)
    ax.axvline(thr["potential_share"], color="#555555", ls=":", lw=1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize="small")
    notes = [_t("channels.chart.size_note", lang, currency=currency)]
    missing = [str(c) for c in table.index.difference(shown.index)]
    if missing:
        notes.append(_t("channels.chart.missing", lang, channels=_t("channels.list_sep", lang).join(missing)))
    fig.text(0.01, 0.01, "  ".join(notes), fontsize="small", color="#555555")
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))  # room for the footnote
    return fig


# --- the step's report (notebooks/02_channels.ipynb) -------------------------------------------------

def analyse(ctx) -> pd.DataFrame:
    """channel_table for the context's review and period (computed once per review, period and language)."""
    from .metrics import monthly_sum

    def compute() -> pd.DataFrame:
        prev_p = ctx.period.year_earlier()
        prev = ctx.kpis_by("channel", prev_p) if ctx.review.has_data(prev_p) else None
        return channel_table(ctx.kpis_by("channel"), prev, monthly_sum(ctx.review, ctx.period, "channel", "revenue"),
                             ctx.review.channels, ctx.summary["kpis"], ctx.thresholds(DEFAULTS),
                             ctx.lang, ctx.currency)
    return ctx.memo("channels", compute)


def _months_with_sales(review, period) -> int:
    """How many months of ``period`` have at least one order line."""
    from .metrics import period_lines
    return int(period_lines(review, period, ["month"])["month"].nunique())


def _list(names, lang: str) -> str:
    return _t("channels.list_sep", lang).join(map(str, names)) if len(names) else _t("channels.none", lang)


def show_intro(ctx) -> None:
    from .report.display import heading, para
    heading(ctx.t("channels.title"), 1)
    para(ctx.t("channels.intro", period=ctx.period.label, currency=ctx.currency))


def show_scorecard(ctx) -> None:
    """The per-channel numbers of SPEC §4.2, in rank order, and why the ranking is what it is."""
    from .audit import show_table
    from .report.display import heading, note
    table = analyse(ctx)
    heading(ctx.t("channels.h.scorecard"))
    if table.empty:
        note(ctx.t("channels.note.no_sales", period=ctx.period.label))
        return
    shown = table.assign(channel=table.index, growth_method=[
        ctx.t(f"channels.method.{m}") if isinstance(m, str) else None for m in table["growth_method"]])
    # two tables so neither needs a horizontal scroll: profit first, then growth and effort
    for cols in (["rank", "channel", "revenue", "share", "gross_profit", "gross_margin", "contribution_profit",
                  "contribution_margin", "ad_spend", "tacos"],
                 ["rank", "channel", "orders", "aov", "growth", "growth_method", "volatility", "ops_hours",
                  "profit_per_hour"]):
        show_table(shown[cols], lang=ctx.lang, currency=ctx.currency,
                   money=[c for c in ("revenue", "gross_profit", "contribution_profit", "ad_spend", "aov",
                                      "profit_per_hour") if c in cols],
                   pct=[c for c in ("share", "gross_margin", "contribution_margin", "tacos") if c in cols],
                   growth=[c for c in ("growth",) if c in cols], ratio=[c for c in ("volatility",) if c in cols],
                   number=[c for c in ("rank", "orders", "ops_hours") if c in cols],
                   labels={c: ctx.t(f"channels.col.{c}") for c in cols})
    ctx.write_table("channels", table)
    if table.attrs.get("rank_by") == "profit_per_hour":
        note(ctx.t("channels.note.rank_by_hour"))
    else:
        missing = [str(c) for c in table.index[~(table["ops_hours"] > 0)]]
        note(ctx.t("channels.note.rank_by_profit", channels=_list(missing, ctx.lang)))
    prev_months = _months_with_sales(ctx.review, ctx.period.year_earlier())
    if (table["growth_method"] == "yoy").any() and prev_months < len(ctx.period.months):
        note(ctx.t("channels.note.partial_previous", previous=ctx.period.year_earlier().label, n=prev_months,
                   months=len(ctx.period.months)))
    if (table["growth_method"] == "trend").any():
        note(ctx.t("channels.note.trend_used", previous=ctx.period.year_earlier().label))
    if table["contribution_profit"].isna().any():
        note(ctx.t("channels.note.costs_missing"))


def show_classes(ctx) -> None:
    """Each channel's class with the sentence that decided it."""
    from .audit import show_table
    from .report.display import heading, note
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("channels.h.classes"))
    rows = pd.DataFrame({"channel": table.index, "class": [ctx.t(f"channels.class.{c}") for c in table["class"]],
                         "reason": table["reason"]})
    show_table(rows, lang=ctx.lang, currency=ctx.currency, labels={c: ctx.t(f"channels.col.{c}") for c in rows})
    if len(table) == 1:
        note(ctx.t("channels.note.single", channel=str(table.index[0])))


def show_chart(ctx) -> None:
    from .report.display import heading, show
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("channels.h.chart"))
    show(bubble_chart(table, ctx.lang, ctx.currency, ctx.thresholds(DEFAULTS)))


def show_concentration(ctx) -> None:
    from .report.display import heading, note, para
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("channels.h.concentration"))
    conc = concentration(table, ctx.thresholds(DEFAULTS), ctx.lang)
    (note if conc["red"] else para)(conc["message"])
    ctx.record("channel_concentration", {k: conc[k] for k in ("channel", "share", "threshold", "status")})


def show_recommendations(ctx) -> None:
    from .report.display import bullets, heading
    table = analyse(ctx)
    if table.empty:
        return
    heading(ctx.t("channels.h.advice"))
    bullets(recommendations(table, ctx.lang))


def show_thresholds(ctx) -> None:
    ctx.show_thresholds("channels", DEFAULTS,
                        lambda k, v: _signed_pct(v, ctx.lang) if v < 0 else _pct(v, ctx.lang))


def finish(ctx) -> None:
    """metrics.json `channels`, the finding for the index page, then save."""
    table = analyse(ctx)
    ctx.record("channels", metrics_json(table))
    if table.empty:
        ctx.finding(ctx.t("channels.finding_none", period=ctx.period.label))
    else:
        by = {cls: list(table.index[table["class"] == cls]) for cls in CLASSES}
        top = table.index[0]
        ctx.finding(ctx.t("channels.finding", n=len(table), cash_cow=_list(by["cash_cow"], ctx.lang),
                          potential=_list(by["potential"], ctx.lang), problem=_list(by["problem"], ctx.lang),
                          top=str(top), basis=ctx.t(f"channels.rank_by.{table.attrs.get('rank_by')}")))
    ctx.save()
