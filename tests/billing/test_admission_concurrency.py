"""Admission under concurrency on PostgreSQL: 200 requests at once, never one too many.

Two writers (two gateway processes' pools, two connections each) race 200 admissions against
a wallet, or a key's spend limit, that affords exactly 33; then everything admitted settles.
"""

import asyncio
import random

import pytest

from billing.hotpath.postgres import PostgresWriter, django_conninfo
from billing.models import Hold, KeySpendLimit, UsageRecord, Wallet
from billing.services.ledger import check_wallet_consistency, post_usage_records
from core.errors import InsufficientCredits
from tests.billing.hotpath_support import admission, fund, settlement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COST = 7_919  # nanos per admission: a prime, so no accidental multiple lines up
N = 200


async def _race(adms, *, upstreams, settle_at_once: bool = False):
    """Admit all concurrently; settle each as it is admitted, or only after all admissions."""
    writers = [PostgresWriter(django_conninfo(), pool_max=2, window_ms=2) for _ in range(2)]
    for writer in writers:
        await writer.start()
    try:
        async def one(i, adm):
            writer = writers[i % 2]
            try:
                granted = await writer.hold(adm)
            except InsufficientCredits as exc:
                return exc.metadata["limit"]
            if settle_at_once:
                await writer.settle(settlement(adm, granted, upstream=upstreams[i]))
            return granted

        results = await asyncio.gather(*(one(i, a) for i, a in enumerate(adms)))
        if not settle_at_once:
            for i, (adm, granted) in enumerate(zip(adms, results, strict=True)):
                if isinstance(granted, int):
                    await writers[i % 2].settle(settlement(adm, granted, upstream=upstreams[i]))
        for writer in writers:
            await writer.flush()
        return results
    finally:
        for writer in writers:
            await writer.close()


def _upstreams():
    rng = random.Random(33)
    # Some settle below the hold, some above it (the overshoot is written off, not charged).
    return [rng.randint(0, COST + 2_000) for _ in range(N)]


def _charged():
    return sum(UsageRecord.objects.values_list("charge_nanos", flat=True))


def _post_everything_and_check_the_ledger(org):
    """B2's posting turns each usage record into ledger entries; the wallet must then agree."""
    after = 0
    while True:
        batch = post_usage_records(batch_size=50, after_id=after)
        after = batch.last_id
        if batch.claimed < 50:
            break
    assert not UsageRecord.objects.filter(posted_at__isnull=True).exists()
    assert check_wallet_consistency(org).ok


def test_a_wallet_that_affords_33_admits_exactly_33(org, make_key):
    keys = [make_key(org) for _ in range(4)]
    # Credit limit included: balance 0, credit limit 33 admissions and a bit.
    Wallet.objects.filter(org=org).update(credit_limit_nanos=33 * COST + COST - 1)
    adms = [admission(org, keys[i % 4], want=COST) for i in range(N)]

    results = asyncio.run(_race(adms, upstreams=_upstreams()))

    assert results.count(COST) == 33
    assert results.count("wallet") == N - 33
    assert Hold.objects.count() == 33
    assert UsageRecord.objects.count() == 33
    wallet = Wallet.objects.get(org=org)
    assert wallet.held_nanos == 0
    assert wallet.balance_nanos == -_charged()  # the sum of charges is the balance change
    assert wallet.balance_nanos >= -wallet.credit_limit_nanos
    assert all(c <= COST for c in UsageRecord.objects.values_list("charge_nanos", flat=True))
    _post_everything_and_check_the_ledger(org)


def test_a_key_limit_that_affords_33_admits_exactly_33(org, make_key):
    key, other_key = make_key(org), make_key(org)
    fund(org, 10**12)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=33 * COST + COST - 1,
                                 period="day", period_start="2000-01-01T00:00:00Z")
    # Half the requests come through a key with no limit: only the wallet bounds those.
    adms = [admission(org, key if i % 2 == 0 else other_key, want=COST) for i in range(N)]

    results = asyncio.run(_race(adms, upstreams=_upstreams()))

    limited = results[0::2]
    assert limited.count(COST) == 33
    assert limited.count("key_spend_limit") == N // 2 - 33
    assert results[1::2] == [COST] * (N // 2)
    limit = KeySpendLimit.objects.get(api_key=key)
    key_charges = sum(
        UsageRecord.objects.filter(api_key=key).values_list("charge_nanos", flat=True))
    assert (limit.spent_nanos, limit.held_nanos) == (key_charges, 0)
    assert limit.spent_nanos <= limit.limit_nanos
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (10**12 - _charged(), 0)
    _post_everything_and_check_the_ledger(org)


def test_partial_grants_never_overshoot_the_wallet(org, make_key):
    key = make_key(org)
    fund(org, 33 * COST + COST // 2)
    # Each wants COST but takes as little as a tenth of it: 33 full grants and one partial.
    adms = [admission(org, key, want=COST, minimum=COST // 10) for _ in range(N)]

    results = asyncio.run(_race(adms, upstreams=[0] * N))

    grants = [r for r in results if isinstance(r, int)]
    assert sorted(grants, reverse=True)[:34] == [COST] * 33 + [COST // 2]
    assert len(grants) == 34
    assert sum(grants) == 33 * COST + COST // 2
    assert Wallet.objects.get(org=org).held_nanos == 0


def test_settling_while_admitting_never_passes_the_credit_limit(org, make_key):
    key = make_key(org)
    fund(org, 5 * COST)
    Wallet.objects.filter(org=org).update(credit_limit_nanos=10 * COST)
    # Settlements free what they did not spend while others are still being admitted.
    adms = [admission(org, key, want=COST, minimum=COST // 10) for _ in range(N)]

    results = asyncio.run(_race(adms, upstreams=_upstreams(), settle_at_once=True))

    admitted = [r for r in results if isinstance(r, int)]
    assert len(admitted) >= 15
    assert UsageRecord.objects.count() == len(admitted)
    wallet = Wallet.objects.get(org=org)
    assert wallet.held_nanos == 0
    assert wallet.balance_nanos == 5 * COST - _charged()
    assert wallet.balance_nanos >= -wallet.credit_limit_nanos
