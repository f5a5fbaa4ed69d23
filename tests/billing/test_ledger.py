"""The ledger: balanced, idempotent, append-only transactions and the wallet consistency check."""

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import LedgerEntry, LedgerTransaction, TransactionKind, Wallet
from billing.services.ledger import (
    Leg,
    check_wallet_consistency,
    grant_promotional_credit,
    post_transaction,
    system_account,
    wallet_account,
)
from core.errors import Conflict, InvalidRequest

pytestmark = pytest.mark.django_db


def test_promotional_credit_moves_balance_and_ledger_once(org):
    first = grant_promotional_credit(org, 5_000_000_000, memo="welcome", idempotency_key="promo-1")
    again = grant_promotional_credit(org, 5_000_000_000, memo="welcome", idempotency_key="promo-1")

    assert first.created is True
    assert again.created is False
    assert again.transaction.pk == first.transaction.pk
    assert Wallet.objects.get(org=org).balance_nanos == 5_000_000_000
    entries = LedgerEntry.objects.filter(transaction=first.transaction)
    amounts = sorted(e.amount_nanos for e in entries)
    assert amounts == [-5_000_000_000, 5_000_000_000]
    assert LedgerTransaction.objects.filter(org=org).count() == 1
    assert check_wallet_consistency(org).ok


def test_same_key_with_other_amount_is_a_conflict_and_writes_nothing(org):
    grant_promotional_credit(org, 1_000, memo="a", idempotency_key="k")
    with pytest.raises(Conflict):
        grant_promotional_credit(org, 2_000, memo="a", idempotency_key="k")
    assert Wallet.objects.get(org=org).balance_nanos == 1_000
    assert LedgerEntry.objects.filter(org=org).count() == 2


def test_idempotency_key_is_per_org(org, make_org):
    other = make_org()
    grant_promotional_credit(org, 7, memo="", idempotency_key="same")
    grant_promotional_credit(other, 9, memo="", idempotency_key="same")
    assert Wallet.objects.get(org=org).balance_nanos == 7
    assert Wallet.objects.get(org=other).balance_nanos == 9


def test_unbalanced_legs_are_refused(org):
    with pytest.raises(InvalidRequest):
        post_transaction(
            org,
            kind=TransactionKind.ADJUSTMENT,
            idempotency_key="bad",
            legs=[Leg(wallet_account(org), 10), Leg(system_account("margin_revenue"), -9)],
        )
    assert not LedgerTransaction.objects.filter(org=org).exists()
    assert Wallet.objects.get(org=org).balance_nanos == 0


def test_another_orgs_wallet_cannot_be_touched(org, make_org):
    other = make_org()
    with pytest.raises(InvalidRequest):
        post_transaction(
            org,
            kind=TransactionKind.ADJUSTMENT,
            idempotency_key="x",
            legs=[Leg(wallet_account(other), 10), Leg(system_account("margin_revenue"), -10)],
        )
    assert Wallet.objects.get(org=other).balance_nanos == 0


def test_non_positive_credit_is_refused(org):
    with pytest.raises(InvalidRequest):
        grant_promotional_credit(org, 0, memo="", idempotency_key="zero")
    with pytest.raises(InvalidRequest):
        grant_promotional_credit(org, -5, memo="", idempotency_key="neg")
    assert not LedgerTransaction.objects.exists()


def test_consistency_check_sees_a_drifted_cache(org):
    grant_promotional_credit(org, 100, memo="", idempotency_key="p")
    Wallet.objects.filter(org=org).update(balance_nanos=101)
    report = check_wallet_consistency(org)
    assert (report.balance_nanos, report.ledger_nanos, report.ok) == (101, 100, False)


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_entries(org):
    posted = grant_promotional_credit(org, 100, memo="", idempotency_key="p")
    entry = LedgerEntry.objects.filter(transaction=posted.transaction).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_nanos=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.filter(pk=posted.transaction.pk).update(memo="changed")
    assert LedgerEntry.objects.get(pk=entry.pk).amount_nanos == entry.amount_nanos


@pytest.mark.postgres
def test_postgres_refuses_an_unbalanced_transaction_at_commit(org):
    txn = LedgerTransaction.objects.create(
        org=org, kind="adjustment", idempotency_key="raw", created_at="2026-01-01T00:00:00Z"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            transaction=txn, account=wallet_account(org), org=org, amount_nanos=5
        )
        # Deferred constraint triggers fire at commit; force them inside the savepoint.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not LedgerEntry.objects.filter(transaction=txn).exists()
