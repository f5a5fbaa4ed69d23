"""The vendor pages under /vendor/ and the org kind setting: who sees them, another vendor's
campaign, the create and edit forms without JavaScript, pause and resume, your models."""

from __future__ import annotations

import pytest
from django.utils import timezone

from marketplace.listings.models import Campaign, CampaignStatus, ListingEdit
from marketplace.tenancy.models import Role
from tests.listings.factories import campaign, vendor
from tests.tenancy.factories import member, session_client

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date().isoformat()


def _form(model_slug: str, **overrides) -> dict:
    data = {"name": "Launch", "model": model_slug, "pricing": "cpm",
            "placements": ["catalog", "recommendations"], "target_tasks": ["coding"],
            "bid_usd": "$4.00", "daily_budget_usd": "10", "total_budget_usd": "100",
            "starts_on": TODAY, "ends_on": ""}
    data.update(overrides)
    return data


def test_a_developer_org_sees_the_403_and_no_vendor_nav():
    dev = member(Role.OWNER)
    client = session_client(dev)
    for path in ("/vendor/campaigns/", "/vendor/campaigns/new/", "/vendor/models/",
                 "/vendor/listings/"):
        page = client.get(path)
        assert page.status_code == 403
        assert b"Only vendor organizations can run campaigns." in page.content
    answer = client.post("/vendor/campaigns/new/", _form("any/model"))
    assert answer.status_code == 403 and not Campaign.objects.exists()
    assert b'href="/vendor/campaigns/"' not in client.get("/dashboard/settings/").content


def test_a_vendor_creates_a_campaign_through_the_form_and_sees_it_listed():
    v = vendor()
    client = session_client(v.owner)
    assert b'href="/vendor/campaigns/"' in client.get("/vendor/campaigns/").content  # nav
    form = client.get("/vendor/campaigns/new/")
    assert form.status_code == 200 and v.model.slug.encode() in form.content
    answer = client.post("/vendor/campaigns/new/", _form(v.model.slug))
    assert answer.status_code == 302
    c = Campaign.objects.get()
    assert answer["Location"] == f"/vendor/campaigns/{c.pk}/"
    assert (c.pricing, c.bid_nanos, c.total_budget_nanos) == ("cpm", 4_000_000_000,
                                                              100_000_000_000)
    assert (c.placements, c.target_tasks) == (["catalog", "recommendations"], ["coding"])
    listing = client.get("/vendor/campaigns/").content.decode()
    assert "Launch" in listing and "$0 / $100.00" in listing


@pytest.mark.parametrize(("overrides", "field_error"), [
    ({"daily_budget_usd": "200"}, "The daily budget cannot exceed the total budget."),
    ({"bid_usd": "0"}, "Enter an amount above zero."),
    ({"bid_usd": "lots"}, "id_bid_usd_errors"),
    ({"ends_on": "2000-01-01"}, "The end date is on or after the start date."),
    ({"placements": []}, "id_placements_errors"),
])
def test_form_errors_show_on_their_fields(overrides, field_error):
    v = vendor()
    answer = session_client(v.owner).post("/vendor/campaigns/new/",
                                          _form(v.model.slug, **overrides))
    assert answer.status_code == 400
    assert field_error in answer.content.decode()
    assert not Campaign.objects.exists()


def test_edit_pause_and_resume_through_the_pages():
    v = vendor()
    c = campaign(v)
    client = session_client(v.owner)
    page = client.get(f"/vendor/campaigns/{c.pk}/").content.decode()
    assert 'id="campaign-pause"' in page and 'value="0.5"' in page  # the bid, as typed back
    data = _form(v.model.slug, name="Renamed", pricing="cpc")
    assert client.post(f"/vendor/campaigns/{c.pk}/", data).status_code == 302
    c.refresh_from_db()
    assert (c.name, c.pricing, c.bid_nanos) == ("Renamed", "cpc", 4_000_000_000)
    assert client.post(f"/vendor/campaigns/{c.pk}/pause/").status_code == 302
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.PAUSED
    assert 'id="campaign-resume"' in client.get(f"/vendor/campaigns/{c.pk}/").content.decode()
    client.post(f"/vendor/campaigns/{c.pk}/resume/")
    assert Campaign.objects.get(pk=c.pk).status == CampaignStatus.ACTIVE


