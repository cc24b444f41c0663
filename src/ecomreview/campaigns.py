"""Step 4, campaign evaluation (SPEC §4.4): ROAS verdicts per campaign and keyword, summaries, TACoS, promotions."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .context import jsonable
from .metrics import div
from .report import charts, fmt
from .report.i18n import t
from .spread import SPREAD_COLUMNS

WINDOW_DAYS = 28                 # SPEC §4.4: baseline and post windows are 28 days each
PULL_FORWARD_SHARE = 0.5         # pulled_forward when pull-forward ≥ 50% of incremental sales
EFFORT_TYPES = ("content", "influencer", "email", "affiliate")
ADDITIVE = SPREAD_COLUMNS        # spend, impressions, clicks, orders, attributed_sales

# ratio name -> (numerator, denominator, scale); SPEC §4.4 definitions.
RATIOS = {
    "ctr": ("clicks", "impressions", 1.0),
    "cpc": ("spend", "clicks", 1.0),
    "cpm": ("spend", "impressions", 1000.0),
    "cvr": ("orders", "clicks", 1.0),
    "roas": ("attributed_sales", "spend", 1.0),
    "acos": ("spend", "attributed_sales", 1.0),
    "cpa": ("spend", "orders", 1.0),
}
METRIC_COLUMNS = ["spend", "impressions", "clicks", "ctr", "cpc", "cpm", "orders", "attributed_sales",
                  "cvr", "roas", "acos", "cpa"]
TABLE_COLUMNS = (["channel", "type", "name", "tags", "start_date", "end_date"] + METRIC_COLUMNS
                 + ["gross_margin", "breakeven_roas", "verdict", "reason"])
PROMOTION_COLUMNS = ["name", "channel", "sku", "start_date", "end_date", "days", "spend", "baseline",
                     "during", "post", "lift", "incremental_sales", "pull_forward_sales",
                     "net_incremental_sales", "verdict", "reason"]
# the report's good/bad/unknown colours, so a verdict looks like a health status
VERDICT_COLOURS = {"profitable": charts.HEALTH_COLOURS["green"], "unprofitable": charts.HEALTH_COLOURS["red"],
                   "unknown": charts.HEALTH_COLOURS[None]}


def _absent(x) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, (float, np.floating)) and math.isnan(x))


# ---------------------------------------------------------------- shared arithmetic

def _prepare(campaigns: pd.DataFrame | None) -> pd.DataFrame:
    """Campaign rows with every optional column present (all-NaN when the table lacks it) and numeric."""
    if campaigns is None:
        campaigns = pd.DataFrame(columns=["campaign_id", "channel", "type", "start_date", "end_date", "spend"])
    rows = campaigns.copy()
    for col in ADDITIVE:
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float) if col in rows else np.nan
    for col in ("campaign_name", "keyword", "sku"):
        if col not in rows:
            rows[col] = pd.Series(pd.NA, index=rows.index, dtype="string")
    if "tags" not in rows:
        rows["tags"] = pd.Series([[] for _ in range(len(rows))], index=rows.index, dtype=object)
    return rows


def _aggregate(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sums of the additive columns and the SPEC §4.4 ratios per group.

    Each ratio is taken over the rows that have both of its parts: a row without impressions adds
    neither its clicks nor its spend to CTR or CPM, so partial data does not bias the ratio.
    All-missing sums stay missing (min_count=1) rather than becoming 0.
    """
    parts = {col: rows[col] for col in ADDITIVE}
    for name, (num, den, _) in RATIOS.items():
        both = rows[num].notna() & rows[den].notna()
        parts[f"_{name}_num"] = rows[num].where(both)
        parts[f"_{name}_den"] = rows[den].where(both)
    frame = pd.DataFrame(parts, index=rows.index).assign(**{k: rows[k] for k in by})
    sums = frame.groupby(by, sort=False).sum(min_count=1)
    for name, (_, _, scale) in RATIOS.items():
        sums[name] = div(sums.pop(f"_{name}_num"), sums.pop(f"_{name}_den")) * scale
    return sums


def _union_tags(values) -> list[str]:
    seen: list[str] = []
    for tags in values:
        for tag in tags if isinstance(tags, (list, tuple)) else []:
            if tag not in seen:
                seen.append(tag)
    return seen


def _margins(channel_margin: pd.Series | None) -> pd.Series:
    if channel_margin is None:
        return pd.Series(dtype=float)
    return pd.to_numeric(channel_margin, errors="coerce")


# ---------------------------------------------------------------- campaigns and keywords

def campaign_table(campaigns_in_p: pd.DataFrame, channel_margin: pd.Series | None,
                   lang: str, currency: str) -> pd.DataFrame:
    """One row per campaign_id (keyword/month rows summed), indexed by campaign_id.

    ``campaigns_in_p`` is the part of the campaigns inside P (``spread.prorate``), money in the base
    currency. ``channel_margin``: channel -> gross margin over P as a fraction. Ratios (ctr, cvr, acos
    as fractions; roas, breakeven_roas as multiples; cpc, cpa money; cpm money per 1,000 impressions)
    are NaN where their denominator is zero or missing. verdict ∈ profitable / unprofitable / unknown,
    with a reason sentence. Promotions stay in the table and are judged on their attributed sales like
    any campaign; without attributed sales their verdict is unknown and the reason points to the
    promotion test (``promotion_effects``).
    """
    return _table(_prepare(campaigns_in_p), ["campaign_id"], channel_margin, lang, currency)


