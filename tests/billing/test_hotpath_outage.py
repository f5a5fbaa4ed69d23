"""While its database is down the hot-path writer keeps what it owes, bounded, then writes it."""

import asyncio
import logging

import psycopg
import pytest

from billing.hotpath.postgres import PostgresWriter
from core.errors import ServiceUnavailable
from tests.billing.hotpath_support import admission, fund, settlement
from tests.fixtures import pgcluster
from tests.fixtures.live_server import _test_database_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not pgcluster.available(), reason="needs PostgreSQL's server binaries"),
]


def test_settlements_wait_for_the_database_and_admissions_stop_at_the_bound(
        org, make_key, cluster, caplog):
    key = make_key(org)
    fund(org, 100_000)
    url = cluster.clone_from(_test_database_url(), "switchyard")
    adms = [admission(org, key, want=10_000, request_id=f"outage-{n}") for n in range(5)]

    async def go():
        writer = PostgresWriter(url, pool_max=2, window_ms=1, pending_max=4, db_timeout_s=3)
        await writer.start()
        try:
            granted = [await writer.hold(adm) for adm in adms[:4]]
            cluster.crash()
            for adm, hold in zip(adms, granted, strict=False):
                await writer.settle(settlement(adm, hold, upstream=1_000))
            for _ in range(200):  # the flusher finds the database gone and keeps retrying
                if writer.stats.retries >= 2:
                    break
                await asyncio.sleep(0.05)
            assert writer.pending == 4
            with pytest.raises(ServiceUnavailable) as refused:
                await writer.hold(adms[4])
            assert refused.value.status == 503
            assert refused.value.headers["Retry-After"] == "2"
            cluster.start()
            await asyncio.wait_for(writer.flush(), timeout=30)
            assert writer.pending == 0
            return writer.stats
        finally:
            await writer.close()

    with caplog.at_level(logging.WARNING, logger="billing.hotpath"):
        stats = asyncio.run(go())
    assert "settlement queue at 4 of 4" in caplog.text
    assert stats.retries >= 2
    assert (stats.refused_admissions, stats.backlog_high_water, stats.lost) == (1, 4, 0)
    with psycopg.connect(url) as conn:
        charges = dict(conn.execute(
            "SELECT request_id, charge_nanos FROM billing_usagerecord").fetchall())
        wallet = conn.execute("SELECT balance_nanos, held_nanos FROM billing_wallet "
                              "WHERE org_id = %s", (org.pk,)).fetchone()
    assert charges == {f"outage-{n}": 1_055 for n in range(4)}
    assert wallet == (100_000 - 4 * 1_055, 0)
