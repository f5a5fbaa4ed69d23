"""Staff's side in the Django admin: vendor grants (audited in the vendor's log), what a vendor
may promote, listing edits approved into the catalog (audited, the catalog's list shows them),
and staff pause of campaigns."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Endpoint, Model, Provider
from catalog.selectors import get_catalog_stamp
from core.errors import Forbidden, NotFound
from marketplace.listings import selectors, services
from marketplace.listings.models import CampaignStatus, EditStatus, ListingEdit, VendorGrant
from marketplace.tenancy.models import AuditEntry, OrgKind, Role
from marketplace.tenancy.roles import Actor
from tests.listings.factories import campaign, catalog_model, vendor
from tests.staff import sign_in_with_mfa, staff_user
from tests.tenancy.factories import OrganizationFactory, member, session_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    user = staff_user(is_superuser=True)
    return user, sign_in_with_mfa(Client(), user)


def test_staff_add_and_remove_grants_in_the_admin_each_audited_in_the_vendors_log(staff):
    user, client = staff
    org = OrganizationFactory(kind=OrgKind.VENDOR)
    model = catalog_model()
    answer = client.post("/admin/listings/vendorgrant/add/",
                         {"org": org.pk, "model": model.pk, "evidence": "signed letter"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    grant = VendorGrant.objects.get(org=org)
    assert (grant.model, grant.verified_by, grant.evidence) == (model, user, "signed letter")
    added = AuditEntry.objects.get(org=org, action="vendor_grant.added")
    assert added.actor_user == user
    assert added.after == {"provider": None, "model": model.slug, "evidence": "signed letter"}
    assert list(selectors.promotable_models(org)) == [model]

    answer = client.post(f"/admin/listings/vendorgrant/{grant.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not VendorGrant.objects.exists()
    removed = AuditEntry.objects.get(org=org, action="vendor_grant.removed")
    assert removed.before["model"] == model.slug and removed.actor_user == user
    assert list(selectors.promotable_models(org)) == []


def test_the_admin_refuses_a_developer_org_and_a_grant_of_both_or_neither(staff):
    _, client = staff
    developer = OrganizationFactory()
    model = catalog_model()
    provider = Provider.objects.get(endpoints__model=model)
    for data in ({"org": developer.pk, "model": model.pk},
                 {"org": OrganizationFactory(kind=OrgKind.BOTH).pk, "model": model.pk,
                  "provider": provider.pk},
                 {"org": OrganizationFactory(kind=OrgKind.VENDOR).pk}):
        answer = client.post("/admin/listings/vendorgrant/add/", data)
        assert answer.status_code == 200  # the form again, with its error
        assert b"errornote" in answer.content or b"errorlist" in answer.content
    assert not VendorGrant.objects.exists()
    assert not AuditEntry.objects.filter(action="vendor_grant.added").exists()


def test_promotable_models_are_direct_grants_and_active_endpoints_at_granted_providers():
    v = vendor()  # granted its provider, which serves v.model
    second = catalog_model(v.provider)
    disabled = catalog_model(v.provider)
    Endpoint.objects.filter(model=disabled).update(status="disabled")
    direct = catalog_model()
    services.add_grant(org=v.org, actor=None, model=direct)
    catalog_model()  # someone else's
    assert set(selectors.promotable_models(v.org)) == {v.model, second, direct}
    v.org.kind = OrgKind.DEVELOPER  # an org that stopped being a vendor promotes nothing
    assert list(selectors.promotable_models(v.org)) == []


def test_a_listing_edit_approved_in_the_admin_updates_the_catalog_and_is_audited(staff):
    user, client = staff
    v = vendor()
    edit = services.propose_listing_edit(org=v.org, actor=v.actor, model_slug=v.model.slug,
                                         description="  Fast extraction at half the price. ",
                                         tags="Extraction, long context, extraction")
    assert edit.tags == ["extraction", "long context"]
    assert AuditEntry.objects.filter(org=v.org, action="listing_edit.proposed").exists()
    stamp = get_catalog_stamp()
    answer = client.post("/admin/listings/listingedit/",
                         {"action": "approve", "_selected_action": [edit.pk]})
    assert answer.status_code == 302
    model = Model.objects.get(pk=v.model.pk)
    assert (model.description, model.tags) == ("Fast extraction at half the price.",
                                               ["extraction", "long context"])
    assert get_catalog_stamp() != stamp  # the cached model index is rebuilt
    edit.refresh_from_db()
    assert (edit.status, edit.reviewed_by) == (EditStatus.APPROVED, user)
    approved = AuditEntry.objects.get(org=v.org, action="listing_edit.approved")
    assert approved.actor_user == user
    catalog_entry = AuditEntry.objects.get(org=None, action="model.listing_text_changed")
    assert catalog_entry.after["description"] == "Fast extraction at half the price."
    assert catalog_entry.before["description"] == ""
    # The public page shows it.
    assert b"Fast extraction at half the price." in Client().get(
        f"/models/{v.model.slug}").content
    # Approving again changes nothing and writes nothing.
    client.post("/admin/listings/listingedit/", {"action": "approve",
                                                 "_selected_action": [edit.pk]})
    assert AuditEntry.objects.filter(action="listing_edit.approved").count() == 1


def test_a_rejected_edit_leaves_the_catalog_alone(staff):
    _, client = staff
    v = vendor()
    edit = services.propose_listing_edit(org=v.org, actor=v.actor, model_slug=v.model.slug,
                                         description="Best model ever", tags=[])
    client.post("/admin/listings/listingedit/", {"action": "reject",
                                                 "_selected_action": [edit.pk]})
    assert ListingEdit.objects.get(pk=edit.pk).status == EditStatus.REJECTED
    assert Model.objects.get(pk=v.model.pk).description == ""
    assert AuditEntry.objects.filter(org=v.org, action="listing_edit.rejected").exists()


def test_listing_edits_only_for_vendor_managers_and_their_models():
    v, other = vendor(), vendor()
    with pytest.raises(NotFound):
        services.propose_listing_edit(org=v.org, actor=v.actor, model_slug=other.model.slug,
                                      description="x", tags=[])
    developer = member(Role.DEVELOPER, org=v.org)
    with pytest.raises(Forbidden):
        services.propose_listing_edit(org=v.org, actor=Actor(role=developer.role,
                                                             user=developer.user),
                                      model_slug=v.model.slug, description="x", tags=[])
    plain = member(Role.OWNER)
    with pytest.raises(Forbidden, match="Only vendor organizations"):
        services.propose_listing_edit(org=plain.org, actor=Actor(role=Role.OWNER,
                                                                 user=plain.user),
                                      model_slug=v.model.slug, description="x", tags=[])


def test_staff_pause_in_the_admin_then_the_vendor_cannot_resume_until_staff_lift_it(staff):
    user, client = staff
    v = vendor()
    c = campaign(v)
    client.post("/admin/listings/campaign/", {"action": "staff_pause",
                                              "_selected_action": [c.pk]})
    c.refresh_from_db()
    assert c.status == CampaignStatus.STAFF_PAUSED
    entry = AuditEntry.objects.get(org=v.org, action="campaign.staff_paused")
    assert entry.actor_user == user
    with pytest.raises(Forbidden, match="Staff paused"):
        services.resume_campaign(org=v.org, actor=v.actor, campaign_id=c.pk)
    page = session_client(v.owner).get(f"/vendor/campaigns/{c.pk}/")
    assert b'id="campaign-staff-paused"' in page.content and b"campaign-resume" not in page.content
    client.post("/admin/listings/campaign/", {"action": "staff_unpause",
                                              "_selected_action": [c.pk]})
    c.refresh_from_db()
    assert c.status == CampaignStatus.PAUSED
    assert services.resume_campaign(org=v.org, actor=v.actor,
                                    campaign_id=c.pk).status == CampaignStatus.ACTIVE


def test_operators_may_grant_and_review_but_not_edit_events():
    from importlib import import_module

    from django.apps import apps

    import_module("marketplace.listings.migrations.0002_operators_listings_permissions") \
        .forwards(apps, None)  # again: a flush between tests empties the permission rows
    user = staff_user()  # an operator, not a superuser
    for perm in ("listings.add_vendorgrant", "listings.delete_vendorgrant",
                 "listings.change_listingedit", "listings.change_campaign"):
        assert user.has_perm(perm), perm
    assert not user.has_perm("listings.change_adevent")
    client = sign_in_with_mfa(Client(), user)
    assert client.get("/admin/listings/vendorgrant/add/").status_code == 200
    assert client.get("/admin/listings/campaign/").status_code == 200