def keyword_table(campaigns_in_p: pd.DataFrame, channel_margin: pd.Series | None,
                  lang: str, currency: str) -> pd.DataFrame:
    """Same metrics and verdicts per campaign × keyword, indexed by (campaign_id, keyword).

    Only rows with a keyword count; keywords are compared after trimming spaces. Empty when the
    campaigns carry no keywords.
    """
    rows = _prepare(campaigns_in_p)
    keyword = rows["keyword"].astype("string").str.strip()
    rows = rows.assign(keyword=keyword)[keyword.notna() & (keyword != "")]
    return _table(rows, ["campaign_id", "keyword"], channel_margin, lang, currency)


def _table(rows: pd.DataFrame, by: list[str], channel_margin, lang: str, currency: str) -> pd.DataFrame:
    if rows.empty:
        index = pd.MultiIndex.from_arrays([[]] * len(by), names=by) if len(by) > 1 else pd.Index([], name=by[0])
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS}, index=index)
    groups = rows.groupby(by, sort=False)
    info = groups.agg(channel=("channel", "first"), type=("type", "first"), name=("campaign_name", "first"),
                      start_date=("start_date", "min"), end_date=("end_date", "max"))
    campaign_ids = info.index.get_level_values("campaign_id")
    info["name"] = info["name"].astype(object).where(info["name"].notna(), pd.Series(campaign_ids, index=info.index))
    info["tags"] = groups["tags"].agg(_union_tags)
    table = info.join(_aggregate(rows, by))
    margin = table["channel"].map(_margins(channel_margin)).astype(float)
    table["gross_margin"] = margin
    table["breakeven_roas"] = 1.0 / margin.where(margin > 0)  # absent for margin ≤ 0 or missing
    judged = [_campaign_verdict(rec, lang, currency) for rec in table.to_dict("records")]
    table["verdict"] = [v for v, _ in judged]
    table["reason"] = [r for _, r in judged]
    return table[TABLE_COLUMNS]


def _campaign_verdict(rec: dict, lang: str, currency: str) -> tuple[str, str]:
    """(verdict, reason) for one campaign or keyword row of the table."""
    kw = dict(channel=rec["channel"], spend=fmt.money(rec["spend"], currency, lang),
              roas=fmt.ratio(rec["roas"], lang), breakeven=fmt.ratio(rec["breakeven_roas"], lang),
              margin=fmt.pct(rec["gross_margin"], lang))
    margin, roas, breakeven = rec["gross_margin"], rec["roas"], rec["breakeven_roas"]
    if not rec["spend"] > 0:
        return "unknown", t("campaigns.reason.no_spend", lang, **kw)
    if _absent(margin):
        return "unknown", t("campaigns.reason.margin_unknown", lang, **kw)
    if margin <= 0:
        # 1 ÷ margin would be negative or infinite: each sale loses money before ads, so any spend
        # deepens the loss. A seller needs "unprofitable" here, not a silent "unknown".
        return "unprofitable", t("campaigns.reason.no_breakeven", lang, **kw)
    if _absent(roas):
        key = "campaigns.reason.promotion_no_sales" if rec["type"] == "promotion" else "campaigns.reason.no_sales"
        return "unknown", t(key, lang, **kw)
    # isclose: a ROAS equal to breakeven in decimals (e.g. 1000/300 vs 1/0.3) must count as "at" it.
    if roas >= breakeven or math.isclose(roas, breakeven, rel_tol=1e-9):
        return "profitable", t("campaigns.reason.profitable", lang, **kw)
    return "unprofitable", t("campaigns.reason.unprofitable", lang, **kw)


def _wasted(keyword_table: pd.DataFrame) -> pd.Series:
    """Keywords that had spend and exactly zero attributed orders.

    Keywords whose orders are missing are not counted: without order data we cannot say the spend
    bought nothing.
    """
    spend = pd.to_numeric(keyword_table["spend"], errors="coerce")
    return (pd.to_numeric(keyword_table["orders"], errors="coerce") == 0) & (spend > 0)


def wasted_spend(keyword_table: pd.DataFrame) -> float:
    """Spend (base currency) of keywords with spend > 0 and orders == 0 (missing orders do not count)."""
    spend = pd.to_numeric(keyword_table["spend"], errors="coerce")
    return float(spend[_wasted(keyword_table)].sum())


