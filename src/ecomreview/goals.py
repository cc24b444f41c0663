"""SMART plan (SPEC §5): read and check goals, suggest goals from findings, split targets into weeks."""
from __future__ import annotations

import calendar
import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import Problem

# --- metric classes ---------------------------------------------------------------------------

# SPEC §5: these are split annual -> quarter -> month -> week by summing.
ADDITIVE = frozenset({"net_sales", "revenue", "orders", "units", "new_customers", "gross_profit"})
# Further SPEC §3 flows that add up over days like the six above; a goal on them is split the same way.
OTHER_FLOWS = frozenset({"gross_sales", "discounts", "refunds", "shipping_revenue", "product_cogs",
                         "commission", "payment_fees", "fulfillment", "cogs", "ad_spend",
                         "contribution_profit", "overheads", "net_profit", "sessions"})
# Ratios that are fractions (0.40 = 40%): their targets and the A check work in percentage points.
FRACTION_METRICS = frozenset({"gross_margin", "contribution_margin", "net_margin", "product_margin",
                              "discount_rate", "refund_rate", "return_rate", "repeat_purchase_rate",
                              "retention_rate", "conversion_rate", "cart_abandonment_rate", "tacos",
                              "cost_coverage"})
RATIO_METRICS = FRACTION_METRICS | {"aov", "units_per_order", "cac", "ltv", "ltv_cac"}
# Levels that do not add up over months (distinct counts, unit costs): they get a glide path too.
OTHER_LEVELS = frozenset({"customers", "returning_customers", "landed_unit_cost"})
KNOWN_METRICS = ADDITIVE | OTHER_FLOWS | RATIO_METRICS | OTHER_LEVELS
SUM_METRICS = ADDITIVE | OTHER_FLOWS
COUNT_METRICS = frozenset({"orders", "units", "new_customers", "customers", "returning_customers",
                           "sessions"})
# Metrics where a lower value is the better one: a goal on them is a cut, and achievement is plan ÷ actual.
LOWER_IS_BETTER = frozenset({"return_rate", "refund_rate", "tacos", "cac", "cart_abandonment_rate",
                             "discount_rate", "discounts", "refunds", "product_cogs", "commission",
                             "payment_fees", "fulfillment", "cogs", "overheads", "landed_unit_cost"})

SCOPE_KINDS = ("channel", "country", "category", "sku")
_SCOPE_ALIASES = {"渠道": "channel", "国家": "country", "品类": "category", "类目": "category",
                  "商品": "sku", "产品": "sku"}
DIMENSIONS = ("product", "market", "marketing", "operations")
# Where a goal without a dimension is grouped in the plan, by metric.
_DEFAULT_DIMENSION = {
    "gross_margin": "product", "product_margin": "product", "return_rate": "product",
    "refund_rate": "product", "units": "product", "landed_unit_cost": "product",
    "revenue": "market", "net_sales": "market", "orders": "market", "gross_sales": "market",
    "aov": "market", "new_customers": "marketing", "tacos": "marketing", "cac": "marketing",
    "ad_spend": "marketing", "conversion_rate": "marketing", "cart_abandonment_rate": "marketing",
    "sessions": "marketing", "ltv": "marketing", "ltv_cac": "marketing",
    "repeat_purchase_rate": "marketing", "retention_rate": "marketing", "discount_rate": "marketing",
}

ON_TRACK = 0.85            # SPEC §5 / seed 004: a quarter is on track at ≥ 85% achievement
A_RELATIVE_LIMIT = 0.50    # SPEC §5: a change of at most 50% (or twice the YoY growth) is achievable
A_POINTS_LIMIT = 0.10      # ... for fraction metrics: 10 percentage points (or twice the YoY change)
HEALTHY_GROSS_MARGIN = 0.40  # SPEC §4.1 green threshold
HEALTHY_TACOS = 0.15         # SPEC §4.1 amber above
_EPS = 1e-9


# --- messages ---------------------------------------------------------------------------------

_MESSAGES = Path(__file__).parent / "messages"


@lru_cache(maxsize=None)
def _own_catalogue(lang: str) -> dict:
    import yaml
    path = _MESSAGES / lang / "goals.yaml"
    if not path.exists():
        path = _MESSAGES / "en" / "goals.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def t(key: str, lang: str = "en", **kw) -> str:
    """A goals.* message in ``lang``; uses report.i18n when it exists, else this module's yaml."""
    try:
        from .report.i18n import t as shared_t  # written by another helper; optional here
        text = shared_t(key, lang, **kw)
        if text and text != key:
            return text
    except Exception:  # noqa: BLE001 — any failure there falls back to our own catalogue
        pass
    text = _own_catalogue(lang).get(key) or _own_catalogue("en").get(key, key)
    return text.format(**kw) if kw else text


# --- number formatting for reasons ------------------------------------------------------------

def fmt_value(metric: str, value: float | None, lang: str = "en") -> str:
    """A metric value for a sentence: fractions as 31.0%, counts as 1,234, money as 1,234.50."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    try:
        from .report import fmt  # locale-aware (Babel); written by another helper
        if metric in FRACTION_METRICS:
            return fmt.pct(value, lang)
        return fmt.number(value, lang, 0 if metric in COUNT_METRICS and value == round(value) else
                          (1 if metric in COUNT_METRICS else 2))
    except Exception:  # noqa: BLE001 — plain formatting below when report.fmt is unavailable
        pass
    if metric in FRACTION_METRICS:
        return f"{value * 100:.1f}%"
    if metric in COUNT_METRICS:
        return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"
    return f"{value:,.2f}"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pp(x: float) -> str:
    return f"{x * 100:.1f}pp"


# --- parsing ----------------------------------------------------------------------------------

class GoalFormatError(ValueError):
    """A goal cell cannot be read; ``key`` and ``kw`` name the catalogue message."""

    def __init__(self, key: str, **kw):
        self.key, self.kw = key, kw
        text = t(key, "en", **kw)
        super().__init__(f'{text} (found "{kw["value"]}")' if "value" in kw else text)


_MULTIPLIERS = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "w": 1e4, "W": 1e4,
                "万": 1e4, "千": 1e3, "亿": 1e8, "百万": 1e6}
_NUMBER = r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|\d*\.\d+)"
_TARGET = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<cur>[$¥€£]|rs\.?|usd|cny|rmb)?\s*" + _NUMBER +
    r"\s*(?P<unit>%|pp|pts?|个百分点|百分点|百万|[kKmMwW万千亿])?\s*(?P<cur2>元|美元|usd|cny|rmb)?$",
    re.IGNORECASE)


def _blank(x) -> bool:
    """None, NaN, pd.NA, NaT or an empty string."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    return isinstance(x, str) and not x.strip()


