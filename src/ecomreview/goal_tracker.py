"""SMART plan outputs (SPEC §5): goal_plan.csv, the printable goal_tracker.xlsx, actual vs plan, the plan chart."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pandas as pd

from .errors import InputError, Problem
from .goals import (COUNT_METRICS, DIMENSIONS, FRACTION_METRICS, LOWER_IS_BETTER, ON_TRACK,
                    metric_kind, split_actions, t)
from .period import Period

REQUIRED_PLAN_COLUMNS = ["goal_id", "metric", "quarter", "month", "iso_week", "days", "target"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- goal_plan.csv ----------------------------------------------------------------------------

def _cell_safe(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    try:
        from .safety import cell_safe  # shared helper, when present
        return cell_safe(value)
    except ImportError:
        return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def write_plan_csv(df: pd.DataFrame, path) -> Path:
    """Write the plan as UTF-8 with BOM (Excel opens it right); text cells cannot run as formulas."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(_cell_safe)
    path = Path(path)
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def _unprotect(value):
    if isinstance(value, str) and value.startswith("'") and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


def read_plan_csv(path) -> pd.DataFrame:
    """Read a goal_plan.csv back (as written by :func:`write_plan_csv`); InputError if it is not one."""
    path = Path(path)
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype={"goal_id": str, "iso_week": str,
                                                           "month": str, "quarter": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError([Problem(file=path.name, message=str(e), fix=t("goals.plan.fix", "en"))]) from None
    missing = [c for c in REQUIRED_PLAN_COLUMNS if c not in df.columns]
    if missing:
        raise InputError([Problem(file=path.name, message=t("goals.plan.not_a_plan", "en",
                                                            missing=", ".join(missing)),
                                  fix=t("goals.plan.fix", "en"))])
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].map(_unprotect)
    bad = pd.to_numeric(df["target"], errors="coerce").isna() & df["target"].notna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise InputError([Problem(file=path.name, row=row, column="target", value=df["target"][bad].iloc[0],
                                  message=t("goals.plan.not_a_plan", "en", missing="target (numbers)"),
                                  fix=t("goals.plan.fix", "en"))])
    df["target"] = pd.to_numeric(df["target"])
    if "scope" not in df.columns:
        df["scope"] = "all"
    df["scope"] = df["scope"].fillna("all")
    if "aggregation" not in df.columns:
        df["aggregation"] = df["metric"].map(metric_kind)
    if "start" not in df.columns or "end" not in df.columns:
        # Older or hand-made plans: whole months stand in for the segments' days.
        m = pd.PeriodIndex(df["month"], freq="M")
        df["start"] = m.start_time.strftime("%Y-%m-%d")
        df["end"] = m.end_time.strftime("%Y-%m-%d")
    return df


# --- actual vs plan ---------------------------------------------------------------------------

Actual = Callable[[str, str, pd.Timestamp, pd.Timestamp], "float | None"]


def achievement(metric: str, plan: float | None, actual: float | None) -> float | None:
    """actual ÷ plan; plan ÷ actual for metrics where lower is better (return_rate, tacos, cac …).

    None when either is missing or the denominator is not positive (a negative plan, e.g. a
    smaller loss, has no meaningful rate).
    """
    if plan is None or actual is None or _nan(plan) or _nan(actual):
        return None
    num, den = (plan, actual) if metric in LOWER_IS_BETTER else (actual, plan)
    return None if den <= 0 else num / den


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def status(ach: float | None) -> str:
    """'on_track' at ≥ 85% achievement, 'behind' below, 'no_data' without one."""
    if ach is None:
        return "no_data"
    return "on_track" if ach >= ON_TRACK - 1e-12 else "behind"


def actual_vs_plan(plan: pd.DataFrame, actual: Actual, period, *, by: str = "period",
                   lang: str = "en") -> pd.DataFrame:
    """Per goal (``by="month"``: per goal × month) of ``period``: plan, actual, achievement, status.

    Plan is the sum of the period's weekly targets for additive goals and the glide value of the
    period's last month for ratio goals. ``actual(metric, scope, start, end)`` measures the metric
    over those days (additive goals: the days the plan covers inside the period).
    """
    period = period if isinstance(period, Period) else Period.parse(period)
    rows = []
    inside = plan[plan["month"].isin(period.months)]
    for gid, g in inside.groupby("goal_id", sort=False):
        groups = [(period.label, g)] if by == "period" else list(g.groupby("month", sort=True))
        for label, part in groups:
            rows.append(_compare(gid, label, part, actual, lang))
    cols = ["goal_id", "metric", "scope", "period", "start", "end", "plan", "actual", "achievement",
            "status", "status_label"]
    return pd.DataFrame(rows, columns=cols)