def keyword_highlights(keyword_table: pd.DataFrame, n: int = 5, min_spend: float | None = None) -> dict:
    """Counts, wasted spend, and the best and worst keywords by ROAS among those with enough spend.

    ``min_spend`` (base currency) defaults to the median spend of keywords that spent anything: a
    keyword that spent less than a typical one has too few clicks for its ROAS to mean much. The
    bottom list never repeats a keyword from the top list. Returns keywords, wasted_keywords,
    wasted_spend, wasted_share (of keyword spend, NaN when there is none), min_spend, top, bottom.
    """
    spend = pd.to_numeric(keyword_table["spend"], errors="coerce")
    if min_spend is None:
        spent = spend[spend > 0]
        min_spend = float(spent.median()) if len(spent) else 0.0
    waste, total = wasted_spend(keyword_table), float(spend.sum())
    roas = pd.to_numeric(keyword_table["roas"], errors="coerce")
    ranked = keyword_table[(spend >= min_spend) & roas.notna()].sort_values("roas", ascending=False, kind="stable")
    return {
        "keywords": len(keyword_table),
        "wasted_keywords": int(_wasted(keyword_table).sum()),
        "wasted_spend": waste,
        "wasted_share": waste / total if total > 0 else float("nan"),
        "min_spend": min_spend,
        "top": ranked.head(n),
        "bottom": ranked.iloc[n:].tail(n).iloc[::-1],
    }


# ---------------------------------------------------------------- summaries

