"""Monthly partitions of the request-record table on PostgreSQL, and retention by dropping them.

The table is `PARTITION BY RANGE (created_at)` (migration 0001), one partition per UTC month,
named `observability_requestrecord_pYYYYMM`. The daily `observability.tasks.maintain_partitions`
creates the coming months and drops the months wholly older than `REQUEST_RECORD_RETENTION_DAYS`
(dropping a partition is instant and leaves no dead rows, unlike DELETE). A write for a month
with no partition yet creates it (`recording.store_request_records`), so a clock jump or a
replay after a long outage loses nothing. On SQLite the table is plain: retention deletes rows.
Billing's usage records (money, referenced by invoices) are never partitioned or dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import connection

from observability.models import RequestRecord

TABLE = RequestRecord._meta.db_table
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")


def month_start(when: dt.datetime | dt.date) -> dt.date:
    return dt.date(when.year, when.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month.year:04d}{month.month:02d}"


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def existing_months() -> list[dt.date]:
    """The months that have a partition, oldest first ([] where the table is not partitioned)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [TABLE])
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = _NAME.match(name)
        if match:
            months.append(dt.date(int(match.group(1)), int(match.group(2)), 1))
    return sorted(months)


def ensure_months(months: Iterable[dt.date]) -> list[dt.date]:
    """Create the partitions of these months that do not exist; return the ones created."""
    if not is_partitioned():
        return []
    have = set(existing_months())
    created = []
    with connection.cursor() as cursor:
        for month in sorted({month_start(m) for m in months} - have):
            # IF NOT EXISTS: two writers racing to create the same month both succeed.
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(month)}" PARTITION OF "{TABLE}" '
                f"FOR VALUES FROM ('{month.isoformat()}T00:00:00+00:00') "
                f"TO ('{next_month(month).isoformat()}T00:00:00+00:00')")
            created.append(month)
    return created


def ensure_ahead(today: dt.date, *, months_ahead: int = 2) -> list[dt.date]:
    """This month's partition and the next `months_ahead` months'."""
    months = [month_start(today)]
    for _ in range(months_ahead):
        months.append(next_month(months[-1]))
    return ensure_months(months)


def drop_before(cutoff: dt.datetime) -> list[dt.date]:
    """Drop every partition whose whole month lies before `cutoff`; return the months dropped.

    Where the table is not partitioned, delete the rows older than `cutoff` instead.
    """
    if not is_partitioned():
        RequestRecord.objects.filter(created_at__lt=cutoff).delete()
        return []
    dropped = []
    with connection.cursor() as cursor:
        for month in existing_months():
            ends = next_month(month)
            if dt.datetime(ends.year, ends.month, 1, tzinfo=dt.UTC) <= cutoff:
                cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(month)}"')
                dropped.append(month)
    return dropped
