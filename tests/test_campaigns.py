"""Step 4 (SPEC §4.4) on tiny hand-made frames: every expected figure is worked out in a comment."""
from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from ecomreview import campaigns as C  # noqa: E402
from ecomreview.spread import prorate  # noqa: E402

MONEY = 0.01
RATIO = 1e-4


def frame(rows: list[dict]) -> pd.DataFrame:
    """A campaigns frame as review.prepare hands it over (dates parsed, tags as lists)."""
    df = pd.DataFrame(rows)
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    df["tags"] = [r.get("tags", []) for r in rows]
    df["days"] = (df["end_date"] - df["start_date"]).dt.days + 1
    return df


def camp(cid, channel, type_="ads", spend=100.0, start="2025-03-01", end="2025-03-10", **kw) -> dict:
    return dict(campaign_id=cid, channel=channel, type=type_, start_date=start, end_date=end, spend=spend, **kw)


def approx(x, tol):
    return pytest.approx(x, abs=tol)


# Gross margin per channel: amz 25% → breakeven ROAS 4; shop 30% → 3.3333; ebay loses money;
# tiktok has no margin (no costs).
MARGINS = pd.Series({"amz": 0.25, "shop": 0.30, "ebay": -0.10, "tiktok": float("nan")})


@pytest.fixture
def table():
    rows = [
        # A1: two keyword rows, summed to spend 100, impressions 5000, clicks 50, orders 5, sales 300.
        camp("A1", "amz", spend=60, impressions=2000, clicks=40, orders=5, attributed_sales=300,
             keyword="pads", campaign_name="Pads SP", tags=["q4", "brand"]),
        camp("A1", "amz", spend=40, impressions=3000, clicks=10, orders=0, attributed_sales=0,
             keyword="dog pads", campaign_name="Pads SP", tags=["q4", "brand"]),
        # A2: exactly at breakeven (400 / 100 = 4.0), zero impressions and zero clicks and orders.
        camp("A2", "amz", spend=100, impressions=0, clicks=0, orders=0, attributed_sales=400, tags=["q4"]),
        camp("A3", "amz", spend=100, attributed_sales=401),    # ROAS 4.01 just above
        camp("A4", "amz", spend=100, attributed_sales=399),    # ROAS 3.99 just below
        camp("S1", "shop", spend=300, attributed_sales=1000),  # 1000/300 = 1/0.3: at breakeven in decimals
        camp("E1", "ebay", spend=50, attributed_sales=500),    # ROAS 10 but the channel loses money
        camp("T1", "tiktok", "content", spend=80, orders=4, attributed_sales=200, tags=["video"]),
        camp("P1", "shop", "promotion", spend=200),            # no attributed sales
        camp("Z1", "shop", "email", spend=0, orders=2, attributed_sales=100),
    ]
    return C.campaign_table(frame(rows), MARGINS, "en", "USD")


def test_campaign_metrics_sum_keyword_rows(table):
    a1 = table.loc["A1"]
    assert a1["name"] == "Pads SP" and a1["tags"] == ["q4", "brand"]
    assert a1["spend"] == approx(100.0, MONEY)            # 60 + 40
    assert a1["impressions"] == 5000 and a1["clicks"] == 50 and a1["orders"] == 5
    assert a1["ctr"] == approx(0.01, RATIO)               # 50 / 5000
    assert a1["cpc"] == approx(2.00, MONEY)               # 100 / 50
    assert a1["cpm"] == approx(20.00, MONEY)              # 100 / 5000 × 1000
    assert a1["cvr"] == approx(0.10, RATIO)               # 5 / 50
    assert a1["roas"] == approx(3.0, RATIO)               # 300 / 100
    assert a1["acos"] == approx(0.3333, RATIO)            # 100 / 300
    assert a1["cpa"] == approx(20.00, MONEY)              # 100 / 5
    assert a1["breakeven_roas"] == approx(4.0, RATIO)     # 1 / 0.25
    assert a1["verdict"] == "unprofitable"                # 3.0 < 4.0
    assert "3.00" in a1["reason"] and "4.00" in a1["reason"] and "25.0%" in a1["reason"]


