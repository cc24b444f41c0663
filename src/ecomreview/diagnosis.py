"""Where the profit goes (SPEC §4.5): profit waterfall, ranked loss drivers, and landed-cost traps."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .period import Period
from .report import fmt
from .report.i18n import t

# ------------------------------------------------------------------ profit waterfall

# (step, keys summed, sign). Fulfilment already holds the logistics and storage expenses (SPEC §3).
STEPS = (
    ("revenue", ("revenue",), 1),
    ("product_cost", ("product_cogs",), -1),
    ("fees", ("commission", "payment_fees"), -1),
    ("fulfilment", ("fulfillment",), -1),
    ("platform", ("platform_expenses",), -1),
    ("ads", ("ad_spend",), -1),
    ("overheads", ("overheads",), -1),
)
# Relative tolerance for "the waterfall's total is the engine's net profit": the two sum the same
# amounts in a different order, so they may differ in the last binary digits only.
_RECONCILE_TOL = 1e-9


def _f(x) -> float | None:
    """x as a finite float, None when missing."""
    if x is None or x is pd.NA:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _costed_basis(k: dict) -> dict:
    """Waterfall inputs on the lines that have a product cost, as SPEC §3 computes profit.

    A metrics.kpis dict carries ``revenue_costed`` etc.; with full cost coverage these equal the plain
    names. Expenses are company-level and need no costed variant.
    """
    if _f(k.get("revenue_costed")) is None:
        return k
    out = dict(k)
    out["revenue"] = k["revenue_costed"]
    out["commission"] = k.get("commission_costed", 0.0)
    out["payment_fees"] = k.get("payment_fees_costed", 0.0)
    out["fulfillment"] = sum(_f(k.get(n)) or 0.0 for n in
                             ("fulfillment_costed", "logistics_expenses", "storage_expenses"))
    return out


def waterfall(k: dict) -> pd.DataFrame:
    """Revenue → product cost → fees → fulfilment → platform → ads → overheads → net profit (base
    currency).

    Columns: step, amount (signed: revenue positive, costs negative, net profit the total), start and
    running (the total before and after the step; bars run from start to running), kind
    ("total" or "delta"). Missing cost keys count as 0; a missing revenue raises ValueError.
    The last row is revenue − product_cogs − commission − payment_fees − fulfillment −
    platform_expenses − ad_spend − overheads; when ``k`` also has ``net_profit`` and the two agree
    within rounding, the last row is exactly ``k["net_profit"]`` (``attrs["reconciles"]`` says whether
    they agreed). A metrics.kpis dict is read on its costed basis (``revenue_costed`` …), so a
    partial cost coverage still reconciles; ``attrs["partial"]`` is then True.
    """
    basis = _costed_basis(k)
    if _f(basis.get("revenue")) is None:
        raise ValueError("waterfall needs revenue")
    rows, running, scale = [], 0.0, 0.0
    for step, keys, sign in STEPS:
        amount = sign * sum(_f(basis.get(n)) or 0.0 for n in keys)
        start, running = running, running + amount
        scale += abs(amount)
        rows.append({"step": step, "amount": amount, "start": start if step != "revenue" else 0.0,
                     "running": running, "kind": "total" if step == "revenue" else "delta"})
    net, reported = running, _f(k.get("net_profit"))
    reconciles = reported is not None and abs(reported - net) <= _RECONCILE_TOL * max(1.0, scale)
    if reconciles:
        net = reported
    rows.append({"step": "net_profit", "amount": net, "start": 0.0, "running": net, "kind": "total"})
    df = pd.DataFrame(rows)
    df.attrs["reconciles"] = reconciles
    df.attrs["partial"] = basis is not k and (_f(k.get("cost_coverage")) or 1.0) < 1.0
    return df


_UP, _DOWN, _TOTAL = "#2e9e6a", "#d1495b", "#2f6db5"


def _new_figure(title: str, xlabel: str, ylabel: str):
    try:
        from .report import charts
    except ImportError:  # charts is optional for this module: fall back to a plain Figure
        from matplotlib.figure import Figure
        fig = Figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return fig, ax
    return charts.figure(title, xlabel, ylabel)


def waterfall_figure(df: pd.DataFrame, lang: str, currency: str, title: str | None = None):
    """The waterfall as a bar chart (Figure): totals from zero, each cost as a floating red bar."""
    fig, ax = _new_figure(title or t("diagnosis.waterfall.title", lang),
                          t("diagnosis.waterfall.x", lang), t("diagnosis.waterfall.y", lang, currency=currency))
    x = np.arange(len(df))
    bottoms = np.minimum(df["start"], df["running"])
    heights = (df["running"] - df["start"]).abs()
    colours = [_TOTAL if kind == "total" else (_UP if a >= 0 else _DOWN)
               for kind, a in zip(df["kind"], df["amount"])]
    ax.bar(x, heights, bottom=bottoms, color=colours)
    ax.axhline(0, color="#444444", linewidth=0.8)
    ax.set_xticks(x, [t(f"diagnosis.step.{s}", lang) for s in df["step"]], rotation=20, ha="right")
    for xi, (a, top) in enumerate(zip(df["amount"], np.maximum(df["start"], df["running"]))):
        ax.annotate(fmt.number(a, lang), (xi, top), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 2), textcoords="offset points")
    return fig


# ------------------------------------------------------------------ loss diagnosis

# Health thresholds share their keys with audit.DEFAULTS so one settings.yaml override serves both;
# the last three are this module's own rules of thumb.
DEFAULTS: dict[str, float] = {
    "gross_margin_red": 0.30, "gross_margin_green": 0.40,      # seed 000: ≥ 30%, ideally 40–50%
    "ltv_cac_green": 3.0,                                      # seed 002: LTV/CAC > 3
    "channel_share_red": 0.70,                                 # seed 000: no channel above 70%
    "return_rate_amber": 0.127,                                # seed 001: average return rate 12.7%
    "tacos_amber": 0.15,
    "logistics_amber": 0.25,                                   # seed 002: logistics 15–25% of sales
    "days_of_cover_amber": 60.0,                               # seed 002: overseas stock 30–60 days
    "paid_share_max": 0.50,                                    # seed 000: paid traffic ≤ 50%
    "conversion_rate_min": 0.02,     # project default: 2% visit-to-order, a common store benchmark
    "overheads_share_max": 0.15,     # project default: overheads at most 15% of revenue
}
DRIVERS = ("traffic_cost", "conversion", "product_returns", "inventory", "fees_logistics", "overheads",
           "concentration")
DIAGNOSIS_COLUMNS = ["driver", "name", "effect", "evidence", "rule", "action"]


class _Text:
    """Formats numbers for evidence sentences in the report language (money in ``currency`` if known)."""

    def __init__(self, lang: str, currency: str | None):
        self.lang, self.currency = lang, currency

    def money(self, x) -> str:
        if self.currency:
            return fmt.money(x, self.currency, self.lang, digits=0)
        return fmt.number(x, self.lang)

    def pct(self, x) -> str:
        return fmt.pct(x, self.lang)

    def num(self, x, digits: int = 1) -> str:
        return fmt.number(x, self.lang, digits)


def _pos(x) -> float:
    return max(0.0, x)


def _logistics_excess(k: dict, th: dict) -> float:
    """Fulfilment above logistics_amber (25%) of revenue."""
    return _pos((_f(k.get("fulfillment")) or 0.0) - th["logistics_amber"] * (_f(k.get("revenue")) or 0.0))


def _returns_excess(k: dict, th: dict) -> float:
    """Refunds above what the norm return rate would give: refunds × (rate − norm) ÷ rate."""
    rate, refunds = _f(k.get("return_rate")), _f(k.get("refunds")) or 0.0
    if not rate or rate <= th["return_rate_amber"]:
        return 0.0
    return refunds * (rate - th["return_rate_amber"]) / rate


def _traffic_cost(k, th, tx):
    """Effect = max(ad spend − tacos_amber × revenue, ad spend − new customers × LTV ÷ 3, 0): the ad
    spend above a 15% TACoS, or above what an LTV/CAC of 3 allows — whichever is larger (they
    measure the same money, so they are not added). Flagged also when LTV/CAC < 3 or paid share > 50%."""
    ad, rev = _f(k.get("ad_spend")) or 0.0, _f(k.get("revenue")) or 0.0
    tacos_excess = ad - th["tacos_amber"] * rev
    ltv, new = _f(k.get("ltv")), _f(k.get("new_customers"))
    ltv_excess = ad - new * ltv / th["ltv_cac_green"] if ltv and ltv > 0 and new is not None else 0.0
    effect = _pos(max(tacos_excess, ltv_excess))
    ltv_cac, paid = _f(k.get("ltv_cac")), _f(k.get("paid_share"))
    flagged = (effect > 0 or (ltv_cac is not None and ltv_cac < th["ltv_cac_green"])
               or (paid is not None and paid > th["paid_share_max"]))
    evidence = t("diagnosis.evidence.traffic_cost", tx.lang, tacos=tx.pct(k.get("tacos")), ad_spend=tx.money(ad),
                 revenue=tx.money(rev), cac=tx.money(k.get("cac")), ltv=tx.money(ltv),
                 ltv_cac=tx.num(ltv_cac, 2))
    if paid is not None:
        evidence += t("diagnosis.evidence.paid_share", tx.lang, share=tx.pct(paid))
    rule = t("diagnosis.rule.traffic_cost", tx.lang, tacos=tx.pct(th["tacos_amber"]),
             ltv_cac=tx.num(th["ltv_cac_green"]), paid=tx.pct(th["paid_share_max"]))
    return flagged, effect, evidence, rule


def _conversion(k, th, tx):
    """Effect = (sessions × conversion_rate_min − orders) × AOV × max(gross margin, 0): the gross profit
    of the orders a 2% conversion rate would have brought. Flagged when conversion < 2%."""
    cvr, sessions = _f(k.get("conversion_rate")), _f(k.get("sessions"))
    if cvr is None or not sessions or cvr >= th["conversion_rate_min"]:
        return False, 0.0, "", ""
    missed = sessions * (th["conversion_rate_min"] - cvr)
    effect = missed * (_f(k.get("aov")) or 0.0) * _pos(_f(k.get("gross_margin")) or 0.0)
    evidence = t("diagnosis.evidence.conversion", tx.lang, cvr=tx.pct(cvr), sessions=tx.num(sessions, 0),
                 abandon=tx.pct(k.get("cart_abandonment_rate")), missed=tx.num(missed, 0))
    rule = t("diagnosis.rule.conversion", tx.lang, cvr=tx.pct(th["conversion_rate_min"]))
    return True, effect, evidence, rule


def _product_returns(k, th, tx):
    """Effect = returns excess + product shortfall. Returns excess = refunds × (return rate − 12.7%) ÷
    return rate. Product shortfall = (40% − gross margin) × revenue, less the parts that the
    returns excess and the logistics excess (fees_logistics) already explain, never below 0 — so the
    same money is not counted twice."""
    gm, rev = _f(k.get("gross_margin")), _f(k.get("revenue_costed")) or _f(k.get("revenue")) or 0.0
    returns = _returns_excess(k, th)
    shortfall = _pos((th["gross_margin_green"] - gm) * rev) if gm is not None else 0.0
    effect = returns + _pos(shortfall - returns - _logistics_excess(k, th))
    evidence = t("diagnosis.evidence.product_returns", tx.lang, gm=tx.pct(gm), pm=tx.pct(k.get("product_margin")),
                 return_rate=tx.pct(k.get("return_rate")), refunds=tx.money(k.get("refunds")))
    rule = t("diagnosis.rule.product_returns", tx.lang, red=tx.pct(th["gross_margin_red"]),
             green=tx.pct(th["gross_margin_green"]), returns=tx.pct(th["return_rate_amber"]))
    return effect > 0, effect, evidence, rule


def _inventory(k, th, tx):
    """Effect = storage expenses × (1 − 60 ÷ days of cover): the storage paid for stock beyond 60 days.
    Without storage expenses the driver is flagged as a risk with no money effect."""
    days = _f(k.get("inventory_days"))
    if days is None or days <= th["days_of_cover_amber"]:
        return False, 0.0, "", ""
    storage = _f(k.get("storage_expenses")) or 0.0
    effect = storage * (1 - th["days_of_cover_amber"] / days) if storage > 0 else float("nan")
    evidence = t("diagnosis.evidence.inventory", tx.lang, days=tx.num(days, 0), storage=tx.money(storage))
    rule = t("diagnosis.rule.inventory", tx.lang, days=tx.num(th["days_of_cover_amber"], 0))
    return True, effect, evidence, rule


def _fees_logistics(k, th, tx):
    """Effect = fulfilment − 25% × revenue (fulfilment includes logistics and storage expenses)."""
    effect = _logistics_excess(k, th)
    rev = _f(k.get("revenue"))
    fees = (_f(k.get("commission")) or 0.0) + (_f(k.get("payment_fees")) or 0.0)
    evidence = t("diagnosis.evidence.fees_logistics", tx.lang, fulfillment=tx.money(k.get("fulfillment")),
                 ratio=tx.pct(_ratio(k.get("fulfillment"), rev)), fees=tx.money(fees),
                 fees_ratio=tx.pct(_ratio(fees, rev)))
    rule = t("diagnosis.rule.fees_logistics", tx.lang, logistics=tx.pct(th["logistics_amber"]))
    return effect > 0, effect, evidence, rule


def _overheads(k, th, tx):
    """Effect = max(overheads − 15% × revenue, overheads not covered by a non-negative contribution
    profit (= −net profit when contribution ≥ 0 > net), 0)."""
    ovh, rev = _f(k.get("overheads")) or 0.0, _f(k.get("revenue")) or 0.0
    cp = _f(k.get("contribution_profit"))
    uncovered = _pos(ovh - cp) if cp is not None and cp >= 0 else 0.0
    effect = _pos(max(ovh - th["overheads_share_max"] * rev, uncovered))
    evidence = t("diagnosis.evidence.overheads", tx.lang, overheads=tx.money(ovh), share=tx.pct(_ratio(ovh, rev)),
                 contribution=tx.money(cp))
    rule = t("diagnosis.rule.overheads", tx.lang, share=tx.pct(th["overheads_share_max"]))
    return effect > 0, effect, evidence, rule


def _ratio(a, b) -> float | None:
    a, b = _f(a), _f(b)
    return None if a is None or not b else a / b


def _top_channel(channel_kpis: pd.DataFrame | None) -> tuple[str, float] | None:
    if channel_kpis is None or channel_kpis.empty or "revenue" not in channel_kpis:
        return None
    rev = channel_kpis.set_index("channel")["revenue"] if "channel" in channel_kpis else channel_kpis["revenue"]
    rev = rev.astype(float).fillna(0.0)
    total = rev.sum()
    if total <= 0:
        return None
    return str(rev.idxmax()), float(rev.max() / total)


def _concentration(channel_kpis, th, tx):
    """A risk, not a cost: the largest channel above 70% of revenue. No money effect (NaN)."""
    top = _top_channel(channel_kpis)
    if top is None or top[1] <= th["channel_share_red"]:
        return False, float("nan"), "", ""
    evidence = t("diagnosis.evidence.concentration", tx.lang, channel=top[0], share=tx.pct(top[1]))
    rule = t("diagnosis.rule.concentration", tx.lang, share=tx.pct(th["channel_share_red"]))
    return True, float("nan"), evidence, rule


def triggers(k: dict, thresholds: dict | None = None) -> list[str]:
    """Why a diagnosis is due: net_loss, contribution_loss, low_gross_margin (empty = healthy)."""
    th = {**DEFAULTS, **(thresholds or {})}
    out = []
    if (_f(k.get("net_profit")) or 0.0) < 0:
        out.append("net_loss")
    if (_f(k.get("contribution_profit")) or 0.0) < 0:
        out.append("contribution_loss")
    gm = _f(k.get("gross_margin"))
    if gm is not None and gm < th["gross_margin_green"]:
        out.append("low_gross_margin")
    return out


def diagnose(k: dict, channel_kpis: pd.DataFrame | None, thresholds: dict | None, lang: str,
             currency: str | None = None) -> pd.DataFrame:
    """Loss drivers ranked by their estimated cost to profit (base currency), largest first.

    ``k``: the company metrics of P (metrics.kpis), optionally merged with catalogue extras
    (``inventory_days``) and ``paid_share`` (share of revenue from paid campaigns). Runs when net or
    contribution profit is negative or gross margin is below ``gross_margin_green`` (40%).
    Columns: driver, name, effect (money; NaN for a risk with no money estimate, ranked last),
    evidence (the numbers), rule (the rule of thumb broken), action (the first step).
    ``attrs["healthy"]`` is True (and the frame empty) when nothing triggers, None when the profit
    figures are absent (no product costs); ``attrs["triggers"]`` lists what did. Each driver's effect formula is in its function's docstring.
    """
    th = {**DEFAULTS, **{key: v for key, v in (thresholds or {}).items() if key in DEFAULTS}}
    why = triggers(k, th)
    rows = []
    if why:
        tx = _Text(lang, currency)
        checks = {"traffic_cost": lambda: _traffic_cost(k, th, tx), "conversion": lambda: _conversion(k, th, tx),
                  "product_returns": lambda: _product_returns(k, th, tx), "inventory": lambda: _inventory(k, th, tx),
                  "fees_logistics": lambda: _fees_logistics(k, th, tx), "overheads": lambda: _overheads(k, th, tx),
                  "concentration": lambda: _concentration(channel_kpis, th, tx)}
        for order, driver in enumerate(DRIVERS):
            flagged, effect, evidence, rule = checks[driver]()
            if flagged:
                rows.append({"driver": driver, "name": t(f"diagnosis.driver.{driver}", lang), "effect": effect,
                             "evidence": evidence, "rule": rule,
                             "action": t(f"diagnosis.action.{driver}", lang, tacos=tx.pct(th["tacos_amber"])),
                             "_order": order})
    df = pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS + ["_order"])
    df["effect"] = df["effect"].astype(float)
    df = df.sort_values(["effect", "_order"], ascending=[False, True], na_position="last", kind="stable")
    df = df.drop(columns="_order").reset_index(drop=True)
    known = any(_f(k.get(n)) is not None for n in ("net_profit", "contribution_profit", "gross_margin"))
    df.attrs["healthy"] = (not why) if known else None   # without costs nothing can be judged
    df.attrs["triggers"] = why
    return df


# ------------------------------------------------------------------ landed-cost traps (seed 001)

PAYMENT_NOTE = re.compile(r"payment|paypal|stripe|支付|手续费", re.IGNORECASE)
TRAP_CHECKS = ("free_shipping_uncosted", "payment_fees_double", "returns_without_salvage", "landed_cost_above_price")
_EXAMPLES = 5


def _free_shipping_uncosted(lines: pd.DataFrame, channels: pd.DataFrame) -> tuple[int, list[str]]:
    """Orders whose lines charge no shipping, on a channel with no (or zero) shipping_cost_per_order.

    A channel with a per-unit fulfilment fee (FBA and the like, whose fee includes delivery) counts as
    costed too: otherwise every Amazon FBA order would be reported as a trap.
    """
    if len(channels):
        ch = channels.set_index("channel")
        per_unit = ch["fulfillment_cost_per_unit"] if "fulfillment_cost_per_unit" in ch else 0.0
        cost = ch["shipping_cost_per_order"].fillna(0.0) + pd.Series(per_unit, index=ch.index).fillna(0.0)
    else:
        cost = pd.Series(dtype=float)
    uncosted = lines[lines["channel"].map(cost).fillna(0.0) <= 0]
    # a built-in "sum" per order, not a Python lambda per group: a million lines have ~400k orders
    charged = uncosted["shipping"].fillna(0.0).groupby(uncosted["order_id"]).transform("sum")
    hit = uncosted[charged == 0]
    ids = sorted(hit["order_id"].astype(str).unique())
    return len(ids), ids[:_EXAMPLES]


def _payment_fees_double(channels: pd.DataFrame, expenses: pd.DataFrame) -> tuple[int, list[str]]:
    """Channels with a payment_fee_rate while payment-looking platform/other expenses (company-wide or
    of that channel) are booked as well."""
    if channels.empty or expenses is None or expenses.empty:
        return 0, []
    e = expenses[expenses["category"].isin(("platform", "other"))]
    e = e[e["note"].fillna("").astype(str).str.contains(PAYMENT_NOTE)]
    if e.empty:
        return 0, []
    with_rate = channels[channels["payment_fee_rate"].fillna(0.0) > 0]["channel"].astype(str)
    company_wide = e["channel"].isna().any()
    own = set(e["channel"].dropna().astype(str))
    ids = sorted(c for c in with_rate if company_wide or c in own)
    return len(ids), ids[:_EXAMPLES]


def _returns_without_salvage(lines: pd.DataFrame, products: pd.DataFrame) -> tuple[int, list[str]]:
    """Lines with returned units whose SKU (in products) has no return_salvage_rate."""
    if products.empty:
        return 0, []
    salvage = products.drop_duplicates("sku").set_index("sku")["return_salvage_rate"]
    known = lines["sku"].isin(salvage.index)
    hit = lines[known & (lines["returned_qty"].fillna(0) > 0) & lines["sku"].map(salvage).isna()]
    examples = (hit["order_id"].astype(str) + "/" + hit["sku"].astype(str)).tolist()
    return len(hit), examples[:_EXAMPLES]


def _landed_cost_above_price(lines: pd.DataFrame) -> tuple[int, list[str]]:
    """SKUs whose landed unit cost (quantity-weighted over the lines) is above their average selling
    price (gross − discount) ÷ quantity, both in base currency."""
    c = lines[lines["has_cost"] & (lines["quantity"] > 0)] if "has_cost" in lines else lines.iloc[0:0]
    if c.empty:
        return 0, []
    g = pd.DataFrame({"q": c["quantity"], "cost": c["quantity"] * c["landed_unit_cost"],
                      "value": c["value"]}).groupby(c["sku"]).sum()
    hit = g[g["cost"] / g["q"] > g["value"] / g["q"]]
    ids = sorted(hit.index.astype(str))
    return len(ids), ids[:_EXAMPLES]


def landed_cost_traps(lines: pd.DataFrame, channels: pd.DataFrame | None, expenses: pd.DataFrame | None,
                      products: pd.DataFrame | None, *, period: Period | None = None) -> pd.DataFrame:
    """SPEC §4.5's four landed-cost traps as rows (check, count, examples); count 0 when clean.

    ``lines``/``expenses`` are the review frames; pass ``period`` to look at P only (else all rows).
    Counts: free_shipping_uncosted = orders, payment_fees_double = channels, returns_without_salvage
    = lines (examples "order/sku"), landed_cost_above_price = SKUs.
    """
    channels = channels if channels is not None else pd.DataFrame(
        columns=["channel", "shipping_cost_per_order", "fulfillment_cost_per_unit", "payment_fee_rate"])
    products = products if products is not None else pd.DataFrame(columns=["sku", "return_salvage_rate"])
    if period is not None:
        lines = lines[period.contains(lines["order_date"])]
        if expenses is not None and len(expenses):
            expenses = expenses[expenses["month"].astype(str).str[:7].isin(period.months)]
    results = {
        "free_shipping_uncosted": _free_shipping_uncosted(lines, channels),
        "payment_fees_double": _payment_fees_double(channels, expenses),
        "returns_without_salvage": _returns_without_salvage(lines, products),
        "landed_cost_above_price": _landed_cost_above_price(lines),
    }
    return pd.DataFrame([{"check": c, "count": int(results[c][0]), "examples": list(results[c][1])}
                         for c in TRAP_CHECKS])
