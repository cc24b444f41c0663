"""Notebook display helpers: formatted, escaped tables; KPI cards; show() on figures, tables and text."""
import re

import numpy as np
import pandas as pd
import pytest

from ecomreview.report import charts, display
from ecomreview.report.display import HtmlBlock, kpi_cards, table

XSS = "<script>alert(1)</script>"


@pytest.fixture
def shown(monkeypatch):
    """Everything show()/heading()/… pass to IPython's display, as HTML strings."""
    out = []

    def fake_display(obj, **kw):
        out.append(obj._repr_html_() if hasattr(obj, "_repr_html_") else obj.data)

    monkeypatch.setattr("IPython.display.display", fake_display)
    return out


def _frame():
    return pd.DataFrame({
        "sku": [XSS, "杯子", "碗"],
        "revenue": [1234.5, None, 80.0],
        "margin": [0.4123, 0.2, np.nan],
        "roas": [3.254, 0.0, np.inf],
        "units": [1500, 2, 3],
        "growth": [0.123, -0.05, None],
        "status": ["green", "red", None],
    })


def test_table_escapes_data_text_and_headers():
    df = pd.DataFrame({XSS: [XSS], "b&c": ['"quoted"']})
    markup = table(df, lang="en", currency="USD").html
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "b&amp;c" in markup and "&quot;quoted&quot;" in markup


def test_table_formats_declared_columns_in_each_language():
    tbl = table(_frame(), lang="en", currency="USD", money=["revenue"], pct=["margin"], ratio=["roas"],
                number=["units"], growth=["growth"], status_col="status")
    header, *rows = tbl.cells
    assert header == ["sku", "revenue", "margin", "roas", "units", "growth", "status"]
    assert rows[0] == [XSS, "$1,234.50", "41.2%", "3.25", "1,500", "+12.3%", "Healthy"]
    assert rows[1] == ["杯子", "—", "20.0%", "0.00", "2", "-5.0%", "Alert"]
    assert rows[2] == ["碗", "$80.00", "—", "—", "3", "—", "No data"]
    zh = table(_frame(), lang="zh", currency="USD", money=["revenue"], status_col="status")
    assert zh.cells[1][1] == "US$1,234.50" and zh.cells[1][-1] == "健康"


def test_table_status_column_is_a_coloured_badge():
    markup = table(_frame(), lang="en", currency="USD", status_col="status").html
    assert '<span class="er-badge er-badge-green">Healthy</span>' in markup
    assert '<span class="er-badge er-badge-red">Alert</span>' in markup
    assert '<span class="er-badge er-badge-none">No data</span>' in markup


def test_table_labels_rename_headers_and_numbers_align_right():
    markup = table(_frame(), lang="zh", currency="USD", money=["revenue"], labels={"sku": "商品", "revenue": "收入"}).html
    assert '<th scope="col">商品</th>' in markup
    assert '<th scope="col" class="num">收入</th>' in markup
    assert '<td class="num">US$1,234.50</td>' in markup


def test_table_default_formats_for_undeclared_columns():
    df = pd.DataFrame({"n": [1200, 3], "x": [2.5, 4.0], "d": pd.to_datetime(["2025-01-31", "2025-02-01"]),
                       "tags": [["a", "b"], []]})
    tbl = table(df, lang="en", currency="USD")
    assert tbl.cells[1] == ["1,200", "2.50", "2025-01-31", "a, b"]
    assert tbl.cells[2] == ["3", "4", "2025-02-01", ""]


def test_table_max_rows_says_how_many_are_hidden():
    df = pd.DataFrame({"a": range(5)})
    tbl = table(df, lang="en", currency="USD", max_rows=2)
    assert len(tbl.cells) == 1 + 2
    assert "3 more rows not shown." in tbl.html
    assert "more rows" not in table(df, lang="en", currency="USD", max_rows=5).html


def test_table_index_and_classes_and_empty_frame():
    df = pd.DataFrame({"v": [1]}, index=pd.Index(["亚马逊"], name="channel"))
    tbl = table(df, lang="zh", currency="USD", index=True, classes=["wide", '"x'])
    assert tbl.cells == [["channel", "v"], ["亚马逊", "1"]]
    assert 'class="er-table wide &quot;x"' in tbl.html
    empty = table(pd.DataFrame({"a": []}), lang="zh", currency="USD")
    assert "没有数据。" in empty.html


def test_table_rejects_unknown_columns():
    with pytest.raises(KeyError, match="nope"):
        table(_frame(), lang="en", currency="USD", money=["nope"])


def test_kpi_cards_escape_and_show_status():
    markup = kpi_cards([{"label": "净销售额", "value": "US$120万", "sub": "同比 +12.3%", "status": "green"},
                        {"label": XSS, "value": "3"}]).html
    assert 'class="er-card er-card-green"' in markup
    assert "同比 +12.3%" in markup
    assert "&lt;script&gt;" in markup and "<script>" not in markup
    assert markup.count('class="er-card-sub"') == 1


def test_html_block_is_not_escaped_again_by_jinja():
    import jinja2

    env = jinja2.Environment(autoescape=True)
    assert env.from_string("{{ b }}").render(b=HtmlBlock("<p>ok</p>")) == "<p>ok</p>"


def test_show_figure_as_inline_svg(shown):
    import matplotlib.pyplot as plt

    charts.setup()
    fig, ax = charts.figure("收入", "月份", "金额")
    ax.plot([1, 2], [3, 4])
    display.show(fig)
    assert len(shown) == 1 and re.search(r'<figure class="er-chart"><svg\b', shown[0])
    assert not plt.fignum_exists(fig.number)


def test_show_text_table_and_rejects_other_objects(shown):
    display.show(XSS)
    display.show(table(pd.DataFrame({"a": [1]}), lang="en", currency="USD"))
    assert shown[0] == '<p class="er-para">&lt;script&gt;alert(1)&lt;/script&gt;</p>'
    assert shown[1].startswith('<div class="er-table-wrap">')
    with pytest.raises(TypeError):
        display.show(object())


def test_text_helpers_escape(shown):
    display.heading(XSS, level=3)
    display.note("需要流量数据 <traffic.csv>")
    display.bullets(["a<b", "c"])
    assert shown[0] == "<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>"
    assert shown[1] == '<div class="er-note">需要流量数据 &lt;traffic.csv&gt;</div>'
    assert shown[2] == '<ul class="er-bullets"><li>a&lt;b</li><li>c</li></ul>'
