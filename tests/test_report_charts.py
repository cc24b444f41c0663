"""Chart style: inline SVG keeps Chinese as text with a CJK font stack; labelling check."""
import re
import warnings

import matplotlib
import pytest

from ecomreview.report import charts

charts.setup()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)


def _bar(title="月度收入", xlabel="月份", ylabel="收入（美元）"):
    fig, ax = charts.figure(title, xlabel, ylabel)
    ax.bar(["一月", "二月"], [3, 4], color=charts.PALETTE["cash_cow"])
    return fig


def test_setup_selects_agg_and_text_fonts():
    assert matplotlib.get_backend().lower() == "agg"
    assert matplotlib.rcParams["svg.fonttype"] == "none"
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_to_svg_keeps_chinese_as_text_with_cjk_font_stack():
    svg = charts.to_svg(_bar())
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
    assert {"月度收入", "月份", "收入（美元）", "一月", "二月"} <= set(texts)
    assert charts.FONT_STACK in svg
    families = set(re.findall(r"font-family:\s*([^;\"]+)", svg))
    assert families == {charts.FONT_STACK}             # every family rewritten, none left over


def test_to_svg_is_an_inline_responsive_fragment():
    svg = charts.to_svg(_bar())
    assert svg.startswith("<svg")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata>" not in svg
    root = re.match(r"<svg\b[^>]*>", svg).group(0)
    assert 'width="100%"' in root and "viewBox=" in root
    assert not re.search(r'\sheight="[\d.]+pt"', root)


def test_to_svg_closes_the_figure():
    fig = _bar()
    assert plt.fignum_exists(fig.number)
    charts.to_svg(fig)
    assert not plt.fignum_exists(fig.number)


def test_two_charts_on_one_page_share_no_id():
    first, second = charts.to_svg(_bar("甲", "x", "y")), charts.to_svg(_bar("乙", "x", "y"))
    ids = lambda s: set(re.findall(r'\bid="([^"]+)"', s))  # noqa: E731
    assert ids(first) and ids(second)
    assert ids(first) & ids(second) == set()
    # every internal reference points at an id of the same chart
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', first))
    assert refs and refs <= ids(first)


def test_to_svg_escapes_markup_in_labels():
    svg = charts.to_svg(_bar(title="<b>x</b> & y"))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in svg


def test_missing_glyph_warnings_are_silenced():
    # Force a font without CJK glyphs: matplotlib would warn "Glyph … missing from font(s)".
    # setup() runs inside the test because pytest restores the warning filters around each test.
    charts.setup()
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}), warnings.catch_warnings(record=True) as seen:
        charts.to_svg(_bar())
    assert [str(w.message) for w in seen if "Glyph" in str(w.message)] == []


def test_check_labelled_accepts_a_fully_labelled_chart():
    fig = _bar()
    assert charts.check_labelled(fig) == []
    plt.close(fig)


@pytest.mark.parametrize("missing, problem", [("title", "no title"), ("xlabel", "no x label"),
                                               ("ylabel", "no y label")])
def test_check_labelled_finds_each_missing_label(missing, problem):
    labels = {"title": "收入", "xlabel": "月份", "ylabel": "金额", missing: ""}
    fig = _bar(**labels)
    assert charts.check_labelled(fig) == [f"axes 0: {problem}"]
    plt.close(fig)


def test_check_labelled_suptitle_and_twin_axes():
    fig, ax = plt.subplots()
    fig.suptitle("渠道")
    ax.set_xlabel("月份")
    ax.set_ylabel("收入")
    twin = ax.twinx()
    twin.set_ylabel("份额")
    assert charts.check_labelled(fig) == []
    twin.set_ylabel("")
    assert charts.check_labelled(fig) == ["axes 1: no y label"]
    plt.close(fig)


def test_check_labelled_flag_for_pies_and_heatmaps():
    fig, ax = plt.subplots()
    ax.imshow([[1, 2], [3, 4]])
    ax.set_title("热力图")
    assert charts.check_labelled(fig) == ["axes 0: no x label", "axes 0: no y label"]
    assert charts.check_labelled(fig, axis_labels=False) == []
    fig.colorbar(ax.images[0])                         # a colorbar is not a chart of its own
    assert charts.check_labelled(fig, axis_labels=False) == []
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.pie([1, 2])
    ax.set_title("份额")
    ax.set_axis_off()                                  # hidden axes need no labels
    assert charts.check_labelled(fig) == []
    plt.close(fig)


def test_palette_covers_every_class():
    assert set(charts.PALETTE) == {"cash_cow", "potential", "problem", "steady", "hit", "evergreen", "long_tail"}
    assert {"green", "amber", "red"} <= set(charts.HEALTH_COLOURS)