def _compare(gid, label, part: pd.DataFrame, actual: Actual, lang: str) -> dict:
    metric, scope = part["metric"].iloc[0], part["scope"].iloc[0]
    start, end = pd.Timestamp(part["start"].min()), pd.Timestamp(part["end"].max())
    if part["aggregation"].iloc[0] == "sum":
        planned = float(part["target"].sum())
    else:
        last = part.sort_values("start")["month"].iloc[-1]
        planned = float(part.loc[part["month"] == last, "target"].iloc[0])
        months = pd.PeriodIndex(part["month"], freq="M")
        start, end = months.min().start_time, months.max().end_time.normalize()
    got = actual(metric, scope, start, end)
    got = None if got is None or _nan(float(got)) else float(got)
    ach = achievement(metric, planned, got)
    st = status(ach)
    return {"goal_id": gid, "metric": metric, "scope": scope, "period": label,
            "start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d"), "plan": round(planned, 6),
            "actual": got, "achievement": ach, "status": st, "status_label": t(f"goals.status.{st}", lang)}


# --- goal_tracker.xlsx ------------------------------------------------------------------------

def _metric_label(metric: str, lang: str) -> str:
    try:
        from .report.i18n import t as shared_t
        return shared_t(f"metric.{metric}", lang)
    except Exception:  # noqa: BLE001 — the metric's own name is a fine label
        return metric


def _excel_money_format(currency: str, lang: str) -> str:
    try:
        from babel.numbers import get_currency_symbol
        symbol = get_currency_symbol(currency, locale="zh_CN" if lang == "zh" else "en_US")
    except Exception:  # noqa: BLE001 — an unknown code is shown as the code
        symbol = currency
    symbol = symbol.replace('"', "")
    return f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'


class _Formats:
    """Cell formats of the tracker, made once per workbook."""

    def __init__(self, wb, currency: str, lang: str):
        base = {"font_size": 10, "border": 1, "valign": "top"}
        money = _excel_money_format(currency, lang)
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#DCE6F1", "text_wrap": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_size": 9, "font_color": "#555555"})
        self.group = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.plain = wb.add_format(base)
        self.int = wb.add_format({**base, "num_format": "0"})
        self.pct = wb.add_format({**base, "num_format": "0.0%"})
        self.by_kind = {
            "money": wb.add_format({**base, "num_format": money}),
            "count": wb.add_format({**base, "num_format": "#,##0.0"}),
            "fraction": wb.add_format({**base, "num_format": "0.0%"}),
            "ratio": wb.add_format({**base, "num_format": "0.00"}),
        }
        input_ = {**base, "bg_color": "#FFF2CC", "locked": False}
        self.input_by_kind = {
            "money": wb.add_format({**input_, "num_format": money}),
            "count": wb.add_format({**input_, "num_format": "#,##0.0"}),
            "fraction": wb.add_format({**input_, "num_format": "0.0%"}),
            "ratio": wb.add_format({**input_, "num_format": "0.00"}),
        }
        self.done = wb.add_format({**input_, "align": "center"})
        self.good = wb.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
        self.bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})


def _value_kind(metric: str) -> str:
    if metric in FRACTION_METRICS:
        return "fraction"
    if metric in COUNT_METRICS:
        return "count"
    if metric in ("units_per_order", "ltv_cac"):
        return "ratio"
    return "money"


def _print_setup(ws) -> None:
    ws.set_landscape()
    ws.set_paper(9)               # A4
    ws.fit_to_pages(1, 0)         # fit to the page width, as many pages down as needed
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.hide_gridlines(0)


def _dimension_order(goal_ids: list[str], meta: pd.DataFrame) -> list[str]:
    """Goals grouped by dimension in the order product, market, marketing, operations."""
    dims = dict(zip(meta["goal_id"], meta.get("dimension", pd.Series(dtype=str))))
    rank = {d: i for i, d in enumerate(DIMENSIONS)}
    return sorted(goal_ids, key=lambda g: (rank.get(dims.get(g), len(DIMENSIONS)), goal_ids.index(g)))


