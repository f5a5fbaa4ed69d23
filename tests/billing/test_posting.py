"""Posting settled usage to the ledger: the right legs, exactly once, balance untouched."""

import threading

import pytest
from django.db import connection

from billing.models import LedgerEntry, LedgerTransaction, UsageRecord, Wallet
from billing.services.ledger import check_wallet_consistency, grant_promotional_credit
from billing.tasks.posting import post_usage_to_ledger

pytestmark = pytest.mark.django_db


def legs_of(request_id, org):
    txn = LedgerTransaction.objects.get(org=org, idempotency_key=request_id)
    return sorted(
        (e.account.code, e.amount_nanos)
        for e in LedgerEntry.objects.filter(transaction=txn).select_related("account")
    )


def test_posting_writes_balanced_legs_once_and_leaves_the_balance(org, charge_request):
    grant_promotional_credit(org, 10_000_000, memo="", idempotency_key="start")
    normal = charge_request(org, upstream_nanos=1_000_000, margin_bps=550)
    waived = charge_request(org, upstream_nanos=40_000, waived=True)
    byok = charge_request(org, upstream_nanos=2_000_000, byok=True, provider="sandbox-anthropic")
    balance_before = Wallet.objects.get(org=org).balance_nanos
    assert balance_before == 10_000_000 - 1_055_000 - 0 - 100_000
    assert check_wallet_consistency(org).ok  # unposted charges are accounted for

    assert post_usage_to_ledger() == 3
    assert post_usage_to_ledger() == 0

    assert legs_of(normal.request_id, org) == sorted([
        (f"wallet:{org.pk}", -1_055_000),
        ("provider_payable:sandbox-openai", 1_000_000),
        ("margin_revenue", 55_000),
    ])
    assert legs_of(waived.request_id, org) == sorted([
        ("provider_payable:sandbox-openai", 40_000),
        ("write_off", -40_000),
    ])
    assert legs_of(byok.request_id, org) == sorted([
        (f"wallet:{org.pk}", -100_000),
        ("byok_fee_revenue", 100_000),
    ])
    assert Wallet.objects.get(org=org).balance_nanos == balance_before
    assert not UsageRecord.objects.filter(posted_at__isnull=True).exists()
    assert LedgerTransaction.objects.filter(org=org, kind="charge").count() == 3
    report = check_wallet_consistency(org)
    assert report.ok and report.unposted_charge_nanos == 0


def test_an_unbalanced_record_stays_unposted_and_does_not_stall_others(org, charge_request):
    grant_promotional_credit(org, 10_000_000, memo="", idempotency_key="start")
    bad = charge_request(org, upstream_nanos=1_000)
    good = charge_request(org, upstream_nanos=2_000)
    # A record whose amounts disagree (a writer bug) must not be posted as if it balanced.
    UsageRecord.objects.filter(pk=bad.pk).update(margin_nanos=bad.margin_nanos + 1)

    assert post_usage_to_ledger(batch_size=1) == 1

    assert not LedgerTransaction.objects.filter(idempotency_key=bad.request_id).exists()
    assert LedgerTransaction.objects.filter(idempotency_key=good.request_id).exists()
    assert UsageRecord.objects.get(pk=bad.pk).posted_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_runs_post_each_record_once(make_org, charge_request):
    orgs = [make_org() for _ in range(3)]
    for org in orgs:
        grant_promotional_credit(org, 10**12, memo="", idempotency_key="start")
    records = [
        charge_request(orgs[i % 3], upstream_nanos=1_000 + i) for i in range(120)
    ]
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(post_usage_to_ledger(batch_size=7))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == len(records)
    assert LedgerTransaction.objects.filter(kind="charge").count() == len(records)
    assert not UsageRecord.objects.filter(posted_at__isnull=True).exists()
    for org in orgs:
        assert check_wallet_consistency(org).ok
