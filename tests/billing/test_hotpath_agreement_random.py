"""Random scenarios: the hot-path writer and the ORM services end with identical rows.

Each seed builds phases of admissions followed by settlements and releases (the writer
flushes its batch at the end of each phase), runs them once through the ORM services for one
org and once through the writer for another, and compares every grant, refusal and row.

PostgreSQL only: there the writer is the hand-written SQL hot path (billing/hotpath/sql.py),
so the comparison checks it against the ORM services. On SQLite the writer runs those same
ORM services in a thread, and the test would compare the ORM with itself.
"""

import asyncio
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.hotpath import create_writer
from billing.hotpath.postgres import PostgresWriter
from billing.models import KeySpendLimit, Wallet
from billing.services.holds import place_hold, release_hold, settle_hold
from core.errors import InsufficientCredits
from tests.billing.hotpath_support import admission, fund, money_rows, settlement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _scenario(seed):
    rng = random.Random(seed)
    setup = {
        "fund": rng.randint(50_000, 400_000),
        "credit_limit": rng.choice([0, 0, 25_000]),
        # Every kind of key limit across the seeds; half of them due a rollover.
        "limit": [None, ("day", 120_000), ("month", 200_000), ("total", 90_000)][seed % 4],
        "stale_limit": seed % 2 == 0,
    }
    phases, open_ids, closed_ids, n = [], [], [], 0
    for _ in range(8):
        holds = []
        for _ in range(rng.randint(1, 6)):
            n += 1
            want = rng.randint(1, 40_000)
            holds.append((f"r{n}", {"want": want, "minimum": rng.randint(1, want),
                                    "is_byok": rng.random() < 0.2}))
        closes = []
        # Close some of what is open (including this phase's holds, if admitted).
        candidates = open_ids + [name for name, _ in holds]
        rng.shuffle(candidates)
        for name in candidates[: rng.randint(0, len(candidates))]:
            verb = rng.choice(["settle", "settle", "settle", "release"])
            closes.append((verb, name, {"upstream": rng.randint(0, 45_000),
                                        "waived": rng.random() < 0.1}))
        for name in closed_ids[:1]:
            closes.append(("settle", name, {"upstream": 7, "waived": False}))  # a late repeat
        closed = {name for _, name, _ in closes}
        open_ids = [name for name in candidates if name not in closed]
        closed_ids = list(closed)
        phases.append((holds, closes))
    return setup, phases


def _prepare(org, key, setup, now):
    fund(org, setup["fund"])
    Wallet.objects.filter(org=org).update(credit_limit_nanos=setup["credit_limit"])
    if setup["limit"]:
        period, amount = setup["limit"]
        start = now - timedelta(days=40 if setup["stale_limit"] else 0)
        KeySpendLimit.objects.create(org=org, api_key=key, limit_nanos=amount, period=period,
                                     spent_nanos=amount // 3, period_start=start)


def _admissions(org, key, prefix, phases):
    return {name: admission(org, key, request_id=prefix + name, **kw)
            for holds, _ in phases for name, kw in holds}


def _close_args(adm, granted, opts):
    return settlement(adm, granted, upstream=opts["upstream"], byok=adm.is_byok,
                      waived=opts["waived"])


def _run_orm(org, key, phases):
    adms = _admissions(org, key, "o-", phases)
    granted, refused = {}, {}
    for holds, closes in phases:
        for name, _ in holds:
            try:
                granted[name] = place_hold(adms[name])
            except InsufficientCredits as exc:
                refused[name] = exc.metadata
        for verb, name, opts in closes:
            if name not in granted:
                continue
            if verb == "release":
                release_hold(adms[name].request_id)
            else:
                settle_hold(_close_args(adms[name], granted[name], opts))
    return granted, refused


async def _run_writer(org, key, phases):
    adms = _admissions(org, key, "w-", phases)
    granted, refused = {}, {}
    writer = create_writer(pool_max=2, window_ms=1)
    assert isinstance(writer, PostgresWriter), f"{type(writer).__name__} is not the SQL path"
    await writer.start()
    try:
        for holds, closes in phases:
            for name, _ in holds:
                try:
                    granted[name] = await writer.hold(adms[name])
                except InsufficientCredits as exc:
                    refused[name] = exc.metadata
            for verb, name, opts in closes:
                if name not in granted:
                    continue
                if verb == "release":
                    await writer.release(adms[name].request_id)
                else:
                    await writer.settle(_close_args(adms[name], granted[name], opts))
            await writer.flush()
    finally:
        await writer.close()
    return granted, refused


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_scenarios_agree(seed, make_org, make_key):
    setup, phases = _scenario(seed)
    orm_org, writer_org = make_org(f"ORM {seed}"), make_org(f"Writer {seed}")
    orm_key, writer_key = make_key(orm_org), make_key(writer_org)
    now = timezone.now()
    _prepare(orm_org, orm_key, setup, now)
    _prepare(writer_org, writer_key, setup, now)

    orm_result = _run_orm(orm_org, orm_key, phases)
    writer_result = asyncio.run(_run_writer(writer_org, writer_key, phases))

    assert writer_result == orm_result
    assert orm_result[0], "the scenario admitted nothing: it tests too little"
    orm_rows = money_rows(orm_org, orm_key, prefix="o-")
    assert money_rows(writer_org, writer_key, prefix="w-") == orm_rows
    balance, held, credit_limit = orm_rows["wallet"]
    assert balance >= -credit_limit
    open_holds = sum(h[0][0] for h in orm_rows["holds"].values() if h[0][-1] == "open")
    assert held == open_holds
    charged = sum(u["charge_nanos"] for u in orm_rows["usage"].values())
    assert balance == setup["fund"] - charged
