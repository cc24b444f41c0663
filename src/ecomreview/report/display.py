"""Notebook display helpers: headings, notes, formatted tables, KPI cards and charts, all as escaped HTML."""
from __future__ import annotations

import datetime as _dt
import functools
import html
import logging
import numbers
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import charts, fmt
from .i18n import t

STATUSES = ("green", "amber", "red")
_NUM = ' class="num"'                       # right-aligned numeric column
STYLE_METADATA = {"ecomreview": "style"}   # marks the notebook-only <style> output that export drops
TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The report CSS, inlined into every page (and shown once in an interactive notebook)."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


class HtmlBlock:
    """A piece of report HTML that displays itself in a notebook and is not re-escaped by Jinja2."""

    def __init__(self, markup: str):
        self.html = markup

    def _repr_html_(self) -> str:
        return self.html

    def __html__(self) -> str:            # markupsafe protocol: Jinja2 inserts it as is
        return self.html

    def __str__(self) -> str:
        return self.html


class HtmlTable(HtmlBlock):
    """A formatted table; ``cells`` holds the displayed text (header row first), for tests and reuse."""

    def __init__(self, markup: str, cells: list[list[str]]):
        super().__init__(markup)
        self.cells = cells


def _esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _display(markup: str, **kw) -> None:
    from IPython.display import HTML, display

    display(HTML(markup), **kw)


def _is_figure(obj) -> bool:
    from matplotlib.figure import Figure

    return isinstance(obj, Figure)


def chart_html(fig) -> HtmlBlock:
    """A matplotlib Figure as an inline-SVG block (the figure is closed)."""
    return HtmlBlock(f'<figure class="er-chart">{charts.to_svg(fig)}</figure>')


def show(obj) -> None:
    """Display a Figure (as inline SVG), anything with ``_repr_html_``, or text/number as a paragraph."""
    from IPython.display import display

    if _is_figure(obj):
        _display(chart_html(obj).html)
    elif hasattr(obj, "_repr_html_"):
        display(obj)
    elif isinstance(obj, (str, numbers.Number)):
        para(str(obj))
    else:
        raise TypeError(f"show() cannot display {type(obj).__name__}: pass a Figure, a table or text")


def heading(text: str, level: int = 2) -> None:
    """Display a section heading (level 1–6)."""
    level = min(max(int(level), 1), 6)
    _display(f"<h{level}>{_esc(text)}</h{level}>")


def para(text: str) -> None:
    """Display a paragraph of text."""
    _display(f'<p class="er-para">{_esc(text)}</p>')


def note_html(text: str) -> HtmlBlock:
    """A muted note box, e.g. what data a section would need."""
    return HtmlBlock(f'<div class="er-note">{_esc(text)}</div>')


def note(text: str) -> None:
    """Display a muted note box, e.g. "this step needs traffic data: …"."""
    _display(note_html(text).html)


def bullets(items: Iterable[str]) -> None:
    """Display a bulleted list."""
    rows = "".join(f"<li>{_esc(item)}</li>" for item in items)
    _display(f'<ul class="er-bullets">{rows}</ul>')


def status_badge(status, lang: str) -> HtmlBlock:
    """A coloured badge for a health status "green"/"amber"/"red"; anything else shows "no data"."""
    key = _status_key(status)
    return HtmlBlock(f'<span class="er-badge er-badge-{key}">{_esc(t(f"report.status.{key}", lang))}</span>')


