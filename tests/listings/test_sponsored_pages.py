"""Sponsored slots on the catalog pages: labelled, at most two, in the htmx swap, never the
page's own model, never one the viewer's org excludes."""

from __future__ import annotations

import re

import pytest

from compliance.models import OrgPolicy
from marketplace.dashboard.views.catalog import search_tasks
from marketplace.listings.models import Placement
from marketplace.listings.tickets import read_ticket
from marketplace.tenancy.models import Organization
from tests.listings.conftest import DOLLAR, member_of

SLOT_RE = re.compile(
    r'<aside class="sponsored-slot" data-sponsored-token="([^"]+)" data-sponsored-slot="(\d)">'
    r'\s*<p class="sponsored-label">Sponsored · ([^<]+)</p>'
    r'\s*<p class="sponsored-model"><a data-sponsored-click href="([^"]+)">([^<]+)</a>')


def slots(response) -> list[tuple[str, str, str, str, str]]:
    assert response.status_code == 200
    return SLOT_RE.findall(response.content.decode())


@pytest.fixture
def three_campaigns(market):
    models = [market.model(slug, supports_tools=tools) for slug, tools in
              (("acme/fast", True), ("beta/lite", False), ("gamma/big", True))]
    vendors = [market.vendor(name) for name in ("Acme AI", "Beta Labs", "Gamma & Co")]
    campaigns = [market.campaign(vendor, model, bid_nanos=bid * DOLLAR)
                 for vendor, model, bid in zip(vendors, models, (5, 3, 1), strict=True)]
    return market, models, vendors, campaigns


def test_the_model_list_shows_at_most_two_labelled_slots(three_campaigns, client):
    _, _, _, campaigns = three_campaigns
    response = client.get("/models")
    found = slots(response)

    assert [(n, advertiser, url, name) for _, n, advertiser, url, name in found] == [
        ("1", "Acme AI", "/models/acme/fast", "Fast"),
        ("2", "Beta Labs", "/models/beta/lite", "Lite")]
    html = response.content.decode()
    assert html.count("Sponsored ·") == 2
    assert html.count("js/sponsored.js") == 1
    tickets = [read_ticket(token) for token, *_ in found]
    assert [t.campaign_id for t in tickets] == [campaigns[0].pk, campaigns[1].pk]
    assert all(t.page == "/models" and t.placement == "catalog" for t in tickets)
    # The advertiser's name is escaped like any other text.
    assert "Gamma &amp; Co" not in html  # third: not shown at all


def test_the_htmx_search_swap_carries_its_own_slots_without_the_script(three_campaigns,
                                                                       client):
    response = client.get("/models?capability=tools", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="catalog-results"')
    found = slots(response)
    # beta/lite has no tools: the capability filter makes it no match for this page.
    assert [advertiser for _, _, advertiser, _, _ in found] == ["Acme AI", "Gamma &amp; Co"]
    assert read_ticket(found[0][0]).page == "/models?capability=tools"
    assert "js/sponsored.js" not in html  # the full page loaded it once


def test_an_invalid_filter_shows_no_slots(three_campaigns, client):
    response = client.get("/models?sort=nonsense")
    assert response.status_code == 400
    assert "Sponsored ·" not in response.content.decode()


def test_the_model_page_alternatives_box_never_shows_the_model_itself(three_campaigns,
                                                                      client):
    _, _, _, campaigns = three_campaigns
    response = client.get("/models/acme/fast")
    html = response.content.decode()
    assert 'id="alternatives-heading">Alternatives<' in html
    found = slots(response)
    # acme/fast has tools: the alternatives are the models that have them too.
    assert [url for _, _, _, url, _ in found] == ["/models/gamma/big"]
    ticket = read_ticket(found[0][0])
    assert ticket.placement == Placement.ALTERNATIVES and ticket.page == "/models/acme/fast"
    assert ticket.campaign_id == campaigns[2].pk


def test_no_campaign_no_box(market, client):
    market.model("acme/fast")
    html = client.get("/models/acme/fast").content.decode()
    assert "Alternatives" not in html and "sponsored-slot" not in html
    assert "sponsored-slot" not in client.get("/models").content.decode()


def test_an_org_whose_policy_denies_a_sponsored_model_never_sees_it(three_campaigns, client):
    strict = Organization.objects.create(name="Strict", slug="strict")
    OrgPolicy.objects.create(org=strict, version=1, model_deny=["acme/fast"])
    client.force_login(member_of(strict))
    assert [a for _, _, a, _, _ in slots(client.get("/models"))] == ["Beta Labs", "Gamma &amp; Co"]

    client.force_login(member_of(Organization.objects.create(name="Open", slug="open")))
    assert [a for _, _, a, _, _ in slots(client.get("/models"))] == ["Acme AI", "Beta Labs"]


def test_a_search_naming_a_task_makes_the_page_about_it(three_campaigns, client):
    _, _, _, campaigns = three_campaigns
    campaigns[2].target_tasks = ["document_qa"]
    campaigns[2].bid_nanos = 9 * DOLLAR
    campaigns[2].save()
    assert search_tasks("Document QA models") == {"document_qa"}
    assert search_tasks("math-reasoning") == {"math_reasoning"}
    assert search_tasks("gpt") == frozenset()
    assert search_tasks("chatgpt") == frozenset() and search_tasks("chat") == {"chat"}

    assert [a for _, _, a, _, _ in slots(client.get("/models"))] == ["Acme AI", "Beta Labs"]
    assert [a for _, _, a, _, _ in slots(client.get("/models?q=document+qa"))][0] \
        == "Gamma &amp; Co"
