"""SMART plan (SPEC §5): target parsing, goal checks, SMART letters, breakdowns, plan CSV, tracker workbook."""
from __future__ import annotations

import shutil
import subprocess
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ecomreview import goal_tracker as gt
from ecomreview import goals as G
from ecomreview.errors import InputError


def goal(metric="revenue", target="1200000", **kw) -> G.Goal:
    kind, amount = G.target_spec(target)
    return G.Goal(goal_id=kw.pop("goal_id", "G1"), metric=metric, target_text=str(target),
                  target_kind=kind, target_amount=amount, **kw)


def cents(series) -> int:
    return int(np.round(np.asarray(series, dtype=float) * 100).sum())


# --- parsing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, baseline, expected", [
    ("50", None, (50.0, "absolute")),
    ("1,200,000", None, (1_200_000.0, "absolute")),
    ("¥1,200,000", None, (1_200_000.0, "absolute")),
    ("120万", None, (1_200_000.0, "absolute")),          # 120 × 10,000
    ("+30%", 1000.0, (1300.0, "relative")),              # 1000 × 1.3
    ("-10%", 1000.0, (900.0, "relative")),
    ("+5pp", 0.31, (0.36, "points")),                    # 0.31 + 0.05
    ("-2 pp", 0.08, (0.06, "points")),
    ("45%", 0.30, (0.45, "absolute")),                   # an absolute rate
    ("＋３０％", 100.0, (130.0, "relative")),              # full-width characters
    ("+20000", 100000.0, (120000.0, "change")),
    ("+30%", None, (None, "relative")),                  # needs a baseline that is missing
])
def test_parse_target(text, baseline, expected):
    value, kind = G.parse_target(text, baseline)
    assert kind == expected[1]
    assert value == pytest.approx(expected[0]) if expected[0] is not None else value is None


@pytest.mark.parametrize("text", ["abc", "5pp", "", "+", "30%%", "$5%"])
def test_parse_target_unreadable(text):
    with pytest.raises(G.GoalFormatError):
        G.parse_target(text, 100.0)


def test_parse_scope_and_breakdown():
    assert G.parse_scope("") == "all"
    assert G.parse_scope(" Channel : amazon_us ") == "channel:amazon_us"
    assert G.parse_scope("sku:PAD-XL") == "sku:PAD-XL"
    with pytest.raises(G.GoalFormatError):
        G.parse_scope("region:EU")
    assert G.parse_breakdown(None) == "seasonal"
    assert G.parse_breakdown("even") == "even"
    assert G.parse_breakdown("30,25,15,30") == pytest.approx((0.30, 0.25, 0.15, 0.30))
    assert G.parse_breakdown("1,1,1,1") == pytest.approx((0.25,) * 4)  # normalised
    for bad in ("30,25,15", "30,0,15,55", "a,b,c,d", "30,-5,45,30"):
        with pytest.raises(G.GoalFormatError):
            G.parse_breakdown(bad)


# --- check_goals ------------------------------------------------------------------------------

def goals_table(**cols) -> pd.DataFrame:
    base = {"goal_id": ["G1"], "metric": ["revenue"], "target": ["+30%"], "scope": ["all"],
            "deadline": ["2026-12-31"], "breakdown": ["seasonal"], "_row": [7]}
    base.update({k: [v] for k, v in cols.items()})
    return pd.DataFrame(base)


@pytest.mark.parametrize("column, value, words", [
    ("metric", "revenu", ["row 7", "column metric", '"revenue"']),   # closest name suggested
    ("metric", "happiness", ["row 7", "column metric", "not a metric"]),
    ("target", "thirty percent", ["row 7", "column target", "cannot be read"]),
    ("target", "+5pp", ["row 7", "column target", "percentage points"]),   # pp on revenue
    ("scope", "region:EU", ["row 7", "column scope", "channel:amazon_us"]),
    ("breakdown", "30,25,15", ["row 7", "column breakdown", "30,25,15,30"]),
    ("deadline", "2025-12-31", ["row 7", "column deadline", "in the past"]),
    ("deadline", "next year", ["row 7", "column deadline", "not a date"]),
])
def test_malformed_goal_is_an_error_naming_the_row(column, value, words):
    goals, problems = G.check_goals(goals_table(**{column: value}), source_file="goals.csv",
                                    plan_year=2026)
    assert goals == []
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1
    text = str(errors[0])
    assert text.startswith("goals.csv row 7")
    for w in words:
        assert w in text


