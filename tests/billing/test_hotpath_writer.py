"""The hot-path writer agrees with billing's ORM services, row for row, on either backend.

Runs on whichever database the suite uses: PostgreSQL's one-statement writer under
DATABASE_URL, the one-thread SQLite writer on the embedded default.
"""

import asyncio
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from billing.hotpath import create_writer
from billing.models import Hold, HoldStatus, KeySpendLimit, UsageRecord, Wallet
from billing.services.holds import place_hold, release_hold, settle_hold
from core.errors import Conflict, InsufficientCredits
from tests.billing.hotpath_support import admission, fund, money_rows, settlement

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(org, key):
    fund(org, 100_000)
    Wallet.objects.filter(org=org).update(credit_limit_nanos=5_000)
    # A monthly limit last touched 40 days ago: the first admission rolls it over.
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=80_000, period="month",
                                 spent_nanos=2_000,
                                 period_start=timezone.now() - timedelta(days=40))


def _phases(org, key, prefix):
    """The scenario as data: phases of (verb, args); settles name the hold they follow."""
    a = {n: admission(org, key, request_id=f"{prefix}{n}", **kw) for n, kw in {
        "r1": {"want": 30_000},
        "r2": {"want": 30_000, "minimum": 1_000},
        "r3": {"want": 50_000, "minimum": 1_000},  # the key limit leaves 20_000
        "r4": {"want": 10_000, "minimum": 100},  # refused: the key limit is exhausted
        "r5": {"want": 5_000, "is_byok": True},
        "r6": {"want": 6_000},
    }.items()}
    return a, [
        [("hold", "r1"), ("hold", "r2"), ("hold", "r3"), ("hold", "r4")],
        [("settle", "r1", {"upstream": 10_000}), ("settle", "r2", {"upstream": 40_000}),
         ("settle", "r1", {"upstream": 9})],  # the duplicate changes nothing
        [("release", "r3"), ("settle", "r3", {"upstream": 5})],  # released: not charged
        [("hold", "r5"), ("hold", "r6")],
        [("settle", "r5", {"upstream": 20_000, "byok": True}),
         ("settle", "r6", {"upstream": 3_000, "waived": True})],
    ]


def _run_orm(org, key, prefix):
    adms, phases = _phases(org, key, prefix)
    granted, refusals = {}, {}
    for phase in phases:
        for verb, name, *rest in phase:
            if verb == "hold":
                try:
                    granted[name] = place_hold(adms[name])
                except InsufficientCredits as exc:
                    refusals[name] = exc.metadata
            elif verb == "settle":
                settle_hold(settlement(adms[name], granted[name], **rest[0]))
            else:
                release_hold(adms[name].request_id)
    return granted, refusals


async def _run_writer(org, key, prefix):
    adms, phases = _phases(org, key, prefix)
    granted, refusals = {}, {}
    writer = create_writer(pool_max=2)
    assert type(writer).__name__ == ("PostgresWriter" if settings.IS_POSTGRES else "ThreadWriter")
    await writer.start()
    try:
        for phase in phases:
            for verb, name, *rest in phase:
                if verb == "hold":
                    try:
                        granted[name] = await writer.hold(adms[name])
                    except InsufficientCredits as exc:
                        refusals[name] = exc.metadata
                elif verb == "settle":
                    await writer.settle(settlement(adms[name], granted[name], **rest[0]))
                else:
                    await writer.release(adms[name].request_id)
            await writer.flush()
    finally:
        await writer.close()
    return granted, refusals


def test_writer_and_orm_services_write_the_same_rows(make_org, make_key):
    orm_org, writer_org = make_org("ORM"), make_org("Writer")
    orm_key, writer_key = make_key(orm_org), make_key(writer_org)
    _setup(orm_org, orm_key)
    _setup(writer_org, writer_key)

    orm_result = _run_orm(orm_org, orm_key, "orm-")
    writer_result = asyncio.run(_run_writer(writer_org, writer_key, "wr-"))

    assert orm_result == writer_result
    granted, refusals = orm_result
    assert granted == {"r1": 30_000, "r2": 30_000, "r3": 20_000, "r5": 5_000, "r6": 6_000}
    assert refusals == {"r4": {"limit": "key_spend_limit", "available_nanos": 0,
                               "required_nanos": 100}}
    orm_rows = money_rows(orm_org, orm_key, prefix="orm-")
    writer_rows = money_rows(writer_org, writer_key, prefix="wr-")
    assert writer_rows == orm_rows
    # And the rows are right, not merely equal: r1 10_550, r2 capped at its 30_000 hold,
    # r5 the BYOK fee 1_000, r6 waived.
    assert orm_rows["wallet"] == (100_000 - 10_550 - 30_000 - 1_000, 0, 5_000)
    assert orm_rows["limit"][:2] == (41_550, 0)
    assert {k: v["charge_nanos"] for k, v in orm_rows["usage"].items()} == {
        "r1": 10_550, "r2": 30_000, "r5": 1_000, "r6": 0}
    assert orm_rows["usage"]["r2"]["write_off_nanos"] == 42_200 - 30_000
    assert orm_rows["usage"]["r6"]["write_off_nanos"] == 3_000
    assert {k: v[0][-1] for k, v in orm_rows["holds"].items()} == {
        "r1": "settled", "r2": "settled", "r3": "released", "r5": "settled", "r6": "settled"}


