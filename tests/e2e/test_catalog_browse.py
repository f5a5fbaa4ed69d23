"""The catalog seen from outside: Chromium browsing /models, and the openai SDK on /v1/models.

Both run against a real uvicorn child (the ASGI app, so /v1 goes through the gateway) on the
test database, after the catalog is imported and committed.
"""

import re
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from playwright.sync_api import expect

from billing.models import MarginRule
from billing.pricing import caller_price_nanos
from billing.selectors.spend import get_margin_table
from billing.services.margins import save_margin_rule
from catalog.importer import import_catalog, load_fixture
from core.money import NANOS_PER_USD, apply_bps, dashboard_usd_per_m
from marketplace.tenancy.models import Organization
from tests.openrouter_schema import errors
from tests.tenancy.factories import api_key, member

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def catalog_server(live_gateway_server, settings):
    """The shared uvicorn child once it serves the imported catalog (with the sandbox providers).

    Every test imports the same models, so a listing of them cannot tell this import from an
    earlier test's: the child is first seen serving the empty catalog the flush left, then a
    non-empty one, which can only be this import (one transaction).
    """
    settings.SANDBOX = True
    _, key = api_key(Organization.objects.create(name="Catalog probe", slug="catalog-probe"))
    _wait_for_listing(live_gateway_server, key, lambda ids: not ids, "the empty catalog")
    import_catalog(load_fixture(), sandbox=True)
    _wait_for_listing(live_gateway_server, key, bool, "the imported catalog")
    return live_gateway_server


def _wait_for_listing(server, key, done, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.get(f"{server.url}/v1/models", timeout=10,
                             headers={"Authorization": f"Bearer {key}"})
        if response.status_code == 200 and done({m["id"] for m in response.json()["data"]}):
            return
        assert time.monotonic() < deadline, f"the gateway did not serve {what}: {response.text}"
        time.sleep(0.05)


@pytest.mark.browser
def test_filter_the_list_open_a_model_and_see_its_endpoints(catalog_server, browser_page):
    page = browser_page
    page.goto(f"{catalog_server.url}/models")
    assert page.locator("#model-table tbody tr").count() == 50

    page.fill("input[name=q]", "llama-3.3-70b")
    page.select_option("select[name=provider]", "sandbox-openai-b")
    page.select_option("select[name=sort]", "price")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**/models?*provider=sandbox-openai-b*")

    rows = page.locator("#model-table tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-slug") == "meta-llama/llama-3.3-70b-instruct"
    rows.first.locator("a").click()
    page.wait_for_url("**/models/meta-llama/llama-3.3-70b-instruct")

    table = page.locator("table#endpoints")
    providers = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.provider)")
    assert set(providers) == {"sandbox-openai", "sandbox-openai-b", "sandbox-eu",
                              "sandbox-trains", "sandbox-retains", "deepinfra", "nebius",
                              "novita", "sambanova"}
    sandbox_row = table.locator("tr[data-provider=sandbox-openai-b]")
    assert sandbox_row.locator(".badge", has_text="sandbox").count() == 1
    # Its $0.13/M list price (copied from a real provider's), as a visitor pays it.
    paid = caller_price_nanos(130_000_000, get_margin_table().bps(
        None, "meta-llama/llama-3.3-70b-instruct", "sandbox-openai-b"))
    assert dashboard_usd_per_m(paid) in sandbox_row.inner_text()
    assert "available" in sandbox_row.inner_text()
    headings = [t.strip() for t in table.locator("th").all_text_contents()]
    assert headings[:3] == ["Provider", "Input $/M", "Output $/M"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "catalog-model.png"), full_page=True)


_NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# No sideways scrolling inside the list or the providers' table either.
_TABLE_FITS = ("(() => { const w = document.querySelector('.table-wrap');"
               " return w.scrollWidth <= w.clientWidth; })()")
