"""Billing pages answer in a fixed number of queries however much the org has done (no N+1):
measured with little data, then again with many rows of each kind."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, TopUp
from billing.services.ledger import grant_promotional_credit
from billing.tasks.invoicing import roll_usage_into_invoices

pytestmark = pytest.mark.django_db


def _pages(org) -> list[str]:
    invoice = Invoice.objects.filter(org=org).first()
    return ["/billing/wallet/", "/billing/invoices/", f"/billing/invoices/{invoice.pk}/",
            "/billing/usage/", "/billing/details/"]


def _counts(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def _activity(org, charge_request, n: int, start: int) -> None:
    for i in range(start, start + n):
        grant_promotional_credit(org, 10**9, memo=f"credit {i}", idempotency_key=f"c{i}")
        charge_request(org, upstream_nanos=1_000 + i, model=f"vendor/model-{i}",
                       provider=f"sandbox-{i % 3}")
        TopUp.objects.create(org=org, payment_intent_id=f"pi_{org.pk}_{i}", amount_cents=500,
                             status="succeeded")
    roll_usage_into_invoices()


def test_billing_pages_query_count_does_not_grow_with_rows(org, member_client, charge_request):
    client = member_client(org, "finance")
    client.get("/billing/wallet/")  # the first request of a session also saves the session
    _activity(org, charge_request, 1, 0)
    few = _counts(client, _pages(org))
    _activity(org, charge_request, 30, 1)
    charge_request(org, upstream_nanos=5)  # one not rolled yet: the draft's pending usage
    many = _counts(client, _pages(org))
    assert many == few
    assert max(many.values()) <= 12, many
