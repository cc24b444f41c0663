"""Report pages: executed notebooks → self-contained HTML (nbconvert), the index page, and HTML checks."""
from __future__ import annotations

import copy
import functools
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import jinja2
import nbformat
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from .display import STYLE_METADATA, TEMPLATES, kpi_cards, status_badge, stylesheet
from .i18n import check_lang, t

REMOVE_TAG = "remove_cell"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# Output file of each step page (SPEC §6) and the message key of its title.
STEP_PAGES = (
    ("01-data-audit.html", "report.step.audit"),
    ("02-channels.html", "report.step.channels"),
    ("03-products.html", "report.step.products"),
    ("04-campaigns.html", "report.step.campaigns"),
    ("05-smart-plan.html", "report.step.plan"),
)
STEP_STATUSES = ("ok", "failed", "skipped")


class ReportError(Exception):
    """A notebook cannot become a report page (e.g. one of its cells raised an error)."""


class ReportCleaner(Preprocessor):
    """Drops what a reader must not see: cells tagged ``remove_cell``, stderr, notebook-only styles."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if REMOVE_TAG not in c.get("metadata", {}).get("tags", [])]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if _keep_output(o)]
        return nb, resources


def _keep_output(output) -> bool:
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return False
    meta = output.get("metadata", {})
    return not all(meta.get(k) == v for k, v in STYLE_METADATA.items())


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def default_nav(lang: str) -> list[tuple[str, str]]:
    """Links to the index and the five step pages, labelled in ``lang``."""
    return [(t("report.nav.index", lang), "index.html")] + [(t(key, lang), href) for href, key in STEP_PAGES]


def write_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and os.replace: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _page(template: str, lang: str, out_path, **ctx) -> str:
    check_lang(lang)
    base = dict(html_lang=HTML_LANG[lang], css=Markup(stylesheet()), current=Path(out_path).name,
                t=lambda key, **kw: t(key, lang, **kw), currency="", consultant="", generated_at="",
                generated_note="", nav=[])
    return _env().get_template(template).render(**{**base, **ctx})


def _read(nb) -> nbformat.NotebookNode:
    if isinstance(nb, (str, os.PathLike)):
        return nbformat.read(str(nb), as_version=4)
    return copy.deepcopy(nb)


def _raise_on_errors(nb, name: str) -> None:
    for number, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(f"{name}: cell {number} raised {output.get('ename', 'an error')}: "
                                  f"{output.get('evalue', '')}".rstrip(": "))


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
# nbconvert re-serialises its output with BeautifulSoup, which lower-cases SVG's viewBox. Browsers
# repair it when parsing HTML, but the page should be right as written (and valid as XML).
_VIEWBOX = re.compile(r"(<svg\b[^>]*?\s)viewbox=")


def notebook_fragment(nb) -> str:
    """The body HTML of an executed notebook: outputs only, no code, no stderr, no scripts."""
    nb = _read(nb)
    _raise_on_errors(nb, nb.metadata.get("papermill", {}).get("input_path") or "notebook")
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(ReportCleaner(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    # Reports run no JavaScript; the basic template can still emit require.js/MathJax/widget scripts.
    return _VIEWBOX.sub(r"\1viewBox=", _SCRIPT.sub("", body))


def export_notebook(nb, out_path, *, title: str, lang: str, client: str, period: str, consultant: str = "",
                    nav: Iterable[tuple[str, str]] = (), generated_note: str = "", currency: str = "",
                    generated_at: str = "") -> None:
    """Render an executed notebook (path or NotebookNode) as a self-contained report page.

    Raises ReportError when any cell has an error output. ``nav`` defaults to ``default_nav(lang)``.
    """
    page = _page("page.html.j2", lang, out_path, title=title, client=client, period=period,
                 consultant=consultant, currency=currency, generated_at=generated_at,
                 nav=list(nav) or default_nav(lang), generated_note=generated_note,
                 body=Markup(notebook_fragment(nb)))
    write_atomic(out_path, page)


def _index_steps(steps: Iterable[Mapping]) -> list[dict]:
    out = []
    for step in steps:
        status = step.get("status", "ok")
        if status not in STEP_STATUSES:
            raise ValueError(f"step {step.get('title')!r}: status {status!r} is not one of {STEP_STATUSES}")
        out.append({"title": step["title"], "href": step.get("href") or "", "status": status,
                    "findings": list(step.get("findings") or []), "message": step.get("message") or ""})
    return out


def render_index(ctx: Mapping, out_path) -> None:
    """Write the index page: KPI cards, health check, findings per step with links, notes.

    ctx: lang, client, consultant, period, currency, generated_at, cards (see display.kpi_cards),
    health [{label, value, status, threshold}], steps [{title, href, findings, status, message}], notes.
    """
    lang = check_lang(ctx["lang"])
    steps = _index_steps(ctx.get("steps") or [])
    nav = [(t("report.nav.index", lang), "index.html")] + [(s["title"], s["href"]) for s in steps
                                                           if s["href"] and s["status"] == "ok"]
    page = _page("index.html.j2", lang, out_path,
                 title=t("report.index.title", lang, client=ctx["client"], period=ctx["period"]),
                 client=ctx["client"], period=ctx["period"], consultant=ctx.get("consultant") or "",
                 currency=ctx.get("currency") or "", generated_at=ctx.get("generated_at") or "",
                 generated_note=ctx.get("generated_note") or "", nav=nav,
                 cards=kpi_cards(ctx.get("cards") or []) if ctx.get("cards") else "",
                 health=list(ctx.get("health") or []), steps=steps, notes=list(ctx.get("notes") or []),
                 badge=lambda status: status_badge(status, lang))
    write_atomic(out_path, page)


# What must never appear in a report page (SPEC §6: no code, no tracebacks, no warnings, nothing remote).
_CHECKS = (
    ("traceback", re.compile(r"Traceback")),
    ("error or stderr output block", re.compile(
        r'class="[^"]*\b(?:output_error|output_stderr|jp-OutputArea-error)\b|application/vnd\.jupyter\.stderr')),
    ("exception text", re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception):")),
    ("script loaded from a file or URL", re.compile(r"<script\b[^>]*\bsrc\s*=", re.I)),
    ("external resource", re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)),
    ("external resource in CSS", re.compile(r"""url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)),
    ("input code cell", re.compile(r'class="[^"]*\b(?:jp-InputArea|input_area|jp-InputPrompt|input_prompt)\b')),
    ("warning text", re.compile(r"\b[A-Z][A-Za-z]*Warning\b|warnings\.warn")),
)


def assert_clean_html(html: str) -> list[str]:
    """Problems that make a page unfit for a client (empty list = clean), each with an excerpt."""
    problems = []
    for what, pattern in _CHECKS:
        m = pattern.search(html)
        if m:
            excerpt = " ".join(html[max(m.start() - 40, 0):m.end() + 40].split())
            problems.append(f"{what}: …{excerpt}…")
    return problems
