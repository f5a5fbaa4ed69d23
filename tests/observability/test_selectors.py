"""observability.selectors.orgs_with_requests_to: the conversions half of vendor reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from observability import selectors
from tests.observability.records import row, store
from tests.tenancy.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
WINDOW = dt.timedelta(days=30)
MODEL = "acme/extract-1"


def test_each_org_counts_only_in_its_own_window_for_successes_served_by_the_model(monkeypatch):
    monkeypatch.setattr(selectors, "_ORGS_PER_QUERY", 2)  # several chunks of the OR
    orgs = [OrganizationFactory() for _ in range(6)]
    since = {org.pk: NOW - dt.timedelta(days=20) for org in orgs}
    since[orgs[5].pk] = NOW - dt.timedelta(days=1)
    store(
        row(orgs[0], at=NOW - dt.timedelta(days=19), model_served=MODEL),
        row(orgs[1], at=NOW - dt.timedelta(days=19), model_served=MODEL),
        row(orgs[1], at=NOW - dt.timedelta(days=18), model_served=MODEL),  # counted once
        row(orgs[2], at=NOW - dt.timedelta(days=21), model_served=MODEL),  # before its click
        row(orgs[3], at=NOW - dt.timedelta(days=19), model_served=MODEL, outcome="failed",
            status=502, error_type="upstream_5xx"),
        row(orgs[4], at=NOW - dt.timedelta(days=19), model_served="other/model"),
        row(orgs[5], at=NOW - dt.timedelta(days=2), model_served=MODEL),  # before its own since
        row(OrganizationFactory(), at=NOW - dt.timedelta(days=19), model_served=MODEL),
    )
    assert selectors.orgs_with_requests_to(MODEL, since, window=WINDOW) == {orgs[0].pk,
                                                                           orgs[1].pk}
    assert selectors.orgs_with_requests_to(MODEL, {orgs[0].pk: since[orgs[0].pk]},
                                           window=dt.timedelta(hours=12)) == set()
    assert selectors.orgs_with_requests_to(MODEL, {}, window=WINDOW) == set()