def test_zero_denominators_are_absent_not_zero(table):
    a2 = table.loc["A2"]
    # impressions 0 → ctr, cpm absent; clicks 0 → cpc, cvr absent; orders 0 → cpa absent
    for col in ("ctr", "cpm", "cpc", "cvr", "cpa"):
        assert pd.isna(a2[col]), col
    assert a2["acos"] == approx(0.25, RATIO)              # 100 / 400
    z1 = table.loc["Z1"]                                  # spend 0: roas absent, cpa = 0 / 2 = 0 (a real zero)
    assert pd.isna(z1["roas"]) and z1["cpa"] == approx(0.0, MONEY) and z1["verdict"] == "unknown"
    assert "no spend" in z1["reason"]
    # no impressions/clicks columns given at all → absent, not zero
    assert pd.isna(table.loc["A3", "impressions"]) and pd.isna(table.loc["A3", "ctr"])


def test_breakeven_boundaries(table):
    assert table.loc["A2", "roas"] == approx(4.0, RATIO) and table.loc["A2", "verdict"] == "profitable"  # at
    assert table.loc["A3", "verdict"] == "profitable"     # 4.01 ≥ 4
    assert table.loc["A4", "verdict"] == "unprofitable"   # 3.99 < 4
    assert table.loc["S1", "breakeven_roas"] == approx(3.3333, RATIO)  # 1 / 0.30
    assert table.loc["S1", "verdict"] == "profitable"     # 1000 / 300 equals it


def test_margin_missing_or_not_positive(table):
    e1 = table.loc["E1"]
    assert pd.isna(e1["breakeven_roas"]) and e1["verdict"] == "unprofitable"
    assert "no ROAS can break even" in e1["reason"]
    t1 = table.loc["T1"]
    assert pd.isna(t1["breakeven_roas"]) and t1["verdict"] == "unknown" and "unknown" in t1["reason"]
    assert t1["roas"] == approx(2.5, RATIO)               # 200 / 80
    p1 = table.loc["P1"]                                  # promotions stay in the table
    assert p1["type"] == "promotion" and pd.isna(p1["roas"]) and p1["verdict"] == "unknown"
    assert "promotions section" in p1["reason"]


def test_chinese_reasons():
    rows = [camp("A1", "amz", spend=100, attributed_sales=300)]
    zh = C.campaign_table(frame(rows), MARGINS, "zh", "CNY").loc["A1"]
    # ROAS 3 < breakeven 4; the spend is quoted in the base currency
    assert "低于盈亏平衡" in zh["reason"] and "¥100.00" in zh["reason"] and zh["verdict"] == "unprofitable"


def test_summary_by_type_takes_ratios_where_both_parts_exist(table):
    s = C.summary_by(table, "type").loc["ads"]
    # ads: A1, A2, A3, A4, S1, E1 → spend 100+100+100+100+300+50 = 750
    assert s["campaigns"] == 6 and s["spend"] == approx(750.0, MONEY)
    # sales 300+400+401+399+1000+500 = 3000 → roas 3000 / 750 = 4.0
    assert s["roas"] == approx(4.0, RATIO)
    # impressions only on A1 (5000) and A2 (0): ctr = 50 / 5000; cpm = (100 + 100) / 5000 × 1000 = 40,
    # not 750 / 5000 × 1000 — spend of campaigns without impressions stays out of CPM.
    assert s["impressions"] == 5000 and s["ctr"] == approx(0.01, RATIO) and s["cpm"] == approx(40.0, MONEY)
    # total spend 100×4 + 300 + 50 + 80 + 200 + 0 = 1030 → share 750 / 1030 = 0.7282
    assert s["share_of_spend"] == approx(0.7282, RATIO)


def test_summary_by_tag_counts_a_campaign_in_each_tag(table):
    s = C.summary_by(table, "tag")
    # q4: A1 + A2 → spend 200, sales 700, roas 3.5; brand: A1 only; video: T1; untagged campaigns left out
    assert set(s.index) == {"q4", "brand", "video"}
    assert s.loc["q4", "campaigns"] == 2 and s.loc["q4", "spend"] == approx(200.0, MONEY)
    assert s.loc["q4", "roas"] == approx(3.5, RATIO)
    assert s.loc["brand", "spend"] == approx(100.0, MONEY) and s.loc["video", "spend"] == approx(80.0, MONEY)
    assert s.loc["q4", "share_of_spend"] == approx(0.1942, RATIO)   # 200 / 1030
    assert s["spend"].sum() == approx(380.0, MONEY)                  # A1 twice: 200 + 100 + 80
    assert list(s.index[:1]) == ["q4"]                               # biggest spend first
    with pytest.raises(ValueError):
        C.summary_by(table, "sku")


