"""From parsed tables to base-currency frames: FX conversion, landed cost and per-order cost allocation."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import schema
from .errors import InputError, Problem
from .loader import Workspace, empty_table, load_workspace

CANCELLED = {"cancelled", "canceled", "已取消", "取消", "void", "voided"}
CHANNEL_MONEY = ("commission_rate", "payment_fee_rate", "payment_fee_fixed", "fulfillment_cost_per_unit",
                 "shipping_cost_per_order")


@dataclass
class Review:
    """Everything the steps need, in the base currency. See docs/ARCHITECTURE.md for the columns."""

    lines: pd.DataFrame
    cancelled: pd.DataFrame
    raw_orders: pd.DataFrame
    products: pd.DataFrame
    channels: pd.DataFrame
    expenses: pd.DataFrame
    campaigns: pd.DataFrame
    traffic: pd.DataFrame
    goals: pd.DataFrame
    kpi_inputs: pd.DataFrame
    fx: pd.DataFrame
    settings: dict
    sources: dict
    problems: list[Problem] = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def currency(self) -> str:
        return self.settings["base_currency"]

    @property
    def data_start(self) -> pd.Timestamp | None:
        return self.lines["order_date"].min() if len(self.lines) else None

    @property
    def data_end(self) -> pd.Timestamp | None:
        return self.lines["order_date"].max() if len(self.lines) else None

    def has_data(self, period) -> bool:
        return bool(len(self.lines)) and bool(period.contains(self.lines["order_date"]).any())

    def thresholds(self, defaults: dict) -> dict:
        """Defaults overridden by settings.yaml `thresholds` (only the keys the caller knows)."""
        th = dict(defaults)
        th.update({k: v for k, v in self.settings.get("thresholds", {}).items() if k in defaults})
        return th


class FxTable:
    """Monthly rates to the base currency; a missing rate is recorded, never silently 1.0."""

    def __init__(self, fx: pd.DataFrame | None, base: str):
        self.base = base
        if fx is None or fx.empty:
            self.rates = pd.Series(dtype=float)
        else:
            f = fx.dropna(subset=["month", "currency", "rate_to_base"])
            self.rates = f.set_index(["month", "currency"])["rate_to_base"]
            self.rates = self.rates[~self.rates.index.duplicated()]

    def lookup(self, months: pd.Series, currencies: pd.Series) -> pd.Series:
        cur = currencies.fillna(self.base).astype(str)
        rate = pd.Series(np.nan, index=months.index, dtype=float)
        is_base = cur.eq(self.base)
        rate[is_base] = 1.0
        other = ~is_base
        if other.any() and len(self.rates):
            keys = pd.MultiIndex.from_arrays([months[other].astype(str), cur[other]])
            rate[other] = self.rates.reindex(keys).to_numpy()
        return rate


def _missing_rate_problems(label, df, month_col, cur_col, rate, col_name) -> list[Problem]:
    bad = rate.isna()
    if not bad.any():
        return []
    probs = []
    miss = df[bad].groupby([df.loc[bad, month_col].astype(str), df.loc[bad, cur_col].astype(str)], sort=True)
    for (month, cur), g in list(miss)[:20]:
        probs.append(Problem(label, f"no exchange rate for {cur} in {month} ({len(g)} rows)",
                             row=int(g["_row"].iloc[0]) if "_row" in g else None, column=col_name, value=cur,
                             fix=f"add a row to fx_rates: month {month}, currency {cur}, rate_to_base"))
    return probs


def prepare(ws: Workspace) -> Review:
    """Convert every amount to the base currency and compute the line-level cost columns.

    Raises InputError when a currency has no rate for a month it is used in (SPEC §2).
    """
    base = ws.settings["base_currency"]
    fx = FxTable(ws.table("fx_rates"), base)
    problems: list[Problem] = []
    orders = ws.table("orders")
    if orders is None:
        raise InputError([Problem("orders.csv", "the orders table is missing",
                                  fix="add orders.csv or an orders sheet in workbook.xlsx")])
    orders = orders.dropna(subset=["order_date"]).copy()
    orders["month"] = orders["order_date"].dt.strftime("%Y-%m")
    status = orders["status"].fillna("").astype(str).str.strip().str.lower()
    is_cancel = status.isin(CANCELLED)
    cancelled = orders[is_cancel].copy()
    o = orders[~is_cancel].copy()

    o_label = ws.sources.get("orders", "orders.csv")
    if o.empty and len(orders):  # nothing left to review; say why instead of failing further on
        raise InputError([Problem(o_label, f"all {len(orders):,} order lines are cancelled, so there is nothing "
                                  "to review", column="status",
                                  fix="check the status column: only lines that were really cancelled should say "
                                  "cancelled")])
    rate = fx.lookup(o["month"], o["currency"])
    problems += _missing_rate_problems(o_label, o, "month", "currency", rate, "currency")
    for c in ("discount", "shipping_charged", "refund_amount", "returned_qty"):
        o[c] = o[c].fillna(0.0)
    o["quantity"] = o["quantity"].fillna(0.0)
    lines = pd.DataFrame({
        "order_id": o["order_id"].astype(str), "order_date": o["order_date"], "month": o["month"],
        "channel": o["channel"].astype(str), "sku": o["sku"].astype(str),
        "country": o["country"], "customer_id": o["customer_id"], "currency": o["currency"].fillna(base),
        "quantity": o["quantity"], "returned_qty": o["returned_qty"],
        "unit_price": o["unit_price"] * rate,
        "gross": o["quantity"] * o["unit_price"] * rate, "discount": o["discount"] * rate,
        "shipping": o["shipping_charged"] * rate, "refund": o["refund_amount"] * rate,
        "_row": o["_row"],
    })
    lines["net_sales"] = lines["gross"] - lines["discount"] - lines["refund"]
    lines["revenue"] = lines["net_sales"] + lines["shipping"]
    lines["value"] = lines["gross"] - lines["discount"]

    products = _or_empty(ws, "products")
    products = products.dropna(subset=["sku"]).drop_duplicates("sku")
    _landed_cost(lines, products, fx, ws.sources.get("products", "products.csv"), problems)

    channels = _or_empty(ws, "channels")
    channels = channels.dropna(subset=["channel"]).drop_duplicates("channel")
    for c in CHANNEL_MONEY:
        channels[c] = channels[c].astype(float).fillna(0.0)
    _channel_costs(lines, channels)
    add_codes(lines)

    expenses = _convert(ws, "expenses", fx, "month", ["amount"], problems)
    campaigns = _campaigns(ws, fx, problems)
    traffic = _or_empty(ws, "traffic")
    if problems:
        raise InputError(problems)
    products_out = products.copy()
    return Review(
        lines=lines.reset_index(drop=True), cancelled=cancelled.reset_index(drop=True),
        raw_orders=orders.reset_index(drop=True), products=products_out, channels=channels,
        expenses=expenses, campaigns=campaigns, traffic=traffic,
        goals=_or_empty(ws, "goals"), kpi_inputs=_or_empty(ws, "kpi_inputs"),
        fx=ws.table("fx_rates") if ws.table("fx_rates") is not None else pd.DataFrame(),
        settings=ws.settings, sources=ws.sources, problems=list(ws.problems))


def _or_empty(ws, name) -> pd.DataFrame:
    df = ws.table(name)
    return df.copy() if df is not None else empty_table(name)


def _landed_cost(lines: pd.DataFrame, products: pd.DataFrame, fx: FxTable, label: str, problems) -> None:
    """landed_unit_cost = (unit_cost × (1 + duty_rate) + inbound_freight + packaging_cost) at the line's month rate."""
    p = products.set_index("sku")
    if len(p):
        cost_native = (p["unit_cost"] * (1 + p["duty_rate"].fillna(0)) + p["inbound_freight"].fillna(0)
                       + p["packaging_cost"].fillna(0))
        native = lines["sku"].map(cost_native)
        cur = lines["sku"].map(p["cost_currency"].astype(object)).astype(object).fillna(fx.base)
        salvage = lines["sku"].map(p["return_salvage_rate"]).fillna(0.0)
    else:
        native = pd.Series(np.nan, index=lines.index)
        cur = pd.Series(fx.base, index=lines.index)
        salvage = pd.Series(0.0, index=lines.index)
    has = native.notna()
    rate = pd.Series(np.nan, index=lines.index)
    if has.any():
        rate[has] = fx.lookup(lines.loc[has, "month"], cur[has])
        miss = has & rate.isna()
        if miss.any():
            tmp = pd.DataFrame({"month": lines.loc[miss, "month"], "cur": cur[miss]})
            for (month, c), _ in list(tmp.groupby(["month", "cur"]))[:20]:
                rows = products.loc[products["cost_currency"].astype(object).fillna(fx.base).eq(c), "_row"]
                problems.append(Problem(label, f"no exchange rate for {c} in {month} (product costs in {c} are "
                                        "converted at the rate of the month of sale)", column="cost_currency",
                                        row=int(rows.iloc[0]) if len(rows) else None,
                                        value=c, fix=f"add a row to fx_rates: month {month}, currency {c}, rate_to_base"))
    lines["has_cost"] = has
    lines["landed_unit_cost"] = native * rate
    lines["product_cogs"] = (lines["quantity"] * lines["landed_unit_cost"]
                             - lines["returned_qty"] * lines["landed_unit_cost"] * salvage)