def test_deadline_before_today_is_past_and_after_the_year_is_a_warning():
    _, problems = G.check_goals(goals_table(deadline="2026-03-01"), source_file="goals.csv",
                                plan_year=2026, today=date(2026, 4, 1))
    assert "in the past (before 2026-04-01)" in str(problems[0])
    goals, problems = G.check_goals(goals_table(deadline="2027-02-01"), source_file="goals.csv",
                                    plan_year=2026)
    assert len(goals) == 1 and problems[0].severity == "warning" and problems[0].row == 7
    assert G.smart(goals[0], 100.0, None, None, 2026)["T"]["ok"] is False


def test_check_goals_reads_a_good_row_and_messages_exist_in_chinese():
    table = goals_table(metric="Gross_Margin", target="+5pp", scope="channel:shop", breakdown="even",
                        weekly_actions="list 2 new products；optimise 10 listings", owner="Lily")
    goals, problems = G.check_goals(table, source_file="goals.csv", plan_year=2026)
    assert problems == []
    g = goals[0]
    assert (g.metric, g.target_kind, g.scope, g.breakdown, g.row) == ("gross_margin", "points", "channel:shop", "even", 7)
    assert g.weekly_actions == ("list 2 new products", "optimise 10 listings")
    assert g.dimension == "product"            # default dimension of gross_margin
    _, problems = G.check_goals(goals_table(metric="revenu"), source_file="goals.csv",
                                plan_year=2026, lang="zh")
    assert "系统认识" in problems[0].message and "revenue" in problems[0].fix


def test_duplicate_goal_id():
    table = pd.concat([goals_table(), goals_table(_row=8)], ignore_index=True)
    goals, problems = G.check_goals(table, source_file="goals.csv", plan_year=2026)
    assert len(goals) == 1 and problems[0].row == 8 and problems[0].column == "goal_id"


# --- SMART ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target, yoy, ok", [
    ("150", None, True),        # 150 ÷ 100 − 1 = 50%: exactly at the limit
    ("150.01", None, False),    # 50.01% > 50%: stretch
    ("160", 0.30, True),        # twice a YoY growth of 30% = 60% ≥ 60%
    ("160.01", 0.30, False),
    ("150.01", -0.40, False),   # a fall last year gives no extra room
    ("40", None, False),        # a cut of 60% is beyond 50% too
])
def test_smart_a_relative_boundaries(target, yoy, ok):
    result = G.smart(goal("revenue", target, deadline=date(2026, 12, 31), strategy="grow"),
                     100.0, yoy, None, 2026)
    assert result["A"]["ok"] is ok
    assert ("Achievable" if ok else "Stretch") in result["A"]["reason"]


@pytest.mark.parametrize("metric, baseline, target, yoy, ok", [
    ("gross_margin", 0.30, "40%", None, True),       # +10pp: at the limit
    ("gross_margin", 0.30, "40.01%", None, False),   # +10.01pp
    ("gross_margin", 0.30, "42%", 0.06, True),       # twice +6pp = 12pp ≥ 12pp
    ("return_rate", 0.20, "-10pp", None, True),      # a cut of 10pp
    ("return_rate", 0.20, "6%", -0.07, True),        # −14pp; last year fell 7pp → room 14pp
    ("return_rate", 0.20, "5.9%", -0.07, False),     # −14.1pp
])
def test_smart_a_points_boundaries(metric, baseline, target, yoy, ok):
    result = G.smart(goal(metric, target), baseline, yoy, None, 2026)
    assert result["A"]["ok"] is ok


