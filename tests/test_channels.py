"""Channel analysis (SPEC §4.2): metrics, each classification rule at its boundaries, reasons, chart."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from ecomreview import channels as ch  # noqa: E402
from ecomreview.report import charts  # noqa: E402
from ecomreview.report.fmt import money, pct, signed_pct  # noqa: E402
from ecomreview.report.i18n import t as msg  # noqa: E402

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
MESSAGES = Path(ch.__file__).parent / "messages"


def table(rows: dict, prev: dict | None = None, monthly: dict | None = None, company_margin=0.10,
          ops: dict | None = None, lang="en", thresholds=None):
    """rows: channel -> (revenue, contribution_profit); margin = profit ÷ revenue.
    prev: channel -> last year's revenue. monthly: channel -> 4 monthly revenues (default flat)."""
    kpis = pd.DataFrame({"revenue": [r for r, _ in rows.values()],
                         "contribution_profit": [p for _, p in rows.values()],
                         "contribution_margin": [p / r if r else None for r, p in rows.values()]},
                        index=list(rows))
    prev_kpis = pd.DataFrame({"revenue": list(prev.values())}, index=list(prev)) if prev is not None else None
    monthly = monthly or {c: [r / 4] * 4 for c, (r, _) in rows.items()}
    channels = (pd.DataFrame({"channel": list(ops), "ops_hours": list(ops.values())})
                if ops is not None else None)
    return ch.channel_table(kpis, prev_kpis, pd.DataFrame(monthly, index=MONTHS), channels,
                            {"contribution_margin": company_margin}, thresholds=thresholds, lang=lang)


# --- metrics -----------------------------------------------------------------------------------------

def test_trend_growth_by_hand():
    # months 100, 110, 120, 130: slope 10 per month, mean 115 -> 10 × 12 ÷ 115 = 1.043478...
    assert ch.trend_growth([100, 110, 120, 130]) == pytest.approx(120 / 115)
    # x = 0,1,2; y = 30, 0, 30: slope 0 -> 0
    assert ch.trend_growth([30, 0, 30]) == pytest.approx(0.0)
    assert ch.trend_growth([100]) is None          # fewer than 2 months
    assert ch.trend_growth([0, 0, 0]) is None      # mean 0


def test_growth_yoy_else_trend_else_none():
    t = table({"a": (1000, 100), "b": (460, 46), "c": (400, 40)}, prev={"a": 800, "c": 0},
              monthly={"a": [250] * 4, "b": [100, 110, 120, 130], "c": [100] * 4})
    # a: YoY 1000 ÷ 800 − 1 = 0.25
    assert t.loc["a", "growth"] == pytest.approx(0.25) and t.loc["a", "growth_method"] == "yoy"
    # b: missing last year -> trend 10 × 12 ÷ 115
    assert t.loc["b", "growth"] == pytest.approx(120 / 115) and t.loc["b", "growth_method"] == "trend"
    assert "seasonality" in t.loc["b", "reason"]
    # c: last year's revenue 0 -> no YoY; flat months -> trend 0
    assert t.loc["c", "growth"] == pytest.approx(0.0) and t.loc["c", "growth_method"] == "trend"


def test_growth_none_with_one_month_says_rules_not_applied():
    kpis = pd.DataFrame({"revenue": [100.0], "contribution_profit": [30.0], "contribution_margin": [0.3]},
                        index=["solo"])
    t = ch.channel_table(kpis, None, pd.DataFrame({"solo": [100.0]}, index=["2025-01"]), None,
                         {"contribution_margin": 0.1}, lang="en")
    assert t.loc["solo", "growth"] is None or pd.isna(t.loc["solo", "growth"])
    # share 100% -> profit share 100% ≥ 25% -> cash cow, and the reason says growth was unknown
    assert t.loc["solo", "class"] == "cash_cow"
    assert "Growth is unknown" in t.loc["solo", "reason"]


