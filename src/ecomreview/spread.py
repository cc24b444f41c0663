"""Spreading campaigns over their days (SPEC §2: a period counts the share of a campaign's days inside it)."""
from __future__ import annotations

import pandas as pd

SPREAD_COLUMNS = ("spend", "impressions", "clicks", "orders", "attributed_sales")


def prorate(campaigns: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The part of each campaign row that falls in [start, end] (inclusive days).

    Spend and results are spread evenly over the days from start_date to end_date inclusive; each
    returned row keeps its columns, multiplies the additive ones by ``share`` (days inside ÷ days)
    and gains ``share`` and ``days_in``. Rows with no day inside the range are dropped.
    """
    if campaigns is None or campaigns.empty:
        out = campaigns.copy() if campaigns is not None else pd.DataFrame()
        out["share"] = pd.Series(dtype=float)
        out["days_in"] = pd.Series(dtype=float)
        return out
    s = campaigns["start_date"].dt.normalize()
    e = campaigns["end_date"].dt.normalize()
    days = (e - s).dt.days + 1
    lo = s.where(s > start, start)
    hi = e.where(e < end, end)
    days_in = ((hi - lo).dt.days + 1).clip(lower=0)
    out = campaigns.assign(share=days_in / days, days_in=days_in)
    out = out[out["days_in"] > 0].copy()
    for col in SPREAD_COLUMNS:
        if col in out.columns:
            out[col] = out[col] * out["share"]
    return out
