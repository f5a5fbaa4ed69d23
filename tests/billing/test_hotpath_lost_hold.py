"""A settlement whose hold a database crash lost is still charged, once."""

import asyncio

import pytest
from django.utils import timezone

from billing.hotpath import create_writer
from billing.models import Hold, KeySpendLimit, UsageRecord, Wallet
from tests.billing.hotpath_support import admission, fund, settlement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_settlement_without_its_hold_row_is_charged_exactly_once(org, make_key):
    key = make_key(org)
    fund(org, 100_000)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=80_000, period="total",
                                 spent_nanos=2_000, period_start=timezone.now())
    # The hold was committed asynchronously and the crash lost it: no row at all.
    adm = admission(org, key, want=30_000, request_id="lost-hold-1")
    owed = settlement(adm, 30_000, upstream=10_000)

    async def go():
        writer = create_writer(pool_max=1)
        await writer.start()
        try:
            for _ in range(2):  # replayed: charged once
                await writer.settle(owed)
                await writer.flush()
        finally:
            await writer.close()

    asyncio.run(go())
    record = UsageRecord.objects.get(request_id="lost-hold-1")
    assert (record.charge_nanos, record.org_id, record.api_key_id) == (10_550, org.pk, key.pk)
    assert record.estimated is False
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (100_000 - 10_550, 0)
    limit = KeySpendLimit.objects.get(api_key=key)
    assert (limit.spent_nanos, limit.held_nanos) == (2_000 + 10_550, 0)
    assert not Hold.objects.filter(request_id="lost-hold-1").exists()