def add_codes(lines: pd.DataFrame) -> None:
    """Integer codes for order_id (``_order``) and customer_id (``_cust``, -1 when absent), in place.

    Counting distinct orders and customers over integers is several times faster than over strings,
    and the metric engine counts them for every breakdown.
    """
    lines["_order"] = pd.factorize(lines["order_id"])[0].astype("int64")
    lines["_cust"] = pd.factorize(lines["customer_id"], use_na_sentinel=True)[0].astype("int64")


def _channel_costs(lines: pd.DataFrame, channels: pd.DataFrame) -> None:
    """Commission, payment fees and line-level fulfilment, with per-order amounts split by line value."""
    ch = channels.set_index("channel")
    get = {c: lines["channel"].map(ch[c]).fillna(0.0) if len(ch) else pd.Series(0.0, index=lines.index)
           for c in CHANNEL_MONEY}
    grp = [lines["order_id"], lines["channel"]]
    order_value = lines.groupby(grp)["value"].transform("sum")
    n_lines = lines.groupby(grp)["value"].transform("size")
    alloc = (lines["value"] / order_value).where(order_value != 0, 1.0 / n_lines)
    lines["order_share"] = alloc
    lines["commission"] = get["commission_rate"] * lines["revenue"]
    lines["payment_fees"] = (get["payment_fee_rate"] * (lines["value"] + lines["shipping"])
                             + get["payment_fee_fixed"] * alloc)
    lines["fulfillment"] = (get["fulfillment_cost_per_unit"] * lines["quantity"]
                            + get["shipping_cost_per_order"] * alloc)


