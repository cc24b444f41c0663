"""The metric engine: every metric of SPEC §3 for a period, company-wide or by channel, SKU, country or month.

Everything is a sum over order lines (per-order amounts are already split across lines in ``review.py``),
plus expenses and campaign spend where the breakdown can own them: company-wide expenses are not allocated
to channels, and channel expenses are not allocated to SKUs or countries. A ratio whose denominator is zero
or missing is NaN here and ``None`` in dicts and JSON — never 0 or inf.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .period import Period
from .review import Review
from .spread import prorate

BREAKDOWNS = ("channel", "sku", "country", "month", "category")

# SPEC §3, in the order of the table.
METRICS = (
    "gross_sales", "discounts", "refunds", "net_sales", "shipping_revenue", "revenue", "orders", "units", "aov",
    "units_per_order", "discount_rate", "refund_rate", "return_rate", "product_cogs", "cost_coverage",
    "commission", "payment_fees", "fulfillment", "cogs", "gross_profit", "gross_margin", "product_margin",
    "ad_spend", "contribution_profit", "contribution_margin", "overheads", "net_profit", "net_margin",
    "customers", "new_customers", "returning_customers", "repeat_purchase_rate", "cac", "retention_rate", "ltv",
    "ltv_cac", "sessions", "conversion_rate", "cart_abandonment_rate", "tacos",
)
# Money metrics (scale with the currency); the rest are counts or ratios.
MONEY = ("gross_sales", "discounts", "refunds", "net_sales", "shipping_revenue", "revenue", "aov", "product_cogs",
         "commission", "payment_fees", "fulfillment", "cogs", "gross_profit", "ad_spend", "contribution_profit",
         "overheads", "net_profit", "cac", "ltv", "logistics_expenses", "storage_expenses", "platform_expenses",
         "advertising_expenses", "campaign_spend", "revenue_costed", "commission_costed", "payment_fees_costed",
         "fulfillment_costed")
RATIOS = ("aov", "units_per_order", "discount_rate", "refund_rate", "return_rate", "cost_coverage", "gross_margin",
          "product_margin", "contribution_margin", "net_margin", "repeat_purchase_rate", "cac", "retention_rate",
          "ltv", "ltv_cac", "conversion_rate", "cart_abandonment_rate", "tacos")
# Cost-based metrics: null when no line has a product cost (cost_coverage = 0).
COST_BASED = ("product_cogs", "cogs", "gross_profit", "gross_margin", "product_margin", "contribution_profit",
              "contribution_margin", "net_profit", "net_margin", "ltv", "ltv_cac")
OVERHEAD_CATEGORIES = ("software", "staff", "rent", "compliance", "other")
EXPENSE_KEYS = {"logistics": "logistics_expenses", "storage": "storage_expenses", "platform": "platform_expenses",
                "advertising": "advertising_expenses"}
LIFESPAN_CAP = 5.0


def div(a, b):
    """a ÷ b, NaN where b is zero or missing (element-wise for Series)."""
    if isinstance(a, pd.Series) or isinstance(b, pd.Series):
        b = b if isinstance(b, pd.Series) else pd.Series(b, index=a.index)
        b = b.astype(float)
        return a.astype(float) / b.where((b != 0) & b.notna())
    if b is None or a is None or (isinstance(b, float) and math.isnan(b)) or b == 0:
        return float("nan")
    return a / b


# ------------------------------------------------------------------ frames of a period

# The line columns the engine reads: copying only these keeps a million-line breakdown in memory budget.
ENGINE_COLUMNS = ["order_date", "month", "channel", "sku", "country", "quantity", "returned_qty", "gross", "discount",
                  "refund", "shipping", "value", "revenue", "has_cost", "product_cogs", "commission", "payment_fees",
                  "fulfillment", "_order", "_cust"]


def period_lines(review: Review, period: Period, columns: list[str] | None = None) -> pd.DataFrame:
    """The order lines of P (all columns, or only ``columns``)."""
    mask = period.contains(review.lines["order_date"])
    return review.lines.loc[mask, columns] if columns else review.lines[mask]


def _key(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=df.index)
    return df[by].fillna("(none)").astype(str)


def _expenses(review: Review, period: Period, by: str | None) -> pd.DataFrame:
    """Expense sums per group and category column (empty when the breakdown cannot own expenses)."""
    e = review.expenses
    e = e[e["month"].isin(period.months)]
    if by in ("sku", "country", "category"):
        e = e.iloc[0:0]
    elif by == "channel":
        e = e[e["channel"].notna()]
    if e.empty:
        return pd.DataFrame()
    key = _key(e, by)
    return e.assign(_k=key).pivot_table(index="_k", columns="category", values="amount", aggfunc="sum",
                                        fill_value=0.0)


def _campaign_spend(review: Review, period: Period, by: str | None) -> pd.Series:
    c = review.campaigns
    if c.empty or by == "country":
        return pd.Series(dtype=float)
    if by == "month":
        parts = []
        for m in period.months:
            start = pd.Timestamp(m + "-01")
            p = prorate(c, start, start + pd.offsets.MonthEnd(0))
            parts.append(pd.Series(p["spend"].sum(), index=[m]))
        return pd.concat(parts) if parts else pd.Series(dtype=float)
    p = prorate(c, period.start, period.end)
    if by in ("sku", "category"):
        p = p[p["sku"].notna()]
        if by == "category":
            p = p.assign(category=p["sku"].map(_categories(review)))
    if p.empty:
        return pd.Series(dtype=float)
    return p.groupby(_key(p, by))["spend"].sum()


def _categories(review: Review) -> pd.Series:
    """sku → product category (SKUs without one fall in "(none)")."""
    p = review.products
    return p.set_index("sku")["category"] if len(p) else pd.Series(dtype=object)


def _with_category(review: Review, df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    if by == "category" and "category" not in df.columns:
        return df.assign(category=df["sku"].map(_categories(review)))
    return df


def first_order_dates(review: Review, cust_codes: pd.Series) -> pd.Series:
    """The first order date (over all the data) of each line's customer, from its ``_cust`` code (>= 0)."""
    return pd.Series(_first_order_by_code(review)[cust_codes.to_numpy()], index=cust_codes.index)


