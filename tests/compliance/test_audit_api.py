"""`GET /api/v1/compliance/audit/`: owners, admins and management keys page through their
org's log with filters; bad filters are 400s; another org's entries are never visible."""

import csv
import io
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import AuditEntry, Role
from tests.compliance.audit_support import backdated
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/compliance/audit/"


@pytest.fixture
def log():
    """An org with four entries on three days, by a user and by a key; another org's entry.

    The org's key is minted through the service, so the log also holds that (today's) entry.
    """
    owner = member(Role.OWNER)
    org = owner.org
    key, plaintext = api_key(org, scope="management", name="ops")
    other = member(Role.OWNER)
    by_user = {"actor_user": owner.user, "actor_label": owner.user.email}
    by_key = {"actor_key": key, "actor_label": f"key {key.prefix}"}
    made = [
        backdated(org=org, action=action, target_label=f"t{n}", after={"n": n},
                  at=datetime(2026, 11, day, 12, tzinfo=UTC), **actor)
        for n, (day, action, actor) in enumerate([
            (1, "api_key.created", by_user), (2, "member.invited", by_user),
            (2, "api_key.revoked", by_key), (3, "api_key.created", by_key)])
    ]
    record_audit(org=other.org, action="api_key.created", actor=other.user)
    return owner, key, plaintext, other, made


def _ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_owner_pages_through_the_log_newest_first(log):
    owner, key, plaintext, other, made = log
    everything = session_client(owner).get(URL).json()
    mine = [e.pk for e in AuditEntry.objects.filter(org=owner.org).order_by("-created_at", "-id")]
    assert everything["count"] == len(mine) and _ids_of(everything) == mine

    first = session_client(owner).get(URL, {"limit": 2})
    assert first.status_code == 200 and _ids(first) == mine[:2]
    second = session_client(owner).get(first.json()["next"])
    assert _ids(second) == mine[2:4]
    row = next(r for r in everything["results"] if r["id"] == made[0].pk)
    assert row == {
        "id": made[0].pk, "created_at": "2026-11-01T12:00:00Z", "action": "api_key.created",
        "actor": owner.user.email, "actor_user_id": owner.user.pk, "actor_key_id": None,
        "target_type": "", "target_id": "", "target": "t0", "before": None, "after": {"n": 0},
        "client_ip": None,
    }


def _ids_of(body):
    return [row["id"] for row in body["results"]]


def test_filters_by_action_family_dates_and_actor(log):
    owner, key, _, _, made = log
    client = session_client(owner)
    assert _ids(client.get(URL, {"action": "member.invited"})) == [made[1].pk]
    created = [e.pk for e in AuditEntry.objects.filter(
        org=owner.org, action="api_key.created").order_by("-created_at", "-id")]
    assert _ids(client.get(URL, {"action": "api_key.created"})) == created
    # A family: every action starting so.
    assert set(_ids(client.get(URL, {"action": "api_key."}))) == set(created) | {made[2].pk}
    # Dates: since inclusive, until the whole day included.
    assert _ids(client.get(URL, {"since": "2026-11-02", "until": "2026-11-02"})) == [
        made[2].pk, made[1].pk]
    assert _ids(client.get(URL, {"since": "2026-11-02T12:00:00Z",
                                 "until": "2026-11-03T11:59:59Z"})) == [made[2].pk, made[1].pk]
    assert _ids(client.get(URL, {"until": "2026-11-01"})) == [made[0].pk]
    # Actor as shown: a key's label, an email (any case).
    assert _ids(client.get(URL, {"actor": f"key {key.prefix}"})) == [made[3].pk, made[2].pk]
    assert _ids(client.get(URL, {"actor": owner.user.email.upper()})) == [
        made[1].pk, made[0].pk]


@pytest.mark.parametrize(("params", "field"), [
    ({"since": "yesterday"}, "since"), ({"since": "2026-02-30"}, "since"),
    ({"until": "2026-13-01"}, "until"), ({"since": "2026-11-03", "until": "2026-11-01"}, "until"),
    ({"action": "x" * 65}, "action"), ({"limit": "0"}, "limit"), ({"offset": "-1"}, "offset"),
    ({"since": "2026-11-01\x00"}, "since"),
])
def test_bad_filters_are_400_naming_the_field(log, params, field):
    owner = log[0]
    response = session_client(owner).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_another_orgs_entries_are_never_visible(log):
    owner, _, _, other, made = log
    theirs = AuditEntry.objects.get(org=other.org)
    mine = session_client(owner).get(URL, {"limit": 500}).json()
    assert theirs.pk not in _ids_of(mine)
    assert all(AuditEntry.objects.get(pk=i).org_id == owner.org_id for i in _ids_of(mine))
    # An entry of theirs by id is 404, exactly like a missing one; naming their org too.
    assert session_client(owner).get(f"{URL}{theirs.pk}/").status_code == 404
    assert session_client(owner).get(f"{URL}999999/").status_code == 404
    assert session_client(owner).get(URL, HTTP_X_SWITCHYARD_ORG=str(other.org_id)
                                      ).status_code == 404
    platform = record_audit(org=None, action="provider.created")
    assert session_client(owner).get(f"{URL}{platform.pk}/").status_code == 404
    own = session_client(owner).get(f"{URL}{made[1].pk}/")
    assert own.status_code == 200 and own.json()["action"] == "member.invited"


def test_who_may_read_it(log):
    owner, key, plaintext, _, _ = log
    admin = member(Role.ADMIN, org=owner.org)
    assert session_client(admin).get(URL).status_code == 200
    assert key_client(plaintext).get(URL).status_code == 200
    for role in (Role.DEVELOPER, Role.FINANCE, Role.VIEWER):
        assert session_client(member(role, org=owner.org)).get(URL).status_code == 403
    _, inference = api_key(owner.org, scope="inference")
    assert key_client(inference).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


def test_csv_export_streams_the_filtered_log(log):
    owner, key, plaintext, _, made = log
    record_audit(org=owner.org, action="member.invited", target_label="=HYPERLINK(\"x\")",
                 after={"email": "a@example.com"})
    response = key_client(plaintext).get(f"{URL}export.csv", {"action": "member.invited"},
                                         HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["member.invited", "member.invited"]
    newest, oldest = rows
    # A formula typed into a label reaches a spreadsheet as text.
    assert newest["target"] == "'=HYPERLINK(\"x\")"
    assert newest["after"] == '{"email": "a@example.com"}'
    assert (oldest["id"], oldest["actor"], oldest["created_at"]) == (
        str(made[1].pk), owner.user.email, "2026-11-02T12:00:00+00:00")
    assert session_client(owner).get(f"{URL}export.csv", {"since": "nope"}).status_code == 400
    viewer = member(Role.VIEWER, org=owner.org)
    assert session_client(viewer).get(f"{URL}export.csv").status_code == 403


def test_days_are_utc_days(log):
    owner = log[0]
    late = backdated(org=owner.org, action="x.late", actor_label="system",
                     at=datetime(2026, 11, 5, 23, 59, 59, 999_999, tzinfo=UTC))
    client = session_client(owner)
    assert _ids(client.get(URL, {"action": "x.late", "until": "2026-11-05"})) == [late.pk]
    assert _ids(client.get(URL, {"action": "x.late", "since": "2026-11-06"})) == []