def test_totals(table):
    tot = C.totals(table)
    assert tot["campaigns"] == 9 and tot["spend"] == approx(1030.0, MONEY)
    # sales where spend is known: 3000 (ads) + 200 (T1) + 100 (Z1) = 3300 over spend 750 + 80 + 0 = 830
    assert tot["roas"] == approx(3.9759, RATIO)          # 3300 / 830


def test_prorate_campaign_straddling_period_edge():
    # 2024-12-20 .. 2025-01-09 is 21 days; 9 of them (Jan 1–9) are in 2025 → share 9/21.
    rows = [camp("X", "amz", spend=2100, start="2024-12-20", end="2025-01-09", clicks=210, orders=21,
                 attributed_sales=4200)]
    in_p = prorate(frame(rows), pd.Timestamp(2025, 1, 1), pd.Timestamp(2025, 12, 31))
    x = C.campaign_table(in_p, MARGINS, "en", "USD").loc["X"]
    assert x["spend"] == approx(900.0, MONEY)            # 2100 × 9/21
    assert x["attributed_sales"] == approx(1800.0, MONEY)  # 4200 × 9/21
    assert x["clicks"] == approx(90.0, RATIO) and x["orders"] == approx(9.0, RATIO)
    assert x["cpc"] == approx(10.00, MONEY) and x["roas"] == approx(2.0, RATIO)  # 900/90, 1800/900
    prev = C.campaign_table(prorate(frame(rows), pd.Timestamp(2024, 1, 1), pd.Timestamp(2024, 12, 31)),
                            MARGINS, "en", "USD").loc["X"]
    assert prev["spend"] == approx(1200.0, MONEY)        # 12 of 21 days in 2024


def test_empty_campaigns_give_empty_tables():
    empty = frame([camp("A", "amz")]).iloc[:0]
    t = C.campaign_table(empty, MARGINS, "en", "USD")
    assert t.empty and list(t.columns) == C.TABLE_COLUMNS
    assert C.keyword_table(empty, MARGINS, "en", "USD").empty
    assert C.summary_by(t, "tag").empty
    assert C.metrics_json(t, None) == {"campaigns": {}, "promotions": {}}


# ---------------------------------------------------------------- keywords

@pytest.fixture
def keywords():
    rows = [
        camp("K1", "amz", spend=50, clicks=25, orders=5, attributed_sales=250, keyword="pads"),      # roas 5
        camp("K1", "amz", spend=30, clicks=15, orders=0, attributed_sales=0, keyword="dog pads"),    # waste 30
        camp("K1", "amz", spend=20, clicks=10, orders=1, attributed_sales=40, keyword=" puppy "),    # roas 2
        camp("K1", "amz", spend=5, clicks=2, orders=0, attributed_sales=0, keyword="cheap pads"),    # waste 5
        camp("K1", "amz", spend=0, clicks=0, orders=0, attributed_sales=0, keyword="paused"),  # spent 0: no waste
        camp("K1", "amz", spend=10, clicks=4, keyword="unknown orders"),                             # orders missing
        camp("K2", "amz", spend=40, clicks=20, orders=2, attributed_sales=120, keyword="pads"),      # roas 3
        camp("K2", "amz", spend=15, campaign_name="no keyword row"),                                 # not a keyword
    ]
    return C.keyword_table(frame(rows), MARGINS, "en", "USD")


def test_keyword_table(keywords):
    assert len(keywords) == 7                              # 6 keywords of K1 + "pads" of K2
    assert ("K1", "puppy") in keywords.index               # trimmed
    pads = keywords.loc[("K1", "pads")]
    assert pads["roas"] == approx(5.0, RATIO) and pads["cvr"] == approx(0.2, RATIO)  # 250/50, 5/25
    assert pads["cpc"] == approx(2.00, MONEY) and pads["cpa"] == approx(10.00, MONEY)  # 50/25, 50/5
    assert pads["verdict"] == "profitable"                # 5 ≥ 4
    assert keywords.loc[("K2", "pads"), "verdict"] == "unprofitable"  # 3 < 4


