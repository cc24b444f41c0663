"""Any order-line file -> orders table, driven by a YAML column mapping (see examples/*.mapping.yaml)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from ecomreview.errors import InputError, Problem
from ecomreview.schema import ORDERS

from .common import DATE_FORMATS, Mapped, Source, day_text, parse_dates, parse_number, t, text, wrong_kind

NUMERIC = {"quantity", "unit_price", "discount", "shipping_charged", "refund_amount", "returned_qty"}


def load_spec(path: Path, lang: str) -> dict:
    """The mapping YAML, checked: `columns` maps orders fields to the file's headers."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(file=path.name, message=t("importers.error.bad_mapping", lang, error=exc),
                                  fix=t("importers.fix.bad_mapping", lang))]) from exc
    table = spec.get("table", "orders")
    if table != "orders":
        raise InputError([Problem(file=path.name, message=t("importers.error.mapping_table", lang, table=table),
                                  fix=t("importers.fix.bad_mapping", lang))])
    columns = spec.get("columns") or {}
    unknown = sorted(set(columns) - set(ORDERS.column_names))
    have = set(columns) | set(spec.get("constants") or {})
    lacking = [c.name for c in ORDERS.columns if c.required and c.name not in have]
    if unknown or lacking or not isinstance(columns, dict):
        raise InputError([Problem(file=path.name, message=t(
            "importers.error.mapping_fields", lang, unknown=", ".join(unknown) or "-",
            missing=", ".join(lacking) or "-"), fix=t("importers.fix.bad_mapping", lang))])
    return spec


def _source_column(entry) -> tuple[str, dict]:
    return (entry, {}) if isinstance(entry, str) else (entry["column"], entry)


def import_mapped(sources: list[Source], spec: dict, options: dict, lang: str) -> Mapped:
    """Map each source's columns onto orders with the spec's transforms (dates, returns, cancellations)."""
    out = Mapped()
    frames = [_map_one(src, spec, options, out, lang) for src in sources]
    out.tables["orders"] = pd.concat(frames, ignore_index=True)
    return out


def _map_one(src: Source, spec: dict, options: dict, out: Mapped, lang: str) -> pd.DataFrame:
    f = src.frame
    out.rows_in["orders"] = out.rows_in.get("orders", 0) + len(f)
    missing = [_source_column(e)[0] for e in spec["columns"].values() if _source_column(e)[0] not in f.columns]
    if missing:
        raise wrong_kind(src, "mapping", lang, missing)
    res = pd.DataFrame(index=f.index)
    ok = pd.Series(True, index=f.index)
    for field, entry in spec["columns"].items():
        col, opts = _source_column(entry)
        vals = text(f[col])
        if opts.get("strip_suffix"):  # e.g. ".0" on ids that a tool wrote as floats ("17850.0")
            vals = vals.str.removesuffix(str(opts["strip_suffix"]))
        if field == "order_date":
            fmts = opts.get("format") or DATE_FORMATS
            d, bad = parse_dates(vals, [fmts] if isinstance(fmts, str) else fmts)
            out.skip("orders", "importers.skip.bad_date_column", bad | d.isna(), column=col)
            ok &= d.notna()
            vals = day_text(d)
        elif field in NUMERIC:
            num, bad = parse_number(vals)
            out.skip("orders", "importers.skip.bad_number", ok & bad, column=col)
            ok &= ~bad
            vals = num
        res[field] = vals
    for field, value in (spec.get("constants") or {}).items():
        res[field] = str(value)
    if options.get("channel"):
        res["channel"] = options["channel"]
    for req in ("order_id", "sku", "quantity", "unit_price"):
        empty = res[req].isna() if req in NUMERIC else res[req] == ""
        out.skip("orders", "importers.skip.empty_required", ok & empty, column=req)
        ok &= ~empty
    res = _cancellations(res, f, spec, out)
    res = _returns(res, spec, out)
    return res[ok]


def _cancellations(res: pd.DataFrame, f: pd.DataFrame, spec: dict, out: Mapped) -> pd.DataFrame:
    """Lines whose column starts with the cancellation prefix get status cancelled, raw numbers kept."""
    rule = spec.get("cancellation")
    if not rule:
        return res
    col = rule.get("column") or _source_column(spec["columns"]["order_id"])[0]
    cancelled = text(f[col]).str.startswith(str(rule.get("prefix", "C")))
    status = res["status"] if "status" in res.columns else pd.Series("", index=res.index)
    res["status"] = status.where(~cancelled, "cancelled")
    out.note("importers.note.cancelled_lines", int(cancelled.sum()))
    return res


def _returns(res: pd.DataFrame, spec: dict, out: Mapped) -> pd.DataFrame:
    """A negative quantity on a line that is not cancelled is a return (see docs/importing.md).

    It becomes a zero-quantity line with returned_qty = |quantity| and refund_amount =
    |quantity| × unit_price, so gross sales are not reduced twice and refunds/return_rate count it.
    """
    if (spec.get("negative_quantity") or "return") != "return":
        return res
    live = res["status"] != "cancelled" if "status" in res.columns else True
    neg = (res["quantity"] < 0) & live
    if not neg.any():
        return res
    units = -res["quantity"].where(neg)
    res["returned_qty"] = units.where(neg, res["returned_qty"] if "returned_qty" in res.columns else float("nan"))
    old_refund = res["refund_amount"] if "refund_amount" in res.columns else pd.Series(float("nan"), index=res.index)
    res["refund_amount"] = (units * res["unit_price"]).where(neg, old_refund)
    res["quantity"] = res["quantity"].where(~neg, 0.0)
    out.note("importers.note.negative_quantity_returns", int(neg.sum()))
    return res
