"""The routing snapshot: availability rules, sandbox URLs, prices in force, few queries."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import services
from catalog.models import Endpoint, Price, Provider
from catalog.selectors import build_routing_snapshot, get_catalog_version

SANDBOX_MODELS = {
    "sandbox-openai": {"openai/gpt-4o-mini", "openai/gpt-4o",
                       "meta-llama/llama-3.3-70b-instruct"},
    "sandbox-openai-b": {"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"},
    "sandbox-anthropic": {"anthropic/claude-sonnet-4.5", "anthropic/claude-haiku-4.5"},
    "sandbox-gemini": {"google/gemini-2.5-flash"},
    "sandbox-eu": {"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"},
    "sandbox-trains": {"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"},
    "sandbox-retains": {"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"},
}


def test_under_sandbox_only_sandbox_endpoints_are_available(imported_catalog, settings):
    settings.SANDBOX_PORT = 45123
    snapshot = build_routing_snapshot()

    available = {}
    for endpoint in snapshot.endpoints.values():
        if endpoint.provider.available:
            available.setdefault(endpoint.provider.slug, set()).add(endpoint.model_slug)
    assert available == SANDBOX_MODELS
    provider = snapshot.model("anthropic/claude-sonnet-4.5").endpoints
    by_slug = {e.provider.slug: e.provider for e in provider}
    assert by_slug["sandbox-anthropic"].base_url == "http://127.0.0.1:45123/sandbox-anthropic"
    assert by_slug["sandbox-anthropic"].wire_format == "anthropic"
    assert by_slug["anthropic"].base_url == "https://api.anthropic.com"
    assert by_slug["anthropic"].available is False
    # Real providers stay in the snapshot (browsable), the sandbox at real list prices.
    assert by_slug["sandbox-anthropic"].is_sandbox and not by_slug["anthropic"].is_sandbox
    prices = {e.provider.slug: e.price for e in provider}
    assert prices["sandbox-anthropic"].input_nanos_per_m == 3_000_000_000
    assert prices["sandbox-anthropic"].output_nanos_per_m == 15_000_000_000


def test_sandbox_base_url_can_be_overridden_per_build(imported_catalog):
    snapshot = build_routing_snapshot(sandbox_base_url="http://127.0.0.1:39999/")

    urls = {e.provider.slug: e.provider.base_url for e in snapshot.endpoints.values()
            if e.provider.is_sandbox}
    assert urls == {"sandbox-openai": "http://127.0.0.1:39999/sandbox-openai/v1",
                    "sandbox-openai-b": "http://127.0.0.1:39999/sandbox-openai-b/v1",
                    "sandbox-anthropic": "http://127.0.0.1:39999/sandbox-anthropic",
                    "sandbox-gemini": "http://127.0.0.1:39999/sandbox-gemini",
                    "sandbox-eu": "http://127.0.0.1:39999/sandbox-eu/v1",
                    "sandbox-trains": "http://127.0.0.1:39999/sandbox-trains/v1",
                    "sandbox-retains": "http://127.0.0.1:39999/sandbox-retains/v1"}


def test_without_sandbox_a_real_provider_needs_a_credential(imported_catalog, settings):
    settings.SANDBOX = False
    settings.PROVIDER_API_KEYS = {"openai": "sk-test-not-real"}

    snapshot = build_routing_snapshot()

    available = {e.provider.slug for e in snapshot.endpoints.values() if e.provider.available}
    assert available == {"openai"}


def test_snapshot_is_built_in_three_queries(imported_catalog):
    with CaptureQueriesContext(connection) as queries:
        snapshot = build_routing_snapshot()

    assert len(queries.captured_queries) == 3
    assert len(snapshot.endpoints) == Endpoint.objects.count()
    assert snapshot.version == str(get_catalog_version())


def test_disabled_endpoint_stays_in_snapshot_but_not_enabled(imported_catalog):
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="sandbox-openai")
    before = get_catalog_version()

    services.disable_endpoint(endpoint)

    assert get_catalog_version() == before + 1
    view = build_routing_snapshot().endpoints[endpoint.id]
    assert view.enabled is False and view.provider.available is True


def test_future_price_is_not_in_force_yet(imported_catalog):
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o-mini",
                                    provider__slug="sandbox-openai")
    current = Price.objects.get(endpoint=endpoint)
    future = services.add_price(endpoint, input_nanos_per_m=1, output_nanos_per_m=2,
                                effective_from=timezone.now() + dt.timedelta(days=1))

    now_view = build_routing_snapshot().endpoints[endpoint.id]
    later_view = build_routing_snapshot(at=timezone.now() + dt.timedelta(days=2)).endpoints[
        endpoint.id]
    assert now_view.price.price_id == current.id
    assert later_view.price.price_id == future.id
    assert (later_view.price.input_nanos_per_m, later_view.price.output_nanos_per_m) == (1, 2)


def test_disabled_provider_disables_its_endpoints(imported_catalog):
    provider = Provider.objects.get(slug="sandbox-gemini")
    services.update_provider(provider, status="disabled")

    views = [e for e in build_routing_snapshot().endpoints.values()
             if e.provider.slug == "sandbox-gemini"]
    assert views and all(not e.enabled and not e.provider.available for e in views)


def test_every_imported_openai_provider_is_called_at_its_documented_address(imported_catalog,
                                                                            settings):
    from routing.adapters import adapter_for
    from routing.types import ChatRequest

    settings.SANDBOX_PORT = 45123
    snapshot = build_routing_snapshot()
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    urls = {}
    for endpoint in snapshot.endpoints.values():
        if endpoint.provider.wire_format == "openai":
            built = adapter_for("openai").build_request(endpoint, request, max_tokens=8,
                                                        api_key="k", stream=False)
            urls[endpoint.provider.slug] = built.url
    assert urls["openai"] == "https://api.openai.com/v1/chat/completions"
    assert urls["deepinfra"] == "https://api.deepinfra.com/v1/openai/chat/completions"
    assert urls["groq"] == "https://api.groq.com/openai/v1/chat/completions"
    assert urls["fireworks"] == "https://api.fireworks.ai/inference/v1/chat/completions"
    assert urls["sandbox-openai"] == "http://127.0.0.1:45123/sandbox-openai/v1/chat/completions"
    assert all(url.count("/v1/") == 1 for url in urls.values()), urls
