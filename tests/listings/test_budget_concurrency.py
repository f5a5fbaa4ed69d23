"""Spend never exceeds the budget (nor the wallet) under 200 concurrent impressions from two
processes, each firing from several threads with its own PostgreSQL connections: the campaign's
conditional UPDATE and the wallet's decide, not timing. Then the ledger balances."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from billing.models import LedgerEntry, SponsoredCharge, Wallet
from billing.services.ledger import check_wallet_consistency
from billing.services.sponsored import post_sponsored_charges
from marketplace.listings.models import AdEvent
from tests.listings.money_factories import USD, campaign, ticket, vendor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HERE = Path(__file__).resolve().parent
IMPRESSIONS = 200
PROCESSES = 2
THREADS = 8
PRICE = 1_000_003  # nanos an impression (a bid of 1_000_003_000 per thousand)
FITS = IMPRESSIONS // 2  # what the binding limit pays for


def child_env() -> dict[str, str]:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    url = f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX": str(THREADS + 2),
            "DB_POOL_TIMEOUT_S": "30", "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONUNBUFFERED": "1"}


def storm(tickets, tmp_path) -> list[dict]:
    """Fire the tickets' impressions from PROCESSES processes at once; return every outcome."""
    children = []
    try:
        for n in range(PROCESSES):
            path = tmp_path / f"tickets-{n}.json"
            path.write_text(json.dumps([asdict(t) for t in tickets[n::PROCESSES]]))
            children.append(subprocess.Popen(
                [sys.executable, str(HERE / "impression_storm.py"), str(path), str(THREADS)],
                env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            ))
        for child in children:
            line = child.stdout.readline()
            assert line.strip() == "ready", child.stderr.read()
        for child in children:  # both are set up: release them together
            child.stdin.write("go\n")
            child.stdin.flush()
        outcomes = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            report = json.loads(out.strip().splitlines()[-1])
            assert report["errors"] == [], report["errors"]
            outcomes += report["outcomes"]
        return outcomes
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("binding", ["budget", "wallet"])
def test_spend_never_exceeds_the_budget_or_the_wallet_under_concurrent_impressions(
        tmp_path, binding):
    # Half the impressions fit the binding limit (plus half an impression that never does).
    limit = FITS * PRICE + PRICE // 2
    org = vendor(balance_nanos=limit if binding == "wallet" else 10 * USD)
    c = campaign(org, bid_nanos=PRICE * 1000,
                 total_budget_nanos=limit if binding == "budget" else 10 * USD,
                 daily_budget_nanos=10 * USD)
    before = Wallet.objects.get(org=org).balance_nanos
    tickets = [ticket(c, viewer=f"viewer-{i}") for i in range(IMPRESSIONS)]

    outcomes = storm(tickets, tmp_path)

    assert len(outcomes) == IMPRESSIONS
    billed = [o for o in outcomes if o["counted"]]
    refused = {o["reason"] for o in outcomes if not o["counted"]}
    assert len(billed) == FITS and refused == {binding}
    assert all(o["billed_nanos"] == PRICE for o in billed)
    c.refresh_from_db()
    spent = FITS * PRICE
    assert c.spent_nanos == spent <= c.total_budget_nanos
    assert c.spent_day_nanos == spent and c.impressions == FITS
    assert AdEvent.objects.filter(campaign=c).count() == FITS
    charges = SponsoredCharge.objects.filter(org=org).aggregate(t=Sum("amount_nanos"))["t"]
    assert charges == spent
    after = Wallet.objects.get(org=org).balance_nanos
    assert before - after == spent and after >= 0
    assert check_wallet_consistency(org).ok

    assert post_sponsored_charges(batch_size=37) == FITS
    report = check_wallet_consistency(org)
    assert report.ok and report.unposted_sponsored_nanos == 0
    revenue = LedgerEntry.objects.filter(account__kind="sponsored_revenue", org=org).aggregate(
        t=Sum("amount_nanos"))["t"]
    assert revenue == spent
    per_txn = (LedgerEntry.objects.filter(org=org).values("transaction")
               .annotate(t=Sum("amount_nanos")).exclude(t=0))
    assert not per_txn.exists()  # every transaction sums to zero
