"""Step 1 analysis: health-check boundaries and the data-quality audit on the TINY workspace."""
from __future__ import annotations

import pytest

from ecomreview import audit
from ecomreview.loader import load_workspace
from ecomreview.period import Period
from ecomreview.review import prepare

from conftest import TINY, write_workspace

P = Period.parse("2025")
TH = audit.DEFAULTS


def status(metric, value, **extra):
    k = {"gross_margin": None, "ltv_cac": None, "return_rate": None, "repeat_purchase_rate": None, "tacos": None,
         "fulfillment": None, "revenue": None, "cost_coverage": 1.0}
    k[metric] = value
    k.update(extra)
    rows = {r["metric"]: r for r in audit.health_check(k, None, None, TH)}
    return rows


@pytest.mark.parametrize("value,expected", [(0.2999, "red"), (0.30, "amber"), (0.3999, "amber"), (0.40, "green")])
def test_gross_margin_bands(value, expected):
    assert status("gross_margin", value)["gross_margin"]["status"] == expected


@pytest.mark.parametrize("value,expected", [(0.99, "red"), (1.0, "amber"), (2.99, "amber"), (3.0, "green")])
def test_ltv_cac_bands(value, expected):
    assert status("ltv_cac", value)["ltv_cac"]["status"] == expected


@pytest.mark.parametrize("value,expected", [(0.127, "green"), (0.1271, "amber")])
def test_return_rate_amber_above_12_7(value, expected):
    assert status("return_rate", value)["return_rate"]["status"] == expected


@pytest.mark.parametrize("value,expected", [(0.1499, "red"), (0.15, "amber"), (0.30, "green")])
def test_repeat_rate_bands(value, expected):
    assert status("repeat_purchase_rate", value)["repeat_purchase_rate"]["status"] == expected


def test_tacos_logistics_and_unknown():
    rows = status("tacos", 0.1501, fulfillment=25.0, revenue=100.0)
    assert rows["tacos"]["status"] == "amber"
    assert rows["logistics_ratio"]["status"] == "green"        # 25% is not above 25%
    assert rows["logistics_ratio"]["value"] == pytest.approx(0.25)
    assert rows["ltv_cac"]["status"] == "unknown"


def test_concentration_and_cover():
    import pandas as pd
    by = pd.DataFrame({"revenue": [71.0, 29.0]}, index=["a", "b"])
    rows = {r["metric"]: r for r in audit.health_check({}, by, 61.0, TH)}
    assert rows["channel_concentration"]["status"] == "red"    # 71% > 70%
    assert rows["days_of_cover"]["status"] == "amber"          # 61 > 60


def test_data_quality_counts(tmp_path):
    files = dict(TINY)
    # add: an exact duplicate of A1/S2, a SKU with no cost, a zero-price line, a refund above its line,
    # and traffic for an unknown channel
    files["orders.csv"] = TINY["orders.csv"].rstrip() + """
        A1,2025-01-10,shop,S2,1,20,0,0,0,0,c1,US,USD,
        A5,2025-03-02,shop,S9,1,0,0,0,0,0,,US,USD,
        A6,2025-03-03,shop,S1,1,10,0,0,15,1,c2,US,USD,
        """
    files["fx_rates.csv"] = TINY["fx_rates.csv"].rstrip() + "\n        2025-03,CNY,0.14\n"
    files["traffic.csv"] = TINY["traffic.csv"].rstrip() + "\n        2025-01,tiktok,10,\n"
    r = prepare(load_workspace(write_workspace(tmp_path / "w", files)))
    dq = audit.data_quality(r, P).set_index("check")["count"]
    assert dq["cancelled_lines"] == 1
    assert dq["duplicate_lines"] == 1
    assert dq["lines_outside_period"] == 1          # A0 in 2024
    assert dq["skus_without_cost"] == 1             # S9
    assert dq["non_positive_price"] == 1
    assert dq["refund_above_line"] == 1             # A6: refund 15 > line 10
    assert dq["traffic_unknown_channel"] == 1
    assert dq["lines_without_customer"] == 1


def test_cohorts_and_mix(tiny):
    r = prepare(load_workspace(tiny))
    mix = audit.customer_mix(r, P)
    # c2 is new (A2 revenue 5); c1 returning (A1 43 + A3 66)
    assert mix.loc["new", "revenue"] == pytest.approx(5.0)
    assert mix.loc["returning", "revenue"] == pytest.approx(109.0)
    coh = audit.cohort_retention(r, P)
    assert coh.loc["2025-02", "customers"] == 1     # only c2 first bought in 2025


def test_raw_counts(tiny):
    c = audit.raw_counts(prepare(load_workspace(tiny)))
    assert c == {"lines": 6, "orders": 5, "customers": 3, "countries": 2, "cancelled_lines": 1,
                 "lines_without_customer": 0, "first_date": "2024-06-01", "last_date": "2025-03-01"}
