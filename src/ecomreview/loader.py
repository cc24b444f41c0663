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
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
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


def _read_csv(path: Path, label: str, problems: list[Problem]) -> pd.DataFrame | None:
    data = path.read_bytes()
    if not data.strip():
        problems.append(Problem(label, "the file is empty", fix="add the header row and your data, or delete the file"))
        return None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(label, "this is not a text CSV file (it contains binary data)",
                                fix="save it from Excel as 'CSV UTF-8 (comma delimited)'"))
        return None
    try:
        text = decode_bytes(data)
    except UnicodeDecodeError:
        problems.append(Problem(label, "the file's text encoding is not UTF-8 or GBK",
                                fix="save it from Excel as 'CSV UTF-8 (comma delimited)'"))
        return None
    sample = text[:4096]
    sep = ","
    first = sample.splitlines()[0] if sample.splitlines() else ""
    if first.count(";") > first.count(",") and first.count(";") > 0:
        sep = ";"
    elif first.count("\t") > first.count(","):
        sep = "\t"
    try:
        # header=None: the C parser then rejects a row with more values than the header (instead of
        # silently turning the first column into an index), and names the line.
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, header=None,
                         skip_blank_lines=False)
        df.columns = [str(c) for c in df.iloc[0]]
        df = df.iloc[1:]
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            problems.append(Problem(label, f"this row has {m.group(3)} values but the header has {m.group(1)} columns",
                                    row=int(m.group(2)),
                                    fix='put quotes around values that contain a comma, e.g. "1,234.50"'))
        else:
            problems.append(Problem(label, f"the file cannot be read as CSV ({str(exc).strip()})",
                                    fix="check quoting and that every row has the same number of columns"))
        return None
    df.index = pd.RangeIndex(2, len(df) + 2)  # spreadsheet row numbers: header is row 1
    return df


def _header_only(csv: Path) -> bool:
    """True when a CSV holds at most its header row (blank lines aside)."""
    with open(csv, "rb") as f:
        head = f.read(1 << 16)
    lines = [ln for ln in head.splitlines() if ln.strip(b" ,;\t\r\xef\xbb\xbf")]
    return len(lines) <= 1 and len(head) < (1 << 16)