def target_spec(text) -> tuple[str, float]:
    """Read a goals.target cell into (kind, amount) without a baseline.

    kinds: ``absolute`` (50, 1.2M, 120万, 45% → 0.45), ``relative`` (+30% → 0.30),
    ``points`` (+5pp → +0.05), ``change`` (+20000: the baseline plus that amount).
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        if math.isnan(float(text)):
            raise GoalFormatError("goals.problem.target_missing")
        return "absolute", float(text)
    raw = "" if _blank(text) else str(text)
    s = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if not s:
        raise GoalFormatError("goals.problem.target_missing")
    m = _TARGET.match(s)
    if not m:
        raise GoalFormatError("goals.problem.target_unreadable", value=raw)
    amount = float(m.group("num").replace(",", ""))
    sign, unit = m.group("sign"), (m.group("unit") or "")
    if m.group("cur") or m.group("cur2"):
        if unit in ("%", "pp", "pt", "pts", "个百分点", "百分点"):
            raise GoalFormatError("goals.problem.target_unreadable", value=raw)
    negative = sign == "-"
    if unit.lower() in ("pp", "pt", "pts") or unit in ("个百分点", "百分点"):
        if not sign:
            raise GoalFormatError("goals.problem.target_unreadable", value=raw)
        return "points", (-amount if negative else amount) / 100
    if unit == "%":
        if sign:
            return "relative", (-amount if negative else amount) / 100
        return "absolute", amount / 100
    amount *= _MULTIPLIERS.get(unit, 1.0)
    if sign:
        return "change", -amount if negative else amount
    return "absolute", amount


def parse_target(text, baseline: float | None) -> tuple[float | None, str]:
    """The target value of a goals.target cell and its kind (see :func:`target_spec`).

    ``+30%`` → baseline × 1.3; ``+5pp`` → baseline + 0.05; ``45%`` → 0.45; ``50`` → 50.
    The value is None when it depends on a baseline that is missing. Unreadable → GoalFormatError.
    """
    kind, amount = target_spec(text)
    return _apply_target(kind, amount, baseline), kind


def _apply_target(kind: str, amount: float, baseline: float | None) -> float | None:
    if kind == "absolute":
        return amount
    if baseline is None or (isinstance(baseline, float) and math.isnan(baseline)):
        return None
    if kind == "relative":
        return baseline * (1 + amount)
    return baseline + amount  # points and change add to the baseline


def parse_scope(text) -> str:
    """Normalise a goals.scope cell: '' / all → 'all'; 'Channel : amazon_us' → 'channel:amazon_us'."""
    s = "" if _blank(text) else str(text)
    s = unicodedata.normalize("NFKC", s).strip()
    if s.lower() in ("", "all", "全部", "全店", "整体"):
        return "all"
    kind, sep, value = s.partition(":")
    kind = _SCOPE_ALIASES.get(kind.strip(), kind.strip().lower())
    if not sep or kind not in SCOPE_KINDS or not value.strip():
        raise GoalFormatError("goals.problem.scope_unknown", value=text, kinds=", ".join(SCOPE_KINDS))
    return f"{kind}:{value.strip()}"


def parse_breakdown(text) -> str | tuple[float, float, float, float]:
    """'seasonal' (default), 'even', or four quarter weights '30,25,15,30' → normalised tuple."""
    s = "" if _blank(text) else str(text)
    s = unicodedata.normalize("NFKC", s).strip().lower()
    if s in ("", "seasonal", "季节", "季节性"):
        return "seasonal"
    if s in ("even", "平均", "均分"):
        return "even"
    parts = [p.strip().rstrip("%") for p in re.split(r"[,;/、\s]+", s) if p.strip()]
    try:
        weights = [float(p) for p in parts]
    except ValueError:
        weights = []
    if len(weights) != 4 or any(not math.isfinite(w) or w <= 0 for w in weights):
        raise GoalFormatError("goals.problem.breakdown_unreadable", value=text)
    total = sum(weights)
    return tuple(w / total for w in weights)


def _parse_deadline(value) -> date | None:
    if _blank(value):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise GoalFormatError("goals.problem.deadline_unreadable", value=value) from None
    if pd.isna(ts):
        return None
    return ts.date()


def metric_kind(metric: str) -> str:
    """'sum' for metrics split by adding up (additive flows), 'level' for ratios glided month by month."""
    return "sum" if metric in SUM_METRICS else "level"


# --- goals ------------------------------------------------------------------------------------

@dataclass
class Goal:
    """One checked goal. ``target_kind``/``target_amount`` as in :func:`target_spec`."""

    goal_id: str
    metric: str
    target_text: str
    target_kind: str
    target_amount: float
    scope: str = "all"
    deadline: date | None = None
    owner: str = ""
    strategy: str = ""
    dimension: str = "operations"
    breakdown: str | tuple = "seasonal"
    weekly_actions: tuple[str, ...] = ()
    row: int | None = None
    notes: list = field(default_factory=list)   # warnings kept with the goal

    @property
    def aggregation(self) -> str:
        return metric_kind(self.metric)

    def target_value(self, baseline: float | None) -> float | None:
        """The goal's target in the metric's unit, given the baseline (None if it needs one)."""
        return _apply_target(self.target_kind, self.target_amount, baseline)

    def window(self, plan_year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Days the target of an additive goal covers: Jan 1 to the deadline (or Dec 31)."""
        start = pd.Timestamp(plan_year, 1, 1)
        end = pd.Timestamp(plan_year, 12, 31)
        if self.deadline is not None and start <= pd.Timestamp(self.deadline) < end:
            end = pd.Timestamp(self.deadline)
        return start, end


