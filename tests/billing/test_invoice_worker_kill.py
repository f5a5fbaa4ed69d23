"""Reconciliation on a real Celery worker (RabbitMQ): SIGKILL it mid-run, rerun, and every
usage record is invoiced exactly once, totals equal ledger sums, and a finalized invoice is
unchangeable.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import (
    Invoice,
    InvoicedUsage,
    InvoiceLine,
    LedgerEntry,
    UsageRecord,
    Wallet,
)
from billing.services.invoices import change_invoice, finalize_due_invoices
from billing.services.ledger import check_wallet_consistency, grant_promotional_credit
from billing.tasks.invoicing import roll_usage_into_invoices
from billing.tasks.posting import post_usage_to_ledger
from core.errors import Conflict

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.django_db(transaction=True),
]
REPO = Path(__file__).resolve().parents[2]
RECORDS_PER_ORG = 200


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    url = f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX": "2", "PYTHONUNBUFFERED": "1"}


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "marketplace", "worker",
             "-Q", queue, "--pool", "solo", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"{queue}@%h", "--loglevel", "INFO"],
            cwd=REPO, env=worker_env(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def settled_usage(org, count: int) -> None:
    """Write settled usage as the gateway's batched writer does: records plus the debit."""
    now = timezone.now()
    rows = []
    for i in range(count):
        upstream = 1_000_003 * (i % 7 + 1)
        margin = (upstream * 550 + 5_000) // 10_000
        rows.append(UsageRecord(
            request_id=f"kill-{org.pk}-{i}", org=org, created_at=now,
            requested_model=f"m/model-{i % 3}", served_model=f"m/model-{i % 3}",
            provider_slug=f"prov-{i % 2}", prompt_tokens=10 + i, completion_tokens=i % 50,
            upstream_cost_nanos=upstream, margin_nanos=margin, charge_nanos=upstream + margin,
        ))
    UsageRecord.objects.bulk_create(rows)
    total = sum(r.charge_nanos for r in rows)
    Wallet.objects.filter(org=org).update(balance_nanos=F("balance_nanos") - total)


def wait_for(predicate, timeout_s: float, what: str, log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text(errors='replace')}")


@pytest.mark.timeout(900)
def test_sigkilled_worker_then_rerun_invoices_every_record_once(make_org, tmp_path):
    orgs = [make_org() for _ in range(3)]
    for org in orgs:
        grant_promotional_credit(org, 10**13, memo="", idempotency_key="seed")
        settled_usage(org, RECORDS_PER_ORG)
    total = RECORDS_PER_ORG * len(orgs)
    assert post_usage_to_ledger() == total
    queue = f"b2-invoicing-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    first = start_worker(queue, log)
    try:
        roll_usage_into_invoices.apply_async(kwargs={"batch_size": 3}, queue=queue)
        wait_for(lambda: InvoicedUsage.objects.count() > 30, 120, "the roll to start", log)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = InvoicedUsage.objects.count()
    time.sleep(0.5)
    assert 0 < at_kill == InvoicedUsage.objects.count() < total  # killed mid-run, no progress

    second = start_worker(queue, log)
    try:
        # RabbitMQ redelivers the unacknowledged task to the new worker; run it once more too.
        wait_for(lambda: InvoicedUsage.objects.count() == total, 400, "the redelivered roll", log)
        rerun = roll_usage_into_invoices.apply_async(kwargs={"batch_size": 50}, queue=queue)
        # The rerun must have finished (not merely been sent) before the totals are checked,
        # however slow the worker is; the worker logs each task's outcome by its id.
        wait_for(lambda: f"[{rerun.id}] succeeded" in log.read_text(errors="replace"), 120,
                 "the rerun to finish", log)
    finally:
        second.terminate()
        second.wait(timeout=20)

    assert InvoicedUsage.objects.count() == total
    assert Invoice.objects.aggregate(n=Sum("requests"))["n"] == total
    for org in orgs:
        invoice = Invoice.objects.get(org=org)
        ledger_charges = -LedgerEntry.objects.filter(
            org=org, account__kind="wallet", transaction__kind="charge"
        ).aggregate(t=Sum("amount_nanos"))["t"]
        payable = LedgerEntry.objects.filter(
            org=org, account__kind="provider_payable"
        ).aggregate(t=Sum("amount_nanos"))["t"]
        margin = LedgerEntry.objects.filter(
            org=org, account__kind="margin_revenue"
        ).aggregate(t=Sum("amount_nanos"))["t"]
        assert invoice.charge_nanos == ledger_charges
        assert invoice.upstream_cost_nanos == payable
        assert invoice.margin_nanos == margin
        lines = InvoiceLine.objects.filter(invoice=invoice, kind="usage")
        assert sum(line.amount_nanos for line in lines) == ledger_charges
        assert sum(line.requests for line in lines) == RECORDS_PER_ORG
        assert check_wallet_consistency(org).ok

    finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
    invoice = Invoice.objects.get(org=orgs[0])
    assert invoice.status == "finalized"
    with pytest.raises(Conflict):
        change_invoice(invoice, charge_nanos=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(charge_nanos=0)
    assert Invoice.objects.get(pk=invoice.pk).charge_nanos == invoice.charge_nanos