def test_share_volatility_profit_share_and_per_hour():
    t = table({"a": (600, 90), "b": (300, 30), "c": (100, -20)},
              monthly={"a": [100, 200, 100, 200], "b": [75] * 4, "c": [0, 0, 50, 50]},
              ops={"a": 30, "b": 0, "c": 10}, prev={"a": 600, "b": 300, "c": 100})
    # shares of 1000
    assert t.loc["a", "share"] == pytest.approx(0.6) and t.loc["c", "share"] == pytest.approx(0.1)
    # a: mean 150, population std 50 -> CV 1/3; b flat -> 0; c: mean 25, std 25 -> 1
    assert t.loc["a", "volatility"] == pytest.approx(1 / 3)
    assert t.loc["b", "volatility"] == pytest.approx(0.0)
    assert t.loc["c", "volatility"] == pytest.approx(1.0)
    # positive contribution 90 + 30 = 120: a 0.75, b 0.25, c (loss) 0
    assert t.loc["a", "profit_share"] == pytest.approx(0.75)
    assert t.loc["b", "profit_share"] == pytest.approx(0.25)
    assert t.loc["c", "profit_share"] == 0
    # 90 ÷ 30 h = 3; b has 0 hours -> absent; c: -20 ÷ 10 = -2
    assert t.loc["a", "profit_per_hour"] == pytest.approx(3.0)
    assert pd.isna(t.loc["b", "profit_per_hour"])
    assert t.loc["c", "profit_per_hour"] == pytest.approx(-2.0)
    # not every channel has hours -> rank by contribution profit: a, b, c
    assert t.attrs["rank_by"] == "contribution_profit"
    assert list(t.index) == ["a", "b", "c"] and list(t["rank"]) == [1, 2, 3]


def test_rank_by_profit_per_hour_when_every_channel_has_hours():
    # a earns 90 in 90 h (1/h), b earns 30 in 10 h (3/h) -> b first
    t = table({"a": (600, 90), "b": (300, 30)}, ops={"a": 90, "b": 10}, prev={"a": 600, "b": 300})
    assert t.attrs["rank_by"] == "profit_per_hour"
    assert t.loc["b", "rank"] == 1 and t.loc["a", "rank"] == 2


# --- rule 1: problem -----------------------------------------------------------------------------------

@pytest.mark.parametrize("profit, expected", [(-0.01, "problem"), (0.0, "problem"), (0.01, "steady")])
def test_problem_contribution_profit_boundary(profit, expected):
    # "x" has 10% of revenue and flat growth; "big" holds the profit so x's profit share < 25%
    t = table({"big": (900, 200), "x": (100, profit)}, prev={"big": 900, "x": 100})
    assert t.loc["x", "class"] == expected


def test_problem_reason_quotes_the_profit():
    t = table({"big": (900, 200), "x": (100, -12.5)}, prev={"big": 900, "x": 100})
    assert t.loc["x", "reason"].startswith("Problem channel: contribution profit")
    assert money(-12.5, "USD", "en") in t.loc["x", "reason"] and "≤ 0" in t.loc["x", "reason"]


@pytest.mark.parametrize("last_year, expected", [
    (112.0, "problem"),  # 100 ÷ 112 − 1 = −10.7% ≤ −10%
    (100 / 0.9, "problem"),  # exactly −10%
    (110.0, "steady"),   # 100 ÷ 110 − 1 = −9.1% > −10%
])
def test_problem_decline_boundary(last_year, expected):
    # x: margin 5% below the company's 10%; profit share 5 ÷ 205 < 25%
    t = table({"big": (900, 200), "x": (100, 5)}, prev={"big": 900, "x": last_year}, company_margin=0.10)
    assert t.loc["x", "class"] == expected


@pytest.mark.parametrize("company_margin, expected", [(0.0501, "problem"), (0.05, "steady"), (0.0499, "steady")])
def test_problem_decline_needs_margin_strictly_below_company(company_margin, expected):
    # x declines 20% with margin 5%: problem only when 5% < company's margin
    t = table({"big": (900, 200), "x": (100, 5)}, prev={"big": 900, "x": 125}, company_margin=company_margin)
    assert t.loc["x", "class"] == expected


