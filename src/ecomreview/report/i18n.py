"""Message catalogues: every user-facing string of a report, looked up by key in zh or en."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

LANGS = ("zh", "en")
MESSAGES_DIR = Path(__file__).resolve().parent.parent / "messages"


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported report language, else raise ValueError."""
    if lang not in LANGS:
        raise ValueError(f'language "{lang}" is not supported: use one of {", ".join(LANGS)}')
    return lang


@functools.lru_cache(maxsize=None)
def _load(lang: str) -> dict[str, str]:
    # Each module owns one <area>.yaml; a key defined in two files would make the result depend on
    # file order, so that is an error rather than a silent override.
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    for path in sorted((MESSAGES_DIR / lang).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a message catalogue must be a flat mapping of key: text")
        for key, text in data.items():
            if not isinstance(text, str):
                raise ValueError(f"{path}: message {key!r} must be text, found {type(text).__name__}")
            if key in merged:
                raise ValueError(f"{path}: message {key!r} is already defined in {origin[key]}")
            merged[str(key)] = text
            origin[str(key)] = path.name
    return merged


def catalog(lang: str) -> dict[str, str]:
    """All messages of ``lang`` (every messages/<lang>/*.yaml merged), as a new dict."""
    return dict(_load(check_lang(lang)))


def clear_cache() -> None:
    """Forget loaded catalogues (after editing a yaml file in a running session)."""
    _load.cache_clear()


def t(key: str, lang: str = "zh", **kw) -> str:
    """The message ``key`` in ``lang``, with ``{placeholders}`` filled from ``kw``."""
    messages = _load(check_lang(lang))
    try:
        text = messages[key]
    except KeyError:
        raise KeyError(f"message {key!r} is missing from the {lang} catalogue") from None
    return text.format(**kw)
