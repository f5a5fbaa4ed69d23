"""Public catalog pages: search, filters, sorting, pagination, the model page, bad input."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.pricing import caller_price_nanos
from billing.selectors.spend import get_margin_table
from catalog import services
from catalog.models import Endpoint, EndpointHealth
from catalog.selectors import get_catalog_version
from core.money import dashboard_usd_per_m


def _slugs(response) -> list[str]:
    return re.findall(r'<tr data-slug="([^"]+)"', response.content.decode())


def _row(html: str, attr: str, value: str) -> str:
    return re.search(rf'<tr {attr}="{re.escape(value)}">(.*?)</tr>', html, re.S).group(1)


def _visitor_price(list_nanos: int, model: str, provider: str) -> str:
    bps = get_margin_table().bps(None, model, provider)
    return dashboard_usd_per_m(caller_price_nanos(list_nanos, bps))


def test_filters_by_provider_capability_modality_and_context(imported_catalog, client):
    groq = _slugs(client.get("/models?provider=groq"))
    assert set(groq) == set(Endpoint.objects.filter(provider__slug="groq")
                            .values_list("model__slug", flat=True))

    vision = _slugs(client.get("/models?capability=vision&modality=image&author=openai"))
    assert "openai/gpt-4o" in vision and all(s.startswith("openai/") for s in vision)

    big = _slugs(client.get("/models?min_context=1000000"))
    assert big and "google/gemini-2.5-flash" in big and "openai/gpt-4o" not in big


def test_price_range_and_sorting_use_the_price_shown(imported_catalog, client):
    cheap = _slugs(client.get("/models?max_price=0.05&sort=price"))
    assert cheap and "openai/gpt-4o" not in cheap
    page = client.get("/models?min_price=2&max_price=3&sort=-price").content.decode()
    prices = [float(p) for p in re.findall(r'class="price-in">\$([0-9.]+)</td>', page)]
    assert prices and all(2 <= p <= 3 for p in prices)
    assert prices == sorted(prices, reverse=True)

    by_context = _slugs(client.get("/models?sort=context&author=google"))
    assert by_context[0].startswith("google/gemini")


def test_search_matches_slug_and_name(imported_catalog, client):
    found = _slugs(client.get("/models?q=claude-sonnet"))
    assert "anthropic/claude-sonnet-4.5" in found
    assert all("claude-sonnet" in s for s in found)
    assert _slugs(client.get("/models?q=no-such-model-anywhere")) == []


def test_type_ahead_search_answers_with_the_results_only(imported_catalog, client):
    response = client.get("/models?q=gpt-4o-mini", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="catalog-results"') and "<html" not in html
    assert "openai/gpt-4o-mini" in _slugs(response)
    assert all("gpt-4o-mini" in s for s in _slugs(response))


def test_a_bad_type_ahead_query_answers_the_error_in_place(imported_catalog, client):
    response = client.get("/models?q=" + "x" * 201, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 400  # the page's htmx-config swaps a 400 in
    assert html.lstrip().startswith('<div id="catalog-results"')
    assert 'role="alert">Invalid filter: q is at most 200 characters.' in html
    assert '"code": "400", "swap": true' in client.get("/models").content.decode()


def test_fifty_models_a_page_with_links_that_keep_the_filters(imported_catalog, client):
    first = client.get("/models?sort=name")
    total = len(client.get("/models?sort=name&page=1").context["page"].paginator.object_list)

    html = first.content.decode()
    assert len(_slugs(first)) == 50
    pages = -(-total // 50)
    assert f"Page 1 of {pages}" in html and 'rel="next" href="/models?sort=name&amp;page=2"' in html
    second = _slugs(client.get("/models?sort=name&page=2"))
    assert len(second) == 50 and not set(second) & set(_slugs(first))
    last = _slugs(client.get(f"/models?sort=name&page={pages}"))
    assert len(last) == total - 50 * (pages - 1)
    # Past the end or not a number: the nearest page, never an error.
    assert _slugs(client.get("/models?sort=name&page=999")) == last
    assert _slugs(client.get("/models?sort=name&page=abc")) == _slugs(first)
    every = [s for n in range(1, pages + 1) for s in _slugs(client.get(f"/models?page={n}"))]
    assert len(every) == len(set(every)) == total


@pytest.mark.parametrize("query", [
    "min_context=abc", "min_context=-5", "max_price=cheap", "min_price=-1", "max_price=1e999",
    "max_price=NaN", "sort=bogus", "modality=smell", "capability=telepathy", "routable=yes",
    "q=" + "x" * 300,
])
def test_malformed_filters_give_400_not_500(imported_catalog, client, query):
    response = client.get(f"/models?{query}")

    assert response.status_code == 400
    assert "Invalid filter" in response.content.decode()
    assert _slugs(response) == []


def test_unknown_provider_is_a_clear_empty_result(imported_catalog, client):
    response = client.get("/models?provider=nobody&author=%3Cscript%3E")

    assert response.status_code == 200
    assert "No model matches these filters." in response.content.decode()


def test_model_page_lists_endpoints_side_by_side(imported_catalog, client):
    endpoint = Endpoint.objects.get(model__slug="meta-llama/llama-3.3-70b-instruct",
                                    provider__slug="sandbox-openai")
    EndpointHealth.objects.create(endpoint=endpoint, window="1h", p50_latency_ms=321,
                                  p50_tokens_per_s=87, uptime_bps=9_950, sample_count=12,
                                  computed_at="2026-11-26T00:00:00Z")

    response = client.get("/models/meta-llama/llama-3.3-70b-instruct")

    html = response.content.decode()
    assert response.status_code == 200
    # Four real providers, and five sandbox ones (two plus those that differ in policy terms).
    assert html.count('<tr data-provider="') == 9
    llama = "meta-llama/llama-3.3-70b-instruct"
    row = _row(html, "data-provider", "sandbox-openai")
    assert "sandbox</span>" in row and "available" in row
    assert _visitor_price(230_000_000, llama, "sandbox-openai") in row
    assert _visitor_price(400_000_000, llama, "sandbox-openai") in row
    assert "321 ms" in row and "99.50%" in row and "87 tok/s" in row and "local" in row
    nebius = _row(html, "data-provider", "nebius")
    assert _visitor_price(130_000_000, llama, "nebius") in nebius
    assert "unavailable" in nebius and "not measured" in nebius
    assert "retention unknown" in nebius


def test_model_page_says_whether_it_is_routable_here_and_shows_a_snippet(imported_catalog,
                                                                         client, settings):
    settings.PUBLIC_URL = "https://switchyard.example"
    served = client.get("/models/openai/gpt-4o-mini").content.decode()
    not_served = client.get("/models/anthropic/claude-4-opus").content.decode()

    note = re.search(r'<p id="routable-here"[^>]*>(.*?)</p>', served, re.S).group(1)
    assert "routable here" in note and "under the sandbox" in note and "Sandbox OpenAI" in note
    note = re.search(r'<p id="routable-here"[^>]*>(.*?)</p>', not_served, re.S).group(1)
    assert "not routable here" in note and "503" in note
    assert "curl https://switchyard.example/v1/chat/completions" in served
    assert "&quot;model&quot;: &quot;openai/gpt-4o-mini&quot;" in served
    assert 'base_url="https://switchyard.example/v1"' in served.replace("&quot;", '"')
    assert 'model="openai/gpt-4o-mini"' in served.replace("&quot;", '"')


@pytest.mark.parametrize("path", ["/models/nobody/nothing", "/models/openai/gpt-4o-mini%00",
                                  "/models/openai/" + "x" * 500])
def test_unknown_model_is_a_branded_404(imported_catalog, client, path):
    response = client.get(path)

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1 id=\"not-found-heading\">Model not found</h1>" in html
    assert 'class="topbar"' in html and 'href="/models"' in html  # the site's own layout
    assert 'action="/models"' in html  # a way on: search the catalog


def test_list_cache_is_invalidated_by_a_catalog_change(imported_catalog, client):
    client.get("/models")
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="openai")
    before = get_catalog_version()
    for other in Endpoint.objects.filter(model__slug="openai/gpt-4o").exclude(pk=endpoint.pk):
        services.disable_endpoint(other)
    services.add_price(endpoint, input_nanos_per_m=1_230_000_000,
                       output_nanos_per_m=9_000_000_000)

    assert get_catalog_version() == before + 2
    html = client.get("/models?q=openai/gpt-4o&sort=price").content.decode()
    row = _row(html, "data-slug", "openai/gpt-4o")
    assert _visitor_price(1_230_000_000, "openai/gpt-4o", "openai") in row
    assert _visitor_price(9_000_000_000, "openai/gpt-4o", "openai") in row


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(
    st.sampled_from(["q", "provider", "author", "modality", "capability", "min_context",
                     "min_price", "max_price", "sort", "routable", "page"]),
    st.text(max_size=40) | st.sampled_from(["²", "５", "1e9", "-0", "0x10", "Infinity",
                                            "1_000", " 3 ", "vision", "price", "1"]),
))
def test_any_query_string_is_a_page_or_a_400_never_a_500(imported_catalog, client, params):
    response = client.get("/models", params)

    assert response.status_code in (200, 400)