def test_writer_refuses_with_an_openai_style_402(org, make_key):
    key = make_key(org)
    fund(org, 2_500)

    async def go():
        writer = create_writer(pool_max=1)
        await writer.start()
        try:
            with pytest.raises(InsufficientCredits) as refused:
                await writer.hold(admission(org, key, want=9_000, minimum=3_000))
            return refused.value
        finally:
            await writer.close()

    error = asyncio.run(go())
    assert error.as_openai()["error"] == {
        "code": 402,
        "message": error.message,
        "type": "insufficient_credits",
        "metadata": {"reason": "insufficient_credits", "limit": "wallet",
                     "available_nanos": 2_500, "required_nanos": 3_000},
    }
    assert not Hold.objects.exists()
    assert Wallet.objects.get(org=org).held_nanos == 0


def test_a_failing_settlement_is_logged_and_left_for_the_sweep_without_sinking_the_batch(
    org, make_key, caplog
):
    key = make_key(org)
    fund(org, 100_000)
    good, bad = admission(org, key, want=10_000), admission(org, key, want=10_000)

    async def go():
        writer = create_writer(pool_max=1, window_ms=50)
        await writer.start()
        try:
            granted = [await writer.hold(good), await writer.hold(bad)]
            await writer.settle(settlement(good, granted[0], upstream=1_000))
            # Not JSON: the database write of this row fails, on every backend.
            await writer.settle(settlement(bad, granted[1], upstream=1_000,
                                           attempts=[{"status": object()}]))
            await writer.flush()
        finally:
            await writer.close()

    with caplog.at_level(logging.WARNING, logger="billing.hotpath"):
        asyncio.run(go())
    assert list(UsageRecord.objects.values_list("request_id", flat=True)) == [good.request_id]
    assert Hold.objects.get(request_id=bad.request_id).status == HoldStatus.OPEN
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (100_000 - 1_055, 10_000)
    lost = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lost) == 1 and bad.request_id in lost[0].getMessage()


def test_settle_does_not_wait_for_the_batch_window(org, make_key):
    key = make_key(org)
    fund(org, 100_000)
    adms = [admission(org, key, want=1_000) for _ in range(20)]

    async def go():
        writer = create_writer(pool_max=2, window_ms=200)
        await writer.start()
        try:
            granted = [await writer.hold(a) for a in adms]
            loop = asyncio.get_running_loop()
            started = loop.time()
            for a, g in zip(adms, granted, strict=True):
                await writer.settle(settlement(a, g, upstream=100))
            enqueue_s = loop.time() - started
        finally:
            await writer.close()  # drains the pending batch
        return enqueue_s

    assert asyncio.run(go()) < 0.1  # far below the 200 ms window: settle only enqueues
    assert UsageRecord.objects.count() == 20
    wallet = Wallet.objects.get(org=org)
    assert (wallet.balance_nanos, wallet.held_nanos) == (100_000 - 20 * 106, 0)


def test_a_duplicate_request_id_is_a_conflict_and_holds_nothing_more(org, make_key):
    key = make_key(org)
    fund(org, 100_000)
    adm = admission(org, key, want=1_000)
    assert place_hold(adm) == 1_000
    with pytest.raises(Conflict):
        place_hold(adm)

    async def go():
        writer = create_writer(pool_max=1)
        await writer.start()
        try:
            with pytest.raises(Conflict):
                await writer.hold(adm)
        finally:
            await writer.close()

    asyncio.run(go())
    assert Wallet.objects.get(org=org).held_nanos == 1_000
    assert Hold.objects.count() == 1


def test_a_settlement_after_close_is_logged_not_raised(org, make_key, caplog):
    key = make_key(org)
    fund(org, 100_000)
    adm = admission(org, key, want=1_000)

    async def go():
        writer = create_writer(pool_max=1)
        await writer.start()
        granted = await writer.hold(adm)
        await writer.close()
        await writer.settle(settlement(adm, granted, upstream=10))

    with caplog.at_level(logging.ERROR, logger="billing.hotpath"):
        asyncio.run(go())
    assert adm.request_id in caplog.text
    assert Hold.objects.get().status == HoldStatus.OPEN  # the sweep's to settle


def test_flush_on_a_writer_not_started_has_nothing_to_write_and_does_not_raise():
    # A read-your-writes flush can reach a writer whose start() never ran (or failed): with
    # nothing queued it must return, not trip over a lock that start() had yet to make.
    async def go():
        writer = create_writer(pool_max=1)
        await writer.flush()
        assert writer.pending == 0

    asyncio.run(go())


def test_a_hold_from_yesterday_settles_into_todays_period(org, make_key):
    key = make_key(org)
    fund(org, 100_000)
    yesterday = timezone.now() - timedelta(days=1)
    KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=50_000, period="day",
                                 spent_nanos=0, period_start=yesterday)
    adm = admission(org, key, want=20_000)
    place_hold(adm, now=yesterday)  # admitted just before midnight, settled after it
    KeySpendLimit.objects.filter(api_key=key).update(spent_nanos=30_000)  # yesterday's spend

    async def go():
        writer = create_writer(pool_max=1)
        await writer.start()
        try:
            await writer.settle(settlement(adm, 20_000, upstream=1_000))
        finally:
            await writer.close()

    asyncio.run(go())
    limit = KeySpendLimit.objects.get(api_key=key)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    # Yesterday's 30_000 no longer counts; the charge lands in today's period.
    assert (limit.spent_nanos, limit.held_nanos, limit.period_start) == (1_055, 0, today)
