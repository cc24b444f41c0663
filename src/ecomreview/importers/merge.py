"""Merging imported rows into a workspace's CSV tables idempotently, and writing them all-or-nothing."""
from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ecomreview.schema import TABLES

# Rows of an import replace existing rows with the same key (SPEC tables; `sku` added to campaigns so
# that an advertised-product report's per-ASIN rows of one campaign and month stay apart).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id", "channel"),
    "campaigns": ("campaign_id", "keyword", "sku", "start_date", "end_date", "channel"),
    "traffic": ("month", "channel", "sku"),
    "products": ("sku",),
}


@dataclass
class MergeCounts:
    added: int = 0      # rows (products: SKUs) that were not in the workspace
    replaced: int = 0   # existing rows replaced (products: SKUs updated)
    kept: int = 0       # existing rows left as they were
    left_out: list[str] = field(default_factory=list)  # products: new SKUs without a cost, not written


def to_text(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """The schema's columns, in order, as text: NaN -> "", 6.0 -> "6", float noise rounded away."""
    cols = TABLES[table].column_names
    out = {}
    for c in cols:
        s = df[c] if c in df.columns else pd.Series("", index=df.index)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            f = s.astype(float).round(6)
            txt = f.map(lambda x: "" if x != x else np.format_float_positional(x, trim="-"))
            s = txt
        out[c] = s.astype(object).where(s.notna(), "").astype(str)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def _header_map(table: str) -> dict[str, str]:
    m = {}
    for c in TABLES[table].columns:
        for h in (c.name, c.zh, *c.aliases):
            m[h.strip().lower()] = c.name
    return m


def read_existing(ws: Path, table: str) -> tuple[pd.DataFrame | None, str | None]:
    """The workspace's current rows of `table` as text (English headers), and where they came from.

    A CSV wins over the workbook sheet of the same name, as in the loader.
    """
    path = ws / f"{table}.csv"
    frame, origin = None, None
    if path.exists():
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        origin = "csv"
    elif (ws / "workbook.xlsx").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheets = pd.ExcelFile(ws / "workbook.xlsx").sheet_names
            if table in sheets:
                frame = pd.read_excel(ws / "workbook.xlsx", sheet_name=table, dtype=str).fillna("")
                origin = "workbook"
    if frame is None:
        return None, None
    hm = _header_map(table)
    frame = frame.rename(columns={c: hm.get(str(c).strip().lower(), c) for c in frame.columns})
    for c in TABLES[table].column_names:
        if c not in frame.columns:
            frame[c] = ""
    extra = [c for c in frame.columns if c not in TABLES[table].column_names]
    frame = frame[TABLES[table].column_names + extra].astype(str)
    return frame, origin


def _keys(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    key = df[cols[0]].astype(str)
    for c in cols[1:]:
        key = key + "\x1f" + df[c].astype(str)
    return key


def merge(existing: pd.DataFrame | None, new: pd.DataFrame, table: str) -> tuple[pd.DataFrame, MergeCounts]:
    """Existing rows with the import's keys replaced by the import's rows (products: updated by sku).

    Existing rows keep their order; new rows follow in import order, so merging the same rows again
    gives the same table byte for byte.
    """
    if table == "products":
        return _merge_products(existing, new)
    keys = MERGE_KEYS[table]
    if existing is None or existing.empty:
        return new, MergeCounts(added=len(new))
    for c in existing.columns:
        if c not in new.columns:
            new = new.assign(**{c: ""})
    old_keys, new_keys = _keys(existing, keys), _keys(new, keys)
    hit = old_keys.isin(set(new_keys))
    merged = pd.concat([existing[~hit], new[existing.columns]], ignore_index=True)
    added = int((~new_keys.isin(set(old_keys))).sum())
    return merged, MergeCounts(added=added, replaced=int(hit.sum()), kept=int((~hit).sum()))


def _merge_products(existing: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, MergeCounts]:
    # unit_cost is required on every products row (the loader rejects an empty one), so a SKU the
    # export gives no cost only updates a row the workspace already has; a new one is left out
    known = set(existing["sku"]) if existing is not None else set()
    out = (new["unit_cost"].str.strip() == "") & ~new["sku"].isin(known)
    left_out = new.loc[out, "sku"].tolist()
    new = new[~out]
    if existing is None or existing.empty:
        return new, MergeCounts(added=len(new), left_out=left_out)
    old = existing.set_index("sku", drop=False)
    old = old[~old.index.duplicated(keep="first")]
    upd = new.set_index("sku", drop=False)
    common = upd.index.intersection(old.index)
    provided = [c for c in upd.columns if c != "sku"]
    # a value the import leaves empty never erases one the user typed (e.g. a cost)
    patch = upd.loc[common, provided]
    cur = old.loc[common, provided]
    old.loc[common, provided] = patch.where(patch != "", cur)
    fresh = upd.loc[~upd.index.isin(old.index)]
    for c in old.columns:
        if c not in fresh.columns:
            fresh = fresh.assign(**{c: ""})
    merged = pd.concat([old, fresh[old.columns]], ignore_index=True)
    return merged, MergeCounts(added=len(fresh), replaced=len(common), kept=len(old) - len(common),
                               left_out=left_out)


def write_all(ws: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write every table to a temp file first, then move them all into place; on error, write none."""
    ws.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for table, df in frames.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{table}.", suffix=".csv.tmp", dir=ws)
            os.close(fd)
            temps.append((Path(tmp), ws / f"{table}.csv"))
            df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in temps:
        os.replace(tmp, final)