def _cell(row: pd.Series, col: str) -> str:
    v = row.get(col)
    if _blank(v):
        return ""
    return str(v).strip()


def split_actions(text: str) -> tuple[str, ...]:
    """'list 2 new products; optimise 10 listings' → ('list 2 new products', 'optimise 10 listings')."""
    return tuple(a.strip() for a in re.split(r"[;；\n]", text or "") if a.strip())


def check_goals(goals: pd.DataFrame, *, source_file: str = "goals", plan_year: int,
                today: date | None = None, lang: str = "en") -> tuple[list[Goal], list[Problem]]:
    """Validate a goals table; return the usable goals and every problem (errors drop the goal).

    Errors: missing goal_id/metric/target, duplicate goal_id, unknown metric, unreadable target,
    a target form that does not fit the metric, unknown scope, unreadable breakdown, unreadable
    deadline, deadline in the past (before Jan 1 of ``plan_year`` or before ``today``).
    Warning (goal kept, T fails): deadline after the plan year; unknown dimension (regrouped).
    """
    out: list[Goal] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    year_start, year_end = date(plan_year, 1, 1), date(plan_year, 12, 31)
    for pos, (_, row) in enumerate(goals.iterrows()):
        rownum = int(row["_row"]) if "_row" in row and pd.notna(row["_row"]) else pos + 2

        def problem(column, found, key, fix_key=None, severity="error", **kw):
            # every fix text may name the plan year, the scope kinds or the dimensions
            kw = {"year": plan_year, "kinds": ", ".join(SCOPE_KINDS),
                  "dimensions": ", ".join(DIMENSIONS), **kw}
            problems.append(Problem(file=source_file, row=rownum, column=column, value=found,
                                    message=t(key, lang, **kw),
                                    fix=t(fix_key, lang, **kw) if fix_key else "", severity=severity))

        before = len([p for p in problems if p.severity == "error"])
        goal_id, metric_raw = _cell(row, "goal_id"), _cell(row, "metric")
        metric = metric_raw.lower().replace(" ", "_")
        if not goal_id:
            problem("goal_id", "", "goals.problem.goal_id_missing", "goals.fix.goal_id")
        elif goal_id in seen:
            problem("goal_id", goal_id, "goals.problem.goal_id_duplicate", "goals.fix.goal_id")
        seen.add(goal_id)
        if not metric:
            problem("metric", "", "goals.problem.metric_missing", "goals.fix.metric_generic")
        elif metric not in KNOWN_METRICS:
            close = difflib.get_close_matches(metric, sorted(KNOWN_METRICS), n=1, cutoff=0.5)
            if close:
                problem("metric", metric_raw, "goals.problem.metric_unknown", "goals.fix.metric_close",
                        metric=metric_raw, suggestion=close[0])
            else:
                problem("metric", metric_raw, "goals.problem.metric_unknown", "goals.fix.metric_generic",
                        metric=metric_raw)
        kind = amount = None
        try:
            kind, amount = target_spec(row.get("target"))
        except GoalFormatError as e:
            problem("target", _cell(row, "target"), e.key, "goals.fix.target", **e.kw)
        if kind and metric in KNOWN_METRICS:
            fraction = metric in FRACTION_METRICS
            if kind == "points" and not fraction:
                problem("target", _cell(row, "target"), "goals.problem.target_points_not_rate",
                        "goals.fix.target_points", metric=metric)
            elif kind == "absolute" and "%" in _cell(row, "target") and not fraction:
                problem("target", _cell(row, "target"), "goals.problem.target_percent_not_rate",
                        "goals.fix.target_percent", metric=metric, value=_cell(row, "target"))
        scope = "all"
        try:
            scope = parse_scope(row.get("scope"))
        except GoalFormatError as e:
            problem("scope", _cell(row, "scope"), e.key, "goals.fix.scope", **e.kw)
        breakdown = "seasonal"
        try:
            breakdown = parse_breakdown(row.get("breakdown"))
        except GoalFormatError as e:
            problem("breakdown", _cell(row, "breakdown"), e.key, "goals.fix.breakdown", **e.kw)
        deadline = None
        try:
            deadline = _parse_deadline(row.get("deadline"))
        except GoalFormatError as e:
            problem("deadline", _cell(row, "deadline"), e.key, "goals.fix.deadline", **e.kw)
        notes: list[Problem] = []
        if deadline is not None:
            cutoff = max(year_start, today) if today else year_start
            if deadline < cutoff:
                problem("deadline", deadline.isoformat(), "goals.problem.deadline_past",
                        "goals.fix.deadline", deadline=deadline.isoformat(), cutoff=cutoff.isoformat(),
                        year=plan_year)
            elif deadline > year_end:
                problem("deadline", deadline.isoformat(), "goals.problem.deadline_after",
                        "goals.fix.deadline", severity="warning", deadline=deadline.isoformat(),
                        year=plan_year)
                notes.append(problems[-1])
        dimension = _cell(row, "dimension").lower() or _DEFAULT_DIMENSION.get(metric, "operations")
        if dimension not in DIMENSIONS:
            problem("dimension", dimension, "goals.problem.dimension_unknown", "goals.fix.dimension",
                    severity="warning", value=dimension, dimensions=", ".join(DIMENSIONS))
            notes.append(problems[-1])
            dimension = _DEFAULT_DIMENSION.get(metric, "operations")
        if len([p for p in problems if p.severity == "error"]) > before:
            continue
        out.append(Goal(goal_id=goal_id, metric=metric, target_text=_cell(row, "target"),
                        target_kind=kind, target_amount=amount, scope=scope, deadline=deadline,
                        owner=_cell(row, "owner"), strategy=_cell(row, "strategy"),
                        dimension=dimension, breakdown=breakdown,
                        weekly_actions=split_actions(_cell(row, "weekly_actions")), row=rownum,
                        notes=notes))
    return out, problems


