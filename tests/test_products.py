"""Product review (SPEC §4.3): metrics, each classification rule at its boundaries, actions, quadrants, charts."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from ecomreview import products as pr  # noqa: E402
from ecomreview.report import charts  # noqa: E402
from ecomreview.report.fmt import pct  # noqa: E402
from ecomreview.report.i18n import t as msg  # noqa: E402

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
MESSAGES = Path(pr.__file__).parent / "messages"


def build(skus: dict, company_return=0.04, stock: dict | None = None, traffic: dict | None = None,
          prev: dict | None = None, lang="en", thresholds=None):
    """skus: sku -> dict(revenue, margin=0.3, returns=0.02, monthly=[10]*4, last90=30).
    stock: sku -> stock_on_hand (None = no products table). traffic: sku -> (sessions, orders)."""
    spec = {s: {"margin": 0.3, "returns": 0.02, "monthly": [10] * 4, "last90": 30, **v} for s, v in skus.items()}
    kpis = pd.DataFrame({
        "units": [sum(v["monthly"]) for v in spec.values()],
        "revenue": [v["revenue"] for v in spec.values()],
        "gross_profit": [v["revenue"] * v["margin"] for v in spec.values()],
        "gross_margin": [v["margin"] for v in spec.values()],
        "return_rate": [v["returns"] for v in spec.values()],
        "refund_rate": [v["returns"] / 2 for v in spec.values()]}, index=list(spec))
    monthly = pd.DataFrame({s: v["monthly"] for s, v in spec.items()}, index=MONTHS)
    last90 = pd.Series({s: v["last90"] for s, v in spec.items()})
    products = (pd.DataFrame({"sku": list(stock), "stock_on_hand": list(stock.values())})
                if stock is not None else None)
    sku_traffic = (pd.DataFrame({"sessions": [a for a, _ in traffic.values()],
                                 "orders": [b for _, b in traffic.values()]}, index=list(traffic))
                   if traffic is not None else None)
    prev_kpis = pd.DataFrame({"revenue": list(prev.values())}, index=list(prev)) if prev else None
    return pr.product_table(kpis, prev_kpis, monthly, last90, products, {"return_rate": company_return},
                            sku_traffic, thresholds=thresholds, lang=lang)


# Three equal SKUs give each a share of 1/3: "big" is ranked first (name ties: b < x) and is a hit,
# so "x" (ranked 2nd or 3rd, ≥ 33% above it) can only be problem / evergreen / long tail.
def with_peers(x: dict, **kw):
    return build({"a_big": {"revenue": 10_000}, "x": {"revenue": 100, **x}, "y": {"revenue": 100}}, **kw)


# --- metrics -----------------------------------------------------------------------------------------

def test_share_months_cv_growth_and_cover():
    t = build({"p": {"revenue": 300, "monthly": [0, 10, 20, 30], "last90": 45},
               "q": {"revenue": 100, "monthly": [0, 0, 0, 0], "last90": 0}},
              stock={"p": 60, "q": 0}, prev={"p": 200})
    assert t.loc["p", "share"] == pytest.approx(0.75)
    # p: zeros count: mean 15, population std sqrt((225+25+25+225)/4) = sqrt(125) -> CV 0.745356
    assert t.loc["p", "months_with_sales"] == 3
    assert t.loc["p", "units_cv"] == pytest.approx(125 ** 0.5 / 15)
    assert t.loc["q", "months_with_sales"] == 0 and pd.isna(t.loc["q", "units_cv"])  # mean 0 -> absent
    assert t.loc["p", "growth"] == pytest.approx(0.5) and pd.isna(t.loc["q", "growth"])
    # p: 60 ÷ (45 ÷ 90) = 120 days; q: no stock and no sales -> absent, not inf
    assert t.loc["p", "days_of_cover"] == pytest.approx(120)
    assert pd.isna(t.loc["q", "days_of_cover"])


def test_stocked_sku_without_any_sale_is_listed_and_a_problem():
    t = build({"p": {"revenue": 100}}, stock={"p": 10, "dead": 40})
    assert "dead" in t.index and t.loc["dead", "revenue"] == 0
    assert t.loc["dead", "class"] == "problem" and t.loc["dead", "action"] == "clearance"
    assert pd.isna(t.loc["dead", "days_of_cover"])
    assert "40 units in stock and no sale in the last 90 days" in t.loc["dead", "reason"]


# --- rule 1: problem -----------------------------------------------------------------------------------

@pytest.mark.parametrize("margin, expected", [(-0.001, "problem"), (0.0, "evergreen"), (0.001, "evergreen")])
def test_problem_gross_margin_boundary(margin, expected):
    t = with_peers({"margin": margin})
    assert t.loc["x", "class"] == expected


@pytest.mark.parametrize("company, rate, expected", [
    (0.04, 0.0999, "long_tail"),  # bar = max(2 × 4%, 10%) = 10%; 9.99% is below it (but > company -> not evergreen)
    (0.04, 0.10, "problem"),
    (0.04, 0.1001, "problem"),
    (0.06, 0.1199, "long_tail"),  # bar = max(12%, 10%) = 12%
    (0.06, 0.12, "problem"),
    (0.06, 0.1201, "problem"),
])
def test_problem_return_rate_boundary(company, rate, expected):
    t = with_peers({"returns": rate}, company_return=company)
    assert t.loc["x", "class"] == expected
    if expected == "problem":
        assert t.loc["x", "action"] == "fix_listing_or_quality"
        assert pct(rate, "en") in t.loc["x", "reason"]


@pytest.mark.parametrize("stock, expected", [(179, "evergreen"), (180, "evergreen"), (181, "problem")])
def test_problem_days_of_cover_boundary(stock, expected):
    # 90 units in the last 90 days = 1 a day -> days of cover = stock
    t = with_peers({"last90": 90}, stock={"a_big": 1, "x": stock, "y": 1})
    assert t.loc["x", "days_of_cover"] == pytest.approx(stock)
    assert t.loc["x", "class"] == expected
    if expected == "problem":
        assert t.loc["x", "action"] == "clearance" and "days of cover 181 > 180" in t.loc["x", "reason"]


@pytest.mark.parametrize("stock, last90, expected", [(1, 0, "problem"), (0, 0, "evergreen"), (1, 1, "evergreen")])
def test_problem_no_sale_in_last_90_days(stock, last90, expected):
    t = with_peers({"last90": last90}, stock={"a_big": 1, "x": stock, "y": 1})
    assert t.loc["x", "class"] == expected


@pytest.mark.parametrize("margin, last90, returns, action", [
    (-0.1, 0, 0.02, "delist"),                   # loss-making and slow
    (0.3, 0, 0.5, "clearance"),                  # slow (and high returns): clearance first
    (-0.1, 30, 0.5, "fix_listing_or_quality"),   # loss-making with high returns: fix first
    (-0.1, 30, 0.02, "reprice"),                 # loss-making only
])
def test_problem_action_precedence(margin, last90, returns, action):
    t = with_peers({"margin": margin, "last90": last90, "returns": returns}, stock={"a_big": 1, "x": 5, "y": 1})
    assert t.loc["x", "class"] == "problem" and t.loc["x", "action"] == action


def test_missing_stock_data_is_said():
    t = with_peers({})
    assert "No stock data" in t.loc["x", "reason"] and pd.isna(t.loc["x", "days_of_cover"])


# --- rule 2: hit ---------------------------------------------------------------------------------------

def test_hit_crossing_fifty_percent():
    # revenue 40, 30, 20, 10: above b = 40% < 50% -> hit (it crosses 50%); above c = 70% -> not
    t = build({"a": {"revenue": 40}, "b": {"revenue": 30}, "c": {"revenue": 20}, "d": {"revenue": 10}})
    assert list(t["share_above"]) == pytest.approx([0.0, 0.4, 0.7, 0.9])
    assert list(t.loc[["a", "b"], "class"]) == ["hit", "hit"]
    assert t.loc["c", "class"] != "hit"
    assert pct(0.4, "en") in t.loc["b", "reason"] and pct(0.5, "en") in t.loc["b", "reason"]


@pytest.mark.parametrize("first, second_is_hit", [(49.9, True), (50.0, False), (50.1, False)])
def test_hit_boundary_at_fifty_percent(first, second_is_hit):
    # total 100: the second SKU has `first`% of revenue above it
    t = build({"a": {"revenue": first}, "b": {"revenue": (100 - first) * 0.6}, "c": {"revenue": (100 - first) * 0.4}})
    assert (t.loc["b", "class"] == "hit") == second_is_hit


def test_hit_ties_broken_by_sku():
    t = build({"b": {"revenue": 50}, "a": {"revenue": 50}})
    # a ranks first (name), b then has 50% above -> not a hit
    assert list(t.index) == ["a", "b"] and t.loc["a", "class"] == "hit" and t.loc["b", "class"] != "hit"


@pytest.mark.parametrize("stock, action", [(29, "replicate;restock"), (30, "replicate"), (31, "replicate")])
def test_hit_restock_boundary(stock, action):
    t = build({"a": {"revenue": 100, "last90": 90}}, stock={"a": stock})  # days of cover = stock
    assert t.loc["a", "class"] == "hit" and t.loc["a", "action"] == action


# --- rule 3: evergreen ---------------------------------------------------------------------------------

@pytest.mark.parametrize("monthly, expected", [
    ([1, 3, 1, 3], "evergreen"),        # mean 2, std 1 -> CV 0.5 exactly
    ([1, 3, 1, 3.02], "long_tail"),     # mean 2.005, std 1.005025 -> CV 0.5013
    ([1.02, 3, 1, 3], "evergreen"),     # mean 2.005, std 0.995025 -> CV 0.4963
])
def test_evergreen_cv_boundary(monthly, expected):
    t = with_peers({"monthly": monthly})
    assert t.loc["x", "class"] == expected


@pytest.mark.parametrize("monthly, expected", [
    ([0, 5, 5, 5], "evergreen"),   # 3 of 4 months = 75%
    ([0, 0, 5, 5], "long_tail"),   # 50%
])
def test_evergreen_month_share_boundary(monthly, expected):
    # With CV ≤ 0.5 a 75% month share is impossible (zeros push CV to ≥ 0.577), so relax CV here.
    t = with_peers({"monthly": monthly}, thresholds={"evergreen_cv": 1.0})
    assert t.loc["x", "class"] == expected


def test_evergreen_month_share_just_below_with_more_months():
    # 8 months would be needed for 5/8; with 4 months use a threshold of 0.76: 75% < 76% -> long tail
    t = with_peers({"monthly": [0, 5, 5, 5]}, thresholds={"evergreen_cv": 1.0, "evergreen_month_share": 0.76})
    assert t.loc["x", "class"] == "long_tail"
    assert "sold in 3 of 4 months" in t.loc["x", "reason"]


@pytest.mark.parametrize("rate, expected", [(0.0399, "evergreen"), (0.04, "evergreen"), (0.0401, "long_tail")])
def test_evergreen_return_rate_vs_company(rate, expected):
    t = with_peers({"returns": rate}, company_return=0.04)
    assert t.loc["x", "class"] == expected


def test_evergreen_reason_quotes_numbers():
    t = with_peers({"monthly": [1, 3, 1, 3]})
    reason = t.loc["x", "reason"]
    assert reason.startswith("Evergreen:") and "4 of 4 months" in reason and "CV 0.50 ≤ 0.5" in reason
    assert t.loc["x", "action"] == "bundle_or_refresh"
    long_tail = with_peers({"monthly": [0, 0, 0, 8]}).loc["x"]
    assert long_tail["class"] == "long_tail" and long_tail["action"] == "review"
    assert "1 of 4 months" in long_tail["reason"]


# --- summaries, quadrants, JSON, texts, charts ---------------------------------------------------------

def test_action_lists():
    t = build({"a": {"revenue": 100, "last90": 90}, "b": {"revenue": 10, "margin": -0.1}}, stock={"a": 10, "b": 1})
    lists = pr.action_lists(t)
    assert list(lists["replicate"].index) == ["a"] and list(lists["restock"].index) == ["a"]
    assert list(lists["reprice"].index) == ["b"] and lists["delist"].empty
    assert set(lists) == {"restock", "clearance", "fix", "delist", "reprice", "replicate", "bundle", "review"}


def test_quadrants_split_at_medians():
    # sessions 100, 200, 300, 400 -> median 250; conversion 5%, 1%, 4%, 2% -> median 3%
    t = build({s: {"revenue": 10} for s in "abcd"},
              traffic={"a": (100, 5), "b": (200, 2), "c": (300, 12), "d": (400, 8)})
    q = pr.quadrants(t, "en")
    assert q.attrs["sessions_median"] == pytest.approx(250)
    assert q.attrs["conversion_median"] == pytest.approx(0.03)
    assert q["quadrant"].to_dict() == {"a": "needs_traffic", "b": "reassess_fit", "c": "hit",
                                       "d": "product_problem"}
    assert "400" in q.loc["d", "diagnosis"] and pct(0.02, "en") in q.loc["d", "diagnosis"]


def test_quadrants_value_at_median_counts_as_high_and_no_traffic_is_empty():
    t = build({s: {"revenue": 10} for s in "abc"}, traffic={"a": (100, 1), "b": (200, 4), "c": (300, 9)})
    q = pr.quadrants(t, "en")   # median sessions 200 and conversion 2% are b's own
    assert q.loc["b", "traffic"] == "high" and q.loc["b", "conversion"] == "high"
    assert pr.quadrants(build({"a": {"revenue": 1}}), "en").empty


def test_abc_classes():
    t = build({"a": {"revenue": 70}, "b": {"revenue": 15}, "c": {"revenue": 10}, "d": {"revenue": 5}})
    # above: 0, 70%, 85%, 95% -> A, A (crosses 80%), B, C
    assert pr.abc_classes(t).to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_metrics_json_is_json_safe():
    t = build({"a": {"revenue": 100}, "b": {"revenue": 10}}, stock={"a": 5})
    data = pr.metrics_json(t)
    json.dumps(data, allow_nan=False)
    assert set(data["a"]) == {"class", "action", "reason", "revenue", "gross_margin", "return_rate", "days_of_cover"}
    assert data["b"]["days_of_cover"] is None


def test_both_languages_have_the_same_keys():
    zh = yaml.safe_load((MESSAGES / "zh" / "products.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((MESSAGES / "en" / "products.yaml").read_text(encoding="utf-8"))
    assert set(zh) == set(en) and all(k.startswith("products.") for k in zh)
    assert with_peers({"margin": -0.2}, lang="zh").loc["x", "reason"].startswith("问题款")
    assert pr.summary(with_peers({}), "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_titled_and_labelled(lang):
    t = build({s: {"revenue": r} for s, r in zip("abcd", (70, 15, 10, 5))},
              traffic={"a": (100, 5), "b": (200, 2), "c": (300, 12), "d": (400, 8)}, lang=lang)
    fig = pr.pareto_chart(t, lang, "USD")
    bars, line = fig.axes
    assert bars.get_title() == msg("products.pareto.title", lang)
    assert bars.get_xlabel() == msg("products.pareto.xlabel", lang)
    assert bars.get_ylabel() == msg("products.pareto.ylabel", lang, currency="USD")
    assert line.get_ylabel() == msg("products.pareto.y2label", lang)
    assert [p.get_height() for p in bars.patches[:4]] == [70, 15, 10, 5]
    assert charts.check_labelled(fig) == []
    matplotlib.pyplot.close(fig)
    fig = pr.quadrant_chart(pr.quadrants(t, lang), lang)
    ax = fig.axes[0]
    assert ax.get_title() == msg("products.quadrant_chart.title", lang)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    assert charts.check_labelled(fig) == []
    matplotlib.pyplot.close(fig)
