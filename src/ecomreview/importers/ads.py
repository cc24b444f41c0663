"""Amazon Sponsored Products and Google Ads reports -> campaigns rows (type ads), per campaign × keyword × month."""
from __future__ import annotations

import re

import pandas as pd

from ecomreview.errors import InputError, Problem

from .common import (Mapped, Source, currency_from_header, day_text, find_pattern, money_currency, parse_dates,
                     parse_number, resolve, t, text, check_kind)

AMAZON_FIELDS = {
    "date": ("Date", "日期"),
    "start": ("Start Date", "开始日期"),
    "end": ("End Date", "结束日期"),
    "campaign": ("Campaign Name", "Campaign", "广告活动名称", "广告活动"),
    "impressions": ("Impressions", "展示量", "曝光量", "展示次数"),
    "clicks": ("Clicks", "点击量", "点击次数"),
    "spend": ("Spend", "花费", "支出", "Cost"),
    "search_term": ("Customer Search Term", "客户搜索词", "买家搜索词"),
    "targeting": ("Targeting", "投放", "Keyword", "关键词"),
    "sku": ("Advertised SKU", "广告SKU", "推广的SKU", "已推广的 SKU"),
    "asin": ("Advertised ASIN", "广告ASIN", "推广的ASIN", "已推广的 ASIN"),
    "currency": ("Currency", "货币", "币种"),
}
# Marketplace by currency; EUR cannot tell DE/FR/IT/ES apart, so it gets a generic id.
AMAZON_CHANNEL = {"USD": "amazon_us", "INR": "amazon_in", "GBP": "amazon_uk", "EUR": "amazon_eu",
                  "CAD": "amazon_ca", "JPY": "amazon_jp", "AUD": "amazon_au", "MXN": "amazon_mx",
                  "AED": "amazon_ae", "SGD": "amazon_sg", "BRL": "amazon_br", "SEK": "amazon_se",
                  "PLN": "amazon_pl", "TRY": "amazon_tr", "SAR": "amazon_sa"}
# attribution windows in the order we prefer them: 7 days is the Sponsored Products default for sellers
WINDOWS = ("7", "14", "30", "1")

GOOGLE_FIELDS = {
    "campaign": ("Campaign", "广告系列"),
    "search_term": ("Search term", "搜索字词"),
    "cost": ("Cost", "费用"),
    "impressions": ("Impr.", "Impressions", "展示次数"),
    "clicks": ("Clicks", "点击次数"),
    "orders": ("Conversions", "转化次数", "Conv."),
    "sales": ("Conv. value", "Conversion value", "转化价值"),
    "currency": ("Currency code", "Currency", "货币代码"),
    "day": ("Day", "Date", "日期", "天"),
}
GOOGLE_HEADER_TOKENS = ("Campaign", "Search term", "广告系列", "搜索字词")
_RANGE = re.compile(r"([A-Z][a-z]+ \d{1,2}, \d{4})\s*[-–]\s*([A-Z][a-z]+ \d{1,2}, \d{4})")
_RANGE_ZH = re.compile(r"(\d{4}年\d{1,2}月\d{1,2}日)\s*[-–至]\s*(\d{4}年\d{1,2}月\d{1,2}日)")

ADDITIVE = ["spend", "impressions", "clicks", "orders", "attributed_sales"]


def _number(f: pd.DataFrame, cols: dict, key: str, out: Mapped, lang: str) -> pd.Series:
    if key not in cols:
        return pd.Series(float("nan"), index=f.index)
    vals, bad = parse_number(f[cols[key]])
    out.skip("campaigns", "importers.skip.bad_number", bad, column=cols[key])
    return vals.where(~bad)