def _q(text: str) -> str:
    """A string literal inside an Excel formula."""
    return '"' + str(text).replace('"', '""') + '"'


def write_tracker(plan_df: pd.DataFrame, goals_meta: pd.DataFrame, path, lang: str = "en",
                  currency: str = "USD", *, plan_year: int | None = None) -> Path:
    """Write goal_tracker.xlsx: summary by dimension, weekly plan with empty actuals, weekly actions.

    ``goals_meta`` has one row per goal: goal_id, metric, and optionally scope, dimension,
    baseline, target, owner, deadline, strategy, weekly_actions, S..T (as from goals.build_plan).
    Achievement and status are Excel formulas, so the workbook computes itself as actuals are typed.
    """
    import xlsxwriter

    meta = goals_meta.copy()
    if "dimension" not in meta.columns:
        meta["dimension"] = "operations"
    order = _dimension_order([g for g in meta["goal_id"] if g in set(plan_df["goal_id"])], meta)
    plan = plan_df.copy()
    plan["_order"] = plan["goal_id"].map({g: i for i, g in enumerate(order)})
    plan = plan.dropna(subset=["_order"]).sort_values(["_order", "start", "month"], kind="stable")
    year = plan_year or (int(plan["month"].iloc[0][:4]) if len(plan) else "")
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    f = _Formats(wb, currency, lang)
    names = {k: t(f"goals.tracker.sheet_{k}", lang) for k in ("summary", "weekly", "actions")}
    summary = wb.add_worksheet(names["summary"])
    weekly = wb.add_worksheet(names["weekly"])
    actions = wb.add_worksheet(names["actions"])
    n_weeks = _write_weekly(weekly, plan, meta, f, lang)
    _write_summary(summary, plan, meta, order, f, lang, names["weekly"], n_weeks, year)
    _write_actions(actions, plan, meta, order, f, lang)
    summary.activate()
    wb.close()
    return path


_WEEKLY_COLS = ["goal_id", "metric", "dimension", "quarter", "month", "iso_week", "start", "end", "days",
                "target", "actual", "achievement"]


def _write_weekly(ws, plan: pd.DataFrame, meta: pd.DataFrame, f: _Formats, lang: str) -> int:
    headers = [t(f"goals.col.{c}", lang) for c in _WEEKLY_COLS]
    ws.write_row(0, 0, headers, f.header)
    dims = dict(zip(meta["goal_id"], meta["dimension"]))
    for i, r in enumerate(plan.itertuples(index=False), start=1):
        kind = _value_kind(r.metric)
        ws.write_string(i, 0, str(r.goal_id), f.plain)
        ws.write_string(i, 1, _metric_label(r.metric, lang), f.plain)
        ws.write_string(i, 2, t(f"goals.dimension.{dims.get(r.goal_id, 'operations')}", lang), f.plain)
        for col, value in zip(range(3, 8), (r.quarter, r.month, r.iso_week, r.start, r.end)):
            ws.write_string(i, col, str(value), f.plain)
        ws.write_number(i, 8, int(r.days), f.int)
        ws.write_number(i, 9, float(r.target), f.by_kind[kind])
        ws.write_blank(i, 10, None, f.input_by_kind[kind])
        tgt, act = f"J{i + 1}", f"K{i + 1}"
        if r.metric in LOWER_IS_BETTER:
            formula = f'=IF({act}="","",IF({act}<=0,"",{tgt}/{act}))'
        else:
            formula = f'=IF({act}="","",IF({tgt}<=0,"",{act}/{tgt}))'
        ws.write_formula(i, 11, formula, f.pct, "")
    last = len(plan)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 2, 16)
    ws.set_column(3, 5, 10)
    ws.set_column(6, 7, 11)
    ws.set_column(8, 8, 6)
    ws.set_column(9, 11, 14)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(last, 1), len(_WEEKLY_COLS) - 1)
    if last:
        ws.conditional_format(1, 11, last, 11, {"type": "cell", "criteria": ">=", "value": ON_TRACK,
                                                "format": f.good})
        ws.conditional_format(1, 11, last, 11, {"type": "formula",
                                                "criteria": f'=AND(L2<>"",L2<{ON_TRACK})', "format": f.bad})
    _print_setup(ws)
    return last