def summary_by(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Totals and ratios of a campaign table per ``type``, ``channel`` or ``tag``, by spend descending.

    For ``tag`` the tags are exploded: a campaign with two tags counts fully in both, so the tag rows
    add up to more than the total (the report says so), and untagged campaigns are left out.
    ``share_of_spend`` is against the table's total spend. Columns: campaigns, the additive sums and
    the ratios of ``campaign_table``.
    """
    if key not in ("type", "channel", "tag"):
        raise ValueError(f"summary_by key must be type, channel or tag, not {key!r}")
    rows = table
    if key == "tag":
        rows = table.explode("tags").rename(columns={"tags": "tag"})
        rows = rows[rows["tag"].notna()]
    columns = ["campaigns", *METRIC_COLUMNS, "share_of_spend"]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}, index=pd.Index([], name=key))
    rows = rows.assign(**{c: pd.to_numeric(rows[c], errors="coerce") for c in ADDITIVE})
    out = _aggregate(rows, [key])
    out["campaigns"] = rows.groupby(key, sort=False).size()
    out["share_of_spend"] = div(out["spend"], float(pd.to_numeric(table["spend"], errors="coerce").sum()))
    return out[columns].sort_values("spend", ascending=False, kind="stable")


def totals(table: pd.DataFrame) -> pd.Series:
    """Company-wide totals and ratios of a campaign table (same columns as a ``summary_by`` row)."""
    rows = table.assign(_all="all", **{c: pd.to_numeric(table[c], errors="coerce") for c in ADDITIVE})
    out = _aggregate(rows, ["_all"]).reindex(["all"]).iloc[0] if len(rows) else \
        pd.Series(np.nan, index=METRIC_COLUMNS)
    out["campaigns"] = len(table)
    return out[["campaigns", *METRIC_COLUMNS]]


def tacos_by_channel(ad_spend_by_channel: pd.Series, revenue_by_channel: pd.Series) -> pd.DataFrame:
    """ad_spend, revenue and tacos (= ad_spend ÷ revenue, a fraction) per channel, base currency.

    A channel missing from one side has 0 there (no ads, or no sales in P). tacos is NaN when revenue
    is zero or negative: a share of a negative revenue would read as a healthy negative TACoS.
    """
    frame = pd.concat({"ad_spend": pd.to_numeric(ad_spend_by_channel, errors="coerce"),
                       "revenue": pd.to_numeric(revenue_by_channel, errors="coerce")}, axis=1).fillna(0.0)
    frame.index.name = "channel"
    frame["tacos"] = frame["ad_spend"] / frame["revenue"].where(frame["revenue"] > 0)
    return frame.sort_values("ad_spend", ascending=False, kind="stable")


def cost_per_order_by_type(table: pd.DataFrame, types: tuple[str, ...] = EFFORT_TYPES) -> pd.DataFrame:
    """Content, influencer, email and affiliate efforts compared on cost per order (cpa), cheapest first.

    Types without attributed orders have cpa NaN and sort last.
    """
    out = summary_by(table[table["type"].isin(types)], "type")
    cols = ["campaigns", "spend", "clicks", "orders", "cpa", "cvr", "attributed_sales", "roas"]
    return out[cols].sort_values("cpa", na_position="last", kind="stable")


# ---------------------------------------------------------------- promotions

def daily_net_sales(lines: pd.DataFrame, channel: str | None, sku=None, start=None, end=None) -> pd.Series:
    """Net sales per day (base currency) of ``channel`` (None: all channels), restricted to ``sku``
    (one SKU or a list) when given, one value per day from ``start`` to ``end`` inclusive (default:
    the first and last order date of ``lines``); days without sales are 0."""
    days = lines["order_date"].dt.normalize()
    mask = days.notna()
    if channel is not None:
        mask &= lines["channel"] == channel
    if sku is not None:
        mask &= lines["sku"].isin([sku] if isinstance(sku, str) else list(sku))
    start = days.min() if start is None else pd.Timestamp(start).normalize()
    end = days.max() if end is None else pd.Timestamp(end).normalize()
    index = pd.DatetimeIndex(pd.date_range(start, end, freq="D") if pd.notna(start) and pd.notna(end) else [],
                             name="date")
    sums = pd.to_numeric(lines.loc[mask, "net_sales"], errors="coerce").groupby(days[mask]).sum()
    sums.index = pd.DatetimeIndex(sums.index).as_unit(index.unit)
    return sums.reindex(index, fill_value=0.0).astype(float).rename("net_sales")


def _window_mean(daily: pd.Series, lo, hi, data_start, data_end) -> float | None:
    """Mean daily value over [lo, hi]; None when the window runs past the data (SPEC §4.4)."""
    if lo < data_start or hi > data_end:
        return None
    return float(daily.loc[lo:hi].mean())


def effect_figures(baseline, during, post, days: int) -> dict:
    """SPEC §4.4 promotion figures from the three window means (None where a window is absent)."""
    have_lift = baseline is not None and during is not None
    incremental = (during - baseline) * days if have_lift else None
    pull_forward = max(0.0, baseline - post) * WINDOW_DAYS if baseline is not None and post is not None else None
    net = incremental - pull_forward if incremental is not None and pull_forward is not None else None
    return {"baseline": baseline, "during": during, "post": post,
            "lift": during / baseline - 1 if have_lift and baseline != 0 else None,
            "incremental_sales": incremental, "pull_forward_sales": pull_forward, "net_incremental_sales": net}


def promotion_verdict(incremental, pull_forward, net_incremental) -> str:
    """incremental / pulled_forward / no_lift, or unknown when a figure is absent.

    SPEC ambiguity: read literally, a promotion with incremental ≤ 0 and no pull-forward is
    "pulled_forward" (0 ≥ 50% × a negative number). A promotion that added nothing did not pull
    sales forward; a seller needs to hear that it had no lift, so incremental ≤ 0 is checked first.
    """
    if incremental is None or pull_forward is None or net_incremental is None:
        return "unknown"
    if incremental <= 0:
        return "no_lift"
    if pull_forward >= PULL_FORWARD_SHARE * incremental:
        return "pulled_forward"
    if net_incremental > 0:
        return "incremental"
    return "no_lift"  # unreachable by arithmetic (net > 50% of incremental > 0); kept as SPEC's "otherwise"


def promotion_effects(promos: pd.DataFrame | None, lines: pd.DataFrame, data_start, data_end,
                      lang: str, currency: str) -> pd.DataFrame:
    """SPEC §4.4 promotion test for every ``type == promotion`` campaign in ``promos``, indexed by campaign_id.

    Uses all ``lines`` (not only P): the windows around a promotion may run past P. Sales are the
    campaign's channel, narrowed to its SKU(s) on that channel when the campaign names any.
    ``data_start``/``data_end``: first and last day the order data covers. Money in the base currency
    per day for baseline/during/post, in total for the *_sales columns; lift is a fraction.
    """
    rows = _prepare(promos)
    rows = rows[rows["type"] == "promotion"]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PROMOTION_COLUMNS},
                            index=pd.Index([], name="campaign_id"))
    data_start, data_end = pd.Timestamp(data_start).normalize(), pd.Timestamp(data_end).normalize()
    records = {}
    for campaign_id, group in rows.groupby("campaign_id", sort=False):
        records[campaign_id] = _promotion_record(campaign_id, group, lines, data_start, data_end, lang, currency)
    out = pd.DataFrame.from_dict(records, orient="index")
    out.index.name = "campaign_id"
    return out[PROMOTION_COLUMNS]


def promotion_windows(start, end) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The baseline, during and post windows (inclusive days) of a promotion running start..end."""
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    day = pd.Timedelta(days=1)
    return {"baseline": (start - WINDOW_DAYS * day, start - day), "during": (start, end),
            "post": (end + day, end + WINDOW_DAYS * day)}


def _promotion_record(campaign_id, group: pd.DataFrame, lines, data_start, data_end, lang, currency) -> dict:
    start, end = group["start_date"].min().normalize(), group["end_date"].max().normalize()
    days = (end - start).days + 1
    skus = sorted({s for s in group["sku"].dropna().astype(str).str.strip() if s})
    name = group["campaign_name"].dropna().iloc[0] if group["campaign_name"].notna().any() else str(campaign_id)
    channel = group["channel"].iloc[0]
    windows = promotion_windows(start, end)
    daily = daily_net_sales(lines, channel, skus or None, max(windows["baseline"][0], data_start),
                            min(windows["post"][1], data_end))
    means = {w: _window_mean(daily, lo, hi, data_start, data_end) for w, (lo, hi) in windows.items()}
    figures = effect_figures(means["baseline"], means["during"], means["post"], days)
    verdict = promotion_verdict(figures["incremental_sales"], figures["pull_forward_sales"],
                                figures["net_incremental_sales"])
    rec = {"name": name, "channel": channel, "sku": ";".join(skus) or None, "start_date": start, "end_date": end,
           "days": days, "spend": float(group["spend"].sum(min_count=1)), **figures, "verdict": verdict}
    rec["reason"] = _promotion_reason(rec, data_start, data_end, lang, currency)
    return rec


def _promotion_reason(rec: dict, data_start, data_end, lang: str, currency: str) -> str:
    money = {k: fmt.money(rec[k], currency, lang) for k in
             ("baseline", "during", "post", "incremental_sales", "pull_forward_sales", "net_incremental_sales")}
    kw = dict(name=rec["name"], days=rec["days"], lift=fmt.pct(rec["lift"], lang),
              incremental=money["incremental_sales"], pull_forward=money["pull_forward_sales"],
              net=money["net_incremental_sales"], baseline=money["baseline"], during=money["during"],
              post=money["post"], data_start=data_start.date().isoformat(), data_end=data_end.date().isoformat())
    if rec["verdict"] != "unknown":
        return t(f"campaigns.promo.{rec['verdict']}", lang, **kw)
    # which side of the data the windows ran past decides what could not be measured
    early, late = rec["baseline"] is None, rec["post"] is None
    side = "both" if early and late else ("before" if early else "after")
    return t(f"campaigns.promo.unknown_{side}", lang, **kw)


# ---------------------------------------------------------------- charts

def promotion_chart(promo_row: pd.Series, daily: pd.Series, lang: str, currency: str) -> Figure:
    """Daily net sales from 28 days before to 28 days after a promotion, its three windows shaded and
    each window's mean drawn; ``promo_row`` is a row of ``promotion_effects``, ``daily`` a
    ``daily_net_sales`` series covering (at least the data part of) those days."""
    fig, ax = charts.figure(t("campaigns.chart.promo_title", lang, name=promo_row["name"]),
                      t("campaigns.chart.date", lang),
                      t("campaigns.chart.daily_net_sales", lang, currency=currency))
    windows = promotion_windows(promo_row["start_date"], promo_row["end_date"])
    shown = daily.loc[windows["baseline"][0]:windows["post"][1]]
    ax.bar(shown.index, shown.to_numpy(), width=0.8, color="#90a4ae",
           label=t("campaigns.chart.daily_net_sales_legend", lang))
    half = pd.Timedelta(hours=12)
    colours = {"baseline": "#bbdefb", "during": "#ffe0b2", "post": "#d1c4e9"}
    lines = {"baseline": "#1565c0", "during": "#e65100", "post": "#4527a0"}
    for window, (lo, hi) in windows.items():
        ax.axvspan(lo - half, hi + half, color=colours[window], alpha=0.5, zorder=0,
                   label=t(f"campaigns.chart.window_{window}", lang))
        mean = promo_row[window]
        if not _absent(mean):
            ax.hlines(mean, lo - half, hi + half, colors=lines[window], linewidth=2,
                      label=t(f"campaigns.chart.mean_{window}", lang, value=fmt.money(mean, currency, lang)))
    ax.legend(loc="best", fontsize="small")
    fig.autofmt_xdate()
    return fig


def roas_chart(table: pd.DataFrame, lang: str) -> Figure:
    """Horizontal bars of each campaign's ROAS coloured by verdict, with its breakeven ROAS as a marker.

    Campaigns without a ROAS are left out: a zero-length bar would read as "returned nothing".
    """
    fig, ax = charts.figure(t("campaigns.chart.roas_title", lang), t("campaigns.chart.roas_axis", lang),
                      t("campaigns.chart.campaign_axis", lang))
    shown = table[pd.to_numeric(table["roas"], errors="coerce").notna()]
    if shown.empty:
        ax.text(0.5, 0.5, t("campaigns.chart.no_roas", lang), ha="center", va="center", transform=ax.transAxes)
        return fig
    labels = shown["name"].astype(str)
    if labels.duplicated().any():  # two campaigns share a name: the id keeps the bars apart
        labels = pd.Series(shown.index.astype(str), index=shown.index)
    y = np.arange(len(shown))
    roas = pd.to_numeric(shown["roas"], errors="coerce").to_numpy()
    for verdict, colour in VERDICT_COLOURS.items():
        mask = (shown["verdict"] == verdict).to_numpy()
        if mask.any():
            ax.barh(y[mask], roas[mask], color=colour, label=t(f"campaigns.verdict.{verdict}", lang))
    breakeven = pd.to_numeric(shown["breakeven_roas"], errors="coerce").to_numpy()
    has_be = ~np.isnan(breakeven)
    if has_be.any():
        ax.scatter(breakeven[has_be], y[has_be], marker="D", color="black", zorder=3,
                   label=t("campaigns.chart.breakeven_marker", lang))
    ax.set_yticks(y, labels.tolist())
    ax.invert_yaxis()
    ax.legend(loc="best", fontsize="small")
    return fig


# ---------------------------------------------------------------- metrics.json and notes

def metrics_json(table: pd.DataFrame, promos: pd.DataFrame | None) -> dict:
    """The ``campaigns`` and ``promotions`` parts of metrics.json (SPEC §6), None for absent values."""
    def part(frame, keys):
        if frame is None or frame.empty:
            return {}
        return jsonable({i: {k: row[k] for k in keys} for i, row in frame.iterrows()})
    return {
        "campaigns": part(table, ("roas", "acos", "breakeven_roas", "verdict")),
        "promotions": part(promos, ("lift", "incremental_sales", "pull_forward_sales",
                                    "net_incremental_sales", "verdict")),
    }


def missing_data_notes(campaigns: pd.DataFrame | None, lang: str, promotions: pd.DataFrame | None = None,
                       table: pd.DataFrame | None = None) -> list[str]:
    """Sentences saying what step 4 cannot compute and what data it would need.

    ``campaigns``: the loaded campaigns table (None when the workspace has none); ``promotions``:
    output of ``promotion_effects``; ``table``: output of ``campaign_table`` (for margins).
    """
    if campaigns is None or campaigns.empty:
        return [t("campaigns.note.no_campaigns", lang)]
    rows = _prepare(campaigns)
    per_campaign = rows.groupby("campaign_id", sort=False)
    total = per_campaign.ngroups
    notes = []
    for col in ("impressions", "clicks", "orders", "attributed_sales"):
        missing = int(per_campaign[col].count().eq(0).sum())
        if missing:
            notes.append(t(f"campaigns.note.no_{col}", lang, count=missing, total=total))
    keyword = rows["keyword"].astype("string").str.strip()
    if not (keyword.notna() & (keyword != "")).any():
        notes.append(t("campaigns.note.no_keywords", lang))
    tag_counts = per_campaign["tags"].agg(lambda s: len(_union_tags(s)))
    untagged = int((tag_counts == 0).sum())
    if untagged:
        notes.append(t("campaigns.note.untagged", lang, count=untagged, total=total))
    if (tag_counts > 1).any():
        notes.append(t("campaigns.note.tags_counted_twice", lang))
    if table is not None and not table.empty:
        no_margin = int(table["gross_margin"].isna().sum())
        if no_margin:
            notes.append(t("campaigns.note.margin_unknown", lang, count=no_margin, total=len(table)))
    if promotions is not None and not promotions.empty:
        edge = int((promotions["verdict"] == "unknown").sum())
        if edge:
            notes.append(t("campaigns.note.promotion_edge", lang, count=edge))
    return notes


# ---------------------------------------------------------------- the step's report (04_campaigns.ipynb)

# At most this many promotions get a daily chart each; the table lists them all.
PROMOTION_CHARTS = 6
SHOWN_ROWS = 60


def analyse(ctx) -> dict:
    """Campaign and keyword tables, promotion effects and TACoS for the context's period (computed once).

    Campaigns count in P by the share of their days inside P (SPEC §2); a promotion that overlaps P is
    tested on all order lines, since its before/after windows may run past P.
    """
    return ctx.memo("campaigns", lambda: _analyse(ctx))


def _analyse(ctx) -> dict:
    from .spread import prorate
    review, lang, cur = ctx.review, ctx.lang, ctx.currency
    by_channel = ctx.kpis_by("channel")
    margin = by_channel["gross_margin"] if len(by_channel) else None
    in_p = prorate(review.campaigns, ctx.period.start, ctx.period.end)
    promos = review.campaigns
    if len(promos):
        promos = promos[promos["campaign_id"].isin(set(in_p["campaign_id"])) & (promos["type"] == "promotion")]
    data_start, data_end = review.data_start, review.data_end
    # without order lines there is nothing to measure a promotion against (None gives the empty table)
    promotions = promotion_effects(promos if data_start is not None else None, review.lines, data_start, data_end,
                                   lang, cur)
    table = campaign_table(in_p, margin, lang, cur)
    return {
        "table": table,
        "keywords": keyword_table(in_p, margin, lang, cur),
        "promotions": promotions,
        "tacos": tacos_by_channel(by_channel["ad_spend"] if len(by_channel) else pd.Series(dtype=float),
                                  by_channel["revenue"] if len(by_channel) else pd.Series(dtype=float)),
        "notes": missing_data_notes(review.campaigns if len(review.campaigns) else None, lang, promotions, table),
    }


def _labels(ctx, cols) -> dict:
    return {c: ctx.t(f"campaigns.col.{c}") for c in cols}


_MONEY = ("spend", "attributed_sales", "cpc", "cpm", "cpa", "baseline", "during", "post", "incremental_sales",
          "pull_forward_sales", "net_incremental_sales", "ad_spend", "revenue")
_PCT = ("ctr", "cvr", "acos", "gross_margin", "share_of_spend", "tacos", "wasted_share")
_RATIO = ("roas", "breakeven_roas")
_NUMBER = ("impressions", "clicks", "orders", "campaigns", "days")


def _show(ctx, frame: pd.DataFrame, cols: list[str], **kw) -> None:
    from .audit import show_table
    show_table(frame[cols], lang=ctx.lang, currency=ctx.currency, labels=_labels(ctx, cols),
               money=[c for c in cols if c in _MONEY], pct=[c for c in cols if c in _PCT],
               ratio=[c for c in cols if c in _RATIO], number=[c for c in cols if c in _NUMBER], **kw)


def show_intro(ctx) -> None:
    from .report.display import heading, para
    heading(ctx.t("campaigns.title"), 1)
    para(ctx.t("campaigns.intro", period=ctx.period.label, currency=ctx.currency))


def show_overview(ctx) -> None:
    """Totals of the period's campaigns as cards, then ad spend and TACoS per channel."""
    from .report import fmt
    from .report.display import heading, kpi_cards, note, show
    a = analyse(ctx)
    table = a["table"]
    heading(ctx.t("campaigns.h.overview"))
    if table.empty:
        for text in a["notes"]:
            note(text)
        return
    tot = totals(table)
    hl = keyword_highlights(a["keywords"]) if len(a["keywords"]) else None
    counts = table["verdict"].value_counts()
    cards = [
        {"label": ctx.t("campaigns.col.spend"), "value": fmt.money(tot["spend"], ctx.currency, ctx.lang),
         "sub": ctx.t("campaigns.card.campaigns", n=int(tot["campaigns"]))},
        {"label": ctx.t("campaigns.col.attributed_sales"),
         "value": fmt.money(tot["attributed_sales"], ctx.currency, ctx.lang)},
        {"label": ctx.t("campaigns.col.roas"), "value": fmt.ratio(tot["roas"], ctx.lang),
         "sub": ctx.t("campaigns.card.acos", acos=fmt.pct(tot["acos"], ctx.lang))},
        {"label": ctx.t("campaigns.card.verdicts"),
         "value": f"{int(counts.get('profitable', 0))} / {int(counts.get('unprofitable', 0))}",
         "sub": ctx.t("campaigns.card.verdicts_sub", unknown=int(counts.get("unknown", 0))),
         "status": "red" if counts.get("unprofitable", 0) > counts.get("profitable", 0) else None},
    ]
    if hl is not None:
        cards.append({"label": ctx.t("campaigns.card.wasted"),
                      "value": fmt.money(hl["wasted_spend"], ctx.currency, ctx.lang),
                      "sub": ctx.t("campaigns.card.wasted_sub", n=hl["wasted_keywords"],
                                   share=fmt.pct(hl["wasted_share"], ctx.lang)),
                      "status": "amber" if hl["wasted_spend"] > 0 else "green"})
    show(kpi_cards(cards))
    heading(ctx.t("campaigns.h.tacos"), 3)
    tacos = a["tacos"].reset_index()
    ctx.write_table("tacos_by_channel", a["tacos"])
    _show(ctx, tacos, ["channel", "ad_spend", "revenue", "tacos"])
    note(ctx.t("campaigns.note.ad_spend_scope"))


def show_campaigns(ctx) -> None:
    """Every campaign's ROAS against its breakeven ROAS, with the verdict and why."""
    from .report.display import heading, show
    a = analyse(ctx)
    table = a["table"]
    if table.empty:
        return
    heading(ctx.t("campaigns.h.campaigns"))
    show(roas_chart(table, ctx.lang))
    ctx.write_table("campaigns", table)
    shown = table.assign(campaign_id=table.index,
                         verdict=[ctx.t(f"campaigns.verdict.{v}") for v in table["verdict"]],
                         type=[ctx.t(f"campaigns.type.{v}") for v in table["type"]])
    shown = shown.sort_values("spend", ascending=False)
    # reach and cost first, then results and the verdict: one table of all of it would need a scroll bar
    _show(ctx, shown, ["campaign_id", "channel", "type", "spend", "impressions", "clicks", "ctr", "cpc", "cpm"],
          max_rows=SHOWN_ROWS)
    _show(ctx, shown, ["campaign_id", "orders", "attributed_sales", "cvr", "cpa", "roas", "acos", "breakeven_roas",
                       "verdict"], max_rows=SHOWN_ROWS)
    heading(ctx.t("campaigns.h.reasons"), 3)
    _show(ctx, shown, ["campaign_id", "name", "verdict", "reason"], max_rows=SHOWN_ROWS)


def show_summaries(ctx) -> None:
    """Spend and returns by type, by tag and by channel; content/influencer/email/affiliate on cost per order."""
    from .report.display import heading, note
    table = analyse(ctx)["table"]
    if table.empty:
        return
    cols = ["campaigns", "spend", "share_of_spend", "clicks", "orders", "attributed_sales", "roas", "acos", "cpa"]
    for key in ("type", "tag", "channel"):
        part = summary_by(table, key)
        heading(ctx.t(f"campaigns.h.by_{key}"), 3)
        if part.empty:
            note(ctx.t("campaigns.note.no_tags") if key == "tag" else ctx.t("report.table.empty"))
            continue
        ctx.write_table(f"campaigns_by_{key}", part)
        shown = part.reset_index()
        if key == "type":
            shown["type"] = [ctx.t(f"campaigns.type.{v}") for v in shown["type"]]
        _show(ctx, shown, [key, *cols])
    effort = cost_per_order_by_type(table)
    if len(effort):
        heading(ctx.t("campaigns.h.effort"), 3)
        shown = effort.reset_index()
        shown["type"] = [ctx.t(f"campaigns.type.{v}") for v in shown["type"]]
        _show(ctx, shown, ["type", "campaigns", "spend", "clicks", "orders", "cpa", "cvr", "roas"])


def show_keywords(ctx) -> None:
    """Keywords that spent without an order (wasted spend), and the best and worst by ROAS."""
    from .report import fmt
    from .report.display import heading, note, para
    a = analyse(ctx)
    kws = a["keywords"]
    heading(ctx.t("campaigns.h.keywords"))
    if kws.empty:
        note(ctx.t("campaigns.note.no_keywords"))
        return
    ctx.write_table("keywords", kws)
    hl = keyword_highlights(kws)
    para(ctx.t("campaigns.keywords.summary", n=hl["keywords"], wasted=hl["wasted_keywords"],
               spend=fmt.money(hl["wasted_spend"], ctx.currency, ctx.lang),
               share=fmt.pct(hl["wasted_share"], ctx.lang)))
    cols = ["campaign_id", "keyword", "spend", "clicks", "orders", "attributed_sales", "roas", "acos"]
    flat = kws.reset_index()
    wasted = flat[_wasted(kws).to_numpy()].sort_values("spend", ascending=False)
    heading(ctx.t("campaigns.h.wasted", n=len(wasted)), 3)
    if wasted.empty:
        note(ctx.t("campaigns.keywords.none_wasted"))
    else:
        _show(ctx, wasted, cols, max_rows=SHOWN_ROWS)
    for side in ("top", "bottom"):
        part = hl[side].reset_index()
        if len(part):
            heading(ctx.t(f"campaigns.h.{side}", min_spend=fmt.money(hl["min_spend"], ctx.currency, ctx.lang)), 3)
            _show(ctx, part, cols)


def show_promotions(ctx) -> None:
    """Did each promotion add sales, or only pull them forward from the weeks after it?"""
    from .report.display import heading, note, para, show
    a = analyse(ctx)
    promos = a["promotions"]
    heading(ctx.t("campaigns.h.promotions"))
    para(ctx.t("campaigns.promotions.method"))
    if promos.empty:
        note(ctx.t("campaigns.note.no_promotions"))
        return
    ctx.write_table("promotions", promos)
    shown = promos.assign(campaign_id=promos.index,
                          verdict=[ctx.t(f"campaigns.promo_verdict.{v}") for v in promos["verdict"]])
    _show(ctx, shown, ["campaign_id", "channel", "days", "baseline", "during", "post", "lift",
                       "incremental_sales", "pull_forward_sales", "net_incremental_sales", "verdict"],
          growth=("lift",))
    lines = ctx.review.lines
    for cid, row in list(promos.iterrows())[:PROMOTION_CHARTS]:
        heading(f"{row['name']}", 3)
        para(row["reason"])
        skus = [s for s in str(row["sku"] or "").split(";") if s] or None
        w = promotion_windows(row["start_date"], row["end_date"])
        daily = daily_net_sales(lines, row["channel"], skus, max(w["baseline"][0], ctx.review.data_start),
                                min(w["post"][1], ctx.review.data_end))
        show(promotion_chart(row, daily, ctx.lang, ctx.currency))
    if len(promos) > PROMOTION_CHARTS:
        note(ctx.t("campaigns.note.more_promotions", shown=PROMOTION_CHARTS, total=len(promos)))


def show_notes(ctx) -> None:
    from .report.display import bullets, heading
    notes = analyse(ctx)["notes"]
    if notes:
        heading(ctx.t("campaigns.h.notes"))
        bullets(notes)


def finish(ctx) -> None:
    """metrics.json `campaigns` and `promotions`, the finding for the index page, then save."""
    from .report import fmt
    a = analyse(ctx)
    table, promos = a["table"], a["promotions"]
    parts = metrics_json(table, promos)
    ctx.record("campaigns", parts["campaigns"])
    ctx.record("promotions", parts["promotions"])
    if table.empty:
        ctx.finding(ctx.t("campaigns.finding_none", period=ctx.period.label))
    else:
        tot = totals(table)
        bad = table[table["verdict"] == "unprofitable"]
        waste = wasted_spend(a["keywords"]) if len(a["keywords"]) else None
        text = ctx.t("campaigns.finding", n=len(table), spend=fmt.money(tot["spend"], ctx.currency, ctx.lang),
                     roas=fmt.ratio(tot["roas"], ctx.lang), bad=len(bad),
                     bad_spend=fmt.money(bad["spend"].sum(), ctx.currency, ctx.lang))
        if waste is not None:
            text += ctx.t("campaigns.finding_waste", spend=fmt.money(waste, ctx.currency, ctx.lang))
        if len(promos):
            text += ctx.t("campaigns.finding_promos", n=len(promos),
                          incremental=int((promos["verdict"] == "incremental").sum()),
                          pulled=int((promos["verdict"] == "pulled_forward").sum()))
        ctx.finding(text)
    ctx.save()
