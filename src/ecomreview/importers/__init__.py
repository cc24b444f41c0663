"""Platform exports -> workspace tables: `import_files(kind, files, into)` and the `KINDS` it knows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from ecomreview.errors import InputError, Problem, UsageError

from . import ads, amazon_business, mapping, shopify
from .common import Mapped, Reason, Source, norm, read_source, t
from .merge import MergeCounts, merge, read_existing, to_text, write_all

Importer = Callable[[list[Source], dict, str], Mapped]

KINDS: dict[str, Importer | None] = {
    "shopify-orders": shopify.import_orders,
    "shopify-products": shopify.import_products,
    "amazon-ads": ads.import_amazon_ads,
    "amazon-business-report": amazon_business.import_business_report,
    "google-ads": ads.import_google_ads,
    "mapping": None,  # needs the YAML spec first; see _import_mapping
}

# Headers that tell one export from another (normalised); the first matching set wins.
SIGNATURES: list[tuple[str, set[str]]] = [
    ("shopify-orders", {"lineitem quantity", "lineitem price"}),
    ("shopify-products", {"handle", "variant sku"}),
    ("amazon-business-report", {"(child) asin"}),
    ("google-ads", {"search term", "cost"}),
    ("google-ads", {"campaign", "cost", "impr."}),
    ("amazon-ads", {"campaign name", "spend"}),
    ("amazon-ads", {"广告活动名称", "花费"}),
    ("mapping", {"invoiceno", "stockcode"}),
]
# A cell of any of these in one of the first rows marks the header row (title lines sit above it).
HEADER_TOKENS = ("Name", "Handle", "Date", "Campaign Name", "(Child) ASIN", "Parent ASIN", "InvoiceNo",
                 "日期", "广告活动名称", *ads.GOOGLE_HEADER_TOKENS)


def guess_kind(columns) -> str | None:
    """The kind of export these headers look like, or None."""
    have = {norm(c) for c in columns}
    return next((kind for kind, sig in SIGNATURES if sig <= have), None)


@dataclass
class TableResult:
    """What one import did to one workspace table (row counts)."""

    table: str
    rows_in: int = 0                # source rows read (after title and total lines)
    mapped: int = 0                 # rows written by this import (after aggregation)
    skipped: list[Reason] = field(default_factory=list)
    added: int = 0                  # rows (products: SKUs) new to the workspace
    replaced: int = 0               # existing rows replaced (products: SKUs updated)
    kept: int = 0                   # existing rows left untouched
    total: int = 0                  # rows in the table after the import

    @property
    def skipped_count(self) -> int:
        return sum(r.count for r in self.skipped)


@dataclass
class ImportResult:
    """Counts per table, notes on how things were mapped, and what the workspace still lacks."""

    kind: str
    files: list[str]
    workspace: Path
    tables: dict[str, TableResult]
    notes: list[Reason]
    lack_reasons: list[Reason]
    lang: str = "en"

    @property
    def lacks(self) -> list[str]:
        """What the workspace still needs, e.g. "products.csv: 12 SKUs have no unit_cost"."""
        return [r.text(self.lang) for r in self.lack_reasons]

    def summary(self, lang: str | None = None) -> str:
        """A human-readable account of the import in `lang` ('zh' or 'en')."""
        lang = lang or self.lang
        lines = [t("importers.summary.title", lang, kind=t(f"importers.kind.{self.kind}", lang),
                   files=len(self.files), workspace=str(self.workspace))]
        for r in self.tables.values():
            lines.append(t("importers.summary.table", lang, table=r.table, rows_in=r.rows_in, mapped=r.mapped,
                           added=r.added, replaced=r.replaced, kept=r.kept, total=r.total))
            for s in r.skipped:
                lines.append("  - " + t("importers.summary.skipped", lang, reason=s.text(lang)))
        if self.notes:
            lines.append(t("importers.summary.notes", lang))
            lines += ["  - " + n.text(lang) for n in self.notes]
        if self.lack_reasons:
            lines.append(t("importers.summary.lacks", lang))
            lines += ["  - " + r.text(lang) for r in self.lack_reasons]
        else:
            lines.append(t("importers.summary.nothing_lacking", lang))
        return "\n".join(lines)


def import_files(kind: str, files: list[str | Path], into: str | Path, *, options: dict | None = None,
                 lang: str = "en") -> ImportResult:
    """Import platform export `files` of `kind` into the workspace folder `into`.

    Rows are merged idempotently (see merge.MERGE_KEYS) and every table is written at the end or
    not at all. Options: channel, month (YYYY-MM), currency, mapping (YAML path for kind mapping).
    Raises UsageError for an unknown kind or no files, InputError for unusable files.
    """
    if kind not in KINDS:
        raise UsageError(t("importers.error.unknown_kind", lang, kind=kind, kinds=", ".join(KINDS)))
    paths = [Path(f) for f in files]
    if not paths:
        raise UsageError(t("importers.error.no_files", lang))
    options = dict(options or {})
    ws = Path(into)
    if kind == "mapping":
        mapped = _import_mapping(paths, options, lang)
        data_files = [p for p in paths if p.suffix.lower() not in (".yaml", ".yml")]
    else:
        sources = [read_source(p, lang, HEADER_TOKENS) for p in paths]
        mapped = KINDS[kind](sources, options, lang)
        data_files = paths
    return _write(kind, data_files, ws, mapped, lang)


def _import_mapping(paths: list[Path], options: dict, lang: str) -> Mapped:
    specs = [p for p in paths if p.suffix.lower() in (".yaml", ".yml")]
    if options.get("mapping"):
        specs.insert(0, Path(options["mapping"]))
    data = [p for p in paths if p.suffix.lower() not in (".yaml", ".yml")]
    if len(specs) != 1 or not data:
        raise UsageError(t("importers.error.mapping_usage", lang))
    spec = mapping.load_spec(specs[0], lang)
    tokens = tuple(e if isinstance(e, str) else e["column"] for e in spec["columns"].values())
    sources = [read_source(p, lang, tokens) for p in data]
    return mapping.import_mapped(sources, spec, options, lang)


def _write(kind: str, files: list[Path], ws: Path, mapped: Mapped, lang: str) -> ImportResult:
    if ws.exists() and not ws.is_dir():
        raise InputError([Problem(file=str(ws), message=t("importers.error.not_a_folder", lang),
                                  fix=t("importers.fix.not_a_folder", lang))])
    results, frames, notes, lack_extra = {}, {}, list(mapped.notes), []
    for table, df in mapped.tables.items():
        new = to_text(df, table)
        existing, origin = read_existing(ws, table)
        merged, counts = merge(existing, new, table)
        if origin == "workbook":
            notes.append(Reason("importers.note.seeded_from_workbook", 0, {"table": table}))
        frames[table] = merged
        results[table] = _table_result(table, mapped, new, counts, merged)
        if counts.left_out:
            results[table].skipped.append(Reason("importers.skip.no_cost_left_out", len(counts.left_out)))
            lack_extra.append(Reason("importers.lack.costs_left_out", len(counts.left_out),
                                     {"examples": _examples(counts.left_out)}))
    if (ws / "workbook.xlsx").exists():
        notes.append(Reason("importers.note.workbook_present", 0, {"tables": ", ".join(frames)}))
    lacks = lack_extra + _lacks(ws, frames)
    write_all(ws, frames)
    return ImportResult(kind, [str(p) for p in files], ws, results, notes, lacks, lang)


def _table_result(table: str, mapped: Mapped, new: pd.DataFrame, counts: MergeCounts,
                  merged: pd.DataFrame) -> TableResult:
    return TableResult(table, rows_in=mapped.rows_in.get(table, 0), mapped=len(new) - len(counts.left_out),
                       skipped=list(mapped.skipped.get(table, [])), added=counts.added, replaced=counts.replaced,
                       kept=counts.kept, total=len(merged))


# ---------------------------------------------------------------- what the workspace still lacks


def _table(ws: Path, frames: dict, name: str) -> pd.DataFrame | None:
    return frames[name] if name in frames else read_existing(ws, name)[0]


def _examples(values) -> str:
    values = sorted(values)
    return ", ".join(values[:5]) + (" …" if len(values) > 5 else "")


def _lacks(ws: Path, frames: dict[str, pd.DataFrame]) -> list[Reason]:
    """What `ecomreview run` will miss: orders, product costs, fx rates, channel fee settings."""
    orders = _table(ws, frames, "orders")
    products = _table(ws, frames, "products")
    out: list[Reason] = []
    if orders is None or orders.empty:
        out.append(Reason("importers.lack.orders"))
    live = orders[orders["status"].str.lower() != "cancelled"] if orders is not None else None
    costed = set()
    if products is not None:
        no_cost = products.loc[products["unit_cost"].str.strip() == "", "sku"]
        if len(no_cost):
            out.append(Reason("importers.lack.product_costs", len(no_cost), {"examples": _examples(no_cost)}))
        costed = set(products["sku"])
    if live is not None and len(live):
        unlisted = {s for s in set(live["sku"]) - costed if not s.startswith(shopify.NO_SKU)}
        if unlisted:
            out.append(Reason("importers.lack.products_missing", len(unlisted), {"examples": _examples(unlisted)}))
    out += _lack_rates(ws, frames)
    out += _lack_channels(ws, frames)
    return out


def _base_currency(ws: Path) -> str:
    try:
        settings = yaml.safe_load((ws / "settings.yaml").read_text(encoding="utf-8")) or {}
        return str(settings.get("base_currency") or "USD").upper()
    except (OSError, yaml.YAMLError, AttributeError):
        return "USD"


def _lack_rates(ws: Path, frames: dict) -> list[Reason]:
    base = _base_currency(ws)
    used = set()
    for name in ("orders", "campaigns", "expenses"):
        df = _table(ws, frames, name)
        if df is not None and "currency" in df.columns:
            used |= set(df["currency"].str.strip().str.upper()) - {"", base}
    fx = _table(ws, frames, "fx_rates")
    have = set(fx["currency"].str.strip().str.upper()) if fx is not None else set()
    missing = used - have
    return [Reason("importers.lack.fx_rates", len(missing), {"base": base, "currencies": _examples(missing)})] \
        if missing else []


def _lack_channels(ws: Path, frames: dict) -> list[Reason]:
    used = set()
    for name in ("orders", "campaigns", "traffic"):
        df = _table(ws, frames, name)
        if df is not None:
            used |= set(df["channel"].str.strip()) - {""}
    ch = _table(ws, frames, "channels")
    missing = used - (set(ch["channel"]) if ch is not None else set())
    return [Reason("importers.lack.channels", len(missing), {"channels": _examples(missing)})] if missing else []