def test_wasted_spend(keywords):
    # orders == 0 and spend > 0: "dog pads" 30 + "cheap pads" 5 = 35; "paused" spent 0; "unknown orders" unknown
    assert C.wasted_spend(keywords) == approx(35.0, MONEY)
    assert C.wasted_spend(keywords.iloc[:0]) == 0.0


def test_keyword_highlights(keywords):
    h = C.keyword_highlights(keywords, n=2)
    # spends > 0: 50, 30, 20, 5, 10, 40 → median (20 + 30) / 2 = 25
    assert h["min_spend"] == approx(25.0, MONEY)
    assert h["keywords"] == 7 and h["wasted_keywords"] == 2
    assert h["wasted_spend"] == approx(35.0, MONEY)
    assert h["wasted_share"] == approx(0.2258, RATIO)      # 35 / (50+30+20+5+0+10+40 = 155)
    # spend ≥ 25 with a roas: K1 pads (5), K2 pads (3), K1 dog pads (0)
    assert list(h["top"].index) == [("K1", "pads"), ("K2", "pads")]
    assert list(h["bottom"].index) == [("K1", "dog pads")]  # never repeats a top keyword
    low = C.keyword_highlights(keywords, n=1, min_spend=20)
    # spend ≥ 20: pads 5, pads 3, puppy 2, dog pads 0 → top pads(K1); bottom of the rest: dog pads
    assert list(low["top"].index) == [("K1", "pads")] and list(low["bottom"].index) == [("K1", "dog pads")]


# ---------------------------------------------------------------- TACoS and cost per order

def test_tacos_by_channel():
    ads = pd.Series({"amz": 100.0, "shop": 50.0, "ebay": 20.0})
    revenue = pd.Series({"amz": 1000.0, "shop": 0.0, "tiktok": 500.0})
    t = C.tacos_by_channel(ads, revenue)
    assert t.loc["amz", "tacos"] == approx(0.10, RATIO)    # 100 / 1000
    assert pd.isna(t.loc["shop", "tacos"])                 # revenue 0
    assert pd.isna(t.loc["ebay", "tacos"]) and t.loc["ebay", "revenue"] == 0.0  # ads but no sales
    assert t.loc["tiktok", "tacos"] == approx(0.0, RATIO) and t.loc["tiktok", "ad_spend"] == 0.0
    assert list(t.index[:1]) == ["amz"]


def test_cost_per_order_by_type():
    rows = [
        camp("C1", "shop", "content", spend=80, orders=4),
        camp("C2", "shop", "content", spend=40, orders=2),       # content: 120 / 6 = 20
        camp("I1", "shop", "influencer", spend=150, orders=3),   # 50
        camp("M1", "shop", "email", spend=10, orders=5),         # 2
        camp("F1", "shop", "affiliate", spend=60, orders=0),     # absent
        camp("A1", "shop", "ads", spend=999, orders=1),          # not an effort type
    ]
    cpo = C.cost_per_order_by_type(C.campaign_table(frame(rows), MARGINS, "en", "USD"))
    assert list(cpo.index) == ["email", "content", "influencer", "affiliate"]
    assert cpo.loc["content", "cpa"] == approx(20.00, MONEY) and cpo.loc["content", "campaigns"] == 2
    assert cpo.loc["email", "cpa"] == approx(2.00, MONEY) and cpo.loc["influencer", "cpa"] == approx(50.00, MONEY)
    assert pd.isna(cpo.loc["affiliate", "cpa"])


# ---------------------------------------------------------------- promotions

DATA_START, DATA_END = pd.Timestamp(2025, 1, 1), pd.Timestamp(2025, 12, 31)


def sales(channel, sku, start, end, per_day, every=1):
    """Order lines with ``per_day`` net sales on every ``every``-th day of [start, end]."""
    days = pd.date_range(start, end, freq="D")[::every]
    return pd.DataFrame({"order_date": days, "channel": channel, "sku": sku, "net_sales": float(per_day)})


