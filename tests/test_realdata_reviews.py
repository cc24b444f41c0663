"""The real exports under ../shared/realdata, imported and then reviewed end to end (every step, every page).

Skipped when ../shared is absent. The files are read in place and never copied into the project.
"""
from __future__ import annotations

import json

import pytest

from ecomreview.cli import main
from ecomreview.importers import import_files
from ecomreview.report.html import assert_clean_html
from ecomreview.runner import run_review

from conftest import REALDATA

pytestmark = [pytest.mark.slow, pytest.mark.realdata,
              pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")]

SHOPIFY = REALDATA / "shopify-orders-alphapaw-us"
PAGES = ("index.html", "01-data-audit.html", "02-channels.html", "03-products.html", "04-campaigns.html",
         "05-smart-plan.html")


def _assert_complete(out_dir) -> dict:
    for page in PAGES:
        html = (out_dir / page).read_text(encoding="utf-8")
        assert assert_clean_html(html) == [], page
    return json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    ws = tmp_path_factory.mktemp("real") / "alphapaw"
    import_files("shopify-orders", [SHOPIFY / "orders_export_1.pseudonymised.csv"], ws)
    import_files("shopify-products", [SHOPIFY / "products_export_1 (6).csv"], ws)
    return ws


def test_shopify_store_full_review(shop, tmp_path):
    res = run_review(shop, "2023", out=tmp_path / "out", lang="en")
    m = _assert_complete(res.out_dir)
    assert m["kpis"]["orders"] > 3000 and list(m["channels"]) == ["shopify"]
    assert len(m["products"]) > 100 and m["campaigns"] == {}          # no ads in this export


def test_ads_exports_join_the_store_and_the_review_runs(shop, tmp_path):
    # Ads of other shops and years: imported beside the store's orders, the review still runs; campaigns on
    # channels without sales are listed by the data-quality audit, not silently dropped.
    import shutil
    ws = tmp_path / "ws"
    shutil.copytree(shop, ws)
    import_files("google-ads", [REALDATA / "google-ads-searchterms-solar-us" / "Search terms report.csv"], ws)
    import_files("amazon-ads", [REALDATA / "amazon-ads-sp-inr" / "Sponsored Products Campaign report.csv"], ws)
    # the Amazon report is in rupees: the seller supplies the month's rate, as the import summary asks
    (ws / "fx_rates.csv").write_text("month,currency,rate_to_base\n2020-02,INR,0.014\n", encoding="utf-8")
    res = run_review(ws, "2023", out=tmp_path / "out", lang="zh")
    m = _assert_complete(res.out_dir)
    assert m["data_quality"]["campaigns_unknown_channel"] > 0


def test_ads_alone_say_what_the_review_needs(tmp_path, capsys):
    ws = tmp_path / "ads-only"
    import_files("google-ads", [REALDATA / "google-ads-searchterms-solar-us" / "Search terms report.csv"], ws)
    code = main(["run", str(ws), "--period", "2024", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "orders" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("index.html"))


def test_uci_online_retail_full_review(tmp_path):
    from test_importers import UCI_SPEC
    ws = tmp_path / "uci"
    import_files("mapping", [UCI_SPEC, REALDATA / "uci-online-retail" / "online_retail.csv"], ws)
    (ws / "settings.yaml").write_text("client: UCI Online Retail\nbase_currency: GBP\n", encoding="utf-8")
    res = run_review(ws, "2011", out=tmp_path / "out", lang="en")
    m = _assert_complete(res.out_dir)
    # the dataset's published figures (Chen, Sain & Guo 2012) reach the report
    assert m["data_quality"]["cancelled_lines"] == 9288
    assert len(m["products"]) > 3000 and len(m["goals"]) <= 5 + 4      # at most 5 product goals suggested