def test_smart_letters_and_reasons_quote_numbers():
    g = goal("gross_margin", "+5pp", deadline=date(2026, 12, 31))
    r = G.smart(g, 0.31, 0.01, {"gross_margin": 0.31}, 2026)
    assert all(r[k]["ok"] for k in "SMART")
    assert "31.0%" in r["M"]["reason"] and "36.0%" in r["A"]["reason"] and "+5.0pp" in r["A"]["reason"]
    assert "40%" in r["R"]["reason"]                 # linked to the margin finding
    r = G.smart(goal("aov", "+10%"), None, None, {}, 2026)
    assert not r["M"]["ok"] and not r["A"]["ok"] and not r["R"]["ok"] and not r["T"]["ok"]
    assert r["S"]["ok"]
    zh = G.smart(goal("aov", "+10%", strategy="品牌化"), 45.0, None, None, 2026, lang="zh")
    assert "品牌化" in zh["R"]["reason"] and "可实现" in zh["A"]["reason"]


# --- suggested goals --------------------------------------------------------------------------

def test_suggest_goals_from_findings_round_trip_through_check():
    findings = {"gross_margin": 0.31, "tacos": 0.18, "unprofitable_campaigns": ["SP-02"],
                "potential_channels": [{"channel": "tiktok_us"}],
                "problem_products": [{"sku": "CAT-1", "action": "fix_listing_or_quality"},
                                     {"sku": "OLD-9", "action": "clearance", "stock_on_hand": 400}]}
    s = G.suggest_goals(findings, plan_year=2026)
    assert list(s.columns) == G.GOAL_COLUMNS
    assert s["goal_id"].tolist() == ["S1", "S2", "S3", "S4", "S5"]
    assert s[["metric", "target", "scope"]].values.tolist() == [
        ["gross_margin", "40%", "all"],          # 40% − 31% = 9pp ≤ 10pp: straight to the threshold
        ["tacos", "15%", "all"],                 # 18% − 15% = 3pp
        ["revenue", "+30%", "channel:tiktok_us"],
        ["return_rate", "-30%", "sku:CAT-1"],
        ["units", "400", "sku:OLD-9"],
    ]
    goals, problems = G.check_goals(s, source_file="suggested", plan_year=2026, today=date(2026, 1, 1))
    assert problems == [] and len(goals) == 5
    assert all(G.smart(g, 1.0, None, findings, 2026)["R"]["ok"] for g in goals)
    far = G.suggest_goals({"gross_margin": 0.25}, plan_year=2026)
    assert far["target"].tolist() == ["+5pp"]    # 15pp away: a first step
    assert G.suggest_goals({"gross_margin": 0.40}, plan_year=2026).empty


# --- profile and breakdown --------------------------------------------------------------------

def test_monthly_profile_shares_and_fallbacks():
    values = pd.Series(range(1, 13), index=[f"2025-{m:02d}" for m in range(1, 13)], dtype=float)
    p = G.monthly_profile(values)
    assert p.attrs["basis"] == "seasonal"
    assert p[1] == pytest.approx(1 / 78) and p[12] == pytest.approx(12 / 78)   # 1+…+12 = 78
    short = G.monthly_profile(values.iloc[:11])
    assert short.attrs == {"basis": "even", "note": "incomplete_year"} and short[5] == pytest.approx(1 / 12)
    assert G.monthly_profile(values * 0).attrs["note"] == "zero_total"


