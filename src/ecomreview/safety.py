"""Keeping data text harmless where it leaves the kit: spreadsheet formulas and file names."""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value):
    """A text cell that Excel would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and index and headers) cannot run as formulas in Excel."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(cell_safe)
    out.index = out.index.map(cell_safe)
    out.columns = [cell_safe(c) for c in out.columns]
    return out


def slug(text: str, fallback: str = "client") -> str:
    """A safe folder name: lower-case ASCII letters, digits and hyphens; never '..' or a path."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    t = re.sub(r"[^a-zA-Z0-9]+", "-", t).strip("-").lower()
    return t[:60] or fallback
