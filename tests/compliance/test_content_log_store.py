"""Content logging's storage: what the gateway's batches insert, who may read it, the daily
purge, and the rule that an org requiring zero data retention can never keep content.

The gateway side (what a real request stores, stream and not, and nothing when off) is in
tests/gateway/test_content_log_gateway.py.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from compliance.content_log import ContentRow, purge_expired, store_contents
from compliance.models import OrgPolicy, RequestContent
from marketplace.celery import app as celery_app
from marketplace.periodic import PeriodicTimer
from marketplace.tenancy.models import Role
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


def _row(org, request_id: str, *, expires_in: dt.timedelta = dt.timedelta(days=7),
         request=None, response=None) -> ContentRow:
    now = timezone.now()
    return ContentRow(org_id=org.pk, request_id=request_id,
                      request=request or {"model": "m", "messages": [{"role": "user",
                                                                      "content": "hi"}]},
                      response=response or {"choices": [{"message": {"content": "hello"}}]},
                      created_at=now, expires_at=now + expires_in)


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _get(client, request_id, org):
    return client.get(f"/api/v1/compliance/content/{request_id}/",
                      HTTP_X_SWITCHYARD_ORG=str(org.pk))


def test_a_batch_is_stored_and_a_retried_batch_changes_nothing():
    org = member().org
    rows = [_row(org, "req-a"), _row(org, "req-b", response={"x": 1})]

    assert store_contents(rows) == 2
    store_contents([_row(org, "req-a", response={"replayed": True})])

    assert RequestContent.objects.count() == 2
    assert RequestContent.objects.get(request_id="req-a").response == {
        "choices": [{"message": {"content": "hello"}}]}


@pytest.mark.postgres
def test_a_row_the_database_refuses_does_not_block_the_rest_of_its_batch():
    org = member().org
    # PostgreSQL's jsonb cannot hold U+0000: that row alone is dropped.
    bad = _row(org, "req-nul", request={"messages": [{"content": "a\x00b"}]})

    stored = store_contents([_row(org, "req-1"), bad, _row(org, "req-2")])

    assert stored == 2
    assert set(RequestContent.objects.values_list("request_id", flat=True)) == {"req-1", "req-2"}


def test_owners_and_admins_read_their_orgs_content_and_nobody_else_does():
    owner = member(Role.OWNER)
    org = owner.org
    store_contents([_row(org, "req-mine", request={"messages": [{"content": "secret"}]})])
    stranger = member(Role.OWNER)

    for role in (Role.OWNER, Role.ADMIN):
        response = _get(_client(member(role, org)), "req-mine", org)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["request_id"] == "req-mine"
        assert body["request"] == {"messages": [{"content": "secret"}]}
        assert body["response"] == {"choices": [{"message": {"content": "hello"}}]}
    for role in (Role.DEVELOPER, Role.VIEWER, Role.FINANCE):
        assert _get(_client(member(role, org)), "req-mine", org).status_code == 403
    theirs = _get(_client(stranger), "req-mine", stranger.org)
    missing = _get(_client(stranger), "req-never", stranger.org)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_a_management_key_reads_content_an_inference_key_does_not():
    org = member(Role.OWNER).org
    store_contents([_row(org, "req-k")])
    _, management = api_key(org, scope="management")
    _, inference = api_key(org, scope="inference")

    ok = Client().get("/api/v1/compliance/content/req-k/",
                      HTTP_AUTHORIZATION=f"Bearer {management}")
    refused = Client().get("/api/v1/compliance/content/req-k/",
                           HTTP_AUTHORIZATION=f"Bearer {inference}")

    assert ok.status_code == 200 and ok.json()["request_id"] == "req-k"
    assert refused.status_code == 403


def test_expired_content_is_not_shown_even_before_the_purge():
    owner = member(Role.OWNER)
    store_contents([_row(owner.org, "req-old", expires_in=dt.timedelta(seconds=-1))])

    assert _get(_client(owner), "req-old", owner.org).status_code == 404
    assert RequestContent.objects.filter(request_id="req-old").exists()


def test_the_purge_deletes_only_expired_rows_in_batches():
    org = member().org
    now = timezone.now()
    store_contents([_row(org, f"old-{n}", expires_in=dt.timedelta(hours=-1 - n))
                    for n in range(5)])
    store_contents([_row(org, f"new-{n}", expires_in=dt.timedelta(days=1 + n))
                    for n in range(3)])

    assert purge_expired(now=now, batch_size=2) == 5

    assert sorted(RequestContent.objects.values_list("request_id", flat=True)) == [
        "new-0", "new-1", "new-2"]
    assert purge_expired(now=now, batch_size=2) == 0
    # A day later the first of the rest has expired too.
    assert purge_expired(now=now + dt.timedelta(days=1, minutes=1)) == 1


def test_the_daily_task_is_scheduled_and_purges():
    org = member().org
    store_contents([_row(org, "gone", expires_in=dt.timedelta(seconds=-5)),
                    _row(org, "kept")])
    entry = settings.CELERY_BEAT_SCHEDULE["compliance.purge_expired_content"]

    assert entry == {"task": "compliance.tasks.purge_expired_content", "schedule": 86_400.0}
    PeriodicTimer(app=celery_app, schedule={"purge": entry})  # refuses an unknown task name
    result = celery_app.tasks[entry["task"]].apply()

    assert result.get() == 1
    assert list(RequestContent.objects.values_list("request_id", flat=True)) == ["kept"]


def test_the_database_refuses_content_logging_under_zero_data_retention():
    org = member().org

    with pytest.raises(IntegrityError), transaction.atomic():
        OrgPolicy.objects.create(org=org, version=1, require_zdr=True,
                                 content_retention_days=30)
    OrgPolicy.objects.create(org=org, version=1, require_zdr=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgPolicy.objects.filter(org=org).update(content_retention_days=1)
    assert OrgPolicy.objects.get(org=org).content_retention_days is None
