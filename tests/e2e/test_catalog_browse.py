"""The catalog seen from outside: Chromium browsing /models, and the openai SDK on /v1/models.

Both run against a real uvicorn child (the ASGI app, so /v1 goes through the gateway) on the
test database, after the catalog is imported and committed.
"""

import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from catalog.importer import import_catalog, load_fixture
from core.money import apply_bps
from marketplace.tenancy.models import Organization
from tests.openrouter_schema import errors
from tests.tenancy.factories import api_key

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
    assert page.locator("#model-table tbody tr").count() >= 150

    page.fill("input[name=q]", "llama-3.3-70b")
    page.select_option("select[name=provider]", "sandbox-openai-b")
    page.select_option("select[name=sort]", "price")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**/models?*provider=sandbox-openai-b*")

    rows = page.locator("#model-table tbody tr")
    assert rows.count() == 1
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
    assert "$0.13" in sandbox_row.inner_text() and "available" in sandbox_row.inner_text()
    assert table.locator("th").all_inner_texts()[:3] == ["Provider", "Input $/M", "Output $/M"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "catalog-model.png"), full_page=True)


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
