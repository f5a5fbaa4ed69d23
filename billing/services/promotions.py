"""The sign-up credit: promotional credit a new organization receives once.

Billing reacts to tenancy's `organization_created` signal (connected in billing/apps.py) rather
than the dashboard and the API each calling this: tenancy may import no other app, and a signal
sent inside `create_organization`'s transaction covers every way an org is created, now and
later, with the credit committing or rolling back with the org itself.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from billing.models import AccountKind, SignupCredit, TransactionKind
from billing.services.ledger import (
    Leg,
    ensure_wallet,
    post_transaction,
    system_account,
    wallet_account,
)
from marketplace.tenancy import selectors as tenancy_selectors
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import Organization

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY = "signup-credit"


def grant_signup_credit(org: Organization, user) -> SignupCredit | None:
    """Credit `org` with SIGNUP_CREDIT_USD if `user` has earned none before; else None.

    Only a user with a confirmed email earns it (an unconfirmed address costs nothing to make,
    so credit for one would be credit for anyone who asks twice). Zero credit posts nothing.
    """
    amount = settings.SIGNUP_CREDIT_NANOS
    if amount <= 0 or user is None or not user.pk:
        return None
    if not tenancy_selectors.user_has_verified_email(user):
        return None
    if SignupCredit.objects.filter(user=user).exists():
        return None
    try:
        # A savepoint: losing the race for this user (or org) drops the credit, not the org.
        with transaction.atomic():
            ensure_wallet(org)
            posted = post_transaction(
                org,
                kind=TransactionKind.PROMOTIONAL_CREDIT,
                idempotency_key=IDEMPOTENCY_KEY,
                legs=[Leg(wallet_account(org), amount),
                      Leg(system_account(AccountKind.PROMOTIONAL_CREDIT), -amount)],
                memo="Sign-up credit",
                metadata={"signup_credit_user_id": user.pk},
            )
            if not posted.created:
                return None
            credit = SignupCredit.objects.create(org=org, user=user, amount_nanos=amount,
                                                 transaction=posted.transaction)
            record_audit(org=org, action="signup_credit.granted", actor=None,
                         target=posted.transaction,
                         after={"amount_nanos": amount, "user_id": user.pk})
    except IntegrityError:
        logger.info("sign-up credit for org %s: user %s already earned one", org.pk, user.pk)
        return None
    return credit


def on_organization_created(sender, *, org: Organization, owner, **kwargs) -> None:
    grant_signup_credit(org, owner)
