"""Locale-aware number formatting for reports (Babel): money, percentages, plain numbers; absent → "—"."""
from __future__ import annotations

import copy
import functools
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext

from babel import Locale
from babel.numbers import NumberPattern, format_compact_currency

from .i18n import check_lang, t

ABSENT = "—"
LOCALES = {"zh": "zh_CN", "en": "en_US"}
_PRECISION = 400    # decimal digits: enough for any finite float (max ~1.8e308) plus decimals


def _value(x) -> float | None:
    """``x`` as a finite float, or None when it is missing (None, NaN, NA, NaT) or infinite."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _rounded(v: float, digits: int, scale: int = 0) -> Decimal:
    """``v`` × 10**scale rounded half-up to ``digits`` decimals, exactly (no float arithmetic)."""
    # Babel rounds half-even on the binary float (2.675 -> 2.67, 0.5 -> 0); readers expect the
    # half-up rounding of the printed value, so round the shortest decimal repr ourselves.
    d = Decimal(repr(v)).scaleb(scale).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return abs(d) if d == 0 else d      # never print "-0.0"


@functools.lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[check_lang(lang)])


@functools.lru_cache(maxsize=None)
def _pattern(lang: str, kind: str, digits: int) -> NumberPattern:
    """The locale's own pattern for ``kind`` with exactly ``digits`` decimals."""
    loc = _locale(lang)
    base = {"currency": loc.currency_formats["standard"],
            "percent": loc.percent_formats[None],
            "decimal": loc.decimal_formats[None]}[kind]
    pattern = copy.copy(base)
    pattern.frac_prec = (digits, digits)
    return pattern


def _apply(x, lang: str, kind: str, digits: int, scale: int = 0, **kw) -> str | None:
    """Format ``x`` × 10**scale with the locale's ``kind`` pattern; None when ``x`` is absent."""
    v = _value(x)
    if v is None:
        return None
    shown = 2 if kind == "percent" else 0    # percent patterns multiply by 100 when applied
    # The default 28-digit decimal context cannot quantize e.g. 1e30 to cents; give it room.
    with localcontext(prec=_PRECISION):
        d = _rounded(v, digits, scale + shown).scaleb(-shown)
        return _pattern(lang, kind, digits).apply(d, _locale(lang), currency_digits=False, **kw)


def _sign(text: str, x) -> str:
    """Prefix "+" to a formatted positive value, unless it was rounded to zero ("0.0%")."""
    return "+" + text if _value(x) > 0 and any(c in "123456789" for c in text) else text


def money(x, currency: str, lang: str, digits: int = 2) -> str:
    """An amount in ``currency`` (ISO code), e.g. "$1,234.50" (en) or "US$1,234.50" (zh)."""
    return _apply(x, lang, "currency", digits, currency=currency) or ABSENT


def money_compact(x, currency: str, lang: str) -> str:
    """A short amount for KPI cards: "$1.2M" (en), "US$123.5万" (zh); below the first compact unit
    (1,000 in en, 10,000 in zh) the full amount with cents ("$49.56"), since Babel would print every digit."""
    v = _value(x)
    if v is None:
        return ABSENT
    if abs(v) < (10_000 if lang == "zh" else 1_000):
        return money(v, currency, lang)
    return format_compact_currency(v, currency, locale=_locale(lang), fraction_digits=1)


def pct(x, lang: str, digits: int = 1) -> str:
    """A fraction as a percentage: 0.123 → "12.3%"."""
    return _apply(x, lang, "percent", digits) or ABSENT


def signed_pct(x, lang: str = "zh", digits: int = 1) -> str:
    """A growth rate (fraction) with its sign: 0.123 → "+12.3%", -0.05 → "-5.0%", 0 → "0.0%"."""
    text = _apply(x, lang, "percent", digits)
    return ABSENT if text is None else _sign(text, x)


def pp(x, lang: str, digits: int = 1) -> str:
    """A change between two fractions in percentage points: 0.021 → "+2.1 pp" / "+2.1 个百分点"."""
    v = _value(x)
    if v is None:
        return ABSENT
    value = _sign(_apply(v, lang, "decimal", digits, scale=2), v)
    return t("report.fmt.pp", lang, value=value)


def number(x, lang: str, digits: int = 0) -> str:
    """A plain number with grouping: 12345.6 → "12,346" (digits=0)."""
    return _apply(x, lang, "decimal", digits) or ABSENT


def ratio(x, lang: str, digits: int = 2) -> str:
    """A ratio such as ROAS or LTV:CAC: 3.254 → "3.25"."""
    return number(x, lang, digits)
