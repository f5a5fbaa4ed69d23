"""The org's low-balance threshold: below it the overview warns (and later, alerts fire)."""

from __future__ import annotations

from django.db import transaction

from billing.models import Wallet
from billing.services.ledger import ensure_wallet
from core.errors import Forbidden, InvalidRequest
from core.money import dashboard_usd, usd_to_nanos
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import Organization
from marketplace.tenancy.roles import BILLING_ROLES, Actor

# Far above any working balance, and far inside the int64 column.
MAX_THRESHOLD_USD = 1_000_000
MAX_THRESHOLD_NANOS = usd_to_nanos(MAX_THRESHOLD_USD)


@transaction.atomic
def set_low_balance_threshold(*, org: Organization, threshold_nanos: int, actor: Actor) -> Wallet:
    """Change the threshold (owners, admins, finance); a change writes one audit entry."""
    if actor.role not in BILLING_ROLES:
        raise Forbidden("Only owners, admins and finance members can change the threshold.")
    if isinstance(threshold_nanos, bool) or not isinstance(threshold_nanos, int) or not (
            0 <= threshold_nanos <= MAX_THRESHOLD_NANOS):
        raise InvalidRequest(
            f"The threshold must be between $0.00 and {dashboard_usd(MAX_THRESHOLD_NANOS)}.",
            param="threshold")
    ensure_wallet(org)
    wallet = Wallet.objects.select_for_update().get(org=org)
    before = wallet.low_balance_threshold_nanos
    if before != threshold_nanos:
        # update(): the hot path moves balance_nanos concurrently; touch only this column.
        Wallet.objects.filter(pk=wallet.pk).update(low_balance_threshold_nanos=threshold_nanos)
        wallet.low_balance_threshold_nanos = threshold_nanos
        record_audit(org=org, action="wallet.low_balance_threshold_changed", actor=actor,
                     target=wallet, before={"low_balance_threshold_nanos": before},
                     after={"low_balance_threshold_nanos": threshold_nanos})
    return wallet