def test_even_breakdown_1_2m_is_100k_a_month_and_w05_splits_by_days():
    plan = G.breakdown(goal(breakdown="even"), 1_200_000, None, 2026)
    assert cents(plan["target"]) == 120_000_000
    assert (plan.groupby("month")["target"].sum().round(2) == 100_000).all()
    assert plan.groupby("quarter")["target"].sum().round(2).tolist() == [300_000] * 4
    w05 = plan[plan["iso_week"] == "2026-W05"]
    # 2026-W05 = Mon Jan 26 .. Sun Feb 1: 6 days in January, 1 in February
    assert w05[["month", "days"]].values.tolist() == [["2026-01", 6], ["2026-02", 1]]
    # January 100,000 × 6/31 = 19,354.838… → 19,354.84; February 100,000 × 1/28 = 3,571.43
    assert w05["target"].tolist() == [19354.84, 3571.43]
    # 2026 starts on a Thursday: W01 has Jan 1–4 only; Dec 28–31 are 2026-W53
    assert plan.iloc[0][["iso_week", "days"]].tolist() == ["2026-W01", 4]
    assert plan.iloc[-1][["iso_week", "start", "end"]].tolist() == ["2026-W53", "2026-12-28", "2026-12-31"]
    assert plan["days"].sum() == 365


def test_seasonal_breakdown_follows_last_years_shares():
    values = pd.Series(range(1, 13), index=[f"2025-{m:02d}" for m in range(1, 13)], dtype=float)
    plan = G.breakdown(goal(), 1_200_000, G.monthly_profile(values), 2026)
    months = plan.groupby("month")["target"].sum()
    expected = [1_200_000 * m / 78 for m in range(1, 13)]      # Dec: 1.2M × 12/78 = 184,615.38
    assert months.to_numpy() == pytest.approx(expected, abs=0.01)
    assert months["2026-12"] == pytest.approx(184_615.38, abs=1e-6)
    assert cents(plan["target"]) == 120_000_000


def test_quarter_weights_split_by_profile_within_the_quarter():
    g = goal(breakdown=G.parse_breakdown("30,25,15,30"))
    plan = G.breakdown(g, 1_200_000, None, 2026)
    # even profile: Q1 30% = 360,000, Q2 300,000, Q3 180,000, Q4 360,000; Jan = 360,000 ÷ 3
    assert plan.groupby("quarter")["target"].sum().round(2).tolist() == [360_000, 300_000, 180_000, 360_000]
    assert plan.groupby("month")["target"].sum()["2026-01"] == pytest.approx(120_000)
    profile = pd.Series([1, 1, 2] + [1] * 9, index=range(1, 13), dtype=float)
    months = G.breakdown(g, 1_200_000, profile / profile.sum(), 2026).groupby("month")["target"].sum()
    # Q1 360,000 split 1:1:2 → Jan 90,000, Feb 90,000, Mar 180,000
    assert months[["2026-01", "2026-02", "2026-03"]].round(2).tolist() == [90_000, 90_000, 180_000]


@pytest.mark.parametrize("total", [1_000_000.01, 7.0, 1234.5, 99_999.99])
def test_weekly_targets_sum_to_the_annual_target_to_the_cent(total):
    values = pd.Series([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], index=range(1, 13), dtype=float)
    for b in ("seasonal", "even", G.parse_breakdown("10,20,30,40")):
        plan = G.breakdown(goal(breakdown=b), total, G.monthly_profile(values), 2026)
        assert cents(plan["target"]) == round(total * 100)
        month_sum = plan.groupby("month")["target"].sum()
        quarter_sum = plan.groupby("quarter")["target"].sum()
        assert cents(month_sum) == cents(quarter_sum) == round(total * 100)


def test_count_metric_keeps_cents_so_the_sum_is_exact():
    plan = G.breakdown(goal("orders", "1000", breakdown="even"), 1000, None, 2026)
    assert cents(plan["target"]) == 100_000
    months = plan.groupby("month")["target"].sum()
    # 100,000 cents ÷ 12 = 8,333.33…: every month 83.33, the 4 leftover cents to Jan–Apr (ties keep order)
    assert months.tolist() == pytest.approx([83.34] * 4 + [83.33] * 8)


def test_additive_deadline_before_year_end_covers_jan_1_to_the_deadline():
    g = goal(breakdown="even", deadline=date(2026, 6, 15))
    plan = G.breakdown(g, 600_000, None, 2026)
    assert plan["end"].max() == "2026-06-15"
    months = plan.groupby("month")["target"].sum()
    # weights: Jan–May 1 each, June 15/30 = 0.5 → 5.5 → Jan 600,000 ÷ 5.5, June half of that
    assert months["2026-01"] == pytest.approx(109_090.91)
    assert months["2026-06"] == pytest.approx(54_545.45)
    assert cents(plan["target"]) == 60_000_000