def monthly_sum(review: Review, period: Period, by: str, value: str) -> pd.DataFrame:
    """Sum of line column ``value`` per month of P (rows, every month, 0 without sales) and ``by`` (columns)."""
    lines = period_lines(review, period, ["month", by, value])
    out = lines.pivot_table(index="month", columns=by, values=value, aggfunc="sum", fill_value=0)
    return out.astype(float).reindex(pd.Index(period.months, name="month"), fill_value=0.0).rename(columns=str)


def _first_order_by_code(review: Review) -> np.ndarray:
    """First order date of each customer code (datetime64 array indexed by ``_cust``)."""
    if "first_order_code" not in review.cache:
        lc = review.lines[review.lines["_cust"] >= 0]
        first = lc.groupby("_cust")["order_date"].min()
        review.cache["first_order_code"] = first.reindex(range(int(first.index.max()) + 1 if len(first) else 0)) \
            .to_numpy(dtype="datetime64[ns]")
    return review.cache["first_order_code"]


def _customers(review: Review, period: Period, L: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """customers, new_customers, repeat_customers, prev_customers and retained per group.

    Distinct (group, customer) pairs are counted as single int64 numbers (group code × customers + customer
    code, see ``review.add_codes``): at a million lines this is several times faster than grouping strings.
    A line without customer_id counts nowhere.
    """
    need = ["_cust", "_order"] + ([by] if by else [])
    lc = L.loc[L["_cust"] >= 0, need]
    prev = period.previous()
    has_prev = review.has_data(prev)
    pl = _with_category(review, period_lines(review, prev, ENGINE_COLUMNS), by) if has_prev else lc.iloc[0:0]
    pl = pl.loc[pl["_cust"] >= 0, need]
    # one factorisation of both periods' group labels, so their codes agree
    codes, labels = pd.factorize(np.concatenate([_key(lc, by).to_numpy(dtype=object),
                                                 _key(pl, by).to_numpy(dtype=object)]))
    k_cur, k_prev = codes[:len(lc)].astype("int64"), codes[len(lc):].astype("int64")
    n_groups, width = len(labels), max(int(review.lines["_cust"].max()) + 1, 1)

    def per_group(pairs: np.ndarray) -> np.ndarray:
        return np.bincount(pairs // width, minlength=n_groups).astype(float)

    cust = lc["_cust"].to_numpy()
    cur = pd.unique(k_cur * width + cust)
    first = _first_order_by_code(review)[cust]
    is_new = (first >= np.datetime64(period.start)) & (first <= np.datetime64(period.end))
    new = pd.unique(k_cur[is_new] * width + cust[is_new])
    # repeat: a (group, customer) pair with two or more distinct orders
    o_width = max(int(review.lines["_order"].max()) + 1, 1)
    triples = pd.unique((k_cur * width + cust) * o_width + lc["_order"].to_numpy())
    pair_of, counts = np.unique(triples // o_width, return_counts=True)
    out = pd.DataFrame({"customers": per_group(cur), "new_customers": per_group(new),
                        "repeat_customers": per_group(pair_of[counts >= 2])}, index=pd.Index(labels))
    if has_prev:
        before = pd.unique(k_prev * width + pl["_cust"].to_numpy())
        out["prev_customers"] = per_group(before)
        out["retained"] = per_group(np.intersect1d(before, cur, assume_unique=True))
        # a group with no customer in either period has no retention to speak of
        out.loc[out["prev_customers"] == 0, ["prev_customers", "retained"]] = np.nan
    else:
        out["prev_customers"] = np.nan
        out["retained"] = np.nan
    return out


def _traffic(review: Review, period: Period, L: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Sessions, orders and add-to-cart over the traffic rows of P (SPEC §3 conversion_rate)."""
    t = review.traffic
    if t.empty or by == "country":
        return pd.DataFrame()
    t = t[t["month"].isin(period.months) & t["channel"].notna()].copy()
    if t.empty:
        return pd.DataFrame()
    sku_rows = t["sku"].notna()
    if by == "category":
        t = _with_category(review, t, by)
    if by in ("sku", "category"):
        t = t[sku_rows]
    else:
        # Use the channel-level row of a channel-month when there is one; else its SKU rows.
        chan_level = t[~sku_rows]
        covered = set(zip(chan_level["month"], chan_level["channel"]))
        t = pd.concat([chan_level, t[sku_rows & ~pd.Series(list(zip(t["month"], t["channel"])),
                                                           index=t.index).isin(covered)]])
    if t.empty:
        return pd.DataFrame()
    need = t["orders"].isna()
    if need.any():
        sku_level = t["sku"].notna()
        cm = L.groupby(["channel", "month"])["_order"].nunique()
        cms = L.groupby(["channel", "month", "sku"])["_order"].nunique()
        keys_cm = pd.MultiIndex.from_arrays([t["channel"], t["month"]])
        keys_cms = pd.MultiIndex.from_arrays([t["channel"], t["month"], t["sku"].fillna("")])
        counted = np.where(sku_level, cms.reindex(keys_cms).to_numpy(), cm.reindex(keys_cm).to_numpy())
        t["orders"] = t["orders"].where(~need, pd.Series(counted, index=t.index).fillna(0.0))
    key = _key(t, by)
    cart = t[t["add_to_cart"].notna()]
    ck = _key(cart, by)
    return pd.DataFrame({
        "sessions": t.groupby(key)["sessions"].sum(),
        "traffic_orders": t.groupby(key)["orders"].sum(),
        "add_to_cart": cart.groupby(ck)["add_to_cart"].sum(),
        "cart_orders": cart.groupby(ck)["orders"].sum(),
    })


# ------------------------------------------------------------------ the engine

def kpi_frame(review: Review, period: Period, by: str | None = None) -> pd.DataFrame:
    """All SPEC §3 metrics for P, one row per group (a single row 'all' when by is None)."""
    if by not in (None, *BREAKDOWNS):
        raise ValueError(f"unknown breakdown {by}")
    L = _with_category(review, period_lines(review, period, ENGINE_COLUMNS), by)
    key = _key(L, by)
    g = L.groupby(key)
    f = pd.DataFrame({
        "gross_sales": g["gross"].sum(), "discounts": g["discount"].sum(), "refunds": g["refund"].sum(),
        "shipping_revenue": g["shipping"].sum(), "units": g["quantity"].sum(), "orders": g["_order"].nunique(),
        "value": g["value"].sum(), "revenue": g["revenue"].sum(),
        "commission": g["commission"].sum(), "payment_fees": g["payment_fees"].sum(),
        "fulfillment_lines": g["fulfillment"].sum(), "line_count": g.size(),
    })
    ret = L.loc[(L["refund"] > 0) | (L["returned_qty"] > 0), ["_order"]]
    f["returned_orders"] = ret.groupby(key[ret.index])["_order"].nunique()
    c = L.loc[L["has_cost"], ["revenue", "product_cogs", "commission", "payment_fees", "fulfillment"]]
    gc = c.groupby(key[c.index])
    f["revenue_costed"] = gc["revenue"].sum()
    f["product_cogs"] = gc["product_cogs"].sum()
    f["commission_costed"] = gc["commission"].sum()
    f["payment_fees_costed"] = gc["payment_fees"].sum()
    f["fulfillment_costed"] = gc["fulfillment"].sum()
    f["costed_lines"] = gc.size()

    exp = _expenses(review, period, by)
    spend = _campaign_spend(review, period, by)
    cust = _customers(review, period, L, by)
    traffic = _traffic(review, period, L, by)
    index = f.index.union(exp.index).union(spend.index).union(cust.index).union(traffic.index)
    if by == "month":
        index = pd.Index(period.months).union(index)
    if by is None:
        index = pd.Index(["all"])
    f = f.reindex(index)
    sums = ["gross_sales", "discounts", "refunds", "shipping_revenue", "units", "orders", "value", "revenue",
            "commission", "payment_fees", "fulfillment_lines", "returned_orders", "revenue_costed", "product_cogs",
            "commission_costed", "payment_fees_costed", "fulfillment_costed", "costed_lines", "line_count"]
    f[sums] = f[sums].fillna(0.0)
    for cat in ("logistics", "storage", "platform", "advertising", *OVERHEAD_CATEGORIES):
        col = exp[cat] if cat in exp else pd.Series(dtype=float)
        f[EXPENSE_KEYS.get(cat, f"_exp_{cat}")] = col.reindex(index).fillna(0.0)
    f["campaign_spend"] = spend.reindex(index).fillna(0.0)
    for col in ("customers", "new_customers", "repeat_customers", "prev_customers", "retained"):
        f[col] = cust[col].reindex(index) if col in cust else np.nan
    for col in ("customers", "new_customers", "repeat_customers"):
        f[col] = f[col].fillna(0.0)
    for col in ("sessions", "traffic_orders", "add_to_cart", "cart_orders"):
        f[col] = traffic[col].reindex(index) if col in traffic else np.nan
    return _derive(f, review.settings, has_prev=review.has_data(period.previous()))


def _derive(f: pd.DataFrame, settings: dict, has_prev: bool) -> pd.DataFrame:
    f["net_sales"] = f["gross_sales"] - f["discounts"] - f["refunds"]
    f["aov"] = div(f["value"], f["orders"])
    f["units_per_order"] = div(f["units"], f["orders"])
    f["discount_rate"] = div(f["discounts"], f["gross_sales"])
    f["refund_rate"] = div(f["refunds"], f["value"])
    f["return_rate"] = div(f["returned_orders"], f["orders"])
    f["cost_coverage"] = div(f["revenue_costed"], f["revenue"])
    f["fulfillment"] = f["fulfillment_lines"] + f["logistics_expenses"] + f["storage_expenses"]
    f["cogs"] = (f["product_cogs"] + f["commission_costed"] + f["payment_fees_costed"] + f["fulfillment_costed"]
                 + f["logistics_expenses"] + f["storage_expenses"] + f["platform_expenses"])
    f["gross_profit"] = f["revenue_costed"] - f["cogs"]
    f["gross_margin"] = div(f["gross_profit"], f["revenue_costed"])
    f["product_margin"] = div(f["revenue_costed"] - f["product_cogs"], f["revenue_costed"])
    f["ad_spend"] = f["campaign_spend"] + f["advertising_expenses"]
    f["contribution_profit"] = f["gross_profit"] - f["ad_spend"]
    f["contribution_margin"] = div(f["contribution_profit"], f["revenue_costed"])
    f["overheads"] = sum(f[f"_exp_{c}"] for c in OVERHEAD_CATEGORIES)
    f["net_profit"] = f["contribution_profit"] - f["overheads"]
    f["net_margin"] = div(f["net_profit"], f["revenue_costed"])
    # Unknown only when there are sales but none with a product cost; a group with expenses and no sales at
    # all (a channel that only cost money) has a known, negative profit and must show it.
    no_cost = (f["costed_lines"] == 0) & (f["line_count"] > 0)
    f.loc[no_cost, list(COST_BASED)] = np.nan
    f["returning_customers"] = f["customers"] - f["new_customers"]
    f["repeat_purchase_rate"] = div(f["repeat_customers"], f["customers"])
    f["cac"] = div(f["ad_spend"], f["new_customers"])
    f["retention_rate"] = div(f["retained"], f["prev_customers"]) if has_prev else np.nan
    default_life = float(settings.get("default_lifespan_years") or 1)
    life = div(pd.Series(1.0, index=f.index), 1 - f["retention_rate"].astype(float))
    life = life.where(life.notna() | f["retention_rate"].isna(), LIFESPAN_CAP)  # retention 100% → cap
    f["lifespan_years"] = life.clip(upper=LIFESPAN_CAP).fillna(default_life)
    f["lifespan_assumed"] = f["retention_rate"].isna()
    f["ltv"] = div(f["revenue"], f["customers"]) * f["gross_margin"] * f["lifespan_years"]
    f["ltv_cac"] = div(f["ltv"], f["cac"])
    f["conversion_rate"] = div(f["traffic_orders"], f["sessions"])
    f["cart_abandonment_rate"] = 1 - div(f["cart_orders"], f["add_to_cart"])
    f["tacos"] = div(f["ad_spend"], f["revenue"])
    return f


def kpis(review: Review, period: Period, by: str | None = None):
    """SPEC §3 metrics for P: a dict (None for absent) company-wide, or a DataFrame indexed by group."""
    # Memoised per review: the steps ask for the same breakdowns many times, and at a million lines each
    # frame costs about a second. A copy goes out so a caller that adds columns cannot change the cache.
    key = ("kpi_frame", type(period).__name__, period.label, by)
    if key not in review.cache:
        review.cache[key] = kpi_frame(review, period, by)
    f = review.cache[key].copy()
    if by is None:
        return frame_row_to_dict(f.iloc[0])
    return f


def frame_row_to_dict(row: pd.Series) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        elif v is None or (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA:
            out[k] = None
        elif isinstance(v, (np.floating, float)):
            out[k] = None if not math.isfinite(float(v)) else float(v)
        elif isinstance(v, (np.integer, int)):
            out[k] = int(v)
        else:
            out[k] = v
    return out


def growth(current: dict, previous: dict | None, names=METRICS) -> dict:
    """YoY growth per metric: current ÷ previous − 1 (None without a previous value or when it is 0)."""
    out = {}
    for k in names:
        a, b = current.get(k), (previous or {}).get(k)
        out[k] = None if a is None or b is None or b == 0 else a / b - 1
    return out


def kpi_summary(review: Review, period: Period) -> dict:
    """kpis for P, for the period one year earlier when it has data, and YoY growth."""
    cur = kpis(review, period)
    prev_p = period.year_earlier()
    prev = kpis(review, prev_p) if review.has_data(prev_p) else None
    return {"kpis": cur, "kpis_previous": prev, "growth": growth(cur, prev), "previous_period": prev_p.label}