# --- SMART check ------------------------------------------------------------------------------

def _linked_finding(goal: Goal, findings: Mapping | None) -> str | None:
    """The finding (as a short label) a goal answers, if any — for the R letter."""
    if not findings:
        return None
    kind, _, value = goal.scope.partition(":")
    gm = findings.get("gross_margin")
    if goal.metric in ("gross_margin", "product_margin") and gm is not None and gm < HEALTHY_GROSS_MARGIN:
        return "gross_margin"
    if goal.metric in ("tacos", "ad_spend", "contribution_margin") and findings.get("unprofitable_campaigns"):
        return "unprofitable_campaigns"
    if kind == "channel" and value in {_name(c, "channel") for c in findings.get("potential_channels") or []}:
        return "potential_channels"
    if kind == "sku" and value in {_name(p, "sku") for p in findings.get("problem_products") or []}:
        return "problem_products"
    return None


def _name(item, key: str) -> str:
    return str(item.get(key, "")) if isinstance(item, Mapping) else str(item)


def smart(goal: Goal, baseline: float | None, yoy_growth: float | None, findings: Mapping | None,
          plan_year: int, *, target: float | None = None, lang: str = "en") -> dict:
    """Check each SMART letter: {letter: {"ok": bool, "reason": str}}.

    ``yoy_growth``: for fraction metrics the YoY change in points (0.02 = +2pp), else the relative
    YoY growth (0.25 = +25%). ``target`` overrides the value derived from the goal and baseline.
    """
    def res(ok: bool, key: str, **kw) -> dict:
        return {"ok": bool(ok), "reason": t(key, lang, **kw)}

    m = goal.metric
    baseline = None if baseline is None or (isinstance(baseline, float) and math.isnan(baseline)) else baseline
    if target is None:
        target = goal.target_value(baseline)
    scope_text = goal.scope if goal.scope != "all" else t("goals.scope_all", lang)
    out = {}
    s_ok = m in KNOWN_METRICS and (goal.scope == "all" or goal.scope.split(":")[0] in SCOPE_KINDS)
    out["S"] = res(s_ok, "goals.smart.S_ok" if s_ok else "goals.smart.S_fail", metric=m, scope=scope_text)
    if baseline is None:
        out["M"] = res(False, "goals.smart.M_fail", metric=m, scope=scope_text)
    else:
        out["M"] = res(True, "goals.smart.M_ok", metric=m, baseline=fmt_value(m, baseline, lang))
    out["A"] = _check_a(goal, baseline, target, yoy_growth, lang, res)
    link = _linked_finding(goal, findings)
    if goal.strategy:
        out["R"] = res(True, "goals.smart.R_strategy", strategy=goal.strategy)
    elif link:
        out["R"] = res(True, "goals.smart.R_finding", finding=t(f"goals.finding.{link}", lang))
    else:
        out["R"] = res(False, "goals.smart.R_fail")
    if goal.deadline is None:
        out["T"] = res(False, "goals.smart.T_missing", year=plan_year)
    elif date(plan_year, 1, 1) <= goal.deadline <= date(plan_year, 12, 31):
        out["T"] = res(True, "goals.smart.T_ok", deadline=goal.deadline.isoformat(), year=plan_year)
    else:
        out["T"] = res(False, "goals.smart.T_outside", deadline=goal.deadline.isoformat(), year=plan_year)
    return out


def _check_a(goal, baseline, target, yoy, lang, res) -> dict:
    """A: the change needed, against the larger of the fixed limit and twice last year's momentum.

    Momentum counts only YoY movement in the goal's direction, so a metric that fell last year
    earns no extra room for a rise.
    """
    m = goal.metric
    if baseline is None or target is None:
        return res(False, "goals.smart.A_unknown")
    points = m in FRACTION_METRICS
    if points:
        change, limit = target - baseline, A_POINTS_LIMIT
    else:
        if baseline == 0:
            return res(False, "goals.smart.A_zero_baseline", metric=m)
        change, limit = target / baseline - 1, A_RELATIVE_LIMIT
    if baseline < 0 and not points:
        change = -change  # a loss that shrinks is a rise in the metric
    direction = 1 if change >= 0 else -1
    momentum = 0.0 if yoy is None or (isinstance(yoy, float) and math.isnan(yoy)) else yoy * direction
    allowed = max(limit, 2 * momentum)
    show = _pp if points else _pct
    kw = dict(change=("+" if change >= 0 else "-") + show(abs(change)), allowed=show(allowed),
              limit=show(limit), yoy=("—" if yoy is None else show(yoy)),
              baseline=fmt_value(m, baseline, lang), target=fmt_value(m, target, lang))
    ok = abs(change) <= allowed + _EPS
    return res(ok, "goals.smart.A_ok" if ok else "goals.smart.A_stretch", **kw)


def smart_flags(result: Mapping) -> dict:
    """{letter: bool} for metrics.json."""
    return {k: bool(v["ok"]) for k, v in result.items()}


# --- suggested goals --------------------------------------------------------------------------

GOAL_COLUMNS = ["goal_id", "metric", "target", "scope", "deadline", "owner", "strategy", "dimension",
                "breakdown", "weekly_actions"]