@pytest.fixture
def lines():
    parts = [
        # PF (sku PF on shop): baseline Oct 4–31 100/day, during Nov 1–7 300/day, post Nov 8–Dec 5 50/day
        sales("shop", "PF", "2025-10-04", "2025-10-31", 100), sales("shop", "PF", "2025-11-01", "2025-11-07", 300),
        sales("shop", "PF", "2025-11-08", "2025-12-05", 50),
        # INC: baseline Feb 10–Mar 9 200/day, during Mar 10–14 400/day, post Mar 15–Apr 11 190/day
        sales("shop", "INC", "2025-02-10", "2025-03-09", 200), sales("shop", "INC", "2025-03-10", "2025-03-14", 400),
        sales("shop", "INC", "2025-03-15", "2025-04-11", 190),
        # NL: baseline May 4–31 has 280 on 10 of 28 days (others 0) → mean 100; during Jun 1–10 90/day;
        # post Jun 11–Jul 8 100/day
        sales("shop", "NL", "2025-05-04", "2025-05-31", 280, every=3)[:10],
        sales("shop", "NL", "2025-06-01", "2025-06-10", 90), sales("shop", "NL", "2025-06-11", "2025-07-08", 100),
        # amz: 50/day all year, 150/day during LATE (Dec 20–24) → two lines per day there (50 + 100)
        sales("amz", "Z", "2025-01-01", "2025-12-31", 50), sales("amz", "Z", "2025-12-20", "2025-12-24", 100),
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def promos():
    rows = [
        camp("PF", "shop", "promotion", 500, "2025-11-01", "2025-11-07", sku="PF", campaign_name="Black Friday"),
        camp("INC", "shop", "promotion", 100, "2025-03-10", "2025-03-14", sku="INC", campaign_name="Spring sale"),
        camp("NL", "shop", "promotion", 100, "2025-06-01", "2025-06-10", sku="NL"),
        camp("EARLY", "amz", "promotion", 10, "2025-01-10", "2025-01-12"),
        camp("EDGE", "amz", "promotion", 10, "2025-01-29", "2025-01-30"),
        camp("LATE", "amz", "promotion", 10, "2025-12-20", "2025-12-24", campaign_name="Xmas"),
        camp("AD", "amz", "ads", 10, "2025-06-01", "2025-06-10"),     # not a promotion: ignored
    ]
    return frame(rows)


@pytest.fixture
def effects(promos, lines):
    return C.promotion_effects(promos, lines, DATA_START, DATA_END, "en", "USD")


def test_daily_net_sales_fills_days_and_filters(lines):
    d = C.daily_net_sales(lines, "shop", "NL", "2025-05-04", "2025-05-31")
    assert len(d) == 28 and d.sum() == approx(2800.0, MONEY)   # 10 days × 280, 18 days of 0
    assert (d == 0).sum() == 18 and d.mean() == approx(100.0, MONEY)
    amz = C.daily_net_sales(lines, "amz", start="2025-12-20", end="2025-12-20")
    assert amz.iloc[0] == approx(150.0, MONEY)                  # two lines on the day: 50 + 100
    both = C.daily_net_sales(lines, "shop", ["PF", "INC"], "2025-03-10", "2025-03-10")
    assert both.iloc[0] == approx(400.0, MONEY)
    everything = C.daily_net_sales(lines, None)
    assert everything.index[0] == DATA_START and everything.index[-1] == DATA_END and len(everything) == 365


def test_pulled_forward_promotion(effects):
    pf = effects.loc["PF"]
    assert pf["days"] == 7
    assert pf["baseline"] == approx(100.0, MONEY) and pf["during"] == approx(300.0, MONEY)
    assert pf["post"] == approx(50.0, MONEY)
    assert pf["lift"] == approx(2.0, RATIO)                      # 300 / 100 − 1
    assert pf["incremental_sales"] == approx(1400.0, MONEY)      # (300 − 100) × 7
    assert pf["pull_forward_sales"] == approx(1400.0, MONEY)     # max(0, 100 − 50) × 28
    assert pf["net_incremental_sales"] == approx(0.0, MONEY)
    assert pf["verdict"] == "pulled_forward"                     # 1400 ≥ 50% × 1400
    assert pf["reason"].startswith(
        "Black Friday added $1,400.00, but $1,400.00 of it was taken from the following four weeks")


def test_incremental_promotion(effects):
    inc = effects.loc["INC"]
    assert inc["lift"] == approx(1.0, RATIO)                     # 400 / 200 − 1
    assert inc["incremental_sales"] == approx(1000.0, MONEY)     # (400 − 200) × 5
    assert inc["pull_forward_sales"] == approx(280.0, MONEY)     # (200 − 190) × 28
    assert inc["net_incremental_sales"] == approx(720.0, MONEY)
    assert inc["verdict"] == "incremental"                       # 280 < 500 and 720 > 0
    assert "$720.00" in inc["reason"] and inc["name"] == "Spring sale" and inc["sku"] == "INC"


def test_no_lift_promotion_with_zero_sales_days(effects):
    nl = effects.loc["NL"]
    assert nl["baseline"] == approx(100.0, MONEY)                # 2800 / 28, empty days count as 0
    assert nl["incremental_sales"] == approx(-100.0, MONEY)      # (90 − 100) × 10
    assert nl["pull_forward_sales"] == approx(0.0, MONEY)        # max(0, 100 − 100) × 28
    # SPEC literally: 0 ≥ 50% × −100 would say pulled_forward; a promotion that added nothing has no lift
    assert nl["verdict"] == "no_lift" and "did not lift" in nl["reason"]
    assert nl["name"] == "NL"                                    # no campaign_name: the id


def test_windows_past_the_data(effects, promos, lines):
    early = effects.loc["EARLY"]                 # baseline Dec 13 2024 – Jan 9 2025 starts before the data
    for col in ("baseline", "lift", "incremental_sales", "pull_forward_sales", "net_incremental_sales"):
        assert pd.isna(early[col]), col
    assert early["during"] == approx(50.0, MONEY) and early["post"] == approx(50.0, MONEY)
    assert early["verdict"] == "unknown" and "before" in early["reason"]
    edge = effects.loc["EDGE"]                   # baseline Jan 1–28 starts exactly on the first data day
    assert edge["baseline"] == approx(50.0, MONEY) and edge["verdict"] == "no_lift"  # incremental 0
    late = effects.loc["LATE"]                   # post Dec 25 – Jan 21 2026 runs past the data
    assert late["incremental_sales"] == approx(500.0, MONEY)     # (150 − 50) × 5
    assert late["lift"] == approx(2.0, RATIO)
    assert pd.isna(late["post"]) and pd.isna(late["pull_forward_sales"]) and pd.isna(late["net_incremental_sales"])
    assert late["verdict"] == "unknown" and "2025-12-31" in late["reason"]
    assert "AD" not in effects.index
    short = C.promotion_effects(promos, lines, "2025-01-01", "2025-01-31", "zh", "USD").loc["EARLY"]
    assert short["verdict"] == "unknown" and "前后各 28 天" in short["reason"]


def test_promotion_verdict_boundaries():
    assert C.promotion_verdict(1000, 500, 500) == "pulled_forward"          # exactly 50%
    assert C.promotion_verdict(1000, 499.99, 500.01) == "incremental"       # just below 50%
    assert C.promotion_verdict(0, 0, 0) == "no_lift"
    assert C.promotion_verdict(-50, 0, -50) == "no_lift"
    assert C.promotion_verdict(None, 0, None) == "unknown"
    f = C.effect_figures(0.0, 10.0, 0.0, 3)                                  # baseline 0: lift absent
    assert f["lift"] is None and f["incremental_sales"] == approx(30.0, MONEY)


def test_promotion_sentence_in_chinese(promos, lines):
    zh = C.promotion_effects(promos, lines, DATA_START, DATA_END, "zh", "USD").loc["PF"]
    assert "Black Friday" in zh["reason"] and "透支" in zh["reason"] and "1,400.00" in zh["reason"]


# ---------------------------------------------------------------- charts, json, notes

def titled(fig, title_part: str, xlabel: str, ylabel_part: str):
    ax = fig.axes[0]
    assert title_part in ax.get_title()
    assert ax.get_xlabel() == xlabel and ylabel_part in ax.get_ylabel()
    return ax


def test_promotion_chart(effects, lines):
    row = effects.loc["PF"]
    daily = C.daily_net_sales(lines, "shop", "PF", "2025-10-04", "2025-12-05")
    ax = titled(C.promotion_chart(row, daily, "en", "USD"), "Black Friday", "Date", "USD")
    assert len(ax.containers[0]) == 63                     # 28 + 7 + 28 daily bars
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Baseline mean $100.00" in legend and "Mean after $50.00" in legend and "28 days before" in legend
    late = effects.loc["LATE"]                             # no post mean to draw
    ax = titled(C.promotion_chart(late, C.daily_net_sales(lines, "amz"), "zh", "USD"), "Xmas", "日期", "USD")
    assert not any(t.get_text().startswith("活动后日均") for t in ax.get_legend().get_texts())


def test_roas_chart(table):
    ax = titled(C.roas_chart(table, "en"), "ROAS", "ROAS (attributed sales ÷ spend)", "Campaign")
    # one bar per campaign with a ROAS: A1–A4, S1, E1, T1 (P1 and Z1 have none)
    assert sum(len(c) for c in ax.containers) == 7
    markers = ax.collections[0].get_offsets()               # breakeven markers: all but E1 and T1
    assert len(markers) == 5 and sorted(round(float(x), 4) for x in markers[:, 0]) == [3.3333, 4, 4, 4, 4]
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"profitable", "unprofitable", "unknown", "Breakeven ROAS (1 ÷ gross margin)"} <= legend
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Pads SP"
    empty = C.roas_chart(table.iloc[:0], "zh")
    assert empty.axes[0].get_title() == "各活动 ROAS 与盈亏平衡 ROAS"


