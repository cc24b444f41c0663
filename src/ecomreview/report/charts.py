"""Chart style for reports: Agg backend, CJK-capable fonts, inline SVG with text kept as text."""
from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings

import matplotlib

# Text stays <text> in the SVG, so the browser draws it with this stack: Chinese renders on any machine
# with one of these fonts, even when matplotlib itself found no CJK font.
FONT_STACK = ("'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',"
              "'WenQuanYi Micro Hei','DejaVu Sans',sans-serif")
_MPL_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
              "WenQuanYi Micro Hei", "DejaVu Sans"]

# One colour per class name used by the steps (SPEC §4), and per health status.
PALETTE = {
    # channels (BCG-style)
    "cash_cow": "#2f6db5",
    "potential": "#2e9e6a",
    "problem": "#d1495b",
    "steady": "#8c8c8c",
    # products
    "hit": "#e07b24",
    "evergreen": "#2e9e6a",
    "long_tail": "#9b7bb8",
}
HEALTH_COLOURS = {"green": "#2e9e6a", "amber": "#e0a21b", "red": "#d1495b", None: "#9aa3ad"}
SERIES = ["#2f6db5", "#e07b24", "#2e9e6a", "#d1495b", "#9b7bb8", "#8c6d46", "#4fa3c7", "#8c8c8c"]


def setup() -> None:
    """Select the Agg backend and the report style; silence font warnings (reports show none)."""
    matplotlib.use("Agg", force=True)
    matplotlib.rcParams.update({
        "svg.fonttype": "none",
        "svg.hashsalt": "ecomreview",          # stable ids: the same chart gives the same SVG
        "font.family": "sans-serif",
        "font.sans-serif": _MPL_FONTS,
        "axes.unicode_minus": False,           # U+2212 is missing from many CJK fonts
        "axes.prop_cycle": matplotlib.cycler(color=SERIES),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titleweight": "bold",
        "figure.dpi": 100,
    })
    # Without a CJK font matplotlib warns per missing glyph and logs every findfont miss; the SVG text
    # is drawn by the browser anyway, so these are noise that must not reach a report.
    warnings.filterwarnings("ignore", message=r"Glyph .* missing from", category=UserWarning)
    warnings.filterwarnings("ignore", message=r".*findfont", category=UserWarning)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def figure(title: str, xlabel: str, ylabel: str, size: tuple[float, float] = (8, 4.5)):
    """A new (Figure, Axes) of ``size`` inches with title and axis labels already set."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_FONT_FAMILY = re.compile(r"font-family:\s*[^;\"]+")
_ROOT = re.compile(r'<svg\b[^>]*>')
_SIZE = re.compile(r'\s(width|height)="([\d.]+)pt"')
_IDS = re.compile(r'\bid="([^"]+)"')


def _prefix_ids(svg: str) -> str:
    """Make every id unique to this chart, so several charts on one page never share an id."""
    ids = set(_IDS.findall(svg))
    if not ids:
        return svg
    prefix = "c" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:8] + "-"
    alternatives = "|".join(sorted((re.escape(i) for i in ids), key=len, reverse=True))
    ref = re.compile(r'(\bid="|href="#|url\(#)(' + alternatives + r')(?=[")])')
    return ref.sub(lambda m: m.group(1) + prefix + m.group(2), svg)


def _responsive_root(match: re.Match) -> str:
    tag = match.group(0)
    sizes = dict(_SIZE.findall(tag))
    tag = _SIZE.sub("", tag)
    max_width = f"max-width:{sizes['width']}pt;" if "width" in sizes else ""
    return tag[:-1] + f' width="100%" style="{max_width}height:auto" role="img">'


def to_svg(fig) -> str:
    """The figure as inline SVG markup (no prolog, responsive width, CJK font stack); closes it."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    svg = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1))
    svg = _FONT_FAMILY.sub("font-family: " + FONT_STACK, svg)
    svg = _ROOT.sub(_responsive_root, svg, count=1)
    return _prefix_ids(svg).strip()


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def check_labelled(fig, *, axis_labels: bool = True) -> list[str]:
    """Problems with a figure's labelling (empty list = fine), for tests.

    Every visible Axes needs a title (or the figure a suptitle; twinned Axes share one) and, when
    ``axis_labels`` is true, a label on each visible x/y axis. Pass ``axis_labels=False`` for charts
    whose axes carry no quantity (pie, heatmap of categories). Colorbars are not checked.
    """
    problems = []
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or _is_colorbar(ax):
            continue
        twins = ax.get_shared_x_axes().get_siblings(ax) + ax.get_shared_y_axes().get_siblings(ax)
        if not suptitle and not any(a.get_title().strip() for a in twins):
            problems.append(f"axes {i}: no title")
        if not axis_labels or not ax.axison:
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_visible() and not axis.get_label_text().strip():
                problems.append(f"axes {i}: no {name} label")
    return problems