def suggest_goals(findings: Mapping, baselines: Mapping | None = None, *, plan_year: int | None = None,
                  lang: str = "en") -> pd.DataFrame:
    """Goals (goals-table shape, ids S1..) suggested from the review's findings.

    ``findings`` keys (all optional):
      - ``gross_margin``: company gross margin in P (fraction). Below 0.40 → gross_margin to 40%,
        or +5pp when 40% is more than 10pp away.
      - ``tacos``: company TACoS in P (fraction).
      - ``unprofitable_campaigns``: campaign ids (or dicts with ``campaign_id``) with roas below
        breakeven → tacos to 15% when above it (−5pp when that is more than 10pp away), else −20%.
      - ``potential_channels``: channel ids (or dicts with ``channel``) → revenue of the channel +30%.
      - ``problem_products``: SKUs or dicts {sku, action, return_rate, stock_on_hand}; action
        ``fix_listing_or_quality`` (or a return_rate given) → return_rate of the SKU −30%;
        clearance/delist with stock → units of the SKU = stock_on_hand by June 30; anything else
        (reprice, delist without stock) → the SKU's gross_margin +5pp.
    ``baselines``: optional {metric: value} overriding the findings' company figures.
    ``plan_year``: the year the goals are for (default ``findings["plan_year"]``); deadlines are its
    Dec 31 (June 30 for a clearance).
    """
    plan_year = plan_year or findings.get("plan_year")
    if plan_year is None:
        raise ValueError("suggest_goals needs plan_year (argument or findings['plan_year'])")
    baselines = dict(baselines or {})
    rows: list[dict] = []
    deadline = date(plan_year, 12, 31).isoformat()

    def add(metric, target, scope, dimension, strategy_key, actions_key, when=deadline, **kw):
        rows.append({"goal_id": f"S{len(rows) + 1}", "metric": metric, "target": target,
                     "scope": scope, "deadline": when, "owner": "",
                     "strategy": t(strategy_key, lang, **kw), "dimension": dimension,
                     "breakdown": "seasonal", "weekly_actions": t(actions_key, lang, **kw)})

    gm = baselines.get("gross_margin", findings.get("gross_margin"))
    if gm is not None and not pd.isna(gm) and gm < HEALTHY_GROSS_MARGIN:
        target = "40%" if HEALTHY_GROSS_MARGIN - gm <= A_POINTS_LIMIT + _EPS else "+5pp"
        add("gross_margin", target, "all", "product", "goals.suggest.margin", "goals.actions.margin",
            value=_pct(gm), threshold=_pct(HEALTHY_GROSS_MARGIN))
    campaigns = [_name(c, "campaign_id") for c in findings.get("unprofitable_campaigns") or []]
    if campaigns:
        tacos = baselines.get("tacos", findings.get("tacos"))
        if tacos is not None and not pd.isna(tacos) and tacos > HEALTHY_TACOS:
            target = "15%" if tacos - HEALTHY_TACOS <= A_POINTS_LIMIT + _EPS else "-5pp"
        else:
            target = "-20%"
        add("tacos", target, "all", "marketing", "goals.suggest.campaigns", "goals.actions.campaigns",
            count=len(campaigns), campaigns=", ".join(campaigns[:5]))
    for ch in findings.get("potential_channels") or []:
        name = _name(ch, "channel")
        add("revenue", "+30%", f"channel:{name}", "market", "goals.suggest.channel",
            "goals.actions.channel", channel=name)
    for p in findings.get("problem_products") or []:
        sku = _name(p, "sku")
        info = p if isinstance(p, Mapping) else {}
        action = info.get("action", "")
        stock = info.get("stock_on_hand")
        if action == "fix_listing_or_quality" or (not action and info.get("return_rate") is not None):
            add("return_rate", "-30%", f"sku:{sku}", "product", "goals.suggest.returns",
                "goals.actions.returns", sku=sku)
        elif action in ("clearance", "delist") and stock is not None and not pd.isna(stock) and stock > 0:
            add("units", f"{float(stock):g}", f"sku:{sku}", "operations", "goals.suggest.clearance",
                "goals.actions.clearance", when=date(plan_year, 6, 30).isoformat(), sku=sku,
                stock=f"{float(stock):,.0f}")
        else:
            add("gross_margin", "+5pp", f"sku:{sku}", "product", "goals.suggest.reprice",
                "goals.actions.reprice", sku=sku)
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)


# --- monthly profile and breakdown ------------------------------------------------------------

def monthly_profile(monthly_values: pd.Series) -> pd.Series:
    """Last year's monthly shares (index 1..12, summing to 1) of a metric's monthly values.

    ``monthly_values`` is indexed by month ('YYYY-MM' or Period) or by month number 1..12; when
    it spans several years the latest year is used. Falls back to an even profile (1/12 each) when
    that year has fewer than 12 months with data, a total that is not positive, or a negative
    month; ``.attrs["basis"]`` is then 'even' and ``.attrs["note"]`` says why
    ('incomplete_year' / 'zero_total' / 'negative_month'), else 'seasonal'.
    """
    s = pd.Series(monthly_values, dtype="float64") if monthly_values is not None else pd.Series(dtype="float64")
    s = s.dropna()
    if len(s) and not all(isinstance(i, (int, np.integer)) for i in s.index):
        periods = pd.PeriodIndex([pd.Period(str(i), freq="M") for i in s.index])
        latest = periods.year.max()
        keep = periods.year == latest
        s = pd.Series(s.to_numpy()[keep], index=periods.month[keep]).groupby(level=0).sum()
    s = s[[i in range(1, 13) for i in s.index]] if len(s) else s
    note = None
    if len(s.index.unique()) < 12:
        note = "incomplete_year"
    elif (s < 0).any():
        note = "negative_month"
    elif s.sum() <= 0:
        note = "zero_total"
    if note:
        out = pd.Series(1 / 12, index=range(1, 13), dtype="float64")
        out.attrs.update(basis="even", note=note)
        return out
    out = (s / s.sum()).reindex(range(1, 13)).astype("float64")
    out.attrs.update(basis="seasonal", note=None)
    return out


def even_profile() -> pd.Series:
    """1/12 for each month."""
    out = pd.Series(1 / 12, index=range(1, 13), dtype="float64")
    out.attrs.update(basis="even", note=None)
    return out


def month_weights(breakdown, profile: pd.Series | None) -> pd.Series:
    """Share of the year's target for each month 1..12 under a breakdown (sums to 1)."""
    prof = even_profile() if profile is None else pd.Series(profile, dtype="float64").reindex(range(1, 13)).fillna(0.0)
    if prof.sum() <= 0:
        prof = even_profile()
    if breakdown == "even":
        return even_profile()
    if breakdown == "seasonal" or breakdown is None:
        return prof / prof.sum()
    weights = pd.Series(0.0, index=range(1, 13))
    for q, wq in enumerate(breakdown):
        months = [3 * q + 1, 3 * q + 2, 3 * q + 3]
        inside = prof[months]
        # within the quarter by last year's profile; evenly when that quarter had nothing
        shares = inside / inside.sum() if inside.sum() > 0 else pd.Series(1 / 3, index=months)
        weights[months] = wq * shares
    return weights / weights.sum()