def _read_sheet(book: Path, sheet: str, label: str, problems: list[Problem]) -> pd.DataFrame | None:
    from openpyxl import load_workbook
    wb = load_workbook(book, read_only=True, data_only=True)
    try:
        ws = wb[sheet]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return None
    header = ["" if v is None else str(v) for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    body = [list(r[:len(header)]) + [None] * (len(header) - len(r[:len(header)])) for r in rows[1:]]
    df = pd.DataFrame(body, columns=header, dtype=object)
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df.map(_cell_text)


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

def parse_money(s: pd.Series) -> pd.Series:
    """Money strings to floats: '$1,234.50', 'Rs. 1,234', '¥99', '(12.50)', '1.234,50'. Unparseable → NaN."""
    t = s.astype(str).str.strip()
    neg = t.str.match(r"^\(.*\)$") | t.str.startswith("-")
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(_CURRENCY_TOKENS, "", regex=True)
    t = t.str.lstrip("-+")
    euro = t.str.match(r"^\d{1,3}(\.\d{3})+,\d+$") | t.str.match(r"^\d+,\d{1,2}$")
    t = t.where(~euro, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    t = t.str.replace(",", "", regex=False)
    v = pd.to_numeric(t.where(t.str.match(r"^\d*\.?\d+(e[-+]?\d+)?$", case=False)), errors="coerce")
    return v.where(~neg, -v)


def parse_number(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip().str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    return pd.to_numeric(t.where(t.str.match(r"^[-+]?\d*\.?\d+(e[-+]?\d+)?$", case=False)), errors="coerce")


def parse_rate(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip()
    pct = t.str.endswith("%")
    v = parse_number(t.str.rstrip("%").str.strip())
    return v.where(~pct, v / 100)


_DATE_RE = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def parse_date(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip()
    ok = t.str.match(_DATE_RE)
    t = t.where(ok).str.replace(r"[/.]", "-", regex=True).str.slice(0, 19)
    return pd.to_datetime(t, errors="coerce", format="mixed").dt.normalize()


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
        problems.append(Problem(label, message, row=int(r), column=col, value=values.get(r, ""), fix=fix,
                                severity=severity))
    if len(idx) > MAX_EXAMPLES:
        problems.append(Problem(label, f"{len(idx) - MAX_EXAMPLES} more rows with the same problem "
                                f"(rows {', '.join(str(int(r)) for r in idx[MAX_EXAMPLES:MAX_EXAMPLES + 10])}"
                                f"{' …' if len(idx) > MAX_EXAMPLES + 10 else ''})",
                                column=col, fix=fix, severity=severity))


def parse_table(table: schema.Table, raw: pd.DataFrame, label: str, problems: list[Problem]) -> pd.DataFrame:
    """Map headers, parse every column by kind, and collect every problem (lazy validation)."""
    hmap = _header_map(table)
    seen: dict[str, str] = {}
    positions, names = [], []
    for pos, h in enumerate(raw.columns):
        key = _norm_header(h)
        canon = hmap.get(key)
        if canon is None:
            if str(h).strip() and not str(h).startswith("Unnamed") and str(h) != "nan":
                problems.append(Problem(label, f'column "{h}" is not part of the {table.name} template and is ignored',
                                        column=str(h), severity="warning",
                                        fix="rename it to one of: " + ", ".join(table.column_names)))
            continue
        if canon in seen:
            problems.append(Problem(label, f'columns "{seen[canon]}" and "{h}" both mean {canon}', column=str(h),
                                    fix="keep one of them"))
            continue
        seen[canon] = str(h)
        positions.append(pos)
        names.append(canon)
    df = raw.iloc[:, positions].copy()
    df.columns = names
    # drop rows that are entirely blank (trailing Excel rows)
    blank = df.apply(lambda c: c.astype(str).str.strip().eq(""), axis=0).all(axis=1) if len(df.columns) else \
        pd.Series(True, index=df.index)
    df = df[~blank]
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
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
        if c.required and empty.any():
            _report_cells(problems, label, c.name, empty, raw_col, "a value is required here",
                          f"fill in {c.name} ({c.zh})")
        out[c.name] = _parse_column(c, raw_col, empty, label, problems)
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
    if bad.any():
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
    try:
        data = yaml.safe_load(decode_bytes(f.read_bytes())) or {}
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
        settings["default_lifespan_years"] = float(settings.get("default_lifespan_years") or 1)
    except (TypeError, ValueError):
        problems.append(Problem(f.name, "default_lifespan_years is not a number", column="default_lifespan_years",
                                value=settings.get("default_lifespan_years"), fix="write e.g. 1"))
        settings["default_lifespan_years"] = 1.0
    th = settings.get("thresholds") or {}
    if not isinstance(th, dict):
        problems.append(Problem(f.name, "thresholds must be 'name: value' lines", column="thresholds",
                                fix="indent each threshold under thresholds:"))
        th = {}
    clean = {}
    for k, v in th.items():
        try:
            clean[str(k)] = float(str(v).rstrip("%")) / (100 if str(v).endswith("%") else 1)
        except ValueError:
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
        books = [p for p in (folder / "workbook.xlsx",) if p.exists()]
        book = books[0] if books else None
    else:
        raise InputError([Problem(str(path), "this workspace folder does not exist",
                                  fix="create it with: ecomreview init " + str(path))])
    sheets: list[str] = []
    if book is not None:
        try:
            from openpyxl import load_workbook
            wb = load_workbook(book, read_only=True)
            sheets = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
            wb.close()
        except Exception as exc:  # a corrupt or non-xlsx file: say so, never a traceback
            problems.append(Problem(book.name, f"the workbook cannot be opened ({type(exc).__name__})",
                                    fix="save it again from Excel as .xlsx"))
            book = None
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for t in schema.TABLES.values():
        csv = next((p for p in (folder / f"{t.name}.csv", folder / f"{t.zh}.csv") if p.exists()), None)
        sheet = _sheet_for(sheets, t) if book is not None else None
        if csv is not None and sheet is not None and _header_only(csv):
            csv = None  # a blank template left next to a filled workbook: the sheet holds the data
        raw = None
        if csv is not None and not (book is not None and path.is_file()):
            label = csv.name
            raw = _read_csv(csv, label, problems)
        elif sheet is not None:
            label = f"{book.name} [{sheet}]"
            raw = _read_sheet(book, sheet, label, problems)
        else:
            if t.required:
                problems.append(Problem(f"{t.name}.csv", f"the {t.name} table ({t.zh}) is missing",
                                        fix=f"add {t.name}.csv or a sheet named {t.name} in workbook.xlsx"))
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
