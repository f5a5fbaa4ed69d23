"""The overview's recommendation card (issue 14): organic recommendations with their
computation, and beside them the sponsored slots the listings app serves for the org's top
tasks, labelled."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from marketplace.listings import serving
from marketplace.tenancy.models import Role

# world_fixture is the `world` fixture.
from tests.observability.recommendation_data import fill, world_fixture  # noqa: F401
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """What the page asked the auction for; answers one slot, as serving would."""
    seen: list[serving.SlotContext] = []

    def fake(request, context, *, limit=serving.MAX_SLOTS_PER_PAGE):
        seen.append(context)
        return [serving.SponsoredSlot(
            campaign_id=7, slot=1, advertiser="Sandbox Labs", model_slug="acme/cheap",
            model_name="Cheap", model_url="/models/acme/cheap", blurb="Fast extraction.",
            token="signed-ticket")]

    monkeypatch.setattr(serving, "sponsored_slots", fake)
    return seen


def _page(client, org):
    m = member(Role.DEVELOPER, org=org)
    client.force_login(m.user)
    response = client.get("/dashboard/?from=test")
    assert response.status_code == 200
    return response.content.decode()


def test_the_card_shows_the_organic_recommendation_and_how_it_was_computed(client, world):
    cache.clear()
    ours = world[0]
    fill(world, timezone.now())

    html = _page(client, ours)

    card = html[html.index('id="recommendations"'):html.index('id="recent-heading"')]
    organic = card[card.index('id="organic-recommendations"'):]
    assert 'data-model="acme/dear" data-alternative="acme/cheap" data-task="extraction"' in (
        organic)
    assert "acme/cheap could do your extraction for $4.98 instead of $58.00 (91% less)" in (
        organic)
    assert "<summary>How we computed this</summary>" in organic
    assert ("You spent $58.00 on acme/dear for extraction in the last 30 days (30 requests, "
            "3.0M prompt + 580.0k completion tokens).") in organic
    assert "at least 20 for each model" in organic


def test_sponsored_slots_sit_beside_them_labelled_for_the_orgs_top_tasks(client, world, calls):
    cache.clear()
    ours = world[0]
    fill(world, timezone.now())

    html = _page(client, ours)

    [context] = calls
    assert context.placement == "recommendations"
    assert context.page == "/dashboard/?from=test"
    assert context.tasks == frozenset({"extraction"})
    assert context.competing_with == "acme/dear"
    assert context.only_models == frozenset({"acme/cheap"})  # the organic bar, as computed
    sponsored = html[html.index('id="sponsored-recommendations"'):]
    assert "pass the same quality bar" in sponsored
    assert '<p class="sponsored-label">Sponsored · Sandbox Labs</p>' in sponsored
    assert 'data-sponsored-token="signed-ticket"' in sponsored


def test_an_org_with_no_usage_gets_the_empty_card_and_no_sponsored_box(client, world):
    cache.clear()
    html = _page(client, world[0])
    assert 'id="no-recommendations"' in html
    assert 'id="sponsored-recommendations"' not in html


def test_computing_the_card_costs_a_fixed_handful_of_queries_then_none(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.dashboard.test_overview import OVERVIEW_MAX_QUERIES

    ours = world[0]
    fill(world, timezone.now())
    m = member(Role.OWNER, org=ours)
    client.force_login(m.user)
    client.get("/dashboard/")  # the first request after login saves the session
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        assert "acme/cheap could do your extraction" in client.get("/dashboard/").content.decode()
    with CaptureQueriesContext(connection) as warm:
        client.get("/dashboard/")
    # Cold: the org's usage, every org's success rates, the catalog stamp and model index,
    # the margin table and the measured speeds. Warm: all cached, the page's usual queries.
    assert len(cold) - len(warm) <= 6 + 1  # + the alert banner's read, its cache cleared too
    assert len(warm) <= OVERVIEW_MAX_QUERIES
