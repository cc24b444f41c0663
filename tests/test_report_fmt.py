"""Number formatting in zh and en: money, compact money, percentages, points, plain numbers, absent values."""
import math

import pandas as pd
import pytest

from ecomreview.report import fmt

ABSENT_VALUES = [None, float("nan"), math.inf, -math.inf, pd.NA, pd.NaT]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("value", ABSENT_VALUES)
def test_absent_values_show_a_dash(value, lang):
    assert fmt.money(value, "USD", lang) == "—"
    assert fmt.money_compact(value, "USD", lang) == "—"
    assert fmt.pct(value, lang) == "—"
    assert fmt.signed_pct(value, lang) == "—"
    assert fmt.pp(value, lang) == "—"
    assert fmt.number(value, lang) == "—"
    assert fmt.ratio(value, lang) == "—"


def test_money_in_each_language():
    assert fmt.money(1234.5, "USD", "en") == "$1,234.50"
    assert fmt.money(1234.5, "USD", "zh") == "US$1,234.50"      # zh_CN marks foreign dollars
    assert fmt.money(1234.5, "CNY", "zh") == "¥1,234.50"
    assert fmt.money(1234.5, "CNY", "en") == "CN¥1,234.50"
    assert fmt.money(-1234.5, "USD", "en") == "-$1,234.50"
    assert fmt.money(1234.5, "USD", "en", digits=0) == "$1,235"  # half-up, not banker's 1,234


def test_money_rounds_half_up_on_the_printed_value():
    # 2.675 is stored as 2.67499999…; a reader expects the printed 2.675 to round to 2.68
    assert fmt.money(2.675, "USD", "en") == "$2.68"
    assert fmt.money(-0.004, "USD", "en") == "$0.00"           # no "-$0.00"
    assert fmt.money(1e30, "USD", "en").startswith("$1,000,000,000")


def test_money_compact_for_kpi_cards():
    assert fmt.money_compact(1_234_567, "USD", "en") == "$1.2M"
    assert fmt.money_compact(1_234_567, "USD", "zh") == "US$123.5万"   # 123.4567万 → 123.5万
    assert fmt.money_compact(1_200_000, "CNY", "zh") == "¥120万"
    assert fmt.money_compact(512, "USD", "en") == "$512.00"
    # below the first compact unit Babel printed every digit ("US$49.561068" on a KPI card): cents instead
    assert fmt.money_compact(49.561068, "USD", "zh") == "US$49.56"
    assert fmt.money_compact(9_999.5, "USD", "zh") == "US$9,999.50"       # below 1万
    assert fmt.money_compact(1_234.5, "USD", "en") == "$1.2K"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pct(lang):
    assert fmt.pct(0.123, lang) == "12.3%"
    assert fmt.pct(0.12345, lang, digits=2) == "12.35%"         # 12.345 → 12.35 half-up
    assert fmt.pct(0.00125, lang, digits=2) == "0.13%"
    assert fmt.pct(1, lang) == "100.0%"
    assert fmt.pct(-0.0004, lang) == "0.0%"                     # -0.04% rounds to zero, no sign


def test_signed_pct():
    assert fmt.signed_pct(0.123) == "+12.3%"
    assert fmt.signed_pct(-0.05) == "-5.0%"
    assert fmt.signed_pct(0) == "0.0%"
    assert fmt.signed_pct(0.0004) == "0.0%"                     # rounds to zero: no "+"
    assert fmt.signed_pct(0.0005, "en") == "+0.1%"              # 0.05% half-up → 0.1%


def test_pp_in_each_language():
    # margin 0.351 vs 0.330: a change of 0.021 = 2.1 percentage points
    assert fmt.pp(0.021, "en") == "+2.1 pp"
    assert fmt.pp(0.021, "zh") == "+2.1 个百分点"
    assert fmt.pp(-0.0125, "en") == "-1.3 pp"                   # -1.25 rounds away from zero
    assert fmt.pp(0, "zh") == "0.0 个百分点"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_number_and_ratio(lang):
    assert fmt.number(12345.6, lang) == "12,346"
    assert fmt.number(12345.6, lang, digits=1) == "12,345.6"
    assert fmt.number(-7, lang) == "-7"
    assert fmt.ratio(3.254, lang) == "3.25"
    assert fmt.ratio(3.255, lang) == "3.26"
    assert fmt.ratio(2, lang) == "2.00"


def test_numpy_scalars_are_accepted():
    import numpy as np

    assert fmt.number(np.int64(1500), "en") == "1,500"
    assert fmt.pct(np.float64(0.5), "en") == "50.0%"


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError):
        fmt.money(1, "USD", "fr")