def allocate(total: float, weights, unit: float = 0.01) -> np.ndarray:
    """Split ``total`` by ``weights`` into multiples of ``unit`` that add up exactly (largest remainder)."""
    n_units = int(round(total / unit))
    w = np.asarray(weights, dtype="float64")
    w = np.ones_like(w) / len(w) if w.sum() <= 0 else w / w.sum()
    raw = n_units * w
    base = np.floor(raw).astype(np.int64)
    left = n_units - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:left]] += 1
    return base


def _segments(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """One row per (ISO week × month) part of the days start..end: month, iso_week, start, end, days."""
    days = pd.date_range(start, end, freq="D")
    iso = days.isocalendar()
    frame = pd.DataFrame({
        "date": days,
        "month_no": days.month,
        "month": days.strftime("%Y-%m"),
        "iso_week": [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"])],
    })
    seg = (frame.groupby(["month", "iso_week"], sort=False)
           .agg(month_no=("month_no", "first"), start=("date", "min"), end=("date", "max"),
                days=("date", "size"))
           .reset_index())
    seg["quarter"] = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in seg["start"]]
    return seg


PLAN_COLUMNS = ["goal_id", "metric", "scope", "dimension", "aggregation", "quarter", "month",
                "iso_week", "start", "end", "days", "target"]


def breakdown(goal: Goal, annual_target: float, profile: pd.Series | None, plan_year: int,
              *, baseline: float | None = None) -> pd.DataFrame:
    """The goal's target per (ISO week × month) segment of the plan year (columns PLAN_COLUMNS).

    Additive metrics: ``annual_target`` is the total for the goal's window (Jan 1 → deadline,
    Dec 31 when later or missing); months get their breakdown weight (seasonal / even / quarter
    weights), a deadline month only the share of its days up to the deadline; within a month the
    days decide. Amounts are in cents for every metric (counts too, so sums stay exact); months
    are allocated first, then weeks within each month, each by largest remainder, so weeks add up
    to months and months to the target to the cent.
    Ratio metrics: month m carries baseline + (target − baseline) × m ÷ deadline month (flat at
    target after it; at target throughout without a baseline); every week row repeats its month.
    """
    if goal.aggregation == "sum":
        start, end = goal.window(plan_year)
        seg = _segments(start, end)
        weights = month_weights(goal.breakdown, profile)
        in_month = seg.groupby("month_no")["days"].sum()
        full = pd.Series([calendar.monthrange(plan_year, m)[1] for m in in_month.index], index=in_month.index)
        month_w = weights[in_month.index] * in_month / full
        month_cents = pd.Series(allocate(annual_target, month_w.to_numpy()), index=in_month.index)
        cents = np.zeros(len(seg), dtype=np.int64)
        for m, idx in seg.groupby("month_no").groups.items():
            cents[seg.index.get_indexer(idx)] = allocate(month_cents[m] / 100, seg.loc[idx, "days"].to_numpy())
        seg["target"] = cents / 100
    else:
        seg = _segments(pd.Timestamp(plan_year, 1, 1), pd.Timestamp(plan_year, 12, 31))
        last = goal.deadline.month if goal.deadline and goal.deadline.year == plan_year else 12
        digits = 4 if goal.metric in FRACTION_METRICS else 2
        if baseline is None or (isinstance(baseline, float) and math.isnan(baseline)):
            glide = {m: annual_target for m in range(1, 13)}
        else:
            glide = {m: baseline + (annual_target - baseline) * min(m, last) / last for m in range(1, 13)}
        seg["target"] = [round(glide[m], digits) for m in seg["month_no"]]
    seg["goal_id"], seg["metric"], seg["scope"] = goal.goal_id, goal.metric, goal.scope
    seg["dimension"], seg["aggregation"] = goal.dimension, goal.aggregation
    seg["start"] = seg["start"].dt.strftime("%Y-%m-%d")
    seg["end"] = seg["end"].dt.strftime("%Y-%m-%d")
    return seg[PLAN_COLUMNS].reset_index(drop=True)


def plan_frame(goals: list[Goal], targets: Mapping[str, float | None], plan_year: int, *,
               profiles: Mapping[str, pd.Series] | None = None,
               baselines: Mapping[str, float | None] | None = None) -> pd.DataFrame:
    """All goals' breakdowns concatenated (goals without a target value are left out).

    ``targets``/``profiles``/``baselines`` are keyed by goal_id; a missing profile means even.
    """
    parts = []
    for g in goals:
        target = targets.get(g.goal_id)
        if target is None or (isinstance(target, float) and math.isnan(target)):
            continue
        profile = (profiles or {}).get(g.goal_id)
        parts.append(breakdown(g, float(target), profile, plan_year,
                               baseline=(baselines or {}).get(g.goal_id)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("days", "target") else "object")
                             for c in PLAN_COLUMNS})
    return pd.concat(parts, ignore_index=True)


# --- one call for the notebook ----------------------------------------------------------------

Measure = Callable[[str, str, pd.Timestamp, pd.Timestamp], "float | None"]


