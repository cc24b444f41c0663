"""The demo generator: shape of the workspace, and its planted truths re-derived with plain pandas.

The checks below re-implement just enough of SPEC §3–§4 (independently of the metric engine) to
show that every planted class holds, with room to spare, at two sizes and seeds.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from ecomreview import demo
from ecomreview.schema import TABLES

Y25 = ("2025-01-01", "2025-12-31")


# --- independent re-computation (SPEC formulas) ----------------------------------------------------

def _read(ws):
    t = {name: pd.read_csv(ws / f"{name}.csv", keep_default_na=True) for name in TABLES}
    t["planted"] = json.loads((ws / "planted.json").read_text(encoding="utf-8"))
    return t


def _rate(fx, month, currency):
    """USD per unit of currency for each (month, currency) pair; USD = 1."""
    r = fx.set_index(["month", "currency"])["rate_to_base"]
    key = pd.MultiIndex.from_arrays([pd.Index(month), pd.Index(currency)])
    out = pd.Series(r.reindex(key).to_numpy(), index=range(len(key)))
    return out.where(pd.Series(list(currency)) != "USD", 1.0).to_numpy()


def _lines(t):
    """Completed, de-duplicated lines in USD with SPEC §3 line amounts and SKU-level costs."""
    o = t["orders"]
    o = o[o["status"] != "cancelled"].drop_duplicates().copy()
    o["order_date"] = pd.to_datetime(o["order_date"])
    o["month"] = o["order_date"].dt.strftime("%Y-%m")
    r = _rate(t["fx_rates"], o["month"], o["currency"])
    o["gross"] = o["quantity"] * o["unit_price"] * r
    o["discount"] = o["discount"] * r
    o["refund"] = o["refund_amount"] * r
    o["shipping"] = o["shipping_charged"] * r
    o["value"] = o["gross"] - o["discount"]
    o["net"] = o["value"] - o["refund"]
    o["revenue"] = o["net"] + o["shipping"]
    p = t["products"].set_index("sku")
    landed_cny = p["unit_cost"] * (1 + p["duty_rate"]) + p["inbound_freight"] + p["packaging_cost"]
    cny = _rate(t["fx_rates"], o["month"], ["CNY"] * len(o))
    o["landed"] = o["sku"].map(landed_cny).to_numpy() * cny
    salvage = o["sku"].map(p["return_salvage_rate"]).fillna(0)
    o["product_cogs"] = o["quantity"] * o["landed"] - o["returned_qty"] * o["landed"] * salvage
    ch = t["channels"].set_index("channel")
    c = {k: o["channel"].map(ch[k]) for k in ch.columns}
    order_value = o.groupby("order_id")["value"].transform("sum")
    alloc = (o["value"] / order_value).fillna(0)   # per-order amounts split by line value
    o["fees"] = (c["commission_rate"] * o["revenue"]
                 + c["payment_fee_rate"] * (o["value"] + o["shipping"]) + c["payment_fee_fixed"] * alloc)
    o["fulfil"] = c["fulfillment_cost_per_unit"] * o["quantity"] + c["shipping_cost_per_order"] * alloc
    o["returned"] = (o["refund_amount"] > 0) | (o["returned_qty"] > 0)
    return o


def _year(frame, year, col="order_date"):
    return frame[frame[col].dt.year == year]


def _channel_table(t, lines, year):
    """Per channel: revenue, gross and contribution profit (SPEC §3), with expenses and campaigns."""
    ln = _year(lines, year)
    g = ln.groupby("channel")
    out = pd.DataFrame({"revenue": g["revenue"].sum(), "product_cogs": g["product_cogs"].sum(),
                        "fees": g["fees"].sum(), "fulfil": g["fulfil"].sum()})
    e = t["expenses"][t["expenses"]["month"].str.startswith(str(year))].dropna(subset=["channel"])
    e = e.assign(usd=e["amount"] * _rate(t["fx_rates"], e["month"], e["currency"]))
    by_cat = e.pivot_table(index="channel", columns="category", values="usd", aggfunc="sum").reindex(out.index)
    by_cat = by_cat.reindex(columns=["advertising", "logistics", "storage", "platform"]).fillna(0)
    cp = t["campaigns"]
    cp = cp[cp["start_date"].str.startswith(str(year))]
    cp = cp.assign(usd=cp["spend"] * _rate(t["fx_rates"], cp["start_date"].str[:7], cp["currency"]))
    spend = cp.groupby("channel")["usd"].sum().reindex(out.index).fillna(0)
    cogs = out["product_cogs"] + out["fees"] + out["fulfil"] + by_cat["logistics"] + by_cat["storage"] \
        + by_cat["platform"]
    out["gross_profit"] = out["revenue"] - cogs
    out["gross_margin"] = out["gross_profit"] / out["revenue"]
    out["ad_spend"] = spend + by_cat["advertising"]
    out["contribution_profit"] = out["gross_profit"] - out["ad_spend"]
    out["contribution_margin"] = out["contribution_profit"] / out["revenue"]
    return out


def _classify_channels(t, lines):
    now, before = _channel_table(t, lines, 2025), _channel_table(t, lines, 2024)
    now["share"] = now["revenue"] / now["revenue"].sum()
    now["growth"] = now["revenue"] / before["revenue"] - 1
    positive = now["contribution_profit"].clip(lower=0)
    now["cp_share"] = positive / positive.sum()
    company_cm = now["contribution_profit"].sum() / now["revenue"].sum()

    def cls(r):
        if r.contribution_profit <= 0 or (r.growth <= -0.10 and r.contribution_margin < company_cm):
            return "problem"
        if r.growth >= 0.20 and r.share < 0.25 and r.contribution_margin >= 0:
            return "potential"
        return "cash_cow" if r.cp_share >= 0.25 else "steady"
    now["class"] = now.apply(cls, axis=1)
    return now


def _sku_table(lines):
    """Per SKU for 2025: revenue, gross margin, return rate, months, CV, days of cover inputs."""
    ln = _year(lines, 2025)
    g = ln.groupby("sku")
    out = pd.DataFrame({"revenue": g["revenue"].sum(),
                        "cost": g["product_cogs"].sum() + g["fees"].sum() + g["fulfil"].sum()})
    out["gross_margin"] = (out["revenue"] - out["cost"]) / out["revenue"]
    order_ret = ln.groupby(["sku", "order_id"])["returned"].any()
    out["return_rate"] = order_ret.groupby("sku").mean()
    monthly = ln.pivot_table(index="sku", columns="month", values="quantity", aggfunc="sum")
    monthly = monthly.reindex(columns=[f"2025-{m:02d}" for m in range(1, 13)]).fillna(0)
    out["months"] = (monthly > 0).sum(axis=1)
    out["cv"] = monthly.std(axis=1, ddof=0) / monthly.mean(axis=1)
    last90 = ln[ln["order_date"] >= pd.Timestamp("2025-10-03")]
    out["units90"] = last90.groupby("sku")["quantity"].sum().reindex(out.index).fillna(0)
    out["last_sale"] = g["order_date"].max()
    company_return = ln.groupby("order_id")["returned"].any().mean()
    return out, company_return


def _classify_products(t, lines):
    out, company_return = _sku_table(lines)
    stock = t["products"].set_index("sku")["stock_on_hand"]
    out = out[out.index.isin(stock.index)].copy()         # SKUs with no cost are not classified
    out["stock"] = stock.reindex(out.index)
    out["cover"] = out["stock"] / (out["units90"] / 90).replace(0, np.nan)
    out = out.sort_values("revenue", ascending=False)
    out["above"] = out["revenue"].cumsum().shift(fill_value=0) / out["revenue"].sum()
    problem = ((out["gross_margin"] < 0) | (out["return_rate"] >= max(2 * company_return, 0.10))
               | (out["cover"] > 180) | ((out["stock"] > 0) & (out["units90"] == 0)))
    hit = out["above"] < 0.5
    ever = (out["months"] >= 9) & (out["cv"] <= 0.5) & (out["return_rate"] <= company_return)
    out["class"] = np.select([problem, hit, ever], ["problem", "hit", "evergreen"], "long_tail")
    return out, company_return


def _daily_net(lines, channel, sku):
    ln = lines[(lines["channel"] == channel) & (lines["sku"] == sku)]
    return ln.groupby("order_date")["net"].sum()


def _promotion(lines, row):
    """SPEC §4.4 promotion figures for one campaign row (sku-scoped)."""
    start, end = pd.Timestamp(row["start_date"]), pd.Timestamp(row["end_date"])
    days = pd.date_range(start - pd.Timedelta(days=28), end + pd.Timedelta(days=28))
    daily = _daily_net(lines, row["channel"], row["sku"]).reindex(days, fill_value=0.0)
    baseline = daily[:start - pd.Timedelta(days=1)].mean()
    during = daily[start:end].mean()
    post = daily[end + pd.Timedelta(days=1):].mean()
    n = (end - start).days + 1
    incremental = (during - baseline) * n
    pull = max(0.0, baseline - post) * 28
    if pull >= 0.5 * incremental:
        verdict = "pulled_forward"
    elif incremental - pull > 0:
        verdict = "incremental"
    else:
        verdict = "no_lift"
    return dict(baseline=baseline, during=during, post=post, incremental=incremental, pull=pull, verdict=verdict)


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=[(60000, 2025), (25000, 7)], ids=["default", "small-seed7"])
def ws(request, tmp_path_factory):
    n, seed = request.param
    path = demo.generate(tmp_path_factory.mktemp(f"demo{n}"), n_lines=n, seed=seed)
    t = _read(path)
    t["n"] = n
    t["lines"] = _lines(t)
    return t


# --- structure ---------------------------------------------------------------------------------

def test_files_and_headers_match_schema(ws):
    for name, table in TABLES.items():
        assert list(ws[name].columns) == table.column_names, name
    assert len(ws["orders"]) == pytest.approx(ws["n"], rel=0.02)


def test_settings_and_write_demo_workspace(tmp_path):
    path = demo.write_demo_workspace(tmp_path / "ws")
    s = yaml.safe_load((path / "settings.yaml").read_text(encoding="utf-8"))
    assert s == {"client": "Demo Pet Supplies 示例宠物用品", "base_currency": "USD", "lang": "zh",
                 "consultant": "ecomreview demo", "stage": "growth", "default_lifespan_years": 1}
    assert len(pd.read_csv(path / "orders.csv")) == pytest.approx(60000, rel=0.02)


def test_deterministic_for_a_seed(tmp_path):
    a = demo.generate(tmp_path / "a", n_lines=5000, seed=3)
    b = demo.generate(tmp_path / "b", n_lines=5000, seed=3)
    c = demo.generate(tmp_path / "c", n_lines=5000, seed=4)
    for name in list(TABLES) + ["planted"]:
        suffix = ".json" if name == "planted" else ".csv"
        assert (a / f"{name}{suffix}").read_bytes() == (b / f"{name}{suffix}").read_bytes(), name
    assert (a / "orders.csv").read_bytes() != (c / "orders.csv").read_bytes()


def test_main_cli(tmp_path, capsys):
    assert demo.main([str(tmp_path / "cli"), "--lines", "3000"]) == 0
    assert len(pd.read_csv(tmp_path / "cli" / "orders.csv")) == pytest.approx(3000, rel=0.02)


def test_order_details(ws):
    o, lines = ws["orders"], ws["lines"]
    assert set(o["order_date"].str[:4]) == {"2024", "2025"}
    # Countries and currencies follow the channel.
    pairs = set(map(tuple, o[["channel", "currency"]].drop_duplicates().to_numpy()))
    assert pairs == {("amazon_us", "USD"), ("tiktok_us", "USD"), ("ebay_uk", "GBP"), ("shopify_eu", "EUR")}
    assert set(o.loc[o["channel"] == "ebay_uk", "country"]) == {"GB"}
    assert set(o.loc[o["channel"] == "shopify_eu", "country"]) >= {"DE", "FR"}
    # Shipping only on Shopify; refunds never exceed the line; some discounts.
    assert (o.loc[o["channel"] != "shopify_eu", "shipping_charged"] == 0).all()
    assert (o.loc[o["channel"] == "shopify_eu", "shipping_charged"] > 0).any()
    assert (o["refund_amount"] <= o["quantity"] * o["unit_price"] - o["discount"] + 1e-9).all()
    assert (o["returned_qty"] <= o["quantity"]).all()
    assert 0.05 < (o["discount"] > 0).mean() < 0.25
    # ~2% without customer; one key per (order, sku) except the two planted duplicates.
    assert 0.01 < o["customer_id"].isna().mean() < 0.03
    assert o.duplicated().sum() == 2
    assert o.duplicated(["order_id", "sku"]).sum() == 2
    dq = ws["planted"]["data_quality"]
    assert dq["cancelled_lines"] == (o["status"] == "cancelled").sum() > 0
    assert set(o["sku"]) - set(ws["products"]["sku"]) == set(dq["skus_without_cost"])
    share = lines.loc[lines["sku"].isin(dq["skus_without_cost"]), "revenue"].sum() / lines["revenue"].sum()
    assert 0 < share < 0.002
    # Q4 peak: Nov+Dec average above the rest of the year's monthly average.
    m = _year(lines, 2025).groupby("month")["revenue"].sum()
    assert m[["2025-11", "2025-12"]].mean() > 1.3 * m.drop(["2025-11", "2025-12"]).mean()


def test_customers_repeat_and_retain(ws):
    lines = ws["lines"].dropna(subset=["customer_id"])
    c24 = set(_year(lines, 2024)["customer_id"])
    c25 = set(_year(lines, 2025)["customer_id"])
    retention = len(c24 & c25) / len(c24)
    assert 0.10 < retention < 0.50
    orders25 = _year(lines, 2025).groupby("customer_id")["order_id"].nunique()
    assert 0.10 < (orders25 >= 2).mean() < 0.45
    assert len(c25 - c24) > 0.4 * len(c25)          # plenty of new customers too


def test_fx_and_reference_tables(ws):
    fx = ws["fx_rates"]
    assert len(fx) == 24 * 3
    for cur, lo, hi in (("CNY", 0.138, 0.141), ("EUR", 1.05, 1.12), ("GBP", 1.24, 1.30)):
        r = fx.loc[fx["currency"] == cur, "rate_to_base"]
        assert r.between(lo, hi).all(), cur
    assert len(ws["products"]) >= 40 and (ws["products"]["cost_currency"] == "CNY").all()
    e = ws["expenses"]
    assert set(e["category"]) == set(TABLES["expenses"].column("category").choices)
    assert set(e["currency"]) >= {"CNY", "EUR", "USD", "GBP"}
    assert e["month"].nunique() == 24
    tr = ws["traffic"]
    assert tr[tr["sku"].isna()].groupby("channel")["month"].nunique().eq(24).all()
    assert tr["orders"].isna().all()
    g = ws["goals"]
    assert 4 <= len(g) <= 6 and g["deadline"].str.startswith("2026").all()
    assert "30,25,15,30" in set(g["breakdown"])
    k = ws["kpi_inputs"].set_index("kpi")["value"]
    assert k["nps"] == 42 and k["csat"] == 0.88


# --- planted truths ----------------------------------------------------------------------------

def test_channel_classes(ws):
    ch = _classify_channels(ws, ws["lines"])
    assert ch["class"].to_dict() == ws["planted"]["channels"]
    # Wide margins, not knife edges.
    assert ch.loc["amazon_us", "cp_share"] > 0.5 and ch.loc["amazon_us", "share"] > 0.45
    assert -0.05 < ch.loc["amazon_us", "growth"] < 0.15
    assert ch.loc["tiktok_us", "share"] < 0.15 and ch.loc["tiktok_us", "growth"] >= 0.6
    assert ch.loc["tiktok_us", "contribution_margin"] > 0.05
    assert ch.loc["ebay_uk", "contribution_margin"] < -0.10
    assert ch.loc["shopify_eu", "cp_share"] < 0.20 and ch.loc["shopify_eu", "contribution_margin"] > 0.03
    assert -0.05 < ch.loc["shopify_eu", "growth"] < 0.15


def test_product_classes(ws):
    sk, company_return = _classify_products(ws, ws["lines"])
    planted = ws["planted"]["products"]
    assert sk["class"].to_dict() == {s: v["class"] for s, v in planted.items()}
    hits = sk[sk["class"] == "hit"]
    assert 3 <= len(hits) <= 4
    assert hits["above"].max() < 0.47                       # the crossing hit starts well below 50%
    assert sk.loc[sk["class"] != "hit", "above"].min() > 0.53
    by_role = {v["role"]: s for s, v in planted.items()}
    assert sk.loc[by_role["hit_restock"], "cover"] < 30
    assert (sk.loc[hits.index.drop(by_role["hit_restock"]), "cover"] >= 45).all()
    ever = sk[sk["class"] == "evergreen"]
    assert len(ever) >= 3 and (ever["cv"] <= 0.3).all() and (ever["months"] == 12).all()
    assert (ever["return_rate"] < company_return * 0.7).all()
    assert sk.loc[by_role["problem_returns"], "return_rate"] >= 0.30
    assert sk.loc[by_role["problem_returns"], "gross_margin"] > 0
    assert sk.loc[by_role["problem_slow"], "units90"] == 0 and sk.loc[by_role["problem_slow"], "stock"] > 0
    assert sk.loc[by_role["problem_overstock"], "cover"] > 300
    assert sk.loc[by_role["problem_loss"], "gross_margin"] < -0.1
    # Long-tail SKUs fail the evergreen test by months sold, and none is a problem by accident.
    lt = sk[sk["class"] == "long_tail"]
    assert (lt["months"] <= 8).all()
    assert (lt["cover"] < 150).all() and (lt["gross_margin"] > 0.1).all()
    assert (lt["return_rate"] < max(2 * company_return, 0.10)).all()


def test_landed_cost_above_price_for_loss_maker(ws):
    p = ws["products"].set_index("sku")
    loss = [s for s, v in ws["planted"]["products"].items() if v["role"] == "problem_loss"][0]
    landed_usd = (p.loc[loss, "unit_cost"] * (1 + p.loc[loss, "duty_rate"]) + p.loc[loss, "inbound_freight"]
                  + p.loc[loss, "packaging_cost"]) * 0.1395
    ln = _year(ws["lines"], 2025)
    ln = ln[ln["sku"] == loss]
    assert landed_usd > (ln["gross"].sum() / ln["quantity"].sum())


def test_promotion_verdicts(ws):
    cp = ws["campaigns"]
    promos = cp[cp["type"] == "promotion"].set_index("campaign_id")
    lines = ws["lines"]
    got = {cid: _promotion(lines, row) for cid, row in promos.iterrows()}
    assert {cid: v["verdict"] for cid, v in got.items()} == ws["planted"]["promotions"]
    bf, pd_ = got["BF-2025"], got["PD-2025"]
    assert bf["during"] > 3 * bf["baseline"] and bf["post"] < 0.5 * bf["baseline"]
    assert bf["pull"] > 0.7 * bf["incremental"]              # well above the 50% line
    assert pd_["incremental"] > 0 and pd_["pull"] < 0.2 * pd_["incremental"]


def test_campaign_verdicts_and_wasted_spend(ws):
    lines = ws["lines"]
    gm = _channel_table(ws, lines, 2025)["gross_margin"]
    gm24 = _channel_table(ws, lines, 2024)["gross_margin"]
    cp = ws["campaigns"]
    totals = cp.groupby("campaign_id").agg(spend=("spend", "sum"), sales=("attributed_sales", "sum"),
                                           channel=("channel", "first"), start=("start_date", "first"))
    for cid, verdict in ws["planted"]["campaigns"].items():
        r = totals.loc[cid]
        margin = (gm if r["start"].startswith("2025") else gm24)[r["channel"]]
        roas, breakeven = r["sales"] / r["spend"], 1 / margin
        assert (roas >= breakeven) == (verdict == "profitable"), cid
        assert roas > 1.5 * breakeven or roas < 0.7 * breakeven, cid   # not knife-edge
    assert set(ws["planted"]["campaigns"].values()) == {"profitable", "unprofitable"}
    wasted = cp[(cp["type"] == "ads") & (cp["orders"] == 0)]
    assert len(wasted) >= 2 and (wasted["spend"] > 0).all()
    assert set(wasted["keyword"]) == set(ws["planted"]["wasted_keywords"])
    assert {"content", "influencer", "email"} <= set(cp["type"]) and cp["tags"].notna().all()


def test_traffic_quadrants(ws):
    tr = ws["traffic"].dropna(subset=["sku"])
    tr = tr[tr["month"].str.startswith("2025")]
    lines = _year(ws["lines"], 2025)
    sessions = tr.groupby("sku")["sessions"].sum()
    orders = lines[lines["channel"] == "shopify_eu"].groupby("sku")["order_id"].nunique().reindex(sessions.index)
    conv = orders / sessions
    hi_t, hi_c = sessions > sessions.median(), conv > conv.median()
    names = {(True, True): "high_traffic_high_conversion", (True, False): "high_traffic_low_conversion",
             (False, True): "low_traffic_high_conversion", (False, False): "low_traffic_low_conversion"}
    got = {s: names[(bool(hi_t[s]), bool(hi_c[s]))] for s in sessions.index}
    assert got == ws["planted"]["traffic_quadrants"]
    assert len(set(got.values())) == 4
