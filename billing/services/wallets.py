"""Staff changes to a wallet's terms (its credit limit), audited in the org's log."""

from __future__ import annotations

from django.db import transaction

from billing.models import Wallet
from core.errors import InvalidRequest
from marketplace.tenancy.audit import record_audit


@transaction.atomic
def set_credit_limit(wallet: Wallet, limit_nanos: int, *, actor) -> Wallet:
    """How far below zero the org's available balance may go; audited when it changes."""
    if limit_nanos < 0:
        raise InvalidRequest("A credit limit is zero or more.", param="credit_limit")
    locked = Wallet.objects.select_for_update().get(pk=wallet.pk)
    before = locked.credit_limit_nanos
    if before == limit_nanos:
        return locked
    locked.credit_limit_nanos = limit_nanos
    locked.save(update_fields=["credit_limit_nanos", "updated_at"])
    record_audit(org=locked.org_id, action="wallet.credit_limit_changed", actor=actor,
                 target=locked, before={"credit_limit_nanos": before},
                 after={"credit_limit_nanos": limit_nanos})
    return locked
