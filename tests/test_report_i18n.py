"""Message catalogues: both languages have the same keys and placeholders; t() looks up and formats."""
import string

import pytest

from ecomreview.report import i18n
from ecomreview.report.i18n import LANGS, catalog, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_key_exists_in_both_languages():
    zh, en = catalog("zh"), catalog("en")
    assert sorted(set(zh) - set(en)) == [], "keys only in zh"
    assert sorted(set(en) - set(zh)) == [], "keys only in en"


def test_placeholders_match_between_languages():
    zh, en = catalog("zh"), catalog("en")
    mismatched = {k: (_fields(zh[k]), _fields(en[k])) for k in zh if k in en and _fields(zh[k]) != _fields(en[k])}
    assert mismatched == {}


def test_messages_are_not_empty():
    for lang in LANGS:
        assert [k for k, v in catalog(lang).items() if not v.strip()] == []


def test_t_formats_placeholders_in_each_language():
    assert t("report.table.more_rows", "en", n=3) == "3 more rows not shown."
    assert t("report.table.more_rows", "zh", n=3) == "另有 3 行未显示。"
    assert t("report.header.client") == "客户"          # zh is the default language


def test_unknown_language_is_a_value_error():
    with pytest.raises(ValueError, match="fr"):
        t("report.header.client", "fr")
    with pytest.raises(ValueError):
        catalog("de")


def test_missing_key_is_a_key_error_naming_the_key():
    with pytest.raises(KeyError, match="report.no_such_key"):
        t("report.no_such_key", "en")


def test_catalog_returns_a_copy():
    catalog("en")["report.header.client"] = "changed"
    assert t("report.header.client", "en") == "Client"


def test_duplicate_key_across_files_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "a.yaml").write_text('x.one: "一"\n', encoding="utf-8")
    (tmp_path / "zh" / "b.yaml").write_text('x.one: "壹"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES_DIR", tmp_path)
    i18n.clear_cache()
    try:
        with pytest.raises(ValueError, match="already defined in a.yaml"):
            t("x.one", "zh")
    finally:
        monkeypatch.undo()
        i18n.clear_cache()
