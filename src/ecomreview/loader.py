"""Reading a workspace: CSV files or one workbook, header aliases, encodings, parsing and lazy validation.

This is the only module that opens input files. Inputs are opened read-only and never written.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import schema
from .errors import InputError, Problem

MAX_EXAMPLES = 5  # per column and problem kind; the rest are summarised in one line

# Chinese (and a few English) spellings accepted for enum values.
ENUM_ALIASES = {
    "category": {"广告": "advertising", "广告费": "advertising", "物流": "logistics", "仓储": "storage",
                 "平台": "platform", "平台费": "platform", "软件": "software", "人工": "staff", "人员": "staff",
                 "工资": "staff", "租金": "rent", "房租": "rent", "合规": "compliance", "其他": "other",
                 "ads": "advertising", "ad": "advertising", "warehouse": "storage", "shipping": "logistics"},
    "type": {"广告": "ads", "促销": "promotion", "内容": "content", "网红": "influencer", "达人": "influencer",
             "联盟": "affiliate", "邮件": "email", "ad": "ads", "promo": "promotion", "kol": "influencer"},
    "dimension": {"产品": "product", "市场": "market", "营销": "marketing", "运营": "operations"},
}

_CURRENCY_TOKENS = re.compile(
    r"(?i)(?:rs\.?|inr|usd|us\$|eur|gbp|cny|rmb|jpy|cad|aud|hk\$|c\$|a\$|[$¥€£₹￥元\s\u00a0'])")


@dataclass
class Workspace:
    """Parsed tables (canonical column names, typed) plus settings and the problems found."""

    path: Path
    tables: dict[str, pd.DataFrame]
    settings: dict
    sources: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


# ---------------------------------------------------------------- reading raw text tables

def decode_bytes(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 (with or without BOM), else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
        if best is None:
            raise
        return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the text is UTF-16 saved without a byte-order mark (ASCII headers give
    a zero byte at every other position), else None."""
    head = data[:2048]
    if len(head) < 4 or len(head) % 2:
        head = head[:len(head) - len(head) % 2]
    if len(head) < 4:
        return None
    odd_zero = head[1::2].count(0) / (len(head) // 2)
    even_zero = head[0::2].count(0) / (len(head) // 2)
    if odd_zero > 0.4 and even_zero == 0:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero == 0:
        return "utf-16-be"
    return None


# File signatures of things users save under a .csv or .xlsx name by mistake: what it is, how to fix it.
_SIGNATURES = (
    (b"PK\x03\x04", "this is an Excel workbook (.xlsx), not a CSV text file",
     "save the sheet from Excel as 'CSV UTF-8 (comma delimited)', or put the sheets in workbook.xlsx"),
    (b"\xd0\xcf\x11\xe0", "this is an old Excel .xls file, not a CSV text file",
     "open it in Excel and save it as 'CSV UTF-8 (comma delimited)' or as .xlsx"),
    (b"%PDF", "this is a PDF document, not a CSV text file",
     "export the table from the source system as CSV"),
)


def _not_text(data: bytes) -> tuple[str, str] | None:
    """(message, fix) when the bytes are clearly not a text table."""
    for sig, what, fix in _SIGNATURES:
        if data.startswith(sig):
            return what, fix
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")) and not _utf16_without_bom(data):
        return ("this is not a text CSV file (it contains binary data)",
                "save it from Excel as 'CSV UTF-8 (comma delimited)'")
    return None


def _read_bytes(path: Path, label: str, problems: list[Problem]) -> bytes | None:
    """The file's bytes, or None with a problem when it is a folder or cannot be opened."""
    if path.is_dir():
        problems.append(Problem(label, "this is a folder, not a file",
                                fix=f"remove or rename the folder {path.name} and put the table file there"))
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(Problem(label, f"the file cannot be opened ({exc.strerror or type(exc).__name__})",
                                fix="close it in Excel or other programs and check that you may read it"))
        return None


def _read_csv(path: Path, label: str, problems: list[Problem], table: schema.Table | None = None) -> pd.DataFrame | None:
    data = _read_bytes(path, label, problems)
    if data is None:
        return None
    if not data.strip():
        problems.append(Problem(label, "the file is empty", fix="add the header row and your data, or delete the file"))
        return None
    bad = _not_text(data)
    if bad:
        problems.append(Problem(label, bad[0], fix=bad[1]))
        return None
    try:
        text = decode_bytes(data)
    except UnicodeDecodeError:
        problems.append(Problem(label, "the file's text encoding is not UTF-8 or GBK",
                                fix="save it from Excel as 'CSV UTF-8 (comma delimited)'"))
        return None
    text, skipped, sep = _strip_preamble(text)
    if not text.strip(" ,;\t\r\n"):
        problems.append(Problem(label, "the file has no header row (only blank lines)",
                                fix="add the header row and your data, or delete the file"))
        return None
    first = next((ln for ln in text[:4096].splitlines() if ln.strip(" ,;\t")), "")
    if sep is None:
        sep = ","
        if first.count(";") > first.count(",") and first.count(";") > 0:
            sep = ";"
        elif first.count("\t") > first.count(","):
            sep = "\t"
    try:
        # header=None: the C parser then rejects a row with more values than the header (instead of
        # silently turning the first column into an index), and names the line.
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, header=None,
                         skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            problems.append(Problem(label, f"this row has {m.group(3)} values but the header has {m.group(1)} columns",
                                    row=int(m.group(2)) + skipped,
                                    fix='put quotes around values that contain a comma, e.g. "1,234.50"'))
        elif "EOF inside string" in str(exc):
            m = re.search(r"row (\d+)", str(exc))
            problems.append(Problem(label, "a quote (\") is opened and never closed",
                                    row=int(m.group(1)) + 1 + skipped if m else None,
                                    fix='close the quote, or remove the stray " from the value'))
        else:
            problems.append(Problem(label, f"the file cannot be read as CSV ({str(exc).strip()[:200]})",
                                    fix="check quoting and that every row has the same number of columns"))
        return None
    df = _with_header(df.fillna(""), table, label, problems, offset=skipped)
    return df


def _strip_preamble(text: str) -> tuple[str, int, str | None]:
    """(text without leading blank lines and Excel's "sep=;" line, how many lines were dropped, that separator).

    The C parser takes the column count from the first line, so these lines must go before parsing; the count
    keeps reported row numbers equal to the file's line numbers."""
    skipped, sep = 0, None
    while text:
        line, nl, rest = text.partition("\n")
        hint = re.match(r"^\s*sep=(.)\s*$", line)
        if hint and sep is None and skipped == 0:
            sep = hint.group(1)
        elif line.strip(" ,;\t\r"):
            break
        text, skipped = rest, skipped + 1
        if not nl:
            break
    return text, skipped, sep


def _with_header(raw: pd.DataFrame, table: schema.Table | None, label: str, problems: list[Problem],
                 offset: int = 0) -> pd.DataFrame:
    """From a frame read without a header: columns from the header row, index = spreadsheet row number
    (header = 1 when it is the first row). Blank or title rows above the header are skipped."""
    top = raw.head(20).values.tolist()
    h = _header_index(top, table)
    if h > 0 and any(_blankless(r) for r in top[:h]):
        problems.append(Problem(label, f"rows {offset + 1}–{offset + h} above the header were skipped",
                                row=offset + h + 1, severity="warning",
                                fix="keep the header in the first row and nothing above it"))
    header = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
              for v in (top[h] if top else [])]
    while header and header[-1].strip() == "":
        header.pop()
    df = raw.iloc[h + 1:, :len(header)].copy()
    for i in range(df.shape[1], len(header)):
        df[i] = None
    df.columns = header
    df.index = pd.RangeIndex(offset + h + 2, offset + h + 2 + len(df))  # spreadsheet row numbers
    return df


def _blankless(row) -> list:
    return [v for v in row if v is not None and str(v).strip() not in ("", "nan")]


def _header_index(rows: list[list], table: schema.Table | None, limit: int = 20) -> int:
    """The first row (of the first `limit`) holding a known column name; else the first non-blank row."""
    hmap = _header_map(table) if table is not None else {}
    for i, r in enumerate(rows[:limit]):
        if any(_norm_header(v) in hmap for v in _blankless(r)):
            return i
    return next((i for i, r in enumerate(rows[:limit]) if _blankless(r)), 0)


def _header_only(csv: Path) -> bool:
    """True when a CSV holds at most its header row (blank lines aside)."""
    if not csv.is_file():
        return False
    with open(csv, "rb") as f:
        head = f.read(1 << 16)
    lines = [ln for ln in head.splitlines() if ln.strip(b" ,;\t\r\xef\xbb\xbf")]
    return len(lines) <= 1 and len(head) < (1 << 16)


_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _sheet_xml(ws) -> bytes:
    """The raw XML of a read-only sheet: openpyxl's read-only mode has no public API for merged cells."""
    try:
        with ws._get_source() as src:
            return src.read()
    except Exception:  # an unusual writer or openpyxl version: merged/formula checks are then skipped
        return b""


def _read_sheet(book: Path, sheet: str, label: str, problems: list[Problem],
                table: schema.Table | None = None) -> pd.DataFrame | None:
    from openpyxl import load_workbook
    from openpyxl.utils import column_index_from_string
    try:
        wb = load_workbook(book, read_only=True, data_only=True)
        try:
            ws = wb[sheet]
            rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
            xml = _sheet_xml(ws)
        finally:
            wb.close()
        formulas = _formula_cells(book, sheet, rows) if _FORMULA_RE.search(xml) else {}
    except Exception as exc:  # a sheet openpyxl cannot read: say which, never a traceback
        problems.append(Problem(label, f"the sheet cannot be read ({type(exc).__name__})",
                                fix="open the workbook in Excel, save it again as .xlsx and retry"))
        return None
    if not rows:
        return None
    merges = [(column_index_from_string(a.decode()), int(r1), column_index_from_string(b.decode()), int(r2))
              for a, r1, b, r2 in _MERGE_RE.findall(xml)]
    _fill_merged(rows, merges, label, problems)
    df = _with_header(pd.DataFrame(rows, dtype=object), table, label, problems).map(_cell_text)
    # formulas Excel never calculated (the file was written by a program): row number, header → formula
    df.attrs["uncalculated"] = {(r + 1, str(df.columns[c])): f for (r, c), f in formulas.items()
                                if c < len(df.columns)}
    return df


def _formula_cells(book: Path, sheet: str, rows: list[list]) -> dict[tuple[int, int], str]:
    """(row index, column index) → formula text, for the formula cells that have no cached value."""
    from openpyxl import load_workbook
    wb = load_workbook(book, read_only=True, data_only=False)
    try:
        out = {}
        for i, r in enumerate(wb[sheet].iter_rows(min_row=1, values_only=True)):
            for j, v in enumerate(r):
                if isinstance(v, str) and v.startswith("=") and i < len(rows) and j < len(rows[i]) \
                        and rows[i][j] is None:
                    out[(i, j)] = v
        return out
    finally:
        wb.close()


def _fill_merged(rows: list[list], merges, label: str, problems: list[Problem]) -> None:
    """A merge down one column (e.g. an order id spanning its lines) gives every row the value shown;
    other merges keep the value in the top-left cell only. Either way the user is told."""
    if not merges:
        return
    for c1, r1, c2, r2 in merges:
        if c1 == c2 and r1 - 1 < len(rows):
            value = rows[r1 - 1][c1 - 1] if c1 - 1 < len(rows[r1 - 1]) else None
            for r in range(r1, min(r2, len(rows))):
                while len(rows[r]) < c1:
                    rows[r].append(None)
                rows[r][c1 - 1] = value
    from openpyxl.utils import get_column_letter
    refs = [f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}" for c1, r1, c2, r2 in merges[:5]]
    problems.append(Problem(label, f"{len(merges)} merged cell range(s) ({', '.join(refs)}); a merge down one "
                            "column gives each of its rows the merged value, other merges keep it in the first cell",
                            row=merges[0][1], severity="warning",
                            fix="unmerge the cells and fill every row so the table has one value per cell"))


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
        text = v.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text.replace("T", " ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _norm_header(h: str) -> str:
    return re.sub(r"[\s\-/]+", "_", str(h).replace("\ufeff", "").strip().lower()).strip("_")


def _header_map(table: schema.Table) -> dict[str, str]:
    m = {}
    for c in table.columns:
        for name in (c.name, c.zh, *c.aliases):
            m[_norm_header(name)] = c.name
    return m


# ---------------------------------------------------------------- parsing cells

def _finite(v: pd.Series) -> pd.Series:
    """NaN for inf (e.g. '1e400'): an overflowing number is as unusable as text."""
    return v.where(np.isfinite(v.astype(float)))


def parse_money(s: pd.Series) -> pd.Series:
    """Money strings to floats: '$1,234.50', 'Rs. 1,234', '¥99', '(12.50)', '1.234,50'. Unparseable → NaN."""
    t = s.astype(str).str.strip()
    neg = t.str.match(r"^\(.*\)$") | t.str.startswith("-")
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(_CURRENCY_TOKENS, "", regex=True)
    t = t.str.lstrip("-+")
    euro = t.str.match(r"^\d{1,3}(\.\d{3})+,\d+$") | t.str.match(r"^\d+,\d{1,2}$")
    t = t.where(~euro, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    t = t.str.replace(",", "", regex=False)
    v = _finite(pd.to_numeric(t.where(t.str.match(r"^\d*\.?\d+(e[-+]?\d+)?$", case=False)), errors="coerce"))
    return v.where(~neg, -v)


def parse_number(s: pd.Series) -> pd.Series:
    """Plain numbers to floats ('1,200' and '1 200' allowed); text, inf and NaN spellings → NaN."""
    t = s.astype(str).str.strip().str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    return _finite(pd.to_numeric(t.where(t.str.match(r"^[-+]?\d*\.?\d+(e[-+]?\d+)?$", case=False)),
                                 errors="coerce"))


def parse_rate(s: pd.Series) -> pd.Series:
    """Rates as fractions: '2.9%' and '0.029' both give 0.029."""
    t = s.astype(str).str.strip()
    pct = t.str.endswith("%")
    v = parse_number(t.str.rstrip("%").str.strip())
    return v.where(~pct, v / 100)


_DATE_RE = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
_TZ_RE = r"(Z|[+-]\d{2}:?\d{2})$"
DATE_MIN, DATE_MAX = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")


def parse_date(s: pd.Series) -> pd.Series:
    """Year-first dates ('2025-03-14', '2025/3/14', '2025.3.14', time and UTC offset allowed) to day Timestamps.

    The date is taken as written (an offset is dropped, not converted); day/month-first forms, where
    03/04/2025 could be either, are never guessed and give NaT. So do dates outside 1900–2100."""
    t = s.astype(str).str.strip()
    ok = t.str.match(_DATE_RE)
    t = t.where(ok).str.replace(_TZ_RE, "", regex=True).str.replace(r"[/.]", "-", regex=True).str.slice(0, 19)
    v = pd.to_datetime(t, errors="coerce", format="mixed").dt.normalize()
    return v.where((v >= DATE_MIN) & (v <= DATE_MAX))


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _date_problem(text: str) -> tuple[str, str]:
    """(kind, fix) for a date cell that parse_date rejected: why, and the value to write instead when known."""
    m = re.match(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?:\s.*)?$", text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        y = int(y) + (2000 if len(y) == 2 else 0)
        if 1 <= a <= 12 and 1 <= b <= 12 and a != b:
            return ("ambiguous", f"write it as YYYY-MM-DD: {y}-{b:02d}-{a:02d} if it is {a} {_MONTHS_EN[b - 1]}, "
                                 f"{y}-{a:02d}-{b:02d} if it is {_MONTHS_EN[a - 1]} {b}")
        day, month = (a, b) if b <= 12 else (b, a)
        if 1 <= month <= 12 and 1 <= day <= 31:
            return "day_month", f"write it as YYYY-MM-DD: {y}-{month:02d}-{day:02d}"
    if re.match(r"^\d{5}(\.\d+)?$", text) and 1 <= float(text) <= 80000:
        day = pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(float(text)))
        return ("serial", f"format the cells as dates in Excel, or write {day:%Y-%m-%d}")
    m = re.match(r"^(\d{4})[-/.]\d{1,2}[-/.]\d{1,2}", text)
    if m and not 1900 <= int(m.group(1)) <= 2100:
        return "range", "check the year; dates must fall between 1900 and 2100"
    return "other", _FIX[schema.DATE]


_DATE_WHAT = {
    "ambiguous": "is ambiguous: day and month could be either way round (it is never guessed)",
    "day_month": "is not in YYYY-MM-DD form (day and month first)",
    "serial": "looks like an Excel date number, not a date",
    "range": "is not a plausible date",
    "other": "is not a date in YYYY-MM-DD form",
}


def parse_month(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip().str.replace(r"[/.]", "-", regex=True)
    t = t.where(~t.str.match(r"^\d{4}-\d{1,2}-\d{1,2}"), t.str.slice(0, 7))
    m = t.str.extract(r"^(\d{4})-(\d{1,2})$")
    ok = m[0].notna() & m[1].astype(float).between(1, 12)
    out = m[0] + "-" + m[1].str.zfill(2)
    return out.where(ok)


_FIX = {
    schema.MONEY: "write a number such as 12.50 (currency symbols and thousands separators are allowed)",
    schema.NUMBER: "write a number such as 3",
    schema.INT: "write a whole number such as 3",
    schema.RATE: "write a rate as 2.9% or 0.029",
    schema.DATE: "write the date as YYYY-MM-DD, e.g. 2025-03-14",
    schema.MONTH: "write the month as YYYY-MM, e.g. 2025-03",
    schema.CURRENCY: "write a 3-letter currency code such as USD, CNY, EUR",
}

_WHAT = {
    schema.MONEY: "is not an amount of money",
    schema.NUMBER: "is not a number",
    schema.INT: "is not a whole number",
    schema.RATE: "is not a rate",
    schema.DATE: "is not a date in YYYY-MM-DD form",
    schema.MONTH: "is not a month in YYYY-MM form",
    schema.CURRENCY: "is not a currency code",
}


def _report_cells(problems, label, col, rows: pd.Series, values: pd.Series, message, fix, severity="error"):
    """Add one Problem per bad cell (up to MAX_EXAMPLES), then one summary line for the rest."""
    idx = rows[rows].index
    for r in idx[:MAX_EXAMPLES]:
        value = _shorten(values.get(r, ""))
        problems.append(Problem(label, message, row=int(r), column=col, value=value,
                                fix=fix(str(values.get(r, ""))) if callable(fix) else fix, severity=severity))
    if len(idx) > MAX_EXAMPLES:
        problems.append(Problem(label, f"{len(idx) - MAX_EXAMPLES} more rows with the same problem "
                                f"(rows {', '.join(str(int(r)) for r in idx[MAX_EXAMPLES:MAX_EXAMPLES + 10])}"
                                f"{' …' if len(idx) > MAX_EXAMPLES + 10 else ''})",
                                column=col, fix="" if callable(fix) else fix, severity=severity))


def _shorten(value, limit: int = 80):
    """A cell value short enough to quote in a one-line message."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_table(table: schema.Table, raw: pd.DataFrame, label: str, problems: list[Problem]) -> pd.DataFrame:
    """Map headers, parse every column by kind, and collect every problem (lazy validation).

    ``raw`` holds text cells, indexed by spreadsheet row number (header = row 1)."""
    hmap = _header_map(table)
    seen: dict[str, str] = {}
    positions, names, ignored = [], [], []
    for pos, h in enumerate(raw.columns):
        key = _norm_header(h)
        canon = hmap.get(key)
        if canon is None:
            if str(h).strip() and not str(h).startswith("Unnamed") and str(h) != "nan":
                ignored.append(_shorten(h, 40))
            continue
        if canon in seen:
            problems.append(Problem(label, f'columns "{seen[canon]}" and "{h}" both mean {canon}', column=str(h),
                                    fix="keep one of them"))
            continue
        seen[canon] = str(h)
        positions.append(pos)
        names.append(canon)
    if ignored:  # one line, however wide the sheet
        shown = ", ".join(f'"{h}"' for h in ignored[:10]) + (f" and {len(ignored) - 10} more" if len(ignored) > 10 else "")
        problems.append(Problem(label, f"{len(ignored)} column(s) not part of the {table.name} template are ignored: "
                                f"{shown}", column=ignored[0], severity="warning",
                                fix="rename a column to one of: " + ", ".join(table.column_names)
                                + " if it holds one of them"))
    uncalculated = raw.attrs.get("uncalculated", {})
    df = raw.iloc[:, positions].copy()
    df.columns = names
    # drop rows that are entirely blank (trailing Excel rows)
    blank = df.apply(lambda c: c.astype(str).str.strip().eq(""), axis=0).all(axis=1) if len(df.columns) else \
        pd.Series(True, index=df.index)
    if uncalculated:
        blank &= ~df.index.isin([r for r, _ in uncalculated])
    df = df[~blank]
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    if not names and len(raw.columns):  # not one known header: the wrong file, or no header row at all
        problems.append(Problem(label, f"the first row holds none of the {table.name} column names, so this "
                                "does not look like the " + table.name + " table",
                                value=_shorten(", ".join(str(h) for h in raw.columns[:6]), 60),
                                fix="put the header row first, with the column names " + ", ".join(missing)
                                + " (or their Chinese labels from the blank template)"))
        missing = []
    for m in missing:
        col = table.column(m)
        problems.append(Problem(label, f"required column {m} ({col.zh}) is missing", column=m,
                                fix=f"add a column named {m}; see the blank template for {table.name}"))
    out = pd.DataFrame(index=df.index)
    for c in table.columns:
        if c.name not in df.columns:
            out[c.name] = _empty(c)
            continue
        raw_col = df[c.name].astype(str).str.strip()
        empty = raw_col.eq("") | raw_col.str.lower().isin(["nan", "none", "null", "n/a", "-"])
        formula = pd.Series(False, index=df.index)
        if uncalculated:
            header = seen[c.name]
            formula[:] = [(r, header) in uncalculated for r in df.index]
        if formula.any():
            _report_cells(problems, label, c.name, formula,
                          pd.Series({r: uncalculated[(r, header)] for r in df.index[formula]}),
                          "holds a formula whose result was never calculated",
                          "open the workbook in Excel and save it (Excel then stores each formula's result), "
                          "or type the value")
            empty &= ~formula
        if c.required and empty.any():
            _report_cells(problems, label, c.name, empty, raw_col, "a value is required here",
                          f"fill in {c.name} ({c.zh})")
        out[c.name] = _parse_column(c, raw_col, empty | formula, label, problems)
    out["_row"] = out.index.astype(int)
    return out.reset_index(drop=True)


def empty_table(name: str) -> pd.DataFrame:
    """A typed frame with no rows, for an optional table the workspace does not have."""
    t = schema.TABLES[name]
    out = pd.DataFrame({c.name: pd.Series(dtype=_dtype(c)) for c in t.columns})
    out["_row"] = pd.Series(dtype=int)
    return out


def _dtype(c: schema.Column) -> str:
    if c.kind in (schema.MONEY, schema.NUMBER, schema.INT, schema.RATE):
        return "float64"
    return "datetime64[ns]" if c.kind == schema.DATE else "object"


def _empty(c: schema.Column) -> pd.Series:
    if c.kind in (schema.MONEY, schema.NUMBER, schema.INT, schema.RATE):
        return np.nan
    if c.kind == schema.DATE:
        return pd.NaT
    return None


def _parse_column(c, raw_col, empty, label, problems) -> pd.Series:
    kind = c.kind
    if kind in (schema.TEXT, schema.ID):
        return raw_col.where(~empty, None).astype(object)
    if kind == schema.ENUM:
        v = raw_col.str.lower()
        v = v.map(lambda x: ENUM_ALIASES.get(c.name, {}).get(x, x))
        bad = ~empty & ~v.isin(c.choices)
        if bad.any():
            _report_cells(problems, label, c.name, bad, raw_col, f"is not one of {', '.join(c.choices)}",
                          f"use one of: {', '.join(c.choices)}")
        return v.where(~empty & ~bad, None).astype(object)
    if kind == schema.CURRENCY:
        v = raw_col.str.upper().replace({"RMB": "CNY", "¥": "CNY", "$": "USD", "€": "EUR", "£": "GBP"})
        bad = ~empty & ~v.str.match(r"^[A-Z]{3}$")
        if bad.any():
            _report_cells(problems, label, c.name, bad, raw_col, _WHAT[kind], _FIX[kind])
        return v.where(~empty & ~bad, None).astype(object)
    parser = {schema.MONEY: parse_money, schema.NUMBER: parse_number, schema.INT: parse_number,
              schema.RATE: parse_rate, schema.DATE: parse_date, schema.MONTH: parse_month}[kind]
    v = parser(raw_col.where(~empty, ""))
    bad = ~empty & v.isna()
    if bad.any() and kind == schema.DATE:
        _report_dates(problems, label, c.name, bad, raw_col)
    elif bad.any():
        _report_cells(problems, label, c.name, bad, raw_col, _WHAT[kind], _FIX[kind])
    if kind == schema.RATE:
        big = v > 1
        if big.any():
            _report_cells(problems, label, c.name, big.fillna(False), raw_col,
                          "is more than 100%", "write a rate as 2.9% or 0.029")
            v = v.where(~big)
    if c.min_value is not None and kind not in (schema.DATE, schema.MONTH):
        neg = (v < c.min_value).fillna(False)
        if neg.any():
            _report_cells(problems, label, c.name, neg, raw_col, f"must not be below {c.min_value:g}",
                          f"correct the value of {c.name}")
            v = v.where(~neg)
    if kind == schema.MONTH:
        return v.astype(object)
    return v


def _report_dates(problems, label, col, bad: pd.Series, raw_col: pd.Series) -> None:
    """Rejected dates, grouped by why (ambiguous day/month, day-first, Excel number, implausible year)."""
    kinds = raw_col[bad].map(lambda v: _date_problem(v)[0])
    for kind, what in _DATE_WHAT.items():
        rows = pd.Series(False, index=raw_col.index)
        rows[kinds.index[kinds.eq(kind)]] = True
        if rows.any():
            _report_cells(problems, label, col, rows, raw_col, what, lambda v: _date_problem(v)[1])


# ---------------------------------------------------------------- the workspace

def _sheet_for(book_sheets: list[str], table: schema.Table) -> str | None:
    for s in book_sheets:
        if s.strip().lower() == table.name or s.strip() == table.zh:
            return s
    return None


def _load_settings(path: Path, problems: list[Problem]) -> dict:
    settings = {k: (dict(v) if isinstance(v, dict) else v) for k, v in schema.SETTINGS_DEFAULTS.items()}
    f = path / "settings.yaml"
    if not f.exists():
        f = path / "settings.yml"
    if not f.exists():
        return settings
    data = _read_bytes(f, f.name, problems)
    if data is None:
        return settings
    try:
        data = yaml.safe_load(decode_bytes(data)) or {}
    except UnicodeDecodeError:
        problems.append(Problem(f.name, "settings.yaml is not a text file", fix="save it as UTF-8 text"))
        return settings
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(f.name, f"settings cannot be read: {getattr(exc, 'problem', exc)}",
                                row=(mark.line + 1) if mark else None,
                                fix="check the indentation and the 'key: value' form"))
        return settings
    if not isinstance(data, dict):
        problems.append(Problem(f.name, "settings must be 'key: value' lines", fix="see the template settings.yaml"))
        return settings
    for k, v in data.items():
        if k not in settings:
            problems.append(Problem(f.name, f"unknown setting {k} is ignored", column=str(k), severity="warning",
                                    fix="settings are: " + ", ".join(settings)))
            continue
        settings[k] = v
    base = str(settings.get("base_currency") or "USD").strip().upper()
    if not re.match(r"^[A-Z]{3}$", base):
        problems.append(Problem(f.name, "base_currency is not a currency code", column="base_currency",
                                value=settings.get("base_currency"), fix="write e.g. USD or CNY"))
        base = "USD"
    settings["base_currency"] = base
    if str(settings.get("lang")) not in ("zh", "en"):
        problems.append(Problem(f.name, "lang must be zh or en", column="lang", value=settings.get("lang"),
                                fix="write lang: zh or lang: en"))
        settings["lang"] = "zh"
    if str(settings.get("stage")) not in schema.STAGES:
        problems.append(Problem(f.name, "stage must be launch, growth or mature", column="stage",
                                value=settings.get("stage"), fix="write e.g. stage: growth"))
        settings["stage"] = "growth"
    try:
        years = float(settings.get("default_lifespan_years") or 1)
    except (TypeError, ValueError):
        years = np.nan
    if not (np.isfinite(years) and years > 0):
        problems.append(Problem(f.name, "default_lifespan_years is not a positive number",
                                column="default_lifespan_years", value=settings.get("default_lifespan_years"),
                                fix="write e.g. 1"))
        years = 1.0
    settings["default_lifespan_years"] = years
    th = settings.get("thresholds") or {}
    if not isinstance(th, dict):
        problems.append(Problem(f.name, "thresholds must be 'name: value' lines", column="thresholds",
                                fix="indent each threshold under thresholds:"))
        th = {}
    clean = {}
    for k, v in th.items():
        try:
            clean[str(k)] = float(str(v).rstrip("%")) / (100 if str(v).endswith("%") else 1)
            if not np.isfinite(clean[str(k)]):
                raise ValueError(v)
        except ValueError:
            clean.pop(str(k), None)
            problems.append(Problem(f.name, f"threshold {k} is not a number", column=f"thresholds.{k}", value=v,
                                    fix="write e.g. 0.3 or 30%"))
    settings["thresholds"] = clean
    settings["client"] = str(settings.get("client") or schema.SETTINGS_DEFAULTS["client"])
    settings["consultant"] = str(settings.get("consultant") or "")
    return settings


def load_workspace(path: str | Path, *, strict: bool = True) -> Workspace:
    """Read and validate a workspace folder (or a workbook file).

    Every problem is collected before anything is raised; with ``strict`` an ``InputError`` listing all
    errors is raised when there is at least one. Warnings never fail.
    """
    path = Path(path)
    problems: list[Problem] = []
    book = None
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        book, folder = path, path.parent
    elif path.is_dir():
        folder = path
        books = [p for p in (folder / "workbook.xlsx",) if p.is_file()]
        book = books[0] if books else None
    elif path.is_file():
        raise InputError([Problem(str(path), "this is a file, not a workspace folder",
                                  fix="give the folder that holds orders.csv (and the other tables) or workbook.xlsx")])
    else:
        raise InputError([Problem(str(path), "this workspace folder does not exist",
                                  fix="create it with: ecomreview init " + str(path))])
    sheets: list[str] = []
    hidden: list[str] = []
    broken_book = False
    if book is not None:
        sheets, hidden = _book_sheets(book, problems)
        if sheets is None:  # already reported; the tables it should hold are not reported missing again
            book, sheets, broken_book = None, [], True
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for t in schema.TABLES.values():
        csv = next((p for p in (folder / f"{t.name}.csv", folder / f"{t.zh}.csv") if p.exists()), None)
        sheet = _sheet_for(sheets, t) if book is not None else None
        hidden_sheet = _sheet_for(hidden, t) if book is not None else None
        if hidden_sheet is not None:
            problems.append(Problem(book.name, f'the sheet "{hidden_sheet}" is hidden, so it is not read',
                                    severity="warning",
                                    fix="unhide it in Excel (right-click a sheet tab → Unhide) if it holds your data"))
        if csv is not None and sheet is not None and _header_only(csv):
            csv = None  # a blank template left next to a filled workbook: the sheet holds the data
        raw = None
        if csv is not None and sheet is not None and not path.is_file():
            problems.append(Problem(csv.name, f'both {csv.name} and the sheet "{sheet}" of {book.name} hold the '
                                    f"{t.name} table; {csv.name} is used", severity="warning",
                                    fix=f"delete or rename the one you do not mean to use"))
        if csv is not None and not (book is not None and path.is_file()):
            label = csv.name
            raw = _read_csv(csv, label, problems, t)
        elif sheet is not None:
            label = f"{book.name} [{sheet}]"
            raw = _read_sheet(book, sheet, label, problems, t)
        else:
            if t.required and not broken_book:
                problems.append(_missing_table(t, book, sheets))
            continue
        sources[t.name] = label
        if raw is None:
            continue
        df = parse_table(t, raw, label, problems)
        if df.empty and t.required:
            problems.append(Problem(label, f"the {t.name} table has no data rows",
                                    fix="add at least one row under the header"))
        tables[t.name] = df
    settings = _load_settings(folder, problems)
    _check_keys(tables, sources, problems)
    ws = Workspace(path=folder, tables=tables, settings=settings, sources=sources, problems=problems)
    if strict and ws.errors:
        raise InputError(ws.errors)
    return ws


def _book_sheets(book: Path, problems: list[Problem]) -> tuple[list[str] | None, list[str]]:
    """(visible sheet names, hidden sheet names); (None, []) with a problem when the file is no workbook."""
    try:
        from openpyxl import load_workbook
        wb = load_workbook(book, read_only=True)
        visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        hidden = [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"]
        wb.close()
        return visible, hidden
    except Exception as exc:  # a corrupt or non-xlsx file: say so, never a traceback
        head = _read_bytes(book, book.name, []) or b""
        what = next((w for sig, w, _ in _SIGNATURES if head.startswith(sig) and sig != b"PK\x03\x04"), None)
        if what:
            problems.append(Problem(book.name, what.replace(", not a CSV text file", "") + ", not an .xlsx workbook",
                                    fix="open it in Excel and save it as 'Excel Workbook (.xlsx)'"))
        else:
            problems.append(Problem(book.name, f"the workbook cannot be opened ({type(exc).__name__})",
                                    fix="open it in Excel and save it again as 'Excel Workbook (.xlsx)'"))
        return None, []


def _missing_table(t: schema.Table, book: Path | None, sheets: list[str]) -> Problem:
    if book is None:
        return Problem(f"{t.name}.csv", f"the {t.name} table ({t.zh}) is missing",
                       fix=f"add {t.name}.csv or a sheet named {t.name} in workbook.xlsx")
    have = ", ".join(f'"{s}"' for s in sheets[:12]) or "none"
    return Problem(book.name, f"there is no sheet named {t.name} ({t.zh}) (visible sheets: {have})",
                   fix=f"rename the sheet that holds the {t.name} table to {t.name}, or add {t.name}.csv")


def _check_keys(tables, sources, problems) -> None:
    """Duplicate keys in lookup tables would make costs or rates ambiguous."""
    for name, key in (("products", ["sku"]), ("channels", ["channel"]), ("fx_rates", ["month", "currency"]),
                      ("goals", ["goal_id"])):
        df = tables.get(name)
        if df is None or df.empty or any(k not in df for k in key):
            continue
        dup = df.duplicated(key, keep="first") & df[key].notna().all(axis=1)
        for _, r in df[dup].head(MAX_EXAMPLES).iterrows():
            problems.append(Problem(sources[name], f"{' + '.join(key)} appears twice", row=int(r["_row"]),
                                    column=key[0], value=" / ".join(str(r[k]) for k in key),
                                    fix="keep one row per " + " + ".join(key)))
