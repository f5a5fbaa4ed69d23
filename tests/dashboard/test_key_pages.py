"""The keys list (spend, limit, last use), a key's detail page and chart, rename, and revoke
after a confirmation page; another org's key is a 404 everywhere."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.hotpath.rules import period_starts
from billing.services.spend_limits import set_key_spend_limit
from marketplace.dashboard.demo_usage import add_demo_usage
from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import ApiKey, AuditEntry, Role
from marketplace.tenancy.roles import Actor
from marketplace.tenancy.selectors import get_key_auth
from tests.dashboard.usage_rows import json_script, usage
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db

USD = 1_000_000_000
# Session, user, membership (the decorator), spend by key, limits, the keys, the org switcher.
KEYS_MAX_QUERIES = 7
# Session, user, membership, the key, its creator, the chart, its usage and its limit, the
# org switcher.
KEY_DETAIL_MAX_QUERIES = 9


def _signed_in(client, membership):
    client.force_login(membership.user)
    return client


def _row(html: str, key_id: int) -> str:
    start = html.index(f'<tr id="key-{key_id}">')
    return html[start:html.index("</tr>", start)]


def test_the_list_shows_spend_today_and_this_month_limit_and_last_use(client):
    m = member(Role.OWNER)
    org = m.org
    busy, _ = api_key(org, name="busy")
    idle, _ = api_key(org, name="idle")
    now = timezone.now()
    starts = period_starts(now)
    usage(org, key=busy, at=starts["day"], charge=1_234_567)
    usage(org, key=busy, at=starts["month"], charge=2 * USD)
    usage(org, key=busy, at=starts["month"] - dt.timedelta(seconds=1), charge=50 * USD)
    set_key_spend_limit(org=org, key_id=busy.pk, limit_nanos=25 * USD, period="week",
                        actor=Actor(role=Role.OWNER))
    ApiKey.objects.filter(pk=busy.pk).update(last_used_at=now - dt.timedelta(hours=3))

    html = _signed_in(client, m).get("/dashboard/keys/").content.decode()

    row = _row(html, busy.pk)
    cells = [cell.split(">", 1)[1] for cell in row.split("<td")[1:]]
    day = 1_234_567 + (2 * USD if starts["month"] == starts["day"] else 0)
    from core.money import request_cost_usd
    assert request_cost_usd(day) in cells[3]
    assert request_cost_usd(2 * USD + 1_234_567) in cells[4]
    assert "$25.00" in cells[5] and "per week" in cells[5]
    assert "3\xa0hours ago" in cells[6]
    assert f'href="/dashboard/keys/{busy.pk}/"' in row
    idle_row = _row(html, idle.pk)
    assert idle_row.count("$0") == 2 and ">none<" in idle_row and ">never<" in idle_row


def test_the_list_costs_the_same_queries_whatever_the_usage_and_keys(
        client, django_assert_max_num_queries):
    m = member(Role.DEVELOPER)
    api_key(m.org, name="first")
    _signed_in(client, m).get("/dashboard/keys/")
    add_demo_usage(m.org, 5, seed=3)
    with CaptureQueriesContext(connection) as few:
        client.get("/dashboard/keys/")
    for i in range(4):
        key, _ = api_key(m.org, name=f"more-{i}")
        set_key_spend_limit(org=m.org, key_id=key.pk, limit_nanos=USD, period="day",
                            actor=Actor(role=Role.OWNER))
    add_demo_usage(m.org, 300, seed=4)
    with django_assert_max_num_queries(KEYS_MAX_QUERIES), CaptureQueriesContext(
            connection) as many:
        assert client.get("/dashboard/keys/").status_code == 200
    assert len(few) == len(many)


def test_the_detail_page_charts_the_keys_daily_spend_and_requests(
        client, django_assert_max_num_queries):
    m = member(Role.VIEWER)
    key, _ = api_key(m.org, name="backend")
    other_key, _ = api_key(m.org, name="other")
    today = period_starts(timezone.now())["day"]
    usage(m.org, key=key, at=today, charge=1_500_000, model="a/one")
    usage(m.org, key=key, at=today, charge=500_000, model="b/two")
    usage(m.org, key=key, at=today - dt.timedelta(days=2), charge=USD)
    usage(m.org, key=other_key, at=today, charge=7 * USD)
    _signed_in(client, m).get("/dashboard/")

    with django_assert_max_num_queries(KEY_DETAIL_MAX_QUERIES):
        page = client.get(f"/dashboard/keys/{key.pk}/")

    assert page.status_code == 200
    data = json_script(page.content, "key-usage-data")
    spend, requests = data["series"]
    assert (spend["label"], spend["axis"], requests["label"], requests["axis"]) == (
        "Spend", "usd", "Requests", "count")
    assert len(data["labels"]) == 30
    assert (spend["values"][-1], spend["display"][-1], requests["values"][-1]) == (
        "0.002", "$0.002", 2)
    assert (spend["values"][-3], requests["values"][-3]) == ("1", 1)
    assert sum(requests["values"]) == 3
    html = page.content.decode()
    assert key.prefix in html and "Inference" in html
    assert 'id="rename-heading"' not in html  # a viewer reads only
    assert "Revoke…" not in html


def test_rename(client):
    m = member(Role.DEVELOPER)
    key, _ = api_key(m.org, name="old name")
    _signed_in(client, m)

    response = client.post(f"/dashboard/keys/{key.pk}/", {"name": "  staging  "}, follow=True)

    assert response.redirect_chain == [(f"/dashboard/keys/{key.pk}/", 302)]
    key.refresh_from_db()
    assert key.name == "staging"
    assert "Renamed the key to “staging”." in response.content.decode()
    entry = AuditEntry.objects.get(org=m.org, action="api_key.renamed")
    assert (entry.before, entry.after) == ({"name": "old name"}, {"name": "staging"})


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_a_form_error_and_changes_nothing(client, name):
    m = member(Role.OWNER)
    key, _ = api_key(m.org, name="kept")
    response = _signed_in(client, m).post(f"/dashboard/keys/{key.pk}/", {"name": name})
    assert response.status_code == 400
    assert b'class="errorlist"' in response.content
    key.refresh_from_db()
    assert key.name == "kept"
    assert not AuditEntry.objects.filter(action="api_key.renamed").exists()


def test_who_may_rename(client):
    owner = member(Role.OWNER)
    management, _ = api_key(owner.org, name="admin key", scope="management")
    developer = member(Role.DEVELOPER, org=owner.org)
    viewer = member(Role.VIEWER, org=owner.org)
    inference, _ = api_key(owner.org, name="inference")
    _signed_in(client, viewer)
    assert client.post(f"/dashboard/keys/{inference.pk}/", {"name": "x"}).status_code == 403
    _signed_in(client, developer)
    assert client.post(f"/dashboard/keys/{management.pk}/", {"name": "x"}).status_code == 403
    client.post(f"/dashboard/keys/{inference.pk}/revoke/")
    assert client.post(f"/dashboard/keys/{inference.pk}/", {"name": "x"}).status_code == 403
    assert set(ApiKey.objects.values_list("name", flat=True)) == {"admin key", "inference"}


def test_revoke_asks_first_then_says_what_happened(client):
    m = member(Role.OWNER)
    key, plaintext = api_key(m.org, name="ci", scope="management")
    child, child_plaintext = api_key(m.org, name="child")
    ApiKey.objects.filter(pk=child.pk).update(parent_key=key)
    _signed_in(client, m)

    confirm = client.get(f"/dashboard/keys/{key.pk}/revoke/")

    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Revoke the key “ci”?" in html and child.prefix in html
    assert f'<form method="post" action="/dashboard/keys/{key.pk}/revoke/">' in html
    assert get_key_auth(hash_api_key(plaintext)).revoked is False  # asking revokes nothing

    done = client.post(f"/dashboard/keys/{key.pk}/revoke/", follow=True)

    assert done.redirect_chain == [("/dashboard/keys/", 302)]
    assert (f"Revoked the key “ci” ({key.prefix}…): requests using it are refused from now on. "
            "The 1 key it created was revoked with it.") in done.content.decode()
    assert get_key_auth(hash_api_key(plaintext)).revoked is True
    assert get_key_auth(hash_api_key(child_plaintext)).revoked is True
    again = client.post(f"/dashboard/keys/{key.pk}/revoke/", follow=True)
    assert "was already revoked" in again.content.decode()
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


def test_a_developer_cannot_revoke_a_management_key(client):
    owner = member(Role.OWNER)
    key, plaintext = api_key(owner.org, scope="management")
    developer = member(Role.DEVELOPER, org=owner.org)
    _signed_in(client, developer)
    assert client.get(f"/dashboard/keys/{key.pk}/revoke/").status_code == 403
    assert client.post(f"/dashboard/keys/{key.pk}/revoke/").status_code == 403
    assert get_key_auth(hash_api_key(plaintext)).revoked is False


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/dashboard/keys/{}/"), ("post", "/dashboard/keys/{}/"),
    ("get", "/dashboard/keys/{}/revoke/"), ("post", "/dashboard/keys/{}/revoke/")])
def test_another_orgs_key_is_404(client, method, path):
    m = member(Role.OWNER)
    other = member(Role.OWNER)
    key, plaintext = api_key(other.org, name="theirs")
    response = getattr(_signed_in(client, m), method)(path.format(key.pk), {"name": "mine"})
    assert response.status_code == 404
    assert getattr(_signed_in(client, m), method)(path.format(999_999)).status_code == 404
    key.refresh_from_db()
    assert key.name == "theirs" and key.revoked_at is None


def test_the_detail_page_costs_the_same_queries_whatever_the_usage(client):
    m = member(Role.OWNER)
    key, _ = api_key(m.org, name="busy")
    _signed_in(client, m).get(f"/dashboard/keys/{key.pk}/")
    add_demo_usage(m.org, 5, seed=5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/dashboard/keys/{key.pk}/").status_code == 200
    set_key_spend_limit(org=m.org, key_id=key.pk, limit_nanos=USD, period="month",
                        actor=Actor(role=Role.OWNER))
    add_demo_usage(m.org, 300, seed=6)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/dashboard/keys/{key.pk}/").status_code == 200
    assert len(few) == len(many) <= KEY_DETAIL_MAX_QUERIES
