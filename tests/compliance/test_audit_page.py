"""The audit log page: owners and admins see their org's entries, filter them and export CSV;
other roles get 403; the navigation links it for those who may see it."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import Client

from marketplace.tenancy import key_services, services
from marketplace.tenancy.models import AuditEntry, Role
from marketplace.tenancy.roles import Actor
from tests.compliance.audit_support import backdated
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

PAGE = "/compliance/audit/"


def signed_in(m) -> Client:
    client = Client()
    client.force_login(m.user)
    return client


@pytest.fixture
def team():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    key, _ = key_services.create_api_key(org=owner.org, name="build <b>bot</b>",
                                     actor=Actor(role=Role.ADMIN, user=admin.user))
    services.change_role(org=owner.org, membership=admin, role=Role.DEVELOPER,
                         actor=Actor(role=Role.OWNER, user=owner.user))
    admin.role = Role.DEVELOPER
    return owner, admin, key


def test_an_admin_sees_the_log_with_its_changes(team):
    owner, developer, key = team
    admin = member(Role.ADMIN, org=owner.org)
    other = member(Role.OWNER)
    key_services.create_api_key(org=other.org, name="their secret project",
                            actor=Actor(role=Role.OWNER, user=other.user))

    response = signed_in(admin).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "api_key.created" in html and "member.role_changed" in html
    assert f"build &lt;b&gt;bot&lt;/b&gt; ({key.prefix})" in html  # escaped, never markup
    assert "&quot;developer&quot;" in html  # the role change's after
    assert "their secret project" not in html
    assert 'href="/compliance/audit/"' in html  # the navigation link
    assert 'id="audit-export"' in html


def test_other_roles_are_forbidden_and_see_no_link(team):
    owner, developer, _ = team
    response = signed_in(developer).get(PAGE)
    assert response.status_code == 403
    for role in (Role.FINANCE, Role.VIEWER):
        assert signed_in(member(role, org=owner.org)).get(PAGE).status_code == 403
    overview = signed_in(developer).get("/dashboard/").content.decode()
    assert "/compliance/audit/" not in overview
    assert signed_in(developer).get(f"{PAGE}export.csv").status_code == 403
    assert Client().get(PAGE).status_code == 302  # to the login


def test_filters_and_a_bad_date_is_a_form_error(team):
    owner, _, _ = team
    old = backdated(org=owner.org, action="member.invited", actor_label="someone@example.com",
                    target_label="invitee@example.com",
                    at=datetime(2026, 1, 15, 9, tzinfo=UTC))
    client = signed_in(owner)

    page = client.get(PAGE, {"action": "member.invited", "since": "2026-01-01",
                             "until": "2026-01-31"})
    html = page.content.decode()
    assert page.status_code == 200 and "invitee@example.com" in html
    assert "build &lt;b&gt;bot&lt;/b&gt;" not in html
    assert '<option value="member.invited" selected>' in html
    outside = client.get(PAGE, {"until": "2026-01-14"}).content.decode()
    assert "invitee@example.com" not in outside and "No entries match." in outside

    bad = client.get(PAGE, {"since": "15/01/2026"})
    assert bad.status_code == 400
    assert 'id="filter-error"' in bad.content.decode()
    assert AuditEntry.objects.get(pk=old.pk).action == "member.invited"


def test_export_csv_is_the_filtered_log(team):
    owner, _, key = team
    response = signed_in(owner).get(f"{PAGE}export.csv", {"action": "api_key.created"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="audit-log-{owner.org.slug}.csv"')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["action"], r["target"]) for r in rows] == [
        ("api_key.created", f"build <b>bot</b> ({key.prefix})")]
    assert signed_in(owner).get(f"{PAGE}export.csv", {"until": "x"}).status_code == 400


def test_paging(team):
    owner, _, _ = team
    for n in range(60):
        backdated(org=owner.org, action="x.bulk", actor_label="system", target_label=f"row{n:02d}",
                  at=datetime(2026, 2, 1, 0, n, tzinfo=UTC))
    client = signed_in(owner)
    first = client.get(PAGE, {"action": "x.bulk"}).content.decode()
    assert "row59" in first and "row10" in first and "row09" not in first
    assert "Page 1 of 2" in first
    second = client.get(PAGE, {"action": "x.bulk", "page": 2}).content.decode()
    assert "row09" in second and "row00" in second and "row10" not in second
