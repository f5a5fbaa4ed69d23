"""The campaigns API, /api/v1/listings/campaigns/: who may use it, another vendor's ids, clear
400s, the round trip of a GET body through PATCH and PUT, and staff's pause."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from marketplace.listings import services
from marketplace.listings.models import Campaign, CampaignStatus
from marketplace.tenancy.models import AuditEntry, OrgKind, Role
from tests.listings.factories import USD, campaign, vendor
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

API = "/api/v1/listings/campaigns/"
TODAY = timezone.now().date()


def _create_body(model_slug: str, **overrides) -> dict:
    body = {"name": "Spring push", "model": model_slug, "pricing": "cpc",
            "placements": ["catalog", "alternatives"], "target_tasks": ["extraction"],
            "target_capabilities": ["tools"], "bid_usd": "0.40", "daily_budget_usd": "5",
            "total_budget_nanos": 20 * USD, "starts_on": TODAY.isoformat()}
    body.update(overrides)
    return body


def test_a_vendor_creates_lists_and_reads_a_campaign_with_money_in_both_forms():
    v = vendor()
    client = session_client(v.owner)
    created = client.post(API, _create_body(v.model.slug), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["bid_usd"], body["bid_nanos"]) == ("0.4", 400_000_000)
    assert (body["daily_budget_usd"], body["total_budget_usd"]) == ("5", "20")
    assert body["model"] == v.model.slug and body["status"] == "active"
    assert body["placements"] == ["catalog", "alternatives"]
    listed = client.get(API).json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert client.get(f"{API}{body['id']}/").json() == body
    entry = AuditEntry.objects.get(org=v.org, action="campaign.created")
    assert entry.after["bid_nanos"] == 400_000_000 and entry.actor_user == v.owner.user


def test_a_developer_org_gets_a_clear_403_on_every_route():
    dev = member(Role.OWNER)
    assert dev.org.kind == OrgKind.DEVELOPER
    client = session_client(dev)
    other = campaign()
    for method, path in (("get", API), ("post", API), ("get", f"{API}{other.pk}/"),
                         ("patch", f"{API}{other.pk}/"), ("post", f"{API}{other.pk}/pause/"),
                         ("get", f"{API}{other.pk}/report/")):
        answer = getattr(client, method)(path, {}, format="json")
        assert answer.status_code == 403, (method, path)
        assert answer.json()["error"]["message"] == \
            "Only vendor organizations can run campaigns."
    assert Campaign.objects.count() == 1


def test_another_vendors_campaign_is_404_on_every_route_and_unchanged():
    mine, theirs = vendor(), vendor()
    foreign = campaign(theirs)
    client = session_client(mine.owner)
    base = f"{API}{foreign.pk}/"
    missing = f"{API}{foreign.pk + 1000}/"
    for path in (base, missing):
        assert client.get(path).status_code == 404
        assert client.patch(path, {"name": "mine now"}, format="json").status_code == 404
        assert client.put(path, {"name": "mine now"}, format="json").status_code == 404
        assert client.post(f"{path}pause/").status_code == 404
        assert client.post(f"{path}resume/").status_code == 404
        assert client.get(f"{path}report/").status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.status) != ("mine now", CampaignStatus.PAUSED)
    assert foreign.status == CampaignStatus.ACTIVE
    assert client.get(API).json() == []


def test_a_campaign_for_a_model_not_granted_is_refused():
    mine, theirs = vendor(), vendor()
    client = session_client(mine.owner)
    answer = client.post(API, _create_body(theirs.model.slug), format="json")
    assert answer.status_code == 404
    assert "not one of your promotable models" in answer.json()["error"]["message"]


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"placements": ["catalog", "homepage"]}, "placements", "Unknown placements: homepage"),
    ({"placements": []}, "placements", "at least one"),
    ({"target_tasks": ["poetry"]}, "target_tasks", "Unknown task labels: poetry"),
    ({"target_capabilities": ["telepathy"]}, "target_capabilities", "telepathy"),
    ({"bid_usd": "0"}, "bid_usd", "above zero"),
    ({"bid_usd": "-1"}, "bid_usd", "zero or more"),
    ({"bid_usd": "abc"}, "bid_usd", ""),
    ({"daily_budget_usd": "30"}, "daily_budget_usd", "cannot exceed the total"),
    ({"ends_on": (TODAY - dt.timedelta(days=1)).isoformat()}, "ends_on", "on or after"),
    ({"bid_usd": "0.40", "bid_nanos": 1}, "bid_usd", "disagree"),
    ({"pricing": "per-hour"}, "pricing", ""),
])
def test_bad_input_is_a_400_naming_the_field(overrides, field, words):
    v = vendor()
    answer = session_client(v.owner).post(API, _create_body(v.model.slug, **overrides),
                                          format="json")
    assert answer.status_code == 400, answer.content
    messages = answer.json()[field]
    assert words in " ".join(messages)
    assert not Campaign.objects.exists()


def test_missing_required_fields_on_create_are_named():
    v = vendor()
    answer = session_client(v.owner).post(API, {"name": "x", "model": v.model.slug},
                                          format="json")
    assert answer.status_code == 400
    assert "pricing" in str(answer.json())


def test_the_get_body_goes_back_through_patch_and_put_unchanged():
    v = vendor()
    client = session_client(v.owner)
    c = campaign(v)
    body = client.get(f"{API}{c.pk}/").json()
    for method in ("patch", "put"):
        answer = getattr(client, method)(f"{API}{c.pk}/", body, format="json")
        assert answer.status_code == 200, answer.content
        assert answer.json() == body
    assert not AuditEntry.objects.filter(action="campaign.updated").exists()  # nothing changed
    body["name"], body["bid_usd"], body["bid_nanos"] = "Renamed", "0.75", 750_000_000
    answer = client.patch(f"{API}{c.pk}/", body, format="json")
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["bid_nanos"]) == ("Renamed", 750_000_000)
    entry = AuditEntry.objects.get(action="campaign.updated")
    assert entry.before == {"name": c.name, "bid_nanos": USD // 2}
    assert entry.after == {"name": "Renamed", "bid_nanos": 750_000_000}


def test_patch_changes_only_what_it_names_and_model_and_pricing_are_fixed():
    v = vendor()
    client = session_client(v.owner)
    c = campaign(v)
    answer = client.patch(f"{API}{c.pk}/", {"total_budget_usd": "60"}, format="json")
    assert answer.status_code == 200 and answer.json()["total_budget_nanos"] == 60 * USD
    assert answer.json()["name"] == c.name
    for field, value in (("pricing", "cpm"), ("model", "other/model")):
        refused = client.patch(f"{API}{c.pk}/", {field: value}, format="json")
        assert refused.status_code == 400 and "cannot change" in refused.json()[field][0]
    put = client.put(f"{API}{c.pk}/", {"name": "only a name"}, format="json")
    assert put.status_code == 400 and "missing" in str(put.json())


def test_the_total_budget_cannot_go_below_spend():
    v = vendor()
    c = campaign(v)
    Campaign.objects.filter(pk=c.pk).update(spent_nanos=7 * USD)
    answer = session_client(v.owner).patch(f"{API}{c.pk}/", {"total_budget_usd": "6",
                                                             "daily_budget_usd": "5"},
                                           format="json")
    assert answer.status_code == 400
    assert "already spent" in answer.json()["total_budget_usd"][0]


def test_pause_and_resume_and_staff_pause_beats_vendor_resume():
    v = vendor()
    client = session_client(v.owner)
    c = campaign(v)
    assert client.post(f"{API}{c.pk}/pause/").json()["status"] == "paused"
    assert client.post(f"{API}{c.pk}/pause/").json()["status"] == "paused"  # repeat: no entry
    assert client.post(f"{API}{c.pk}/resume/").json()["status"] == "active"
    actions = list(AuditEntry.objects.filter(org=v.org, action__startswith="campaign.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["campaign.created", "campaign.paused", "campaign.resumed"]

    staff = member(Role.OWNER).user  # any user object stands for the staff actor here
    services.staff_pause_campaign(campaign=c, actor=staff)
    refused = client.post(f"{API}{c.pk}/resume/")
    assert refused.status_code == 403 and "Staff paused" in refused.json()["error"]["message"]
    # The vendor's own pause does not overwrite staff's.
    assert client.post(f"{API}{c.pk}/pause/").json()["status"] == "staff_paused"
    c.refresh_from_db()
    assert c.status == CampaignStatus.STAFF_PAUSED
    assert AuditEntry.objects.filter(org=v.org, action="campaign.staff_paused").count() == 1


def test_members_read_but_only_owners_and_admins_write():
    v = vendor()
    c = campaign(v)
    developer = member(Role.DEVELOPER, org=v.org)
    client = session_client(developer)
    assert client.get(f"{API}{c.pk}/").status_code == 200
    assert client.post(f"{API}{c.pk}/pause/").status_code == 403
    assert client.post(API, _create_body(v.model.slug), format="json").status_code == 403
    admin = member(Role.ADMIN, org=v.org)
    assert session_client(admin).post(f"{API}{c.pk}/pause/").status_code == 200


def test_management_keys_work_and_inference_keys_do_not():
    v = vendor()
    _, management = api_key(v.org, scope="management")
    _, inference = api_key(v.org, scope="inference")
    created = key_client(management).post(API, _create_body(v.model.slug), format="json")
    assert created.status_code == 201
    assert key_client(inference).get(API).status_code == 403
    entry = AuditEntry.objects.get(action="campaign.created")
    assert entry.actor_key_id is not None


def test_the_schema_lists_the_campaign_operations(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()["paths"]
    assert set(schema["/api/v1/listings/campaigns/{campaign_id}/"]) >= {"get", "patch", "put"}
    for path in ("/api/v1/listings/campaigns/", "/api/v1/listings/campaigns/{campaign_id}/",
                 "/api/v1/listings/campaigns/{campaign_id}/pause/",
                 "/api/v1/listings/campaigns/{campaign_id}/report/"):
        assert path in schema


def test_the_models_and_listing_edits_api():
    v, other = vendor(), vendor()
    client = session_client(v.owner)
    models = client.get("/api/v1/listings/models/").json()
    assert [(m["slug"], m["input_nanos_per_m"]) for m in models] == [(v.model.slug, USD)]
    created = client.post("/api/v1/listings/edits/", {"model": v.model.slug,
                                                     "description": "Reads PDFs",
                                                     "tags": ["pdf"]}, format="json")
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["tags"]) == ("pending", ["pdf"])
    assert [e["id"] for e in client.get("/api/v1/listings/edits/").json()] == \
        [created.json()["id"]]
    assert client.post("/api/v1/listings/edits/", {"model": other.model.slug,
                                                  "description": "mine"},
                       format="json").status_code == 404
    assert client.post("/api/v1/listings/edits/", {"model": v.model.slug, "description": " "},
                       format="json").status_code == 400
    assert session_client(other.owner).get("/api/v1/listings/edits/").json() == []
    assert session_client(member(Role.OWNER)).get("/api/v1/listings/models/").status_code == 403
