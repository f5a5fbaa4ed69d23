"""Request records by month: a month with no partition gets one on write; retention drops
whole months (PostgreSQL) or deletes old rows (SQLite), and never touches newer ones."""

import datetime as dt

import pytest

from marketplace.tenancy.models import Organization
from observability import partitions
from observability.models import RequestRecord
from observability.recording import RequestRow, store_request_records

pytestmark = pytest.mark.django_db(transaction=True)


def _row(org, when: dt.datetime, n: int) -> RequestRow:
    return RequestRow(request_id=f"gen-{n}", created_at=when, org_id=org.pk, key_id=None,
                      model_requested="openai/gpt-4o-mini", status=200, outcome="success")


def test_writes_for_any_month_land_and_retention_drops_only_old_months():
    org = Organization.objects.create(name="Records", slug="records")
    old = dt.datetime(2019, 3, 15, 12, tzinfo=dt.UTC)
    recent = dt.datetime.now(dt.UTC)

    assert store_request_records([_row(org, old, 1), _row(org, recent, 2)]) == 2
    # A replayed batch stores nothing twice.
    store_request_records([_row(org, old, 1)])
    assert RequestRecord.objects.count() == 2
    if partitions.is_partitioned():
        assert dt.date(2019, 3, 1) in partitions.existing_months()

    partitions.drop_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    assert list(RequestRecord.objects.values_list("request_id", flat=True)) == ["gen-2"]
    if partitions.is_partitioned():
        assert dt.date(2019, 3, 1) not in partitions.existing_months()
        assert partitions.month_start(recent) in partitions.existing_months()


def test_maintenance_creates_the_coming_months():
    from observability.tasks import maintain_partitions

    result = maintain_partitions()

    if partitions.is_partitioned():
        today = dt.datetime.now(dt.UTC).date()
        months = partitions.existing_months()
        coming = partitions.next_month(partitions.next_month(partitions.month_start(today)))
        assert coming in months
        assert result["dropped"] == []