_SUMMARY_COLS = ["goal_id", "metric", "scope", "baseline", "target", "owner", "deadline", "strategy",
                 "annual_target", "target_to_date", "actual_to_date", "achievement", "status", "smart"]


def _write_summary(ws, plan, meta, order, f: _Formats, lang, weekly_name, n_weeks, year) -> None:
    ws.write_string(0, 0, t("goals.tracker.title", lang, year=year), f.title)
    ws.write_string(1, 0, t("goals.tracker.howto", lang), f.note)
    header_row = 3
    ws.write_row(header_row, 0, [t(f"goals.col.{c}", lang) for c in _SUMMARY_COLS], f.header)
    sheet = "'" + weekly_name.replace("'", "''") + "'"
    last = max(n_weeks + 1, 2)
    rng = {c: f"{sheet}!${c}$2:${c}${last}" for c in ("A", "J", "K")}
    on, behind = _q(t("goals.status.on_track", lang)), _q(t("goals.status.behind", lang))
    by_id = meta.set_index("goal_id")
    row = header_row + 1
    current = None
    for gid in order:
        g = by_id.loc[gid]
        if g.get("dimension") != current:
            current = g.get("dimension")
            ws.merge_range(row, 0, row, len(_SUMMARY_COLS) - 1,
                           t("goals.tracker.dimension", lang,
                             dimension=t(f"goals.dimension.{current}", lang)), f.group)
            row += 1
        metric = g["metric"]
        kind = _value_kind(metric)
        num = f.by_kind[kind]
        part = plan[plan["goal_id"] == gid]
        is_sum = part["aggregation"].iloc[0] == "sum"
        ws.write_string(row, 0, str(gid), f.plain)
        ws.write_string(row, 1, _metric_label(metric, lang), f.plain)
        scope = _text(g.get("scope")) or "all"
        ws.write_string(row, 2, t("goals.scope_all", lang) if scope == "all" else scope, f.plain)
        _write_number(ws, row, 3, g.get("baseline"), num, f.plain)
        _write_number(ws, row, 4, g.get("target"), num, f.plain)
        ws.write_string(row, 5, _text(g.get("owner")), f.text)
        ws.write_string(row, 6, _text(g.get("deadline")), f.plain)
        ws.write_string(row, 7, _text(g.get("strategy")), f.text)
        annual = float(part["target"].sum()) if is_sum else float(part["target"].iloc[-1])
        ws.write_number(row, 8, annual, num)
        r = row + 1
        key = _q(gid)
        filled = f'COUNTIFS({rng["A"]},{key},{rng["K"]},"<>")'
        if is_sum:
            to_date = f'=SUMIFS({rng["J"]},{rng["A"]},{key},{rng["K"]},"<>")'
            actual = f'=IF({filled}=0,"",SUMIFS({rng["K"]},{rng["A"]},{key}))'
        else:  # ratio goals: the mean of the weeks filled in so far
            to_date = f'=IF({filled}=0,"",AVERAGEIFS({rng["J"]},{rng["A"]},{key},{rng["K"]},"<>"))'
            actual = f'=IF({filled}=0,"",AVERAGEIFS({rng["K"]},{rng["A"]},{key},{rng["K"]},"<>"))'
        ws.write_formula(row, 9, to_date, num, 0 if is_sum else "")
        ws.write_formula(row, 10, actual, num, "")
        if metric in LOWER_IS_BETTER:
            ach = f'=IF(K{r}="","",IF(K{r}<=0,"",J{r}/K{r}))'
        else:
            ach = f'=IF(OR(K{r}="",J{r}=""),"",IF(J{r}<=0,"",K{r}/J{r}))'
        ws.write_formula(row, 11, ach, f.pct, "")
        ws.write_formula(row, 12, f'=IF(L{r}="","",IF(L{r}>={ON_TRACK},{on},{behind}))', f.plain, "")
        ws.write_string(row, 13, _smart_text(g), f.plain)
        row += 1
    ws.conditional_format(header_row + 1, 11, max(row - 1, header_row + 1), 11,
                          {"type": "cell", "criteria": ">=", "value": ON_TRACK, "format": f.good})
    ws.set_column(0, 0, 8)
    ws.set_column(1, 2, 16)
    ws.set_column(3, 4, 13)
    ws.set_column(5, 6, 11)
    ws.set_column(7, 7, 30)
    ws.set_column(8, 11, 14)
    ws.set_column(12, 13, 12)
    ws.freeze_panes(header_row + 1, 1)
    _print_setup(ws)
    ws.repeat_rows(header_row)


