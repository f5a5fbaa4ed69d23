"""A small catalog and request records for the recommendation tests (observability and the
dashboard's card): an org spending on a dear model, and cheaper models other orgs measured."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from billing.models import MarginRule
from catalog import services as catalog_services
from observability.recommendations import MIN_SAMPLE
from observability.rollups import rollup_requests
from tests.observability.records import row, store
from tests.tenancy.factories import OrganizationFactory

USD = 1_000_000_000
ORG_BPS = 500  # the org's contract margin: 5%
PROMPT, COMPLETION = 100_000, 20_000


def provider(slug):
    return catalog_services.create_provider(
        slug=slug, name=slug, wire_format="openai", base_url=f"sandbox://{slug}/v1",
        regions=["local"], retention_days=0, zdr=True, is_sandbox=True)


def model(slug, *offers):
    model = catalog_services.create_model(slug=slug, name=slug.split("/")[1].title(),
                                          context_length=8_000)
    endpoints = []
    for provider, usd_in, usd_out in offers:
        endpoints.append(catalog_services.create_endpoint(
            model=model, provider=provider, upstream_model_id=slug, context_length=8_000,
            max_output_tokens=1_000,
            price={"input_nanos_per_m": usd_in * USD, "output_nanos_per_m": usd_out * USD,
                   "effective_from": timezone.now() - dt.timedelta(days=60)}))
    return endpoints


@pytest.fixture(name="world")
def world_fixture(settings):
    """(our org, another org, {name: [endpoints]}); SANDBOX on, so every endpoint routes."""
    settings.SANDBOX = True
    p1, p2, p3 = provider("p-one"), provider("p-two"), provider("p-three")
    catalog = {
        "dear": model("acme/dear", (p1, 10, 30)),
        # Two endpoints: the cheaper one is quoted.
        "cheap": model("acme/cheap", (p2, 2, 6), (p3, 1, 3)),
        "flaky": model("acme/flaky", (p1, 1, 1)),  # cheaper still, but fails more
        "rare": model("acme/rare", (p1, 1, 1)),  # cheap, but too few outcomes measured
    }
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    MarginRule.objects.create(org=ours, bps=ORG_BPS)
    return ours, theirs, catalog


def records(org, model, task, n, *, now, outcome="success", cost=0, **fields):
    day_ago = now - dt.timedelta(days=1)
    served = model if outcome == "success" else ""
    extra = {"error_type": "upstream_5xx", "status": 502} if outcome == "failed" else {}
    extra.update(fields)
    store(*[row(org, at=day_ago, model_requested=model, model_served=served, task=task,
                outcome=outcome, cost_nanos=cost, prompt_tokens=PROMPT,
                completion_tokens=COMPLETION if outcome == "success" else 0, **extra)
            for _ in range(n)])


def fill(world, now):
    ours, theirs, _ = world
    # Ours: extraction on the dear model, 29 served and one failure (whose record names only
    # the model asked for), $2 each.
    records(ours, "acme/dear", "extraction", 29, now=now, cost=2 * USD)
    records(ours, "acme/dear", "extraction", 1, now=now, outcome="failed")
    # Not ours to count: our refusals, BYOK requests, records past the window.
    records(ours, "acme/dear", "extraction", 2, now=now, outcome="refused", status=429,
             error_type="rate_limit", count=5)
    records(ours, "acme/dear", "extraction", 3, now=now, cost=USD, is_byok=True)
    store(row(ours, at=now - dt.timedelta(days=31), model_requested="acme/dear",
              model_served="acme/dear", task="extraction", cost_nanos=500 * USD))
    # Theirs: heavy spend on the same model and task (never part of our spend), and the
    # alternatives' measured outcomes on extraction.
    records(theirs, "acme/dear", "extraction", 50, now=now, cost=7 * USD)
    records(theirs, "acme/cheap", "extraction", 40, now=now, cost=USD // 10)
    records(theirs, "acme/cheap", "extraction", 3, now=now, outcome="cancelled",
             error_type="cancelled", status=499)
    records(theirs, "acme/flaky", "extraction", 36, now=now)
    records(theirs, "acme/flaky", "extraction", 4, now=now, outcome="failed")
    records(theirs, "acme/rare", "extraction", MIN_SAMPLE - 1, now=now)
    # Every org's measured quality is read from the table the rollup task keeps.
    rollup_requests()
