"""Lock order on PostgreSQL: holds, settles and releases on keys with spend limits never deadlock.

A hold locks the wallet, then the key's limit; settlement batches and releases must take the
same rows in the same order (wallets, then key limits, each by id). Three writers (three gateway
processes' pools) run many requests at once on two orgs whose keys have limits; the server's own
deadlock counter for the test database must not move, and every balance must come out exact.
"""

import asyncio
import time

import psycopg
import pytest

from billing.hotpath.postgres import PostgresWriter, django_conninfo
from billing.models import Hold, KeySpendLimit, UsageRecord, Wallet
from billing.services.ledger import check_wallet_consistency
from tests.billing.hotpath_support import admission, fund, settlement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WANT = 9_973  # nanos per hold: a prime
TASKS = 24
ROUNDS = 12
FUNDS = 10**12


def _deadlocks() -> int:
    with psycopg.connect(django_conninfo(), autocommit=True) as conn:
        return conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


def _settled_deadlocks(before: int) -> int:
    """The counter once the writers' backends (which report at exit) have all gone."""
    with psycopg.connect(django_conninfo(), autocommit=True) as conn:
        for _ in range(100):
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND application_name = 'lock-order-test'"
            ).fetchone()[0]
            if not others:
                break
            time.sleep(0.05)
    time.sleep(0.3)
    return _deadlocks() - before


async def _traffic(pairs):
    conninfo = django_conninfo() + " application_name=lock-order-test"
    writers = [PostgresWriter(conninfo, pool_max=4, window_ms=1) for _ in range(3)]
    for writer in writers:
        await writer.start()
    try:
        async def worker(t):
            org, key = pairs[t % len(pairs)]
            writer = writers[t % len(writers)]
            for r in range(ROUNDS):
                adm = admission(org, key, want=WANT, request_id=f"lock-{t}-{r}")
                granted = await writer.hold(adm)
                if r % 3 == 2:
                    await writer.release(adm.request_id)
                else:
                    await writer.settle(settlement(adm, granted, upstream=WANT // 2 + t + r))
                await asyncio.sleep(0)

        await asyncio.gather(*(worker(t) for t in range(TASKS)))
        for writer in writers:
            await writer.flush()
    finally:
        for writer in writers:
            await writer.close()


def test_concurrent_holds_settles_and_releases_on_limited_keys_never_deadlock(
    make_org, make_key
):
    pairs = []
    for _ in range(2):
        org = make_org()
        key = make_key(org)
        fund(org, FUNDS)
        KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=FUNDS, period="day",
                                     period_start="2000-01-01T00:00:00Z")
        pairs.append((org, key))
    before = _deadlocks()

    asyncio.run(_traffic(pairs))

    assert _settled_deadlocks(before) == 0
    assert not Hold.objects.filter(status="open").exists()
    assert Hold.objects.filter(status="released").count() == TASKS * (ROUNDS // 3)
    assert UsageRecord.objects.count() == TASKS * ROUNDS * 2 // 3
    for org, key in pairs:
        charged = sum(UsageRecord.objects.filter(org=org).values_list("charge_nanos", flat=True))
        assert charged > 0
        wallet = Wallet.objects.get(org=org)
        assert (wallet.balance_nanos, wallet.held_nanos) == (FUNDS - charged, 0)
        limit = KeySpendLimit.objects.get(api_key=key)
        assert (limit.spent_nanos, limit.held_nanos) == (charged, 0)
        assert check_wallet_consistency(org).balance_ok