def test_ratio_glide_path_to_the_deadline_month_then_flat():
    g = goal("gross_margin", "36%", deadline=date(2026, 6, 30))
    plan = G.breakdown(g, 0.36, None, 2026, baseline=0.30)
    months = plan.groupby("month")["target"].first()
    # 0.30 → 0.36 over 6 months: +1pp a month, then flat at 36%
    assert months.tolist() == pytest.approx([0.31, 0.32, 0.33, 0.34, 0.35, 0.36] + [0.36] * 6)
    w05 = plan[plan["iso_week"] == "2026-W05"]["target"].tolist()
    assert w05 == pytest.approx([0.31, 0.32])                   # each part carries its month
    assert plan["aggregation"].unique().tolist() == ["level"]


# --- build_plan, CSV, actual vs plan ----------------------------------------------------------

def flat_measure(values: dict):
    """A stand-in engine: sums scale with the days asked for; ratios are constant."""
    def measure(metric, scope, start, end):
        v = values.get(metric)
        if v is None:
            return None
        if G.metric_kind(metric) == "sum":
            return v * ((end - start).days + 1) / 365
        return v
    return measure


def test_build_plan_end_to_end():
    table = pd.DataFrame({"goal_id": ["G1", "G2"], "metric": ["revenue", "return_rate"],
                          "target": ["+20%", "-2pp"], "deadline": ["2026-12-31", "2026-06-30"],
                          "strategy": ["grow", ""], "weekly_actions": ["list 2 new products", ""],
                          "_row": [2, 3]})
    goals, _ = G.check_goals(table, source_file="goals.csv", plan_year=2026)
    meta, plan = G.build_plan(goals, flat_measure({"revenue": 1_000_000.0, "return_rate": 0.08}), 2026)
    m = meta.set_index("goal_id")
    assert m.loc["G1", "baseline"] == pytest.approx(1_000_000.0)
    assert m.loc["G1", "target"] == pytest.approx(1_200_000.0)
    assert m.loc["G2", "target"] == pytest.approx(0.06)
    assert not m.loc["G2", "R"] and m.loc["G1", "R"]
    assert cents(plan.loc[plan["goal_id"] == "G1", "target"]) == 120_000_000
    assert m.loc["G1", "profile_basis"] == "seasonal"


