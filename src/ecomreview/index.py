"""The context of a client's index page: KPI cards, the health check and one paragraph per step."""
from __future__ import annotations

import datetime as _dt

from .period import Period
from .report import fmt
from .report.i18n import t

CARDS = (("revenue", "money"), ("gross_margin", "pct"), ("contribution_profit", "money"), ("net_profit", "money"),
         ("orders", "number"), ("aov", "money"), ("customers", "number"), ("tacos", "pct"))
PAGES = {"audit": "01-data-audit.html", "channels": "02-channels.html", "products": "03-products.html",
         "campaigns": "04-campaigns.html", "plan": "05-smart-plan.html"}


def format_value(value, kind: str, lang: str, currency: str) -> str:
    if kind == "money":
        return fmt.money_compact(value, currency, lang)
    if kind == "pct":
        return fmt.pct(value, lang)
    if kind == "ratio":
        return fmt.ratio(value, lang)
    if kind == "days":
        return fmt.number(value, lang)
    return fmt.number(value, lang)


HEALTH_KIND = {"gross_margin": "pct", "ltv_cac": "ratio", "channel_concentration": "pct", "return_rate": "pct",
               "repeat_purchase_rate": "pct", "tacos": "pct", "logistics_ratio": "pct", "days_of_cover": "days"}


def threshold_text(metric: str, rule: dict, lang: str) -> str:
    kind = HEALTH_KIND.get(metric, "pct")

    def f(v):
        return fmt.pct(v, lang, 1) if kind == "pct" else fmt.ratio(v, lang, 0) if kind == "days" else fmt.ratio(v, lang, 1)
    if "red_above" in rule:
        return t("audit.rule.red_above", lang, limit=f(rule["red_above"]))
    if "amber_above" in rule:
        return t("audit.rule.amber_above", lang, limit=f(rule["amber_above"]))
    return t("audit.rule.bands", lang, red=f(rule["red"]), green=f(rule["green"]))


def index_context(metrics: dict, parts: dict, chosen, settings: dict, p: Period, lang: str, currency: str) -> dict:
    k = metrics.get("kpis", {})
    g = metrics.get("growth") or {}
    cards = []
    for m, kind in CARDS:
        sub = t("audit.growth_yoy", lang, g=fmt.signed_pct(g.get(m), lang)) if g.get(m) is not None else ""
        cards.append({"label": t(f"metric.{m}", lang), "value": format_value(k.get(m), kind, lang, currency),
                      "sub": sub})
    health = [{"label": t(f"metric.{m}", lang), "value": format_value(h.get("value"), HEALTH_KIND.get(m, "pct"), lang,
                                                                      currency),
               "status": h.get("status"), "threshold": threshold_text(m, h.get("threshold") or {}, lang)}
              for m, h in (metrics.get("health") or {}).items()]
    steps = []
    for sid, page in PAGES.items():
        if sid not in chosen:
            steps.append({"title": t(f"run.step.{sid}", lang), "href": "", "findings": [],
                          "status": "skipped", "message": t("run.step_skipped", lang)})
            continue
        steps.append({"title": t(f"run.step.{sid}", lang), "href": page,
                      "findings": parts.get(sid, {}).get("findings", []), "status": "ok", "message": ""})
    return {"lang": lang, "client": settings["client"], "consultant": settings.get("consultant", ""),
            "period": p.label, "currency": currency,
            "generated_at": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "cards": cards, "health": health, "steps": steps, "notes": []}
