"""Browser: /docs/ and /api/docs/ load and render for a visitor with every request to another
host refused (offline), and nothing breaks the Content-Security-Policy."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _offline(page, server_url: str) -> tuple[list[str], list[str]]:
    """Refuse (and record) every request to a host other than the live server; record CSP
    violations and page errors."""
    own = urlsplit(server_url).netloc
    foreign, problems = [], []

    def route(request_route):
        if urlsplit(request_route.request.url).netloc == own:
            request_route.continue_()
        else:
            foreign.append(request_route.request.url)
            request_route.abort()

    page.context.route("**/*", route)
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return foreign, problems


def test_docs_and_api_docs_load_with_no_request_leaving_the_server(
        start_gateway_server, browser_page):
    server = start_gateway_server()
    page = browser_page
    foreign, problems = _offline(page, server.url)
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request.url))

    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Docs").first.click()
    expect(page).to_have_url(f"{server.url}/docs/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Switchyard documentation")
    nav = page.get_by_role("navigation", name="Documentation")
    nav.get_by_role("link", name="The /v1 API").click()
    expect(page).to_have_url(f"{server.url}/docs/api/")
    article = page.get_by_test_id("doc-article")
    expect(article.get_by_role("heading", name="Chat completions")).to_be_visible()
    # The page's contents link to its sections; docs.js (our own file) added copy buttons.
    nav.get_by_role("link", name="Credits").click()
    expect(page).to_have_url(f"{server.url}/docs/api/#credits")
    expect(article.get_by_role("button", name="Copy this example").first).to_be_visible()
    # Styled by our stylesheets (docs.css loaded: the article is a panel beside the nav).
    assert article.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"

    # At a phone's width no page scrolls sideways (wide tables and code scroll in place).
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/docs/", "/docs/quickstart/", "/docs/api/", "/docs/routing/", "/docs/errors/",
                 "/docs/billing/"):
        page.goto(f"{server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{server.url}/docs/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    page.goto(f"{server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Switchyard management API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in url
               for url in loaded)

    assert foreign == []
    assert problems == []