def _convert(ws, name, fx: FxTable, month_col, money_cols, problems) -> pd.DataFrame:
    df = _or_empty(ws, name)
    df = df.dropna(subset=[month_col]).copy()
    rate = fx.lookup(df[month_col].astype(str), df["currency"])
    problems += _missing_rate_problems(ws.sources.get(name, f"{name}.csv"), df, month_col, "currency", rate,
                                       "currency")
    for c in money_cols:
        df[c] = df[c] * rate
    return df


def _campaigns(ws, fx: FxTable, problems) -> pd.DataFrame:
    df = _or_empty(ws, "campaigns")
    df = df.dropna(subset=["start_date", "end_date"]).copy()
    label = ws.sources.get("campaigns", "campaigns.csv")
    back = df["end_date"] < df["start_date"]
    for _, r in df[back].head(5).iterrows():
        problems.append(Problem(label, "end_date is before start_date", row=int(r["_row"]), column="end_date",
                                value=str(r["end_date"].date()), fix="swap the two dates"))
    df = df[~back]
    df["start_month"] = df["start_date"].dt.strftime("%Y-%m")
    rate = fx.lookup(df["start_month"], df["currency"])
    problems += _missing_rate_problems(label, df, "start_month", "currency", rate, "currency")
    for c in ("spend", "attributed_sales"):
        df[c] = df[c] * rate
    df["days"] = (df["end_date"] - df["start_date"]).dt.days + 1
    df["tags"] = df["tags"].map(lambda s: [t.strip() for t in str(s).split(";") if t.strip()]
                                if isinstance(s, str) else [])
    return df


def load_review(path, period=None) -> Review:
    """Load, validate and prepare a workspace in one call (the notebooks' entry point)."""
    return prepare(load_workspace(path))