def build_plan(goals: list[Goal], measure: Measure, plan_year: int, *, findings: Mapping | None = None,
               lang: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baselines, targets, SMART checks and the weekly plan for checked goals.

    ``measure(metric, scope, start, end)`` returns the metric over the days start..end (inclusive)
    from the review data, or None when it cannot be computed (the engine is injected).
    The baseline is the same window of the year before the plan year (for an additive goal with a
    deadline before Dec 31: Jan 1 → the deadline's date last year); YoY compares that window with
    the year before it. Returns (goals_meta, plan): goals_meta has one row per goal with
    baseline, target, annual_target, yoy, profile_basis, smart (dict) and S..T flags / reasons.
    """
    meta_rows, plans = [], []
    for g in goals:
        start, end = g.window(plan_year)
        base_start, base_end = start - pd.DateOffset(years=1), end - pd.DateOffset(years=1)
        baseline = _num(measure(g.metric, g.scope, base_start, base_end))
        earlier = _num(measure(g.metric, g.scope, base_start - pd.DateOffset(years=1),
                               base_end - pd.DateOffset(years=1)))
        yoy = None
        if baseline is not None and earlier is not None:
            if g.metric in FRACTION_METRICS:
                yoy = baseline - earlier
            elif earlier != 0:
                yoy = baseline / earlier - 1
        target = g.target_value(baseline)
        profile = None
        if g.aggregation == "sum" and g.breakdown != "even":
            months = pd.period_range(pd.Timestamp(plan_year - 1, 1, 1), periods=12, freq="M")
            values = pd.Series({str(p): _num(measure(g.metric, g.scope, p.start_time.normalize(),
                                                     p.end_time.normalize())) for p in months},
                               dtype="float64")
            profile = monthly_profile(values)
        check = smart(g, baseline, yoy, findings, plan_year, target=target, lang=lang)
        if target is not None:
            plans.append(breakdown(g, target, profile, plan_year, baseline=baseline))
            annual = plans[-1]["target"].sum() if g.aggregation == "sum" else target
        else:
            annual = None
        meta_rows.append({
            "goal_id": g.goal_id, "metric": g.metric, "scope": g.scope, "dimension": g.dimension,
            "target_text": g.target_text, "baseline": baseline, "target": target,
            "annual_target": annual, "yoy": yoy, "owner": g.owner,
            "deadline": g.deadline.isoformat() if g.deadline else "", "strategy": g.strategy,
            "breakdown": g.breakdown if isinstance(g.breakdown, str) else ",".join(f"{w:.4g}" for w in g.breakdown),
            "profile_basis": (profile.attrs.get("basis") if profile is not None else
                              ("even" if g.aggregation == "sum" else "glide")),
            "profile_note": profile.attrs.get("note") if profile is not None else None,
            "weekly_actions": ";".join(g.weekly_actions), "smart": check,
            **{k: v["ok"] for k, v in check.items()},
            **{f"{k}_reason": v["reason"] for k, v in check.items()},
        })
    plan = pd.concat(plans, ignore_index=True) if plans else plan_frame([], {}, plan_year)
    return pd.DataFrame(meta_rows), plan


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def goals_json(meta: pd.DataFrame) -> dict:
    """metrics.json ``goals``: goal_id → {baseline, target, smart: {S..T: bool}} (SPEC §6)."""
    out = {}
    for r in meta.to_dict("records"):
        out[str(r["goal_id"])] = {"baseline": _num(r.get("baseline")), "target": _num(r.get("target")),
                                  "smart": {k: bool(r[k]) for k in "SMART" if k in r}}
    return out


def profile_note(meta_row: Mapping, lang: str = "en") -> str:
    """Why a goal's target was split evenly instead of by last year's profile ('' when it was not)."""
    note = meta_row.get("profile_note")
    return t(f"goals.profile.{note}", lang) if note else ""


# --- notebook 05 sections (display only; the runner collects what they record) -----------------

def plan_year_for(period) -> int:
    """A review of 2025 (or of a quarter of it) plans 2026."""
    return int(period.year) + 1


def measure_for(review) -> Measure:
    """measure(metric, scope, start, end) over the review data; None where the days have no data."""
    from . import metrics as _metrics
    from .period import Window
    cache: dict = {}

    def measure(metric, scope, start, end):
        w = Window(pd.Timestamp(start), pd.Timestamp(end))
        if not review.has_data(w):
            return None
        kind, _, value = str(scope or "all").partition(":")
        by = None if kind == "all" else kind
        key = (w.label, by)
        if key not in cache:
            cache[key] = _metrics.kpis(review, w, by=by)
        res = cache[key]
        if by is None:
            return _num(res.get(metric))
        if value not in res.index or metric not in res.columns:
            return None
        return _num(res.loc[value, metric])
    return measure


def validate_goals(review, period, lang: str = "en") -> list[Goal]:
    """The workspace's goals, checked; raises InputError naming the rows of malformed goals."""
    from .errors import InputError
    g = review.goals
    if g is None or g.empty:
        return []
    goals, problems = check_goals(g, source_file=review.sources.get("goals", "goals.csv"),
                                  plan_year=plan_year_for(period), lang=lang)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    return goals


SUGGESTED_PRODUCT_GOALS = 5   # problem products that get a suggested goal (largest revenue first)


def findings_from_parts(ctx) -> dict:
    """What steps 1–4 found (from their saved results when the runner ran them, else from the metrics)."""
    import json as _json
    k = ctx.summary["kpis"]
    f = {"gross_margin": k.get("gross_margin"), "tacos": k.get("tacos"), "plan_year": plan_year_for(ctx.period)}
    parts = {}
    if ctx.out_dir is not None and (ctx.out_dir / "parts").exists():
        for p in (ctx.out_dir / "parts").glob("*.json"):
            parts.update(_json.loads(p.read_text(encoding="utf-8")).get("metrics", {}))
    f["potential_channels"] = [c for c, v in (parts.get("channels") or {}).items() if v.get("class") == "potential"]
    f["unprofitable_campaigns"] = [c for c, v in (parts.get("campaigns") or {}).items()
                                   if v.get("verdict") == "unprofitable"]
    stock = ctx.review.products.set_index("sku")["stock_on_hand"] if len(ctx.review.products) else pd.Series()
    problem = [(s, v) for s, v in (parts.get("products") or {}).items() if v.get("class") == "problem"]
    # A plan of hundreds of SKU goals is no plan: suggest goals for the largest problem products only;
    # the rest stay in step 3's action lists.
    problem.sort(key=lambda sv: -(_num(sv[1].get("revenue")) or 0.0))
    f["problem_products_total"] = len(problem)
    f["problem_products"] = [{"sku": s, "action": v.get("action"), "return_rate": v.get("return_rate"),
                              "stock_on_hand": _num(stock.get(s))}
                             for s, v in problem[:SUGGESTED_PRODUCT_GOALS]]
    return f


def _smart_marks(row) -> str:
    return " ".join(f"{k}{'✓' if row[k] else '✗'}" for k in "SMART")


def show_plan(ctx) -> None:
    """The goals (or suggested goals), their SMART check, targets and the files a seller tracks with."""
    from .goal_tracker import plan_chart, write_plan_csv, write_tracker
    from .report.display import bullets, heading, note, para, show, table
    lang = ctx.lang
    year = plan_year_for(ctx.period)
    heading(t("goals.report.title", lang), 1)
    goals = validate_goals(ctx.review, ctx.period, lang)
    findings = findings_from_parts(ctx)
    if goals:
        para(t("goals.report.from_table", lang, n=len(goals), year=year))
    else:
        suggested = suggest_goals(findings, plan_year=year, lang=lang)
        goals, _ = check_goals(suggested, source_file="suggested", plan_year=year, lang=lang)
        para(t("goals.report.suggested", lang, n=len(goals), year=year))
        left = findings.get("problem_products_total", 0) - len(findings.get("problem_products") or [])
        if left > 0:
            note(t("goals.report.more_problem_products", lang, n=left, shown=SUGGESTED_PRODUCT_GOALS))
    if not goals:
        note(t("goals.report.none", lang))
        ctx.record("goals", {})
        return
    meta, plan = build_plan(goals, measure_for(ctx.review), year, findings=findings, lang=lang)
    ctx.record("goals", goals_json(meta))
    heading(t("goals.report.goals", lang))
    out = pd.DataFrame({
        "goal_id": meta["goal_id"],
        "metric": [_metric_label(m, lang) for m in meta["metric"]],
        "scope": [_scope_text(s, lang) for s in meta["scope"]],
        "baseline": [fmt_value(m, v, lang) for m, v in zip(meta["metric"], meta["baseline"])],
        "target": [fmt_value(m, v, lang) for m, v in zip(meta["metric"], meta["target"])],
        "deadline": meta["deadline"], "owner": meta["owner"],
        "smart": [_smart_marks(r) for r in meta.to_dict("records")]})
    show(table(out, lang=lang, currency=ctx.currency, labels={c: t(f"goals.col.{c}", lang) for c in out.columns}))
    for r in meta.to_dict("records"):
        heading(f"{r['goal_id']} · {_metric_label(r['metric'], lang)}", 3)
        bullets([f"{k}: {r[f'{k}_reason']}" for k in "SMART"])
        if r.get("profile_note"):
            note(profile_note(r, lang))
        if r["goal_id"] in set(plan["goal_id"]):
            show(plan_chart(plan, r["goal_id"], lang, ctx.currency))
    _show_quarters(ctx, plan, meta)
    if ctx.out_dir is not None:
        write_plan_csv(plan, ctx.out_dir / "goal_plan.csv")
        write_tracker(plan, meta, ctx.out_dir / "goal_tracker.xlsx", lang, ctx.currency, plan_year=year)
        para(t("goals.report.files", lang))
    ctx.finding(t("goals.report.finding", lang, n=len(meta), year=year,
                  ok=int(sum(all(r[k] for k in "SMART") for r in meta.to_dict("records")))))


def _scope_text(scope: str, lang: str) -> str:
    return t("goals.scope_all", lang) if scope in ("", "all") else scope


def _metric_label(metric: str, lang: str) -> str:
    try:
        return t(f"metric.{metric}", lang)
    except KeyError:
        return metric


def _show_quarters(ctx, plan: pd.DataFrame, meta: pd.DataFrame) -> None:
    from .report.display import heading, show, table
    lang = ctx.lang
    add = plan[plan["aggregation"] == "sum"]
    if add.empty:
        return
    heading(t("goals.report.quarters", lang))
    q = add.pivot_table(index="goal_id", columns="quarter", values="target", aggfunc="sum").reset_index()
    money = [c for c in q.columns if c != "goal_id"]
    show(table(q, lang=lang, currency=ctx.currency, number=money,
               labels={"goal_id": t("goals.col.goal_id", lang)}))


def show_tracking(ctx, plan_path: str) -> None:
    """A quarterly run given the annual plan: actual vs plan per goal (on track at ≥ 85%)."""
    from .goal_tracker import actual_vs_plan, read_plan_csv
    from .report.display import heading, note, show, table
    lang = ctx.lang
    if not plan_path:
        return
    heading(t("goals.report.tracking", lang))
    plan = read_plan_csv(plan_path)
    res = actual_vs_plan(plan, measure_for(ctx.review), ctx.period, lang=lang)
    ctx.record("plan_tracking", {r["goal_id"]: {"plan": r["plan"], "actual": r["actual"],
                                                "achievement": r["achievement"], "status": r["status"]}
                                 for r in res.to_dict("records")})
    if res.empty:
        note(t("goals.report.tracking_none", lang, period=ctx.period.label))
        return
    out = res[["goal_id", "metric", "plan", "actual", "achievement", "status_label"]].copy()
    out["metric"] = [_metric_label(m, lang) for m in out["metric"]]
    out["plan"] = [fmt_value(m, v, lang) for m, v in zip(res["metric"], res["plan"])]
    out["actual"] = [fmt_value(m, v, lang) for m, v in zip(res["metric"], res["actual"])]
    show(table(out, lang=lang, currency=ctx.currency, pct=("achievement",),
               labels={"goal_id": t("goals.col.goal_id", lang), "metric": t("goals.col.metric", lang),
                       "plan": t("goals.col.plan", lang), "actual": t("goals.col.actual", lang),
                       "achievement": t("goals.col.achievement", lang),
                       "status_label": t("goals.col.status", lang)}))
    on = int((res["status"] == "on_track").sum())
    ctx.finding(t("goals.report.tracking_finding", lang, on=on, n=len(res), period=ctx.period.label))
