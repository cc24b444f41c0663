"""Steps 2–4 as the notebooks run them: the demo's planted truths come out of the report sections, and every
section degrades to a note (never a crash) when optional data is missing.

The notebooks only call these section functions in order (see notebooks/02–04); running them here in-process
covers what the HTML will say without starting a kernel. test_runner.py covers the same through papermill.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomreview import campaigns, channels, demo, products
from ecomreview.context import StepContext, jsonable
from ecomreview.loader import load_workspace
from ecomreview.period import Period
from ecomreview.report.i18n import t
from ecomreview.review import prepare

from conftest import TINY, write_workspace

SECTIONS = {
    channels: ["show_intro", "show_scorecard", "show_classes", "show_chart", "show_concentration",
               "show_recommendations", "show_thresholds", "finish"],
    products: ["show_intro", "show_summary", "show_actions", "show_all", "show_quadrants", "show_pareto",
               "show_thresholds", "finish"],
    campaigns: ["show_intro", "show_overview", "show_campaigns", "show_summaries", "show_keywords",
                "show_promotions", "show_notes", "finish"],
}
STEP = {channels: "channels", products: "products", campaigns: "campaigns"}


@pytest.fixture
def shown(monkeypatch):
    """Everything the sections display, as HTML strings, in order."""
    import IPython.display

    from ecomreview.report import charts
    charts.setup()  # the CJK font, as setup_notebook() does in a kernel
    out: list[str] = []

    def display(obj, **kw):
        out.append(obj.data if hasattr(obj, "data") else obj._repr_html_())

    monkeypatch.setattr(IPython.display, "display", display)
    return out


def run_step(module, ws: Path, period: str, lang: str, out_dir: Path | None = None) -> StepContext:
    review = prepare(load_workspace(ws))
    ctx = StepContext(step=STEP[module], review=review, period=Period.parse(period), lang=lang, out_dir=out_dir)
    for name in SECTIONS[module]:
        getattr(module, name)(ctx)
    json.dumps(jsonable(ctx.parts))  # metrics.json must be writable
    return ctx


# ------------------------------------------------------------------ the demo seller's planted truths

@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    return demo.generate(tmp_path_factory.mktemp("demo") / "ws", n_lines=25000, seed=7)


@pytest.fixture(scope="module")
def planted(demo_ws):
    return json.loads((demo_ws / "planted.json").read_text(encoding="utf-8"))


def test_demo_channels_land_in_their_planted_classes(demo_ws, planted, shown, tmp_path):
    ctx = run_step(channels, demo_ws, "2025", "en", tmp_path)
    got = ctx.parts["channels"]
    assert {ch: v["class"] for ch, v in got.items()} == planted["channels"]
    # the reason quotes the deciding number: tiktok's growth and the 20% threshold
    tiktok = got["tiktok_us"]
    assert "growth +" in tiktok["reason"] and "≥ 20.0%" in tiktok["reason"]
    assert (tmp_path / "tables" / "channels.csv").exists()
    text = "".join(shown)
    assert "Cash cow" in text and "<svg" in text and "Thresholds used" in text
    assert "amazon_us" in ctx.findings[0]


def test_demo_products_get_their_planted_class_and_action(demo_ws, planted, shown, tmp_path):
    ctx = run_step(products, demo_ws, "2025", "zh", tmp_path)
    got = ctx.parts["products"]
    for sku, want in planted["products"].items():
        assert got[sku]["class"] == want["class"], sku
        assert got[sku]["action"].split(";") == want["action"], sku
    # every action list a seller works through is a CSV with exactly the SKUs of that action
    restock = (tmp_path / "tables" / "products_restock.csv").read_text(encoding="utf-8-sig")
    hit_restock = [s for s, v in planted["products"].items() if "restock" in v["action"]]
    assert hit_restock and all(s in restock for s in hit_restock)
    assert (tmp_path / "tables" / "products.csv").exists()
    text = "".join(shown)
    assert "本周行动清单" in text and "帕累托" in text


def test_demo_traffic_quadrants(demo_ws, planted, shown):
    ctx = run_step(products, demo_ws, "2025", "en")
    quads = products.quadrants(products.analyse(ctx), "en")
    names = {"hit": "high_traffic_high_conversion", "product_problem": "high_traffic_low_conversion",
             "needs_traffic": "low_traffic_high_conversion", "reassess_fit": "low_traffic_low_conversion"}
    for sku, want in planted["traffic_quadrants"].items():
        assert names[quads.loc[sku, "quadrant"]] == want, sku


def test_demo_campaigns_and_promotions(demo_ws, planted, shown, tmp_path):
    ctx = run_step(campaigns, demo_ws, "2025", "en", tmp_path)
    got = ctx.parts["campaigns"]
    judged = {cid: v for cid, v in planted["campaigns"].items() if cid in got and got[cid]["verdict"] != "unknown"}
    assert len(judged) >= 8  # the 2025 campaigns with attributed sales
    assert {cid: got[cid]["verdict"] for cid in judged} == judged
    assert {cid: v["verdict"] for cid, v in ctx.parts["promotions"].items()} == planted["promotions"]
    wasted = (tmp_path / "tables" / "keywords.csv").read_text(encoding="utf-8-sig")
    assert all(k in wasted for k in planted["wasted_keywords"])
    text = "".join(shown)
    assert "pulled forward" in text and "Wasted keyword spend" in text


# ------------------------------------------------------------------ degrading gracefully

def _variant(tmp_path, drop=(), **replace) -> Path:
    files = {k: v for k, v in TINY.items() if k not in drop}
    files.update(replace)
    return write_workspace(tmp_path / "ws", files)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("module", [channels, products, campaigns], ids=lambda m: STEP[m])
def test_tiny_workspace_runs_every_section(module, lang, tmp_path, shown):
    # TINY has no stock, no SKU traffic, no ops_hours, no keywords, no promotions and no attributed sales
    ctx = run_step(module, _variant(tmp_path), "2025", lang, tmp_path / "out")
    assert ctx.findings and (tmp_path / "out" / "parts" / f"{STEP[module]}.json").exists()
    assert "Traceback" not in "".join(shown)


def test_what_channels_could_not_assess_is_said(tmp_path, shown):
    run_step(channels, _variant(tmp_path), "2025", "en")
    text = "".join(shown)
    # no ops_hours in channels.csv: ranked by contribution profit, and the report says which channels lack them
    assert "Ranked by contribution profit" in text and "amz, shop" in text.replace("shop, amz", "amz, shop")


def test_channels_without_a_previous_year_use_the_flagged_trend(tmp_path, shown):
    orders = "\n".join(line for line in TINY["orders.csv"].splitlines() if "2024-06-01" not in line)
    ctx = run_step(channels, _variant(tmp_path, **{"orders.csv": orders}), "2025", "en")
    table = channels.analyse(ctx)
    assert set(table["growth_method"].dropna()) == {"trend"}
    assert "seasonality can bias" in "".join(shown)


def test_a_single_channel_is_said_to_be_alone(tmp_path, shown):
    orders = "\n".join(line for line in TINY["orders.csv"].splitlines() if ",amz," not in line)
    ctx = run_step(channels, _variant(tmp_path, drop=("campaigns.csv", "expenses.csv"), **{"orders.csv": orders}),
                   "2025", "en")
    assert list(ctx.parts["channels"]) == ["shop"]
    assert t("channels.note.single", "en", channel="shop").split(":")[0] in "".join(shown)


def test_products_without_stock_or_traffic_say_what_they_need(tmp_path, shown):
    run_step(products, _variant(tmp_path), "2025", "en")
    text = "".join(shown)
    assert "No stock_on_hand in products.csv" in text
    assert "No SKU-level traffic" in text


def test_campaigns_missing_say_so(tmp_path, shown):
    ctx = run_step(campaigns, _variant(tmp_path, drop=("campaigns.csv",)), "2025", "zh")
    assert ctx.parts["campaigns"] == {} and ctx.parts["promotions"] == {}
    assert t("campaigns.note.no_campaigns", "zh")[:10] in "".join(shown)


def test_a_period_without_sales_does_not_crash(tmp_path, shown):
    ws = _variant(tmp_path)
    for module in (channels, products, campaigns):
        ctx = run_step(module, ws, "2023", "en")
        assert ctx.findings
    text = "".join(shown)
    assert "No channel has sales in 2023" in text and "No SKU has sales or stock in 2023" in text


def test_thresholds_from_settings_are_used_and_printed(tmp_path, shown):
    ws = _variant(tmp_path, **{"settings.yaml": "thresholds:\n  cash_cow_profit_share: 0.9\n  restock_days: 45\n"})
    ctx = run_step(channels, ws, "2025", "en")
    assert ctx.thresholds(channels.DEFAULTS)["cash_cow_profit_share"] == 0.9
    text = "".join(shown)
    assert "90.0%" in text and "settings.yaml</td>" in text
    shown.clear()
    run_step(products, ws, "2025", "en")
    assert "<td>45</td>" in "".join(shown)


def test_plan_suggests_goals_for_the_largest_problem_products_only(tmp_path):
    from ecomreview import goals
    out = tmp_path / "out"
    (out / "parts").mkdir(parents=True)
    # eight problem SKUs with revenue 10, 20, … 80; the five largest (80 … 40) get a suggested goal
    products_part = {f"P{i}": {"class": "problem", "action": "reprice", "revenue": 10.0 * i} for i in range(1, 9)}
    products_part["H1"] = {"class": "hit", "action": "replicate", "revenue": 999.0}
    (out / "parts" / "products.json").write_text(json.dumps({"metrics": {"products": products_part}}))
    review = prepare(load_workspace(_variant(tmp_path)))
    ctx = StepContext(step="plan", review=review, period=Period.parse("2025"), lang="en", out_dir=out)
    f = goals.findings_from_parts(ctx)
    assert f["problem_products_total"] == 8
    assert [p["sku"] for p in f["problem_products"]] == ["P8", "P7", "P6", "P5", "P4"]


def test_a_partial_previous_year_is_flagged(tmp_path, shown):
    # TINY's 2024 has sales in June only: YoY compares 2025 with one month of 2024
    run_step(channels, _variant(tmp_path), "2025", "en")
    assert "has sales in only 1 of 12 months" in "".join(shown)