def test_decline_reason_quotes_growth_and_margins():
    t = table({"big": (900, 200), "x": (100, 5)}, prev={"big": 900, "x": 125}, company_margin=0.08)
    reason = t.loc["x", "reason"]
    for text in (signed_pct(-0.2, "en"), signed_pct(-0.10, "en"), pct(0.05, "en"), pct(0.08, "en")):
        assert text in reason


def test_decline_rule_without_company_margin_is_said():
    t = table({"big": (900, 200), "x": (100, 5)}, prev={"big": 900, "x": 125}, company_margin=None)
    assert t.loc["x", "class"] == "steady"
    assert "company's contribution margin is unknown" in t.loc["x", "reason"]


# --- rule 2: potential ----------------------------------------------------------------------------------

@pytest.mark.parametrize("last_year, expected", [
    (100 / 1.19, "steady"),  # +19%
    (100 / 1.2, "potential"),  # exactly +20%
    (100 / 1.21, "potential"),  # +21%
])
def test_potential_growth_boundary(last_year, expected):
    t = table({"big": (900, 200), "x": (100, 5)}, prev={"big": 900, "x": last_year})
    assert t.loc["x", "class"] == expected


@pytest.mark.parametrize("revenue, expected", [
    (24.9, "potential"),  # share 24.9% < 25%
    (25.0, "cash_cow"),   # share exactly 25% is not "small"; profit share 25 ÷ 100 ≥ 25% -> cash cow
    (25.1, "cash_cow"),
])
def test_potential_share_boundary(revenue, expected):
    # other channel brings 100 − revenue; x's profit = its revenue × 0.3, other's the same margin
    other = 100 - revenue
    t = table({"other": (other, other * 0.3), "x": (revenue, revenue * 0.3)},
              prev={"other": other, "x": revenue / 1.5})
    assert t.loc["x", "class"] == expected


def test_potential_needs_non_negative_margin():
    # margin 0 is allowed by rule 2 but profit 0 is already a problem (rule 1 wins): check the reason
    t = table({"big": (900, 200), "x": (100, 0)}, prev={"big": 900, "x": 50})
    assert t.loc["x", "class"] == "problem"
    # with a positive margin and +100% growth: potential, reason quotes all three numbers
    t = table({"big": (900, 200), "x": (100, 6.2)}, prev={"big": 900, "x": 50})
    assert t.loc["x", "class"] == "potential"
    reason = t.loc["x", "reason"]
    for text in (signed_pct(1.0, "en"), pct(0.2, "en"), pct(0.1, "en"), pct(0.25, "en"),
                 pct(0.062, "en")):
        assert text in reason


# --- rule 3: cash cow -----------------------------------------------------------------------------------

@pytest.mark.parametrize("profit, expected", [
    (24.9, "steady"),     # 24.9 ÷ (75.1 + 24.9) = 24.9%
    (25.0, "cash_cow"),   # 25%
    (25.1, "cash_cow"),
])
def test_cash_cow_profit_share_boundary(profit, expected):
    # x: 50% of revenue (not small), flat; "y" brings the rest of the positive profit; "z" a loss that
    # must not count in the denominator
    t = table({"x": (500, profit), "y": (400, 100 - profit), "z": (100, -30)},
              prev={"x": 500, "y": 400, "z": 100})
    assert t.loc["x", "class"] == expected
    assert t.loc["x", "profit_share"] == pytest.approx(profit / 100)


def test_steady_reason_says_why_not_potential_nor_cash_cow():
    t = table({"x": (500, 10), "y": (500, 90)}, prev={"x": 500, "y": 500})
    reason = t.loc["x", "reason"]
    # growth 0 < 20%, profit share 10% < 25%
    assert reason.startswith("Steady:") and "< " + pct(0.2, "en") in reason
    assert pct(0.1, "en") in reason and pct(0.25, "en") in reason


