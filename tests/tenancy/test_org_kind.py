"""The organization's kind (developer, vendor or both; issue 14): owners set it in the
settings page and the org API, audited as organization.kind_changed; no one else can."""

from __future__ import annotations

import pytest

from marketplace.tenancy.models import AuditEntry, OrgKind, Role
from tests.tenancy.factories import member, session_client

pytestmark = pytest.mark.django_db


def test_owners_set_the_org_kind_in_settings_audited_and_others_cannot():
    owner = member(Role.OWNER)
    client = session_client(owner)
    assert b'name="kind"' in client.get("/dashboard/settings/").content
    assert client.post("/dashboard/settings/kind/", {"kind": "both"}).status_code == 302
    owner.org.refresh_from_db()
    assert owner.org.kind == OrgKind.BOTH
    entry = AuditEntry.objects.get(org=owner.org, action="organization.kind_changed")
    assert (entry.before, entry.after) == ({"kind": "developer"}, {"kind": "both"})
    client.post("/dashboard/settings/kind/", {"kind": "both"})  # no change, no entry
    assert AuditEntry.objects.filter(action="organization.kind_changed").count() == 1
    assert client.post("/dashboard/settings/kind/", {"kind": "pirate"}).status_code == 400
    admin = member(Role.ADMIN, org=owner.org)
    assert session_client(admin).post("/dashboard/settings/kind/",
                                      {"kind": "developer"}).status_code == 403
    owner.org.refresh_from_db()
    assert owner.org.kind == OrgKind.BOTH


def test_the_org_api_shows_and_changes_the_kind_for_owners():
    owner = member(Role.OWNER)
    client = session_client(owner)
    url = f"/api/v1/organizations/{owner.org.pk}/"
    assert client.get(url).json()["kind"] == "developer"
    answer = client.post(f"{url}update/", {"kind": "vendor", "name": "Acme Models"},
                         format="json")
    assert answer.status_code == 200 and answer.json()["kind"] == "vendor"
    assert answer.json()["name"] == "Acme Models"
    assert client.post(f"{url}update/", {"kind": "x"}, format="json").status_code == 400
    admin = member(Role.ADMIN, org=owner.org)
    refused = session_client(admin).post(f"{url}update/", {"kind": "developer",
                                                           "name": "Changed"}, format="json")
    assert refused.status_code == 403
    owner.org.refresh_from_db()
    assert (owner.org.kind, owner.org.name) == ("vendor", "Acme Models")  # neither change