def _write_number(ws, row, col, value, fmt, blank_fmt) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if math.isfinite(v):
        ws.write_number(row, col, v, fmt)
    else:
        ws.write_blank(row, col, None, blank_fmt)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    # xlsxwriter's write_string never turns text into a formula, so no apostrophe is needed here.
    return str(value)


def _smart_text(g) -> str:
    letters = [k for k in "SMART" if k in g.index]
    return " ".join(f"{k}{'✓' if bool(g[k]) else '✗'}" for k in letters)


_ACTION_COLS = ["goal_id", "metric", "iso_week", "start", "end", "action", "done"]


def _write_actions(ws, plan, meta, order, f: _Formats, lang) -> None:
    ws.write_row(0, 0, [t(f"goals.col.{c}", lang) for c in _ACTION_COLS], f.header)
    by_id = meta.set_index("goal_id")
    row = 1
    for gid in order:
        text = _text(by_id.loc[gid].get("weekly_actions")) if "weekly_actions" in by_id.columns else ""
        acts = split_actions(text)
        if not acts:
            continue
        weeks = (plan[plan["goal_id"] == gid].groupby("iso_week", sort=False)
                 .agg(start=("start", "min"), end=("end", "max")))
        metric = _metric_label(by_id.loc[gid]["metric"], lang)
        for week, w in weeks.iterrows():
            for act in acts:
                ws.write_row(row, 0, [str(gid), metric, week, w["start"], w["end"]], f.plain)
                ws.write_string(row, 5, act, f.text)
                ws.write_blank(row, 6, None, f.done)
                row += 1
    ws.data_validation(1, 6, max(row - 1, 1), 6, {"validate": "list", "source": ["✓", "✗"],
                                                 "ignore_blank": True})
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 4, 11)
    ws.set_column(5, 5, 60)
    ws.set_column(6, 6, 8)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(row - 1, 1), len(_ACTION_COLS) - 1)
    _print_setup(ws)


# --- chart ------------------------------------------------------------------------------------

def plan_chart(plan_df: pd.DataFrame, goal_id: str, lang: str = "en", currency: str = "USD"):
    """Monthly targets of one goal as bars (with the cumulative target as a line for additive goals)."""
    part = plan_df[plan_df["goal_id"] == goal_id]
    if part.empty:
        raise KeyError(f"goal {goal_id!r} is not in the plan")
    metric = part["metric"].iloc[0]
    is_sum = part["aggregation"].iloc[0] == "sum" if "aggregation" in part else metric_kind(metric) == "sum"
    monthly = part.groupby("month")["target"].sum() if is_sum else part.groupby("month")["target"].first()
    title = t("goals.chart.title", lang, goal=goal_id, metric=_metric_label(metric, lang))
    ylabel = t("goals.chart.ylabel", lang)
    kind = _value_kind(metric)
    if kind == "money":
        ylabel += f" ({currency})"
    fig, ax = _figure(title, t("goals.chart.xlabel", lang), ylabel)
    x = list(range(len(monthly)))
    ax.bar(x, monthly.to_numpy(), color="#2f6db5",
           label=t("goals.chart.ylabel", lang) if is_sum else t("goals.chart.glide", lang))
    ax.set_xticks(x, [m[-2:] for m in monthly.index])
    _axis_format(ax, kind, lang)
    handles = ax.get_legend_handles_labels()
    if is_sum:
        ax2 = ax.twinx()
        ax2.plot(x, monthly.cumsum().to_numpy(), color="#e07b24", marker="o",
                 label=t("goals.chart.cumulative", lang))
        ax2.set_ylabel(t("goals.chart.cumulative", lang) + (f" ({currency})" if kind == "money" else ""))
        ax2.grid(False)
        _axis_format(ax2, kind, lang)
        h2 = ax2.get_legend_handles_labels()
        handles = (handles[0] + h2[0], handles[1] + h2[1])
    ax.legend(*handles, loc="upper left", fontsize=8)
    return fig


def _figure(title, xlabel, ylabel):
    try:
        from .report import charts
        charts.setup()
        return charts.figure(title, xlabel, ylabel)
    except ImportError:
        import matplotlib
        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return fig, ax


def _axis_format(ax, kind: str, lang: str) -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter
    if kind == "fraction":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
