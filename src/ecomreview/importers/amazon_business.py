"""Amazon "Detail Page Sales and Traffic By Child Item" business report -> traffic rows per SKU and month."""
from __future__ import annotations

import re

import pandas as pd

from ecomreview.errors import InputError, Problem

from .common import Mapped, Source, parse_number, resolve, t, text, check_kind

FIELDS = {
    "child_asin": ("(Child) ASIN", "子 ASIN", "子ASIN"),
    "sku": ("SKU",),
    # newer exports split B2B out and say "- Total"; older ones say "Sessions" / "Page Views"
    "sessions": ("Sessions - Total", "Sessions", "会话次数 - 总计", "买家访问次数", "会话次数"),
    "orders": ("Total Order Items", "Total Order Items - Total", "订单商品种类数", "订单商品总数"),
}


def import_business_report(sources: list[Source], options: dict, lang: str) -> Mapped:
    """Sessions and orders (Total Order Items) per SKU for the month given as option `month`."""
    month = str(options.get("month") or "")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise InputError([Problem(file=", ".join(s.name for s in sources),
                                  message=t("importers.error.month_required", lang, month=month),
                                  fix=t("importers.fix.month_required", lang))])
    channel = options.get("channel") or "amazon_us"
    out = Mapped()
    frames = []
    for src in sources:
        f = src.frame
        cols = resolve(f.columns, FIELDS)
        missing = [FIELDS[k][0] for k in ("child_asin", "sessions") if k not in cols]
        check_kind(src, "amazon-business-report", lang, missing)
        out.rows_in["traffic"] = out.rows_in.get("traffic", 0) + len(f)
        asin = text(f[cols["child_asin"]])
        sku = text(f[cols["sku"]]) if "sku" in cols else pd.Series("", index=f.index)
        by_asin = (sku == "") & (asin != "")
        if by_asin.any():
            out.note("importers.note.asin_as_sku", int(by_asin.sum()))
        sku = sku.where(~by_asin, asin)
        sessions, bad_s = parse_number(f[cols["sessions"]])
        orders, bad_o = (parse_number(f[cols["orders"]]) if "orders" in cols
                         else (pd.Series(float("nan"), index=f.index), pd.Series(False, index=f.index)))
        ok = (sku != "") & sessions.notna() & ~bad_o
        out.skip("traffic", "importers.skip.no_sku", sku == "")
        out.skip("traffic", "importers.skip.bad_sessions", (sku != "") & (sessions.isna() | bad_o))
        frames.append(pd.DataFrame({"sku": sku, "sessions": sessions, "orders": orders})[ok])
    df = pd.concat(frames, ignore_index=True)
    # one SKU listed under two parent ASINs (or in two files) is one traffic row
    g = df.groupby("sku", sort=False).agg(sessions=("sessions", "sum"),
                                          orders=("orders", lambda s: s.sum(min_count=1))).reset_index()
    out.tables["traffic"] = pd.DataFrame({"month": month, "channel": channel, "sessions": g["sessions"],
                                          "sku": g["sku"], "orders": g["orders"]})
    out.note("importers.note.units_not_kept")
    return out
