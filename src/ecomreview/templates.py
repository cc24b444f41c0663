"""Blank templates from the one schema declaration: CSVs, workbook with README sheet, settings.yaml, docs, init."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .audit import DEFAULTS as THRESHOLD_DEFAULTS
from .errors import UsageError
from .report.i18n import t
from .schema import SETTINGS_DEFAULTS, TABLES, Column, Table

README_SHEET = "说明 README"
README_COLUMNS = ("table", "column", "label", "required", "type", "unit", "example", "en_help", "zh_help")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Fixed workbook timestamps so regenerating the committed templates changes no bytes of metadata.
_FIXED_TIME = dt.datetime(2025, 1, 1)


def _both(key: str, **kw) -> str:
    """'english / 中文' for cells that a Chinese or English reader should both understand."""
    return f"{t(key, 'en', **kw)} / {t(key, 'zh', **kw)}"


def write_blank_csvs(folder: str | Path) -> list[Path]:
    """One header-only CSV per table, UTF-8 with BOM (so Excel on Chinese Windows opens it correctly)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLES.values():
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerow(table.column_names)
        paths.append(path)
    return paths


def _readme_row(table: Table, col: Column) -> list[str]:
    return [table.name, col.name, col.zh, _both("templates.yes" if col.required else "templates.no"),
            _both(f"templates.kind.{col.kind}"), col.unit, col.example, col.en_help, col.zh_help]


def _header_comment(col: Column) -> Comment:
    lines = [col.zh, col.zh_help, col.en_help,
             _both("templates.comment.required" if col.required else "templates.comment.optional")]
    if col.choices:
        lines.append(t("templates.comment.choices", "en", choices=", ".join(col.choices)))
    if col.example:
        lines.append(f"e.g. / 例:{col.example}")
    return Comment("\n".join(lines), "ecomreview", width=320, height=160)


def _set_widths(sheet, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(max(w, 8), 60)


def write_workbook(path: str | Path) -> Path:
    """An .xlsx with a README sheet (one row per column of every table) and one sheet per table."""
    path = Path(path)
    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET
    header = [_both(f"templates.col.{c}") for c in README_COLUMNS]
    readme.append(header)
    rows = [_readme_row(table, col) for table in TABLES.values() for col in table.columns]
    for row in rows:
        readme.append(row)
    _style_header(readme)
    _set_widths(readme, [max(len(str(r[i])) for r in rows + [header]) + 2 for i in range(len(header))])
    for table in TABLES.values():
        sheet = wb.create_sheet(table.name)
        sheet.append(table.column_names)
        for cell, col in zip(sheet[1], table.columns):
            cell.comment = _header_comment(col)
        _style_header(sheet)
        _set_widths(sheet, [max(len(c.name), len(c.example)) + 4 for c in table.columns])
    wb.properties.creator = "ecomreview"
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _style_header(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def settings_text() -> str:
    """settings.yaml with every key commented in Chinese and English, thresholds listed as comments."""
    lines = [f"# {t('templates.settings.header', 'zh')}", f"# {t('templates.settings.header', 'en')}", ""]
    for key, value in SETTINGS_DEFAULTS.items():
        lines += [f"# {t(f'templates.settings.{key}', 'zh')}", f"# {t(f'templates.settings.{key}', 'en')}"]
        if key == "thresholds":
            lines.append("thresholds:")
            for name, default in THRESHOLD_DEFAULTS.items():
                lines.append(f"  # {name}: {_yaml_scalar(default)}"
                             f"    # {t(f'templates.threshold.{name}', 'zh')} / {t(f'templates.threshold.{name}', 'en')}")
        else:
            lines.append(f"{key}: {_yaml_scalar(value)}")
        lines.append("")
    return "\n".join(lines)


def _yaml_scalar(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True).strip().removesuffix("...").strip()


def write_settings(path: str | Path) -> Path:
    """Write the commented settings.yaml template."""
    path = Path(path)
    path.write_text(settings_text(), encoding="utf-8")
    return path


def readme_text() -> str:
    """README.txt for a new workspace, Chinese then English."""
    return t("templates.readme", "zh") + "\n\n" + t("templates.readme", "en")


def write_templates(folder: str | Path) -> Path:
    """Blank CSVs, workbook.xlsx, settings.yaml and README.txt into folder (which may exist)."""
    folder = Path(folder)
    write_blank_csvs(folder)
    write_workbook(folder / "workbook.xlsx")
    write_settings(folder / "settings.yaml")
    (folder / "README.txt").write_text(readme_text(), encoding="utf-8")
    return folder


def init_workspace(folder: str | Path) -> Path:
    """Create a new workspace folder with all templates; refuses a folder that exists and is not empty."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(t("templates.not_a_folder", "en", path=folder))
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(t("templates.not_empty", "en", path=folder))
    folder.mkdir(parents=True, exist_ok=True)
    return write_templates(folder)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def docs_table_markdown() -> str:
    """docs/templates.md: one Markdown table per template table, plus the settings keys."""
    head = [_both(f"templates.col.{c}") for c in README_COLUMNS[1:]]
    out = [f"# {t('templates.docs.title', 'en')} / {t('templates.docs.title', 'zh')}", "",
           t("templates.docs.intro", "en"), "", t("templates.docs.intro", "zh"), ""]
    for table in TABLES.values():
        required = t("templates.docs.required_table" if table.required else "templates.docs.optional_table", "en")
        out += [f"## `{table.name}` ({table.zh})", "",
                t("templates.docs.table", "en", required=required, row_is=table.row_is, row_is_zh=table.row_is_zh),
                "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for col in table.columns:
            row = _readme_row(table, col)[1:]
            row[0] = f"`{row[0]}`"
            out.append("| " + " | ".join(_md(x) for x in row) + " |")
        out.append("")
    keys = [_both("templates.docs.key"), _both("templates.docs.default"), _both("templates.docs.meaning")]
    out += [f"## {t('templates.docs.settings_title', 'en')}", "", t("templates.docs.settings_intro", "en"), "",
            "| " + " | ".join(keys) + " |", "|---|---|---|"]
    for key, value in SETTINGS_DEFAULTS.items():
        if key != "thresholds":
            out.append(f"| `{key}` | {_md(_yaml_scalar(value))} | {_md(_both(f'templates.settings.{key}'))} |")
    for name, default in THRESHOLD_DEFAULTS.items():
        out.append(f"| `thresholds.{name}` | {_yaml_scalar(default)} | {_md(_both(f'templates.threshold.{name}'))} |")
    return "\n".join(out) + "\n"


def write_docs(path: str | Path) -> Path:
    """Write docs_table_markdown() to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(docs_table_markdown(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomreview.templates",
                                     description="Regenerate data_templates/ and docs/templates.md from the schema.")
    parser.add_argument("--root", default=str(REPO_ROOT), help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    print(write_templates(root / "data_templates"))
    print(write_docs(root / "docs" / "templates.md"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