_ROWS = "Array.from(document.querySelectorAll('#model-table tbody tr'), r => r.dataset.slug)"


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_catalog_fits_the_screen_paginates_filters_and_states_the_fee(catalog_server,
                                                                          browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{catalog_server.url}/models")

    assert page.evaluate(_NO_OVERFLOW) and page.evaluate(_TABLE_FITS)
    assert "platform fee" in page.locator("#fee-note").inner_text()
    first_page = page.evaluate(_ROWS)
    assert len(first_page) == 50
    page.click("a[rel=next]")
    page.wait_for_url("**/models?page=2")
    second_page = page.evaluate(_ROWS)
    assert len(second_page) == 50 and not set(first_page) & set(second_page)
    assert page.evaluate(_NO_OVERFLOW)

    sidebar = page.locator("#catalog-sidebar")
    if width == 390:  # folded on a phone, one tap away
        assert sidebar.get_attribute("open") is None
        assert not page.locator("input[name=routable]").is_visible()
        page.click("#catalog-sidebar > summary")
    page.check("input[name=routable]")  # htmx swaps the results on change
    expect(page.locator("#model-table tbody tr")).to_have_count(6)
    assert set(page.evaluate(_ROWS)) == {
        "openai/gpt-4o-mini", "openai/gpt-4o", "meta-llama/llama-3.3-70b-instruct",
        "anthropic/claude-sonnet-4.5", "anthropic/claude-haiku-4.5", "google/gemini-2.5-flash"}
    assert "routable=1" in page.url

    page.locator("#catalog-q").press_sequentially("gpt-4o", delay=30)  # the type-ahead
    expect(page.locator("#model-table tbody tr")).to_have_count(2)
    assert set(page.evaluate(_ROWS)) == {"openai/gpt-4o-mini", "openai/gpt-4o"}
    assert "q=gpt-4o" in page.url and page.evaluate(_NO_OVERFLOW)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"catalog-{width}.png"), full_page=True)

    page.goto(f"{catalog_server.url}/models/meta-llama/llama-3.3-70b-instruct")
    assert page.evaluate(_NO_OVERFLOW) and page.evaluate(_TABLE_FITS)
    assert "platform fee" in page.locator("#fee-note").inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"catalog-model-{width}.png"), full_page=True)


@pytest.mark.browser
def test_a_member_sees_the_catalog_beside_the_dashboard_nav_without_overflow(catalog_server,
                                                                             browser_page,
                                                                             client):
    membership = member()
    save_margin_rule(MarginRule(org=membership.org, bps=1_000), actor=None)
    client.force_login(membership.user)  # a real session row the server reads
    browser_page.context.add_cookies([{"name": "sessionid", "url": catalog_server.url,
                                       "value": client.cookies["sessionid"].value}])
    browser_page.goto(f"{catalog_server.url}/models")

    assert browser_page.locator("nav.sidenav").is_visible()
    note = browser_page.locator("#fee-note").inner_text()
    assert f"what {membership.org.name} pays" in note and "10% platform fee" in note
    assert browser_page.evaluate(_NO_OVERFLOW)
    assert browser_page.evaluate(_TABLE_FITS)
    browser_page.screenshot(path=str(SCREENSHOTS / "catalog-member-1280.png"), full_page=True)
    browser_page.goto(f"{catalog_server.url}/models/meta-llama/llama-3.3-70b-instruct")
    assert browser_page.evaluate(_NO_OVERFLOW) and browser_page.evaluate(_TABLE_FITS)
    assert "10% platform fee" in browser_page.locator("#fee-note").inner_text()
    browser_page.screenshot(path=str(SCREENSHOTS / "catalog-member-model-1280.png"),
                            full_page=True)


@pytest.mark.browser
def test_a_malformed_filter_shows_a_clear_error_in_the_browser(catalog_server, browser_page):
    response = browser_page.goto(f"{catalog_server.url}/models?min_context=lots")

    assert response.status == 400
    assert "min_context must be a whole number" in browser_page.locator("[role=alert]").inner_text()


def test_openai_sdk_lists_models_with_openrouter_fields(catalog_server, settings):
    _, key = api_key(Organization.objects.create(name="SDK", slug="sdk"))
    client = OpenAI(base_url=f"{catalog_server.url}/v1", api_key=key, max_retries=0,
                    timeout=20)

    models = list(client.models.list())

    ids = {m.id for m in models}
    assert {"openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash",
            "meta-llama/llama-3.3-70b-instruct"} <= ids
    assert len(ids) >= 150
    mini = next(m for m in models if m.id == "openai/gpt-4o-mini")
    assert mini.object == "model" and mini.owned_by == "openai"
    # What this caller pays: OpenAI's $0.15/M list price plus the platform margin, exactly.
    list_nanos = 150_000_000
    paid = list_nanos + apply_bps(list_nanos, settings.MARGIN_DEFAULT_BPS)
    assert Decimal(mini.model_extra["pricing"]["prompt"]) * 10**15 == paid
    assert mini.model_extra["context_length"] == 128000


