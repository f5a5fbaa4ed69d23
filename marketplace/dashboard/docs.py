"""The /docs pages: Markdown files in the repository's docs/ folder, rendered once per change.

Markdown is rendered with raw HTML disabled (markdown-it's `html=False`: a tag in a doc is shown
as text, never passed through), and markdown-it's own link validation refuses `javascript:`
and the like. Headings get ids, so the table of contents and other pages can link to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore


@dataclass(frozen=True)
class DocLink:
    slug: str  # "" for the index
    file: str
    title: str

    @property
    def url(self) -> str:
        return f"/docs/{self.slug}/" if self.slug else "/docs/"


# The side navigation's order; a file not listed here is not served.
PAGES = (
    DocLink("", "index.md", "Overview"),
    DocLink("quickstart", "quickstart.md", "Quick start"),
    DocLink("api", "api.md", "The /v1 API"),
    DocLink("routing", "routing.md", "Routing"),
    DocLink("errors", "errors.md", "Errors and limits"),
    DocLink("billing", "billing.md", "Billing"),
    DocLink("requests", "requests.md", "Request log"),
    DocLink("alerts", "alerts.md", "Alerts"),
    DocLink("analytics", "analytics.md", "Analytics"),
    DocLink("vendors", "vendors.md", "Vendors and sponsored listings"),
)
_BY_SLUG = {page.slug: page for page in PAGES}


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class DocPage:
    link: DocLink
    title: str  # the document's first-level heading, else the navigation title
    html: str
    toc: tuple[Heading, ...]  # second- and third-level headings, in order


def docs_dir() -> Path:
    return Path(settings.BASE_DIR) / "docs"


def _anchor(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _heading_ids(state: StateCore) -> None:
    """Give every heading an id from its text; keep them in env["headings"] for the TOC."""
    taken: set[str] = set()
    headings = state.env.setdefault("headings", [])
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[i + 1]
        text = "".join(child.content for child in inline.children or ()
                       if child.type in ("text", "code_inline"))
        anchor = _anchor(text, taken)
        token.attrSet("id", anchor)
        headings.append(Heading(int(token.tag[1]), anchor, text))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


_MD = _markdown()


@lru_cache(maxsize=32)
def _render(path: Path, mtime_ns: int) -> tuple[str, tuple[Heading, ...]]:
    env: dict = {}
    html = _MD.render(path.read_text(encoding="utf-8"), env)
    return html, tuple(env.get("headings", ()))


def get_page(slug: str) -> DocPage | None:
    """The rendered page, or None for a slug that is not a doc (or a doc file that is gone)."""
    link = _BY_SLUG.get(slug)
    if link is None:
        return None
    path = docs_dir() / link.file
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    html, headings = _render(path, mtime_ns)
    title = next((h.text for h in headings if h.level == 1), link.title)
    return DocPage(link=link, title=title, html=html,
                   toc=tuple(h for h in headings if h.level in (2, 3)))