def test_metrics_json(table, effects):
    out = C.metrics_json(table, effects)
    json.dumps(out, allow_nan=False)
    assert out["campaigns"]["A1"] == {"roas": 3.0, "acos": pytest.approx(0.3333, abs=RATIO),
                                      "breakeven_roas": 4.0, "verdict": "unprofitable"}
    assert out["campaigns"]["T1"]["breakeven_roas"] is None
    assert out["promotions"]["PF"]["verdict"] == "pulled_forward"
    assert out["promotions"]["LATE"]["net_incremental_sales"] is None
    assert out["promotions"]["INC"]["incremental_sales"] == pytest.approx(1000.0, abs=MONEY)


def test_missing_data_notes(table, effects):
    assert "no campaigns table" in C.missing_data_notes(None, "en")[0]
    rows = [camp("A", "amz", attributed_sales=10, tags=["a", "b"]), camp("B", "amz")]
    notes = C.missing_data_notes(frame(rows), "en", promotions=effects, table=table)
    text = "\n".join(notes)
    assert "2 of 2 campaigns have no impressions" in text          # no impressions column at all
    assert "1 of 2 campaigns have no attributed sales" in text
    assert "no keywords" in text and "1 of 2 campaigns have no tags" in text
    assert "counts fully in each" in text                           # campaign A has two tags
    assert "1 of 9 campaigns run on channels whose gross margin is unknown" in text  # T1 on tiktok
    assert "2 promotions are too close" in text                     # EARLY and LATE
    zh = C.missing_data_notes(frame(rows), "zh")
    assert any("展示量" in n for n in zh)


def test_keyword_highlights_without_keywords():
    empty = C.keyword_table(frame([camp("A", "amz", attributed_sales=10)]), MARGINS, "en", "USD")
    h = C.keyword_highlights(empty)
    assert h["keywords"] == 0 and h["wasted_spend"] == 0.0 and h["top"].empty and pd.isna(h["wasted_share"])


def test_roas_equal_to_breakeven_in_decimals_is_profitable():
    # margin 0.29 → breakeven 1 / 0.29 = 3.4483; spend 29, sales 100 → ROAS 100 / 29 = 3.4483, the same
    # number, yet in binary floats 100/29 is a hair below 1/0.29: it must still count as "at" breakeven.
    rows = [camp("B", "etsy", spend=29, attributed_sales=100), camp("C", "etsy", spend=29, attributed_sales=99.99)]
    t = C.campaign_table(frame(rows), pd.Series({"etsy": 0.29}), "en", "USD")
    assert t.loc["B", "roas"] == approx(3.4483, RATIO) and t.loc["B", "verdict"] == "profitable"
    assert t.loc["C", "verdict"] == "unprofitable"      # 99.99 / 29 = 3.4479 < 3.4483