def test_plan_csv_round_trip_protects_formula_text(tmp_path):
    plan = G.breakdown(goal(goal_id="=HYPERLINK(1)", breakdown="even"), 1200, None, 2026)
    path = gt.write_plan_csv(plan, tmp_path / "goal_plan.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                          # UTF-8 BOM
    assert b"'=HYPERLINK(1)" in raw and b",100.0\n" not in raw.split(b"\n")[0]
    back = gt.read_plan_csv(path)
    assert back["goal_id"].iloc[0] == "=HYPERLINK(1)"
    assert cents(back["target"]) == 120_000
    pd.testing.assert_frame_equal(back[G.PLAN_COLUMNS].reset_index(drop=True), plan,
                                  check_dtype=False)


def test_read_plan_csv_rejects_other_files(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,order_date\nA1,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        gt.read_plan_csv(path)
    assert "not a goal plan" in str(e.value) and "goal_id" in str(e.value)


@pytest.mark.parametrize("actual, ach, status", [
    (270_000, 0.90, "on_track"),
    (255_000, 0.85, "on_track"),       # exactly 85%
    (254_999, 254_999 / 300_000, "behind"),
    (None, None, "no_data"),
])
def test_actual_vs_plan_additive(actual, ach, status):
    plan = G.breakdown(goal(breakdown="even"), 1_200_000, None, 2026)
    out = gt.actual_vs_plan(plan, lambda *a: actual, "2026Q1")
    row = out.iloc[0]
    assert row["plan"] == pytest.approx(300_000)   # Q1 of 100k a month
    assert (row["start"], row["end"]) == ("2026-01-01", "2026-03-31")
    assert row["status"] == status
    assert row["achievement"] == (pytest.approx(ach) if ach is not None else None)


def test_actual_vs_plan_ratio_lower_is_better_and_by_month():
    g = goal("return_rate", "6%", goal_id="G2", deadline=date(2026, 12, 31))
    plan = G.breakdown(g, 0.06, None, 2026, baseline=0.18)   # −1pp a month: Mar = 15%
    seen = []
    out = gt.actual_vs_plan(plan, lambda m, s, a, b: seen.append((a, b)) or 0.12, "2026Q1")
    row = out.iloc[0]
    assert row["plan"] == pytest.approx(0.15)
    assert row["achievement"] == pytest.approx(0.15 / 0.12)   # lower is better: plan ÷ actual
    assert seen == [(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))]
    months = gt.actual_vs_plan(plan, lambda *a: 0.17, "2026Q1", by="month")
    assert months["period"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert months["plan"].tolist() == pytest.approx([0.17, 0.16, 0.15])


# --- workbook and chart -----------------------------------------------------------------------

@pytest.fixture
def tracker(tmp_path):
    goals = [goal("revenue", "1200000", goal_id="G1", breakdown="even", dimension="market",
                  weekly_actions=("list 2 new products", "optimise 10 listings")),
             goal("return_rate", "6%", goal_id="G2", deadline=date(2026, 12, 31), dimension="product")]
    plan = G.plan_frame(goals, {"G1": 1_200_000, "G2": 0.06}, 2026, baselines={"G2": 0.18})
    meta = pd.DataFrame({"goal_id": ["G1", "G2"], "metric": ["revenue", "return_rate"],
                         "dimension": ["market", "product"], "baseline": [1_000_000, 0.18],
                         "target": [1_200_000, 0.06], "owner": ["Lily", ""], "deadline": ["2026-12-31"] * 2,
                         "strategy": ["=grow", ""], "weekly_actions": ["list 2 new products; optimise 10 listings", ""],
                         "S": [True, True], "M": [True, True], "A": [True, False], "R": [True, False],
                         "T": [True, True]})
    path = gt.write_tracker(plan, meta, tmp_path / "goal_tracker.xlsx", lang="en", currency="CNY")
    return path, plan


def test_tracker_workbook_structure(tracker):
    path, plan = tracker
    wb = openpyxl.load_workbook(path)
    summary, weekly, actions = (wb[n] for n in ("Summary", "Weekly plan", "Weekly actions"))
    assert weekly.freeze_panes == "B2" and weekly.auto_filter.ref
    assert weekly.page_setup.orientation == "landscape"
    # fit to one page wide (width 1 is the default, so only height 0 = "as many as needed" is stored)
    assert weekly.sheet_properties.pageSetUpPr.fitToPage and weekly.page_setup.fitToHeight == 0
    assert weekly.max_row == len(plan) + 1
    assert all(weekly.cell(r, 11).value is None for r in range(2, weekly.max_row + 1))   # actual empty
    assert weekly.cell(2, 12).value.startswith("=IF(K2=")
    assert "%" in weekly.cell(2, 10).number_format or "¥" in weekly.cell(2, 10).number_format
    col_a = [summary.cell(r, 1).value for r in range(5, 9)]
    # grouped by dimension: product (G2) before market (G1)
    assert col_a == ["Dimension: product", "G2", "Dimension: market", "G1"]
    assert summary.cell(8, 8).value == "=grow"             # text stays text, never a formula
    assert summary.cell(8, 8).data_type == "s"
    assert summary.cell(8, 11).value.startswith("=IF(COUNTIFS(")
    assert summary.cell(8, 14).value == "S✓ M✓ A✓ R✓ T✓"
    # G1's actions: 63 week parts → 54 distinct ISO weeks (W01..W53 of 2026 days) × 2 actions
    weeks = plan.loc[plan["goal_id"] == "G1", "iso_week"].nunique()
    assert actions.max_row - 1 == weeks * 2
    assert actions.cell(2, 6).value == "list 2 new products" and actions.cell(2, 7).value is None


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_tracker_formulas_compute_in_libreoffice(tracker, tmp_path):
    path, plan = tracker
    wb = openpyxl.load_workbook(path)
    weekly = wb["Weekly plan"]
    rows = {weekly.cell(r, 1).value + weekly.cell(r, 6).value: r for r in range(weekly.max_row, 1, -1)}
    g1 = rows["G1" + "2026-W02"]         # plan 22,580.65 (Jan 100k × 7/31, largest remainder)
    weekly.cell(g1, 11).value = 20_322.585    # 90% of it
    g2 = rows["G2" + "2026-W02"]         # glide Jan = 17% (18% − 1pp)
    weekly.cell(g2, 11).value = 0.20     # worse than plan: 0.17 ÷ 0.20 = 85%
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    out = tmp_path / "out"
    csv_filter = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1'
    subprocess.run(["libreoffice", "--headless", "--convert-to", csv_filter, "--outdir", str(out),
                    str(filled)], check=True, capture_output=True, timeout=180)
    summary = pd.read_csv(out / "filled-Summary.csv", header=None, skiprows=3, dtype=str)
    by_id = summary.set_index(0)
    assert by_id.loc["G1", 11].replace("%", "") in ("90", "90.0", "90.00")
    assert by_id.loc["G1", 12] == "on track"
    assert float(by_id.loc["G2", 11].rstrip("%")) == pytest.approx(85.0)
    assert by_id.loc["G2", 12] == "on track"
    subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    assert (out / "filled.pdf").stat().st_size > 1000


def test_plan_chart_titles_and_labels():
    plan = G.breakdown(goal(breakdown="even"), 1_200_000, None, 2026)
    fig = gt.plan_chart(plan, "G1", "en", "CNY")
    ax = fig.axes[0]
    assert ax.get_title() == "G1: monthly targets for Revenue" or ax.get_title().startswith("G1:")
    assert ax.get_xlabel() == "Month" and "CNY" in ax.get_ylabel()
    assert [p.get_height() for p in ax.patches] == pytest.approx([100_000] * 12)
    assert fig.axes[1].lines[0].get_ydata()[-1] == pytest.approx(1_200_000)
    zh = gt.plan_chart(plan, "G1", "zh", "CNY")
    assert zh.axes[0].get_xlabel() == "月份"


def test_blank_cells_from_the_loader_mean_defaults():
    table = pd.DataFrame({"goal_id": ["G1"], "metric": ["revenue"], "target": ["+10%"],
                          "scope": pd.array([pd.NA], dtype="string"), "deadline": [pd.NaT],
                          "breakdown": pd.array([pd.NA], dtype="string"), "_row": [2]})
    goals, problems = G.check_goals(table, source_file="goals.csv", plan_year=2026)
    assert problems == []
    assert (goals[0].scope, goals[0].breakdown, goals[0].deadline) == ("all", "seasonal", None)


def test_plan_year_2027_starts_in_iso_week_2026_w53():
    plan = G.breakdown(goal(breakdown="even"), 120, None, 2027)
    # Fri 2027-01-01 .. Sun 01-03 belong to ISO week 2026-W53
    assert plan.iloc[0][["iso_week", "month", "days"]].tolist() == ["2026-W53", "2027-01", 3]
    assert plan.iloc[1]["iso_week"] == "2027-W01"


def test_goals_json_shape():
    meta = pd.DataFrame({"goal_id": ["G1"], "baseline": [np.nan], "target": [1200.0],
                         "S": [True], "M": [False], "A": [False], "R": [True], "T": [True]})
    assert G.goals_json(meta) == {"G1": {"baseline": None, "target": 1200.0,
                                         "smart": {"S": True, "M": False, "A": False, "R": True, "T": True}}}