def test_v1_models_and_endpoints_validate_against_openrouter(catalog_server):
    _, key = api_key(Organization.objects.create(name="HTTP", slug="http"))
    with httpx.Client(base_url=catalog_server.url, timeout=20,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        listing = http.get("/v1/models")
        endpoints = http.get("/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints")
        missing = http.get("/v1/models/nobody/nothing/endpoints")

    assert listing.status_code == 200
    assert errors(listing.json(), "ModelsListResponse") == []
    assert endpoints.status_code == 200
    assert errors(endpoints.json()["data"], "ListEndpointsResponse") == []
    tags = {e["tag"] for e in endpoints.json()["data"]["endpoints"]}
    assert {"sandbox-openai", "sandbox-openai-b", "nebius"} <= tags
    assert missing.status_code == 404


def _nanos(text: str) -> int:
    """A page's exact price ("$0.168510", "$1,234.50") back to nanos; it must be exact."""
    nanos = Decimal(text.strip().lstrip("$").replace(",", "")) * NANOS_PER_USD
    assert nanos == nanos.to_integral_value(), text
    return int(nanos)


_LIST_ROW = re.compile(r'<tr data-slug="([^"]+)">.*?class="price-in">([^<]*)</td>\s*'
                       r'<td data-label="Output \$/M" class="price-out">([^<]*)</td>', re.S)
_DETAIL_ROW = re.compile(r'<tr data-provider="([^"]+)">.*?class="price-in">([^<]*)</td>\s*'
                         r'<td data-label="Output \$/M" class="price-out">([^<]*)</td>', re.S)


def _page_prices(client) -> dict[str, tuple[int, int]]:
    prices, page = {}, 1
    while True:
        html = client.get(f"/models?page={page}").content.decode()
        prices.update({slug: (_nanos(i), _nanos(o)) for slug, i, o in _LIST_ROW.findall(html)
                       if i != "\u2014"})
        if 'rel="next"' not in html:
            return prices
        page += 1


def _api_prices(server, key) -> dict[str, tuple[int, int]]:
    data = httpx.get(f"{server.url}/v1/models", timeout=20,
                     headers={"Authorization": f"Bearer {key}"}).json()["data"]
    return {m["id"]: (int(Decimal(m["pricing"]["prompt"]) * 10**15),
                      int(Decimal(m["pricing"]["completion"]) * 10**15)) for m in data}


def _wait_for_price(server, key, slug, nanos_per_m, timeout_s=15):
    """The gateway reloads margin rules on its next poll: wait for the org's rule to show."""
    deadline = time.monotonic() + timeout_s
    while (seen := _api_prices(server, key)[slug][0]) != nanos_per_m:
        assert time.monotonic() < deadline, f"the gateway still lists {seen} for {slug}"
        time.sleep(0.1)


def test_pages_and_v1_models_agree_to_the_nano_for_a_visitor_and_a_member(catalog_server,
                                                                         client):
    _, plain_key = api_key(Organization.objects.create(name="No rules", slug="no-rules"))
    membership = member()
    org = membership.org
    save_margin_rule(MarginRule(org=org, bps=1_234), actor=None)
    save_margin_rule(MarginRule(org=org, model_slug="openai/gpt-4o-mini", bps=2_001), actor=None)
    save_margin_rule(MarginRule(provider_slug="sandbox-openai-b", bps=333), actor=None)
    _, member_key = api_key(org)
    _wait_for_price(catalog_server, member_key, "openai/gpt-4o-mini",
                    caller_price_nanos(150_000_000, 2_001))

    visitor_page, visitor_api = _page_prices(client), _api_prices(catalog_server, plain_key)
    client.force_login(membership.user)
    member_page, member_api = _page_prices(client), _api_prices(catalog_server, member_key)

    assert len(visitor_page) >= 250
    assert visitor_page == visitor_api
    assert member_page == member_api
    assert member_page != visitor_page  # the org's own rules show, not the default
    assert member_page["openai/gpt-4o-mini"][0] == caller_price_nanos(150_000_000, 2_001)
    # A model's page and its /v1 endpoints agree per provider too.
    slug = "meta-llama/llama-3.3-70b-instruct"
    endpoints = httpx.get(f"{catalog_server.url}/v1/models/{slug}/endpoints", timeout=20,
                          headers={"Authorization": f"Bearer {member_key}"}).json()
    by_tag = {e["tag"]: (int(Decimal(e["pricing"]["prompt"]) * 10**15),
                         int(Decimal(e["pricing"]["completion"]) * 10**15))
              for e in endpoints["data"]["endpoints"]}
    html = client.get(f"/models/{slug}").content.decode()
    detail = {p: (_nanos(i), _nanos(o)) for p, i, o in _DETAIL_ROW.findall(html)}
    assert detail == by_tag and len(detail) == 9
