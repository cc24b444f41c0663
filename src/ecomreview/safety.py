"""Keeping data text harmless where it leaves the kit: spreadsheet formulas and file names."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pandas as pd

# A text cell starting with one of these runs as a formula in Excel, LibreOffice or Google Sheets (OWASP
# "CSV injection"); tab and carriage return are included because some programs strip them and then see the rest.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# Folder names Windows refuses whatever the extension.
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def cell_safe(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, tuple):  # MultiIndex labels
        return tuple(cell_safe(v) for v in value)
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and index and headers) cannot run as formulas in a spreadsheet."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)
                or pd.api.types.is_bool_dtype(col)):
            out.isetitem(i, col.astype(object).map(cell_safe))
    out.index = _index_safe(out.index)
    out.columns = _index_safe(out.columns)
    return out


def _index_safe(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([cell_safe(t) for t in index], names=index.names)
    if pd.api.types.is_numeric_dtype(index) or pd.api.types.is_datetime64_any_dtype(index):
        return index
    return pd.Index([cell_safe(v) for v in index], name=index.name)


def slug(text: str, fallback: str = "client") -> str:
    """A safe folder name: lower-case ASCII letters, digits and hyphens; never '..', a path or a reserved name.

    Letters that have no ASCII form (Chinese client names) are replaced by a short hash of the whole name, so
    that two such clients never share a folder."""
    raw = unicodedata.normalize("NFKD", str(text))
    t = raw.encode("ascii", "ignore").decode()
    t = re.sub(r"[^a-zA-Z0-9]+", "-", t).strip("-").lower()[:60].strip("-")
    if any(ch.isalnum() and not ch.isascii() for ch in raw):
        digest = hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:8]
        t = f"{t}-{digest}" if t else f"{fallback}-{digest}"
    if t in _WINDOWS_RESERVED:
        t = f"{t}-{fallback}"
    return t or fallback


def inside(root: str | Path, *parts: str) -> Path:
    """root / slug(part) / …, checked to stay inside root (for client names and periods read from a batch file)."""
    base = Path(root).resolve()
    path = base.joinpath(*(slug(p) for p in parts)).resolve()
    if path != base and base not in path.parents:  # cannot happen with slugs; kept as the last line of defence
        raise ValueError(f"{path} is outside {base}")
    return path
