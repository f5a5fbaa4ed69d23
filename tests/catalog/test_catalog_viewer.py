"""The catalog as one viewer sees it: their prices and fee, what is routable here, speed and
popularity sorts, provider counts, and a fixed number of queries whatever the catalog's size."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import MarginRule, UsageRecord
from billing.pricing import caller_price_nanos
from billing.selectors.spend import get_margin_table
from billing.services.margins import save_margin_rule
from catalog import services
from catalog.models import Endpoint, EndpointHealth, Model, Price, Provider
from core.money import dashboard_usd_per_m
from marketplace.tenancy.models import Organization
from tests.tenancy.factories import member

SANDBOX_MODELS = {"openai/gpt-4o-mini", "openai/gpt-4o", "meta-llama/llama-3.3-70b-instruct",
                  "anthropic/claude-sonnet-4.5", "anthropic/claude-haiku-4.5",
                  "google/gemini-2.5-flash"}


def _slugs(response) -> list[str]:
    return re.findall(r'<tr data-slug="([^"]+)"', response.content.decode())


def _row(html: str, attr: str, value: str) -> str:
    return re.search(rf'<tr {attr}="{re.escape(value)}">(.*?)</tr>', html, re.S).group(1)


def _fee_note(html: str) -> str:
    return re.search(r'<p class="fee-note" id="fee-note">(.*?)</p>', html, re.S).group(1)


def _signed_in(client, membership):
    client.force_login(membership.user)
    return client


def test_a_visitor_sees_the_default_margin_and_the_fee_in_words(imported_catalog, client):
    default = get_margin_table().default_bps
    html = client.get("/models?q=openai/gpt-4o-mini").content.decode()

    row = _row(html, "data-slug", "openai/gpt-4o-mini")
    # Routable under the sandbox at OpenAI's list price: $0.15/M in, $0.60/M out.
    assert dashboard_usd_per_m(caller_price_nanos(150_000_000, default)) in row
    assert dashboard_usd_per_m(caller_price_nanos(600_000_000, default)) in row
    whole, hundredths = divmod(default, 100)
    percent = f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") + "%"
    assert f"include Switchyard&#x27;s {percent} platform fee" in _fee_note(html)
    detail = client.get("/models/openai/gpt-4o-mini").content.decode()
    assert f"{percent} platform fee" in _fee_note(detail)


def test_a_member_sees_their_orgs_own_margin(imported_catalog, client):
    membership = member()
    save_margin_rule(MarginRule(org=membership.org, bps=1_234), actor=None)
    _signed_in(client, membership)

    html = client.get("/models?q=openai/gpt-4o-mini").content.decode()

    row = _row(html, "data-slug", "openai/gpt-4o-mini")
    assert dashboard_usd_per_m(caller_price_nanos(150_000_000, 1_234)) in row  # $0.168510
    note = _fee_note(html)
    assert f"what {membership.org.name} pays" in note and "12.34% platform fee" in note
    detail = client.get("/models/openai/gpt-4o-mini").content.decode()
    sandbox = _row(detail, "data-provider", "sandbox-openai")
    assert dashboard_usd_per_m(caller_price_nanos(150_000_000, 1_234)) in sandbox
    # A visitor still pays the default.
    client.logout()
    assert dashboard_usd_per_m(caller_price_nanos(150_000_000, 1_234)) not in _row(
        client.get("/models?q=openai/gpt-4o-mini").content.decode(), "data-slug",
        "openai/gpt-4o-mini")


def test_a_model_rule_shows_in_its_price_and_the_note_says_fees_differ(imported_catalog, client):
    save_margin_rule(MarginRule(model_slug="openai/gpt-4o-mini", bps=2_000), actor=None)

    html = client.get("/models?q=openai/gpt-4o").content.decode()

    assert dashboard_usd_per_m(caller_price_nanos(150_000_000, 2_000)) in _row(
        html, "data-slug", "openai/gpt-4o-mini")
    assert "Some models and providers carry a different fee" in _fee_note(html)


def test_under_the_sandbox_the_list_marks_what_is_routable_here(imported_catalog, client):
    html = client.get("/models?routable=1").content.decode()
    everything = client.get("/models?q=claude-4-opus").content.decode()

    assert set(re.findall(r'<tr data-slug="([^"]+)"', html)) == SANDBOX_MODELS
    assert html.count("routable here</span>") == len(SANDBOX_MODELS)
    assert "routable here</span>" not in _row(everything, "data-slug", "anthropic/claude-4-opus")
    assert f"{len(SANDBOX_MODELS)} routable here under the sandbox" in html


def test_outside_the_sandbox_routable_means_a_provider_with_a_credential(imported_catalog,
                                                                          client, settings):
    settings.SANDBOX = False
    settings.PROVIDER_API_KEYS = {"groq": "gsk-test"}

    routable = set(_slugs(client.get("/models?routable=1")))

    assert routable == set(Endpoint.objects.filter(provider__slug="groq", status="active")
                           .values_list("model__slug", flat=True))
    assert not routable & {"openai/gpt-4o"}


def _health(model_slug, provider_slug, *, latency, speed, window="1h", samples=10):
    endpoint = Endpoint.objects.get(model__slug=model_slug, provider__slug=provider_slug)
    EndpointHealth.objects.create(endpoint=endpoint, window=window, p50_latency_ms=latency,
                                  p50_tokens_per_s=speed, uptime_bps=10_000,
                                  sample_count=samples, computed_at=timezone.now())


def test_sort_by_latency_throughput_and_popularity(imported_catalog, client):
    _health("openai/gpt-4o-mini", "sandbox-openai", latency=900, speed=40)
    _health("openai/gpt-4o-mini", "sandbox-openai-b", latency=300, speed=20)  # best of the two
    _health("openai/gpt-4o", "sandbox-openai", latency=500, speed=120)
    _health("google/gemini-2.5-flash", "sandbox-gemini", latency=700, speed=90, window="1d")
    # Unsampled windows are no measurement at all.
    _health("anthropic/claude-haiku-4.5", "sandbox-anthropic", latency=1, speed=999, samples=0)
    org = Organization.objects.create(name="Busy", slug="busy")
    now = timezone.now()
    for i, (model, age_days) in enumerate([("anthropic/claude-haiku-4.5", 1)] * 3
                                          + [("openai/gpt-4o", 2)] * 2
                                          + [("openai/gpt-4o-mini", 6)]
                                          + [("google/gemini-2.5-flash", 8)] * 5):
        UsageRecord.objects.create(request_id=f"pop-{i}", org=org, requested_model=model,
                                   served_model=model, created_at=now - dt.timedelta(days=age_days))

    by_latency = _slugs(client.get("/models?sort=latency&routable=1"))
    by_speed = _slugs(client.get("/models?sort=throughput&routable=1"))
    by_use = _slugs(client.get("/models?sort=popularity&routable=1"))

    assert by_latency[:3] == ["openai/gpt-4o-mini", "openai/gpt-4o", "google/gemini-2.5-flash"]
    assert by_speed[:3] == ["openai/gpt-4o", "google/gemini-2.5-flash", "openai/gpt-4o-mini"]
    # Gemini's five requests are eight days old: outside the 7-day window.
    assert by_use[:3] == ["anthropic/claude-haiku-4.5", "openai/gpt-4o", "openai/gpt-4o-mini"]
    html = client.get("/models?sort=latency&routable=1").content.decode()
    mini = _row(html, "data-slug", "openai/gpt-4o-mini")
    assert "300 ms" in mini and "40 tok/s" in mini
    haiku = _row(html, "data-slug", "anthropic/claude-haiku-4.5")
    assert "ms</td>" not in haiku and 'class="requests">3<' in haiku


def test_provider_counts_agree_with_the_providers_listed(imported_catalog, client):
    """Descriptions used to say "offered by 1 provider" of models the sandbox serves too."""
    for slug in sorted(SANDBOX_MODELS):
        html = client.get(f"/models/{slug}").content.decode()
        listed = html.count('<tr data-provider="')
        stated = [int(n) for n in re.findall(r"\b(\d+) providers?\b", html)]
        assert listed >= 2 and stated, slug
        assert set(stated) <= {listed, html.count('<span class="badge ok">available')}, slug
        description = Model.objects.get(slug=slug).description
        assert not re.search(r"\d+ providers?", description), description


def test_descriptions_state_no_provider_count_for_any_model(imported_catalog):
    stale = [m.slug for m in Model.objects.all() if re.search(r"\d+ providers?", m.description)]
    assert stale == []


def _grow_catalog(n: int) -> None:
    """`n` more models, each with two priced endpoints, health and a request this week."""
    org = Organization.objects.get_or_create(name="Grow", slug="grow")[0]
    provider = Provider.objects.get(slug="sandbox-openai")
    other = Provider.objects.get(slug="nebius")
    now = timezone.now()
    for i in range(n):
        model = Model.objects.create(slug=f"grow/model-{i}", author="grow",
                                     name=f"Grown {i}", context_length=8_000)
        for p in (provider, other):
            endpoint = Endpoint.objects.create(model=model, provider=p,
                                               upstream_model_id=f"m{i}", context_length=8_000)
            Price.objects.create(endpoint=endpoint, effective_from=now - dt.timedelta(hours=1),
                                 input_nanos_per_m=1_000_000 * (i + 1),
                                 output_nanos_per_m=2_000_000 * (i + 1))
            EndpointHealth.objects.create(endpoint=endpoint, window="1h", p50_latency_ms=100 + i,
                                          p50_tokens_per_s=50, sample_count=5, computed_at=now)
        UsageRecord.objects.create(request_id=f"grow-{i}", org=org, requested_model=model.slug,
                                   created_at=now)
    services.bump_catalog_version()


def _count(client, path, status=200) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == status
    return len(queries)


# Today: the catalog stamp, the index (on a cache miss), the margin table, health, popularity.
# One spare for the margin table's default read from the database.
LIST_QUERIES = 6
# Model, endpoints with providers, prices, health, the margin table; one spare as above.
DETAIL_QUERIES = 6


@pytest.mark.parametrize("signed_in", [False, True])
def test_list_and_detail_run_a_fixed_number_of_queries(imported_catalog, client, signed_in,
                                                       django_assert_max_num_queries):
    extra = 0
    if signed_in:
        membership = member()
        save_margin_rule(MarginRule(org=membership.org, bps=700), actor=None)
        _signed_in(client, membership)
        client.get("/models")  # settle the session's current org
        # What signing in costs any page (session, user, membership, the org switcher).
        extra = (_count(client, "/models/nobody/nothing", 404)
                 - _count(Client(), "/models/nobody/nothing", 404))
    with django_assert_max_num_queries(LIST_QUERIES + extra):
        assert client.get("/models?sort=popularity").status_code == 200
    with django_assert_max_num_queries(DETAIL_QUERIES + extra):
        client.get("/models/meta-llama/llama-3.3-70b-instruct")
    small = (_count(client, "/models?sort=latency"), _count(client, "/models?page=2"),
             _count(client, "/models/meta-llama/llama-3.3-70b-instruct"))

    _grow_catalog(60)
    grown = Endpoint.objects.filter(model__slug="meta-llama/llama-3.3-70b-instruct").first()
    for i in range(20):  # the model page: twenty more providers of one model
        provider = Provider.objects.create(slug=f"extra-{i}", name=f"Extra {i}",
                                           wire_format="openai",
                                           base_url="https://extra.example/v1")
        endpoint = Endpoint.objects.create(model=grown.model, provider=provider,
                                           upstream_model_id="llama", context_length=8_000)
        Price.objects.create(endpoint=endpoint, effective_from=timezone.now(),
                             input_nanos_per_m=1, output_nanos_per_m=1)
    services.bump_catalog_version()
    client.get("/models")  # the new index is built once per catalog version

    large = (_count(client, "/models?sort=latency"), _count(client, "/models?page=2"),
             _count(client, "/models/meta-llama/llama-3.3-70b-instruct"))
    assert large == small
    assert "Grown 0" in client.get("/models?q=grown&sort=latency").content.decode()
