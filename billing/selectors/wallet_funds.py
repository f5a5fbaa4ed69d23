"""What several orgs' wallets can still pay, in one query (sponsored listings' serving, issue 14).

The same figure as `WalletSummary.available_nanos`: balance less open holds plus the credit
limit; an org with no wallet can pay nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from billing.models import Wallet


def available_by_org(org_ids: Iterable[int]) -> dict[int, int]:
    """org id -> nanos its wallet can still pay (absent orgs: no wallet, 0)."""
    ids = list(set(org_ids))
    if not ids:
        return {}
    rows = (Wallet.objects.filter(org_id__in=ids)
            .annotate(available=F("balance_nanos") - F("held_nanos") + F("credit_limit_nanos"))
            .values_list("org_id", "available"))
    found = dict(rows)
    return {org_id: found.get(org_id, 0) for org_id in ids}