def test_another_vendors_campaign_is_404_on_every_page():
    mine, theirs = vendor(), vendor()
    foreign = campaign(theirs)
    client = session_client(mine.owner)
    for path in ("", "report/"):
        assert client.get(f"/vendor/campaigns/{foreign.pk}/{path}").status_code == 404
    for path in ("", "pause/", "resume/"):
        answer = client.post(f"/vendor/campaigns/{foreign.pk}/{path}",
                             _form(mine.model.slug, name="stolen"))
        assert answer.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "stolen" and foreign.status == CampaignStatus.ACTIVE


def test_a_developer_member_of_a_vendor_reads_but_cannot_change():
    v = vendor()
    c = campaign(v)
    client = session_client(member(Role.DEVELOPER, org=v.org))
    assert client.get("/vendor/campaigns/").status_code == 200
    assert client.get("/vendor/campaigns/new/").status_code == 403
    assert client.post(f"/vendor/campaigns/{c.pk}/pause/").status_code == 403
    assert client.post(f"/vendor/campaigns/{c.pk}/", _form(v.model.slug)).status_code == 403


def test_your_models_page_lists_the_promotable_models_with_list_prices():
    v = vendor()
    page = session_client(v.owner).get("/vendor/models/").content.decode()
    assert f'data-model="{v.model.slug}"' in page
    assert "$1.00" in page and "$2.00" in page  # list price per million, input and output


def test_a_listing_edit_is_proposed_through_the_page():
    v = vendor()
    client = session_client(v.owner)
    answer = client.post("/vendor/listings/", {"model": v.model.slug,
                                               "description": "Great at PDFs",
                                               "tags": "pdf, extraction"})
    assert answer.status_code == 302
    edit = ListingEdit.objects.get()
    assert (edit.description, edit.tags, edit.status) == ("Great at PDFs",
                                                          ["pdf", "extraction"], "pending")
    assert b"Great at PDFs" in client.get("/vendor/listings/").content
    bad = client.post("/vendor/listings/", {"model": v.model.slug, "description": ""})
    assert bad.status_code == 400 and ListingEdit.objects.count() == 1


def test_model_statistics_weigh_uptime_by_samples_and_take_the_best_latency():
    from catalog.models import Endpoint, EndpointHealth, Price, Provider
    from marketplace.listings.statistics import model_statistics

    v = vendor()
    other = Provider.objects.create(slug="second-host", name="Second host",
                                    wire_format="openai", base_url="https://second.example/v1")
    second = Endpoint.objects.create(model=v.model, provider=other, upstream_model_id="m")
    Price.objects.create(endpoint=second, effective_from=timezone.now(),
                         input_nanos_per_m=3_000_000_000, output_nanos_per_m=3_000_000_000)
    first = Endpoint.objects.get(model=v.model, provider=v.provider)
    now = timezone.now()
    for endpoint, uptime, samples, latency in ((first, 9_900, 100, 400),
                                               (second, 9_000, 300, 250)):
        for window in ("1h", "1d"):
            EndpointHealth.objects.create(endpoint=endpoint, window=window, uptime_bps=uptime,
                                          sample_count=samples, p50_latency_ms=latency,
                                          computed_at=now)
    (stats,) = model_statistics(v.org)
    assert (stats.slug, stats.uptime_bps, stats.p50_latency_ms) == (v.model.slug, 9_225, 250)
    assert (stats.input_nanos_per_m, stats.requests_7d) == (1_000_000_000, 0)
    page = session_client(v.owner).get("/vendor/models/").content.decode()
    assert "92.25%" in page and "250 ms" in page
    assert model_statistics(member(Role.OWNER).org) == []  # a developer org has none