def test_thresholds_override():
    # with cash_cow_profit_share 0.5, a 40% profit share is no longer a cash cow
    rows, prev = {"x": (500, 40), "y": (500, 60)}, {"x": 500, "y": 500}
    assert table(rows, prev=prev).loc["x", "class"] == "cash_cow"
    t = table(rows, prev=prev, thresholds={"cash_cow_profit_share": 0.5, "unknown_key": 3})
    assert t.loc["x", "class"] == "steady"


def test_unknown_profit_says_so():
    kpis = pd.DataFrame({"revenue": [100.0, 100.0], "contribution_profit": [None, None],
                         "contribution_margin": [None, None]}, index=["a", "b"])
    t = ch.channel_table(kpis, None, pd.DataFrame({"a": [50.0, 50.0], "b": [50.0, 50.0]}, index=MONTHS[:2]),
                         None, {}, lang="en")
    assert set(t["class"]) == {"steady"}
    assert "Contribution profit is unknown" in t.loc["a", "reason"]


# --- summaries, JSON, texts, chart ----------------------------------------------------------------------

@pytest.mark.parametrize("top, status", [(69.9, "green"), (70.0, "green"), (70.1, "red")])
def test_concentration_boundary(top, status):
    t = table({"top": (top, 10), "rest": (100 - top, 10)}, prev={"top": top, "rest": 100 - top})
    c = ch.concentration(t, lang="en")
    assert c["channel"] == "top" and c["share"] == pytest.approx(top / 100)
    assert c["status"] == status and c["red"] == (status == "red")
    assert pct(top / 100, "en") in c["message"]


def test_recommendations_one_per_class_present():
    t = table({"big": (900, 200), "x": (100, -5)}, prev={"big": 900, "x": 100})
    recs = ch.recommendations(t, "en")
    assert len(recs) == 2 and "(x)" in recs[0] and "(big)" in recs[1]
    assert len(ch.recommendations(t, "zh")) == 2


def test_metrics_json_is_json_safe():
    t = table({"a": (600, 90), "b": (300, 30)}, ops={"a": 30}, prev={"a": 600})
    data = ch.metrics_json(t)
    json.dumps(data, allow_nan=False)
    assert set(data["a"]) == {"class", "reason", "revenue", "share", "contribution_profit",
                              "contribution_margin", "growth", "profit_per_hour"}
    assert data["b"]["profit_per_hour"] is None and data["a"]["profit_per_hour"] == pytest.approx(3.0)


def test_both_languages_have_the_same_keys():
    zh = yaml.safe_load((MESSAGES / "zh" / "channels.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((MESSAGES / "en" / "channels.yaml").read_text(encoding="utf-8"))
    assert set(zh) == set(en) and all(k.startswith("channels.") for k in zh)
    t = table({"big": (900, 200), "x": (100, -5)}, prev={"big": 900, "x": 100}, lang="zh")
    assert t.loc["x", "reason"].startswith("问题渠道")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bubble_chart_titled_and_labelled(lang):
    t = table({"big": (900, 200), "x": (100, -5), "new": (50, 5)}, prev={"big": 800, "x": 100},
              monthly={"big": [225] * 4, "x": [25] * 4, "new": [0, 0, 0, 50]}, lang=lang)
    fig = ch.bubble_chart(t, lang, "USD")
    ax = fig.axes[0]
    assert ax.get_title() == msg("channels.chart.title", lang)
    assert ax.get_xlabel() == msg("channels.chart.xlabel", lang)
    assert ax.get_ylabel() == msg("channels.chart.ylabel", lang)
    assert {a.get_text() for a in ax.texts} == {"big", "x", "new"}
    assert ax.get_legend() is not None
    assert charts.check_labelled(fig) == []
    matplotlib.pyplot.close(fig)