def _is_absent(value) -> bool:
    """None, NaN, NA and NaT, without tripping over lists or pd.NA's refusal to be a bool."""
    import pandas as pd

    if isinstance(value, (list, tuple, set, dict)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _status_key(value) -> str:
    return value if isinstance(value, str) and value in STATUSES else "none"


def _plain(value, lang: str) -> str:
    """Default text for a cell in a column with no declared format."""
    if _is_absent(value):
        return fmt.ABSENT
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return fmt.number(value, lang)
    if isinstance(value, numbers.Real):
        return fmt.number(value, lang, 0 if float(value).is_integer() else 2)
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == _dt.time() else "%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _is_numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _formatters(lang, currency, money, pct, ratio, number, growth, pp):
    spec = {}
    for cols, fn in ((money, lambda v: fmt.money(v, currency, lang)),
                     (pct, lambda v: fmt.pct(v, lang)),
                     (ratio, lambda v: fmt.ratio(v, lang)),
                     (number, lambda v: fmt.number(v, lang)),
                     (growth, lambda v: fmt.signed_pct(v, lang)),
                     (pp, lambda v: fmt.pp(v, lang))):
        for col in ([cols] if isinstance(cols, str) else cols):
            spec[col] = fn
    return spec


def table(df, *, lang: str, currency: str, money=(), pct=(), ratio=(), number=(), growth=(), pp=(),
          labels: Mapping | None = None, index: bool = False, classes=None, max_rows: int | None = None,
          status_col: str | None = None) -> HtmlTable:
    """A DataFrame as an escaped HTML table with formatted columns.

    money: amounts in ``currency``; pct: fractions shown as %; ratio: 2 decimals; number: integers;
    growth: signed %; pp: percentage-point changes. ``labels`` renames headers (original column name →
    shown text); ``status_col`` is shown as coloured red/amber/green badges. Other columns get a plain
    default format. ``max_rows`` cuts the table and says how many rows were left out.
    """
    frame = df.reset_index() if index else df
    if max_rows is not None and len(frame) > max_rows:
        shown, hidden = frame.iloc[:max_rows], len(frame) - max_rows
    else:
        shown, hidden = frame, 0
    formats = _formatters(lang, currency, money, pct, ratio, number, growth, pp)
    unknown = [c for c in [*formats, *([status_col] if status_col else [])] if c not in frame.columns]
    if unknown:
        raise KeyError(f"table(): columns not in the frame: {unknown}")
    labels = dict(labels or {})
    headers = [str(labels.get(c, c)) for c in frame.columns]
    numeric = {c for c in frame.columns if c in formats or _is_numeric(frame[c])}
    cells = [headers]
    body = []
    for row in shown.itertuples(index=False, name=None):
        texts, tds = [], []
        for col, value in zip(frame.columns, row):
            if col == status_col:
                texts.append(t(f"report.status.{_status_key(value)}", lang))
                tds.append(f'<td class="er-status">{status_badge(value, lang).html}</td>')
                continue
            text = formats[col](value) if col in formats else _plain(value, lang)
            texts.append(text)
            tds.append(f'<td{_NUM if col in numeric else ""}>{_esc(text)}</td>')
        cells.append(texts)
        body.append("<tr>" + "".join(tds) + "</tr>")
    if not body:
        body.append(f'<tr><td class="er-empty" colspan="{max(len(headers), 1)}">'
                    f'{_esc(t("report.table.empty", lang))}</td></tr>')
    extra = [classes] if isinstance(classes, str) else list(classes or ())
    table_class = _esc(" ".join(["er-table", *extra]))
    head = "".join(f'<th scope="col"{_NUM if c in numeric else ""}>{_esc(h)}</th>'
                   for c, h in zip(frame.columns, headers))
    foot = (f'<p class="er-more">{_esc(t("report.table.more_rows", lang, n=hidden))}</p>' if hidden else "")
    markup = (f'<div class="er-table-wrap"><table class="{table_class}">'
              f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{foot}</div>")
    return HtmlTable(markup, cells)


def kpi_cards(cards: Iterable[Mapping]) -> HtmlBlock:
    """KPI cards: each {label, value (already formatted), sub (optional), status (optional)}."""
    out = []
    for card in cards:
        status = _status_key(card.get("status"))
        cls = f" er-card-{status}" if status != "none" else ""
        sub = f'<div class="er-card-sub">{_esc(card["sub"])}</div>' if card.get("sub") else ""
        out.append(f'<div class="er-card{cls}"><div class="er-card-label">{_esc(card["label"])}</div>'
                   f'<div class="er-card-value">{_esc(card["value"])}</div>{sub}</div>')
    return HtmlBlock(f'<div class="er-cards">{"".join(out)}</div>')


def setup_notebook() -> None:
    """Call once at the top of a step notebook: chart style, no warnings in the output, report CSS."""
    import numpy as np

    charts.setup()
    for category in (FutureWarning, UserWarning, RuntimeWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    np.seterr(all="ignore")               # 0/0 in ratios becomes NaN, shown as "—", never a warning
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    # So tables and cards look the same in JupyterLab as in the report; export drops this output
    # because the page template carries the same stylesheet.
    _display(f"<style>{stylesheet()}</style>", metadata=STYLE_METADATA)
