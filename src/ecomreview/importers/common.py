"""Shared helpers for the importers: reading exports, header matching, money/date parsing, allocation."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ecomreview.errors import InputError, Problem
from ecomreview.report.i18n import t  # noqa: F401  (re-exported for the importer modules)

# ---------------------------------------------------------------- results of one mapping


@dataclass
class Reason:
    """Why rows were skipped (or a note): a catalogue key with its placeholders, and a count."""

    key: str
    count: int = 0
    params: dict = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return t(self.key, lang, count=self.count, **self.params)


@dataclass
class Mapped:
    """What one importer produced from its files: schema-shaped frames and what it left out."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows_in: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, list[Reason]] = field(default_factory=dict)
    notes: list[Reason] = field(default_factory=list)

    def skip(self, table: str, key: str, mask: pd.Series | int, **params) -> None:
        count = int(mask.sum()) if isinstance(mask, pd.Series) else int(mask)
        if count:
            self.skipped.setdefault(table, []).append(Reason(key, count, params))

    def note(self, key: str, count: int = 0, **params) -> None:
        self.notes.append(Reason(key, count, params))


# ---------------------------------------------------------------- reading


@dataclass
class Source:
    """One input file read as text cells: `frame` (all str), `title` lines above the header."""

    path: Path
    frame: pd.DataFrame
    title: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def _encoding(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    # charset-normalizer for anything that is not UTF-8 (Excel on a Chinese Windows saves GB18030)
    from charset_normalizer import from_bytes
    best = from_bytes(raw[:200_000]).best()
    enc = best.encoding if best is not None else "gb18030"
    return "gb18030" if enc.lower() in ("gbk", "gb2312", "gb18030", "big5") else enc


def read_source(path: str | Path, lang: str, header_tokens: tuple[str, ...] = ()) -> Source:
    """Read a CSV/TSV or xlsx export as text cells.

    When `header_tokens` are given, the header is the first of the first 30 rows holding one of
    them (normalised), so title lines above it (Google Ads) are kept in `Source.title`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(file=str(path), message=t("importers.error.no_file", lang),
                                  fix=t("importers.fix.no_file", lang))])
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _read_excel(path, lang, header_tokens)
    raw = path.read_bytes()
    enc = _encoding(raw)
    head = raw[:65536].decode(enc, errors="replace")
    lines = head.splitlines()[:30]
    sep = "\t" if lines and lines[0].count("\t") > lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    idx = _header_index(rows, header_tokens)
    if sep == "," and idx < len(rows) and "\t" in "".join(rows[idx]):
        sep = "\t"
    try:
        frame = pd.read_csv(path, encoding=enc, sep=sep, skiprows=idx, dtype=str,
                            keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError([Problem(file=path.name, message=t("importers.error.unreadable", lang, error=exc),
                                  fix=t("importers.fix.unreadable", lang))]) from exc
    title = [",".join(c for c in r if c).strip() for r in rows[:idx]]
    return Source(path, frame, title)


def _header_index(rows: list[list[str]], tokens: tuple[str, ...]) -> int:
    if not tokens:
        return 0
    wanted = {norm(x) for x in tokens}
    for i, row in enumerate(rows):
        if wanted & {norm(c) for c in row}:
            return i
    return 0


def _read_excel(path: Path, lang: str, tokens: tuple[str, ...]) -> Source:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Workbook contains no default style"
        try:
            raw = pd.read_excel(path, sheet_name=0, header=None, dtype=str)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise InputError([Problem(file=path.name, message=t("importers.error.unreadable", lang, error=exc),
                                      fix=t("importers.fix.unreadable", lang))]) from exc
    raw = raw.fillna("")
    idx = _header_index(raw.head(30).values.tolist(), tokens)
    header = [str(h) for h in raw.iloc[idx]]
    frame = raw.iloc[idx + 1:].reset_index(drop=True)
    frame.columns = header
    frame = frame.astype(str)
    # an xlsx date cell read as text carries a midnight time: "2020-02-01 00:00:00"
    title = [" ".join(str(c) for c in r if str(c)).strip() for r in raw.iloc[:idx].values.tolist()]
    return Source(path, frame, title)


# ---------------------------------------------------------------- headers


def norm(header: object) -> str:
    """Header for matching: NFKC, lower case, dashes unified, spaces collapsed, no currency suffix."""
    h = unicodedata.normalize("NFKC", str(header)).strip().lower()
    h = re.sub(r"[\u2010-\u2015]", "-", h)
    h = re.sub(r"\s+", " ", h)
    h = re.sub(r"\s*\((?:[#%]|[^\w\s]{1,3}|rs\.?|inr|usd|[a-z]{3})\)\s*$", "", h)  # "(₹)", "($)", "(#)"
    return h.strip()


def resolve(columns, fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map our field names to the file's column names, by normalised header; absent fields are left out."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    out = {}
    for f, candidates in fields.items():
        for cand in candidates:
            if norm(cand) in by_norm:
                out[f] = by_norm[norm(cand)]
                break
    return out


def find_pattern(columns, pattern: str) -> list[tuple[str, str]]:
    """(column, first regex group) for every column whose normalised header matches `pattern`."""
    out = []
    for c in columns:
        m = re.fullmatch(pattern, norm(c))
        if m:
            out.append((c, m.group(1)))
    return out


_SYMBOL_CURRENCY = {"₹": "INR", "rs": "INR", "rs.": "INR", "$": "USD", "us$": "USD", "£": "GBP", "€": "EUR",
                    "¥": "JPY", "￥": "CNY", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD"}


def currency_from_header(header: str) -> str | None:
    """Currency named by a header suffix such as "14 Day Total Sales (₹)", else None."""
    m = re.search(r"\(([^)]{1,4})\)\s*$", unicodedata.normalize("NFKC", str(header)).strip())
    if not m:
        return None
    sym = m.group(1).strip().lower()
    if re.fullmatch(r"[a-z]{3}", sym):
        return sym.upper()
    return _SYMBOL_CURRENCY.get(sym)


# ---------------------------------------------------------------- values

_MONEY_PREFIX = re.compile(r"^(?:rs\.?|inr|usd|us\$|ca\$|c\$|a\$|au\$|rmb|cny|eur|gbp|jpy|[$₹¥￥€£])\s*",
                           re.IGNORECASE)
_MONEY_SUFFIX = re.compile(r"\s*(?:inr|usd|rmb|cny|eur|gbp|jpy|元|[$₹¥￥€£])$", re.IGNORECASE)
_BLANKS = {"", "--", "-", " --", "nan", "none", "n/a"}


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text such as "$1,234.50", "Rs. 1,234", "(12.00)", "1,234": (values, bad mask).

    Empty cells (and "--") are NaN and not bad; `bad` marks non-empty cells that are not numbers.
    """
    txt = s.astype(str).str.strip()
    blank = txt.str.lower().isin(_BLANKS)
    neg = txt.str.match(r"^\(.*\)$")
    clean = txt.str.strip("()").str.strip()
    neg = neg | clean.str.startswith("-")
    clean = clean.str.lstrip("-").str.strip()
    clean = clean.str.replace(_MONEY_PREFIX, "", regex=True).str.replace(_MONEY_SUFFIX, "", regex=True)
    clean = clean.str.replace(r"[,\s\u00a0]", "", regex=True).str.rstrip("%")
    vals = pd.to_numeric(clean.where(~blank), errors="coerce").astype(float)
    vals = vals.where(~neg, -vals)
    bad = vals.isna() & ~blank
    return vals, bad


def money_currency(s: pd.Series) -> str | None:
    """The currency written in front of money values ("Rs.201.68" -> INR, "$12" -> USD), if any."""
    sample = s.astype(str).str.strip().str.lower()
    sample = sample[sample != ""].head(200)
    for sym, cur in sorted(_SYMBOL_CURRENCY.items(), key=lambda kv: -len(kv[0])):
        if len(sample) and sample.str.startswith(sym).mean() > 0.5:
            return cur
    return None


DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d", "%b %d, %Y",
                "%B %d, %Y", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%d.%m.%Y", "%Y年%m月%d日", "%d/%m/%Y")


def parse_dates(s: pd.Series, formats: tuple[str, ...] | list[str] = DATE_FORMATS) -> tuple[pd.Series, pd.Series]:
    """Dates from text with the first format that reads every non-empty cell: (datetime64, bad mask).

    One format for the whole column, so 03/04/2025 is never read as March in one row and April in
    another; when no format reads them all, the one that reads most wins and the rest are bad.
    """
    txt = s.astype(str).str.strip()
    txt = txt.str.replace(r"\s+[+-]\d{4}$", "", regex=True)  # Shopify "2023-05-31 23:06:04 -0700": local time
    blank = txt == ""
    best, best_ok = None, -1
    for fmt in formats:
        d = pd.to_datetime(txt.where(~blank), format=fmt, errors="coerce")
        ok = int(d.notna().sum())
        if ok == int((~blank).sum()):
            return d, pd.Series(False, index=s.index)
        if ok > best_ok:
            best, best_ok = d, ok
    return best, best.isna() & ~blank


def day_text(d: pd.Series) -> pd.Series:
    """ISO day text for a datetime column; empty where missing."""
    return d.dt.strftime("%Y-%m-%d").fillna("")


def allocate(total: pd.Series, weight: pd.Series, group: pd.Series) -> pd.Series:
    """Split each group's `total` (repeated on its rows) over its rows pro rata to `weight`, in cents.

    Shares are floored to cents and the left-over cents go to the rows with the largest remainders,
    so every group's parts add up to its total exactly. A group whose weights sum to 0 splits evenly.
    """
    cents = (total.fillna(0).clip(lower=0) * 100).round()
    w = weight.fillna(0).clip(lower=0)
    wsum = w.groupby(group, sort=False).transform("sum")
    n = group.groupby(group, sort=False).transform("size")
    share = (w / wsum).where(wsum > 0, 1.0 / n)
    raw = cents * share
    base = np.floor(raw + 1e-9)
    left = cents - base.groupby(group, sort=False).transform("sum")
    order = (raw - base).groupby(group, sort=False).rank(method="first", ascending=False)
    return (base + (order <= left).astype(float)) / 100.0


def check_kind(src: Source, expected: str, lang: str, missing: list[str]) -> None:
    """Raise the wrong-kind error when the file looks like another export or `missing` names columns."""
    from . import guess_kind  # the signatures of every kind live next to KINDS
    guessed = guess_kind(src.frame.columns)
    if missing or (guessed and guessed != expected):
        raise wrong_kind(src, expected, lang, missing)


def wrong_kind(src: Source, expected: str, lang: str, missing: list[str]) -> InputError:
    """The error for a file that is not the export this importer reads, naming what it looks like."""
    from . import guess_kind
    guessed = guess_kind(src.frame.columns)
    label = t(f"importers.kind.{expected}", lang)
    if guessed and guessed != expected:
        msg = t("importers.error.wrong_kind", lang, found=t(f"importers.kind.{guessed}", lang), expected=label)
        fix = t("importers.fix.wrong_kind", lang, kind=guessed)
    else:
        msg = t("importers.error.missing_columns", lang, expected=label, columns=", ".join(missing))
        fix = t("importers.fix.missing_columns", lang)
    return InputError([Problem(file=src.name, message=msg, fix=fix)])


def text(s: pd.Series) -> pd.Series:
    """Stripped text cells."""
    return s.astype(str).str.strip()