def _aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Sum rows per campaign × keyword × sku × channel × bucket; dates = first/last day seen."""
    keys = ["campaign_id", "keyword", "sku", "channel", "currency", "_bucket"]
    g = rows.groupby(keys, sort=False, dropna=False).agg(
        start=("start", "min"), end=("end", "max"), **{c: (c, "sum") for c in ADDITIVE})
    present = rows.groupby(keys, sort=False, dropna=False)[ADDITIVE].count()
    g[ADDITIVE] = g[ADDITIVE].where(present > 0)  # a metric the report lacks stays empty, not 0
    g = g.reset_index()
    return pd.DataFrame({
        "campaign_id": g["campaign_id"], "channel": g["channel"], "type": "ads",
        "start_date": day_text(g["start"]), "end_date": day_text(g["end"]), "spend": g["spend"].fillna(0),
        "campaign_name": g["campaign_id"], "impressions": g["impressions"], "clicks": g["clicks"],
        "orders": g["orders"], "attributed_sales": g["attributed_sales"], "keyword": g["keyword"],
        "sku": g["sku"], "currency": g["currency"],
    })


# ---------------------------------------------------------------- Amazon


def import_amazon_ads(sources: list[Source], options: dict, lang: str) -> Mapped:
    """Sponsored Products campaign / search term / targeting / advertised product reports."""
    out = Mapped()
    rows = pd.concat([_amazon_rows(src, options, out, lang) for src in sources], ignore_index=True)
    out.tables["campaigns"] = _aggregate(rows)
    out.note("importers.note.amazon_aggregated")
    return out


def _amazon_rows(src: Source, options: dict, out: Mapped, lang: str) -> pd.DataFrame:
    f = src.frame
    cols = resolve(f.columns, AMAZON_FIELDS)
    missing = [AMAZON_FIELDS[k][0] for k in ("campaign", "spend") if k not in cols]
    check_kind(src, "amazon-ads", lang, missing)
    out.rows_in["campaigns"] = out.rows_in.get("campaigns", 0) + len(f)
    sales_cols = {w: c for c, w in find_pattern(f.columns, r"(\d+) ?(?:day total sales|天总销售额)")}
    order_cols = {w: c for c, w in find_pattern(f.columns, r"(\d+) ?(?:day total orders|天总订单数)")}
    window = next((w for w in WINDOWS if w in sales_cols or w in order_cols), None)
    if window:
        cols["sales"], cols["orders"] = sales_cols.get(window), order_cols.get(window)
        cols = {k: v for k, v in cols.items() if v}
        out.note("importers.note.attribution_window", days=window, file=src.name)

    if "date" in cols:
        start = parse_dates(f[cols["date"]])[0]
        end, bucket = start, start.dt.strftime("%Y-%m")
    elif "start" in cols and "end" in cols:  # a summary report: one row per campaign for the range
        start, end = parse_dates(f[cols["start"]])[0], parse_dates(f[cols["end"]])[0]
        bucket = day_text(start) + "/" + day_text(end)
    else:
        raise InputError([Problem(file=src.name, message=t("importers.error.no_dates", lang),
                                  fix=t("importers.fix.amazon_dates", lang))])
    campaign = text(f[cols["campaign"]])
    currency = _amazon_currency(f, cols, options)
    channel = options.get("channel") or currency.map(lambda c: AMAZON_CHANNEL.get(c, "amazon"))
    keyword = text(f[cols["search_term"]]) if "search_term" in cols else (
        text(f[cols["targeting"]]) if "targeting" in cols else pd.Series("", index=f.index))
    sku = text(f[cols["sku"]]) if "sku" in cols else (
        text(f[cols["asin"]]) if "asin" in cols else pd.Series("", index=f.index))
    rows = pd.DataFrame({
        "campaign_id": campaign, "keyword": keyword, "sku": sku, "channel": channel, "currency": currency,
        "start": start, "end": end, "_bucket": bucket,
        "spend": _number(f, cols, "spend", out, lang), "impressions": _number(f, cols, "impressions", out, lang),
        "clicks": _number(f, cols, "clicks", out, lang), "orders": _number(f, cols, "orders", out, lang),
        "attributed_sales": _number(f, cols, "sales", out, lang),
    })
    no_campaign = campaign == ""
    out.skip("campaigns", "importers.skip.no_campaign", no_campaign)
    out.skip("campaigns", "importers.skip.bad_date", ~no_campaign & (start.isna() | end.isna()))
    return rows[~no_campaign & start.notna() & end.notna()]


def _amazon_currency(f: pd.DataFrame, cols: dict, options: dict) -> pd.Series:
    """Currency per row: option, else the Currency column, else a ₹/$ in a header or in the money."""
    if options.get("currency"):
        return pd.Series(str(options["currency"]).upper(), index=f.index)
    guess = next((c for c in map(currency_from_header, f.columns) if c), None) or \
        money_currency(f[cols["spend"]]) or "USD"
    if "currency" in cols:
        cur = text(f[cols["currency"]]).str.upper()
        return cur.where(cur != "", guess)
    return pd.Series(guess, index=f.index)


# ---------------------------------------------------------------- Google Ads


def import_google_ads(sources: list[Source], options: dict, lang: str) -> Mapped:
    """Google Ads campaign or search terms report (with its title lines and Total rows)."""
    out = Mapped()
    rows = pd.concat([_google_rows(src, options, out, lang) for src in sources], ignore_index=True)
    out.tables["campaigns"] = _aggregate(rows)
    out.note("importers.note.google_aggregated")
    return out


def _google_rows(src: Source, options: dict, out: Mapped, lang: str) -> pd.DataFrame:
    f = src.frame
    cols = resolve(f.columns, GOOGLE_FIELDS)
    missing = [GOOGLE_FIELDS[k][0] for k in ("campaign", "cost") if k not in cols]
    check_kind(src, "google-ads", lang, missing)
    first = text(f.iloc[:, 0])
    total = first.str.match(r"^(Total|总计|合计)\s*[:：]", case=False)
    out.skip("campaigns", "importers.skip.total_row", total)
    f = f[~total]
    out.rows_in["campaigns"] = out.rows_in.get("campaigns", 0) + len(f)
    if "day" in cols:
        start = parse_dates(f[cols["day"]])[0]
        end, bucket = start, start.dt.strftime("%Y-%m")
    else:
        lo, hi = _title_range(src, options, lang)
        start = pd.Series(lo, index=f.index)
        end, bucket = pd.Series(hi, index=f.index), pd.Series("range", index=f.index)
    campaign = text(f[cols["campaign"]])
    currency = text(f[cols["currency"]]).str.upper() if "currency" in cols else \
        pd.Series(str(options.get("currency") or "USD").upper(), index=f.index)
    keyword = text(f[cols["search_term"]]) if "search_term" in cols else pd.Series("", index=f.index)
    rows = pd.DataFrame({
        "campaign_id": campaign, "keyword": keyword, "sku": "", "channel": options.get("channel") or "shopify",
        "currency": currency, "start": start, "end": end, "_bucket": bucket,
        "spend": _number(f, cols, "cost", out, lang), "impressions": _number(f, cols, "impressions", out, lang),
        "clicks": _number(f, cols, "clicks", out, lang), "orders": _number(f, cols, "orders", out, lang),
        "attributed_sales": _number(f, cols, "sales", out, lang),
    })
    no_campaign = campaign == ""
    out.skip("campaigns", "importers.skip.no_campaign", no_campaign)
    out.skip("campaigns", "importers.skip.bad_date", ~no_campaign & (start.isna() | end.isna()))
    return rows[~no_campaign & start.notna() & end.notna()]


def _title_range(src: Source, options: dict, lang: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The report's date range from its title line ("January 17, 2024 - February 15, 2024")."""
    for line in src.title:
        for pattern, fmt in ((_RANGE, "%B %d, %Y"), (_RANGE_ZH, "%Y年%m月%d日")):
            m = pattern.search(line)
            if m:
                try:
                    return tuple(pd.to_datetime(x, format=fmt) for x in m.groups())
                except ValueError:
                    # abbreviated month names ("Jan 17, 2024")
                    return tuple(pd.to_datetime(x, format="%b %d, %Y") for x in m.groups())
    if options.get("month"):
        p = pd.Period(str(options["month"]), freq="M")
        return p.start_time, p.end_time.normalize()
    raise InputError([Problem(file=src.name, message=t("importers.error.no_date_range", lang),
                              fix=t("importers.fix.google_range", lang))])
