"""Public catalog pages: search, filters, sorting, the model page, bad input, query counts."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import services
from catalog.models import Endpoint, EndpointHealth
from catalog.selectors import get_catalog_version


def _slugs(response) -> list[str]:
    return re.findall(r'<tr data-slug="([^"]+)"', response.content.decode())


def test_list_renders_anonymously_in_two_queries_then_one(imported_catalog, client,
                                                          django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get("/models")
    assert response.status_code == 200
    assert len(_slugs(response)) >= 150

    with django_assert_max_num_queries(1):
        again = client.get("/models?q=llama&sort=price")
    assert again.status_code == 200


def test_filters_by_provider_capability_modality_and_context(imported_catalog, client):
    groq = _slugs(client.get("/models?provider=groq"))
    assert set(groq) == set(Endpoint.objects.filter(provider__slug="groq")
                            .values_list("model__slug", flat=True))

    vision = _slugs(client.get("/models?capability=vision&modality=image&author=openai"))
    assert "openai/gpt-4o" in vision and all(s.startswith("openai/") for s in vision)

    big = _slugs(client.get("/models?min_context=1000000"))
    assert big and "google/gemini-2.5-flash" in big and "openai/gpt-4o" not in big


def test_price_range_and_sorting(imported_catalog, client):
    cheap = _slugs(client.get("/models?max_price=0.05&sort=price"))
    assert cheap and "openai/gpt-4o" not in cheap
    page = client.get("/models?min_price=2&max_price=3&sort=-price").content.decode()
    prices = [p for p in re.findall(r"<td>\$([0-9.]+)</td>", page)][::2]  # input column
    assert prices and all(2 <= float(p) <= 3 for p in prices)

    by_context = _slugs(client.get("/models?sort=context&author=google"))
    assert by_context[0].startswith("google/gemini")


def test_search_matches_slug_and_name(imported_catalog, client):
    found = _slugs(client.get("/models?q=claude-sonnet"))
    assert "anthropic/claude-sonnet-4.5" in found
    assert all("claude-sonnet" in s for s in found)
    assert _slugs(client.get("/models?q=no-such-model-anywhere")) == []


@pytest.mark.parametrize("query", [
    "min_context=abc", "min_context=-5", "max_price=cheap", "min_price=-1", "max_price=1e999",
    "max_price=NaN", "sort=bogus", "modality=smell", "capability=telepathy",
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
                                  uptime_bps=9_950, sample_count=12,
                                  computed_at="2026-11-26T00:00:00Z")

    response = client.get("/models/meta-llama/llama-3.3-70b-instruct")

    html = response.content.decode()
    assert response.status_code == 200
    # Four real providers, and five sandbox ones (two plus those that differ in policy terms).
    assert html.count('<tr data-provider="') == 9
    row = re.search(r'<tr data-provider="sandbox-openai">(.*?)</tr>', html, re.S).group(1)
    assert "sandbox</span>" in row and "$0.23" in row and "$0.40" in row
    assert "321 ms" in row and "99.50%" in row and "available" in row
    nebius = re.search(r'<tr data-provider="nebius">(.*?)</tr>', html, re.S).group(1)
    assert "$0.13" in nebius and "unavailable" in nebius and "not measured" in nebius
    assert "retention unknown" in nebius


@pytest.mark.parametrize("path", ["/models/nobody/nothing", "/models/openai/gpt-4o-mini%00",
                                  "/models/openai/" + "x" * 500])
def test_unknown_model_is_404(imported_catalog, client, path):
    assert client.get(path).status_code == 404


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
    row = re.search(r'<tr data-slug="openai/gpt-4o">(.*?)</tr>', html, re.S).group(1)
    assert "$1.23" in row and "$9.00" in row


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(
    st.sampled_from(["q", "provider", "author", "modality", "capability", "min_context",
                     "min_price", "max_price", "sort"]),
    st.text(max_size=40) | st.sampled_from(["²", "５", "1e9", "-0", "0x10", "Infinity",
                                            "1_000", " 3 ", "vision", "price"]),
))
def test_any_query_string_is_a_page_or_a_400_never_a_500(imported_catalog, client, params):
    response = client.get("/models", params)

    assert response.status_code in (200, 400)
