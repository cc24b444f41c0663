"""Report infrastructure: messages (i18n), number formats, chart style, notebook display, HTML pages."""
from .i18n import LANGS, catalog, t

__all__ = ["LANGS", "catalog", "t"]
