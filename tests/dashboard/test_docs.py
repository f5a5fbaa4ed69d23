"""/docs: every page renders with its navigation, every link between docs lands on a page (and
an anchor) that exists, every example's /v1 path is one the gateway routes, unknown pages are a
branded 404, and Markdown cannot smuggle HTML into the page."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from markdown_it import MarkdownIt

from marketplace.dashboard.docs import PAGES, docs_dir, get_page
from routing.gateway.routes import resolve

pytestmark = pytest.mark.django_db

# Placeholders the docs write in paths, and an example value the gateway accepts for each.
PLACEHOLDERS = {"{author}/{slug}": "openai/gpt-4o-mini"}
V1_PATH = re.compile(r"(?<!/api)/v1/[A-Za-z0-9_{}/.:-]+")  # not the management API (/api/v1/)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.add(attrs["id"])


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_every_page_renders_with_the_navigation_and_its_contents(client):
    for link in PAGES:
        response = client.get(link.url)
        assert response.status_code == 200, link.url
        html = response.content.decode()
        parsed = _parse(html)
        for other in PAGES:  # the side navigation lists every page
            assert other.url in parsed.hrefs, (link.url, other.url)
        page = get_page(link.slug)
        assert f"<title>{page.title} · Docs · Switchyard</title>" in html.replace("&#x27;", "'")
        for heading in page.toc:  # the table of contents points at real headings
            assert f"#{heading.anchor}" in parsed.hrefs and heading.anchor in parsed.ids
    assert len(get_page("api").toc) >= 7


def test_the_docs_cover_what_the_issue_asks_for():
    titles = {h.text for link in PAGES for h in get_page(link.slug).toc}
    for needed in ("Chat completions", "Messages (Anthropic format)", "Models",
                   "A model's endpoints", "Generation", "Key", "Credits", "Provider preferences",
                   "Fallback models", "Shortcuts: :floor and :nitro", "The error shape",
                   "Status codes", "Rate limits", "The wallet", "Holds", "What a request costs",
                   "Your own provider keys (BYOK)", "Invoices",
                   "1. Create an organization and a key"):
        assert needed in titles, needed


def test_every_doc_file_is_served_and_every_link_between_docs_lands(client):
    assert {p.name for p in docs_dir().glob("*.md")} == {link.file for link in PAGES}
    checked = 0
    for link in PAGES:
        for href in _parse(get_page(link.slug).html).hrefs:
            parts = urlsplit(href)
            assert not parts.scheme or parts.scheme in ("http", "https"), href
            if not parts.path.startswith("/docs/") and not parts.path.startswith("#"):
                if not parts.scheme:  # other pages of this site: they exist
                    assert client.get(parts.path).status_code in (200, 302), href
                continue
            target = client.get(parts.path)
            assert target.status_code == 200, (link.url, href)
            if parts.fragment:
                assert parts.fragment in _parse(target.content.decode()).ids, (link.url, href)
            checked += 1
    assert checked >= 10


def _examples():
    """(doc file, method or None, path) of every /v1 path in a code example or inline code."""
    md = MarkdownIt("commonmark").enable("table")
    for link in PAGES:
        tokens = md.parse((docs_dir() / link.file).read_text())
        for token in tokens:
            if token.type == "fence":
                # One curl command may span lines joined by a backslash.
                for command in token.content.replace("\\\n", " ").split("\n"):
                    method = None
                    if command.lstrip().startswith("curl"):
                        method = "POST" if re.search(r"\s(-d|--data)\s", command) else "GET"
                    for path in V1_PATH.findall(command):
                        yield link.file, method, path
            for child in token.children or ():
                if child.type == "code_inline":
                    match = re.fullmatch(r"(GET|POST) (/v1/\S+)", child.content)
                    if match:
                        yield link.file, match[1], match[2]


def test_every_example_path_is_a_route_of_the_gateway():
    examples = list(_examples())
    curls = {(m, p) for _, m, p in examples if m}
    assert len(examples) >= 30 and len(curls) >= 8
    for doc, method, path in examples:
        for placeholder, value in PLACEHOLDERS.items():
            path = path.replace(placeholder, value)
        path = path.split("?")[0].rstrip(".,")
        methods = [method] if method else ["GET", "POST"]
        assert any(resolve(m, path) is not None for m in methods), (doc, method, path)
    # Each /v1 route has at least one runnable example.
    for method, path in [("POST", "/v1/chat/completions"), ("POST", "/v1/messages"),
                         ("GET", "/v1/models"), ("GET", "/v1/key"), ("GET", "/v1/credits"),
                         ("GET", "/v1/generation"), ("GET", "/v1/generation/receipt"),
                         ("GET", "/v1/models/openai/gpt-4o-mini/endpoints")]:
        assert (method, path) in {(m, p.split("?")[0]) for m, p in curls}, (method, path)


def test_an_unknown_page_is_a_branded_404(client):
    response = client.get("/docs/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "no-such-page" in html
    assert 'class="topbar"' in html and 'href="/docs/quickstart/"' in html


def test_markdown_cannot_pass_html_or_script_links(settings, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Title <img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n\n"
        "[click](javascript:alert(1)) <b>bold</b>\n")
    settings.BASE_DIR = tmp_path
    html = get_page("").html
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and 'href="javascript' not in html


def test_api_docs_load_swagger_ui_from_this_server_without_the_online_validator(client):
    html = client.get("/api/docs/").content.decode()
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js">' \
        in html and "https://" not in html
    # The validator badge would be an image from validator.swagger.io on a public host.
    script = client.get("/api/docs/", {"script": ""}).content.decode()
    assert '"validatorUrl": null' in script
