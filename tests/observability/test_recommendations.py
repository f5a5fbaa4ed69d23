"""Organic recommendations (issue 14): from an org's own request records and every org's
measured success rates, a cheaper (or faster) model for the same task, with its computation."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import EndpointHealth
from observability.recommendations import MIN_SAMPLE, recommend
from observability.rollups import rollup_requests

# world_fixture is the `world` fixture.
from tests.observability.recommendation_data import (  # noqa: F401
    COMPLETION,
    ORG_BPS,
    PROMPT,
    USD,
    fill,
    model,
    records,
    world_fixture,
)
from tests.tenancy.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def _charge(prompt, completion, usd_in, usd_out):
    """What the gateway would charge the org: list cost rounded half up, plus 5% half up."""
    upstream = (prompt * usd_in * USD + completion * usd_out * USD + 500_000) // 1_000_000
    return upstream + (upstream * ORG_BPS + 5_000) // 10_000


def test_a_cheaper_model_with_as_good_a_success_rate_is_recommended_with_its_computation(world):
    now = timezone.now()
    fill(world, now)
    ours = world[0]

    result = recommend(ours, now=now)

    [usage] = result.usage
    assert (usage.task, usage.model, usage.requests) == ("extraction", "acme/dear", 30)
    assert usage.spend_nanos == 29 * 2 * USD  # neither BYOK nor old nor the other org's
    assert (usage.prompt_tokens, usage.completion_tokens) == (30 * PROMPT, 29 * COMPLETION)
    assert result.top_tasks == ("extraction",) and result.top_model == "acme/dear"

    [rec] = result.recommendations
    assert rec.alternative == "acme/cheap" and rec.cheaper
    # Sponsored slots beside it are held to the same bar: as good on extraction, measured
    # enough. Flaky (90%) and rare (too few requests) are not, nor the org's own model.
    assert result.sponsorable == frozenset({"acme/cheap"})
    # The cheaper of its two endpoints, at the org's price (list + its 5% margin).
    assert rec.quote.provider_slug == "p-three"
    assert rec.quote.input_nanos_per_m == 1_050_000_000
    assert rec.quote.output_nanos_per_m == 3_150_000_000
    expected = _charge(30 * PROMPT, 29 * COMPLETION, 1, 3)
    assert expected == 4_977_000_000
    assert rec.quote.cost_nanos == expected
    assert rec.savings_nanos == 58 * USD - expected
    # Served over what the model decided (served or failed at a provider), every org:
    # cancellations do not count.
    assert (rec.quality.successes, rec.quality.requests) == (40, 40)
    # The current model's rate counts every org's requests (BYOK ones too: the model answered
    # them), not refusals or records past the window: 29 + 3 + 50 of 83 (the failure names
    # only the model asked for: it is still the model's).
    assert (rec.current_quality.successes, rec.current_quality.requests) == (82, 83)
    assert rec.computation.startswith(
        "You spent $58.00 on acme/dear for extraction in the last 30 days (30 requests, "
        "3.0M prompt + 580.0k completion tokens). acme/cheap would have cost $4.98 at the "
        "same tokens (its price: $1.05/M in, $3.15/M out, via p-three) with a 100.0% "
        "success rate on extraction vs 98.8% (over 40 and 83 requests of all organizations).")


def test_worse_success_rate_or_too_few_samples_is_never_recommended(world):
    now = timezone.now()
    fill(world, now)
    ours, theirs, _ = world
    # Take the good alternative's quality below the current model's: now nothing qualifies,
    # although flaky (90%) and rare (too few) are both cheaper.
    records(theirs, "acme/cheap", "extraction", 10, now=now, outcome="failed")
    rollup_requests()
    assert recommend(ours, now=now).recommendations == ()
    assert recommend(ours, now=now).sponsorable == frozenset()

    # Rare reaches the minimum sample, all successes: now it is the one recommended.
    records(theirs, "acme/rare", "extraction", 1, now=now)
    rollup_requests()
    [rec] = recommend(ours, now=now).recommendations
    assert rec.alternative == "acme/rare"
    assert rec.quality.requests == MIN_SAMPLE


def test_the_other_orgs_records_never_show_as_ours(world):
    now = timezone.now()
    fill(world, now)
    ours, theirs, _ = world
    theirs_result = recommend(theirs, now=now)
    assert {(u.task, u.model) for u in theirs_result.usage} == {
        ("extraction", "acme/dear"), ("extraction", "acme/cheap"),
        ("extraction", "acme/flaky"), ("extraction", "acme/rare")}
    dear = next(u for u in theirs_result.usage if u.model == "acme/dear")
    assert dear.spend_nanos == 50 * 7 * USD and dear.requests == 50
    # An org with no records of its own gets nothing, whatever the others did.
    assert recommend(OrganizationFactory(), now=now).recommendations == ()
    assert recommend(OrganizationFactory(), now=now).usage == ()


def test_a_faster_model_at_no_more_cost_is_recommended(world):
    now = timezone.now()
    ours, theirs, catalog = world
    # Ours spent on cheap (at about its price); flaky's twin "swift" is as cheap, as good,
    # and its measured p50 latency is a third of cheap's.
    swift = model("acme/swift", (catalog["cheap"][1].provider, 1, 3))
    records(ours, "acme/cheap", "coding", 30, now=now, cost=180_000_000)
    records(theirs, "acme/swift", "coding", 30, now=now)
    rollup_requests()
    cheap_one, cheap_two = catalog["cheap"]
    for endpoint, window, p50, samples in (
            (cheap_one, "1d", 900, 50), (swift[0], "1d", 300, 50),
            # An hour's figures, and a day's on too few samples, say nothing of a month.
            (cheap_one, "1h", 100, 50), (cheap_two, "1d", 90, MIN_SAMPLE - 1)):
        EndpointHealth.objects.create(endpoint=endpoint, window=window, p50_latency_ms=p50,
                                      sample_count=samples, uptime_bps=10_000, computed_at=now)

    [rec] = recommend(ours, now=now).recommendations
    assert rec.alternative == "acme/swift"
    assert rec.faster and not rec.cheaper
    assert (rec.latency_ms, rec.current_latency_ms) == (300, 900)  # best measured endpoint
    assert "Median latency: 300 ms vs 900 ms." in rec.computation
