"""Create (or reuse) the demo organization and print its login and a fresh API key.

Idempotent: the demo user and org are reused; the plaintext of a key is never stored, so each
run mints a new inference key named "demo" and revokes the previous one. The $10 promotional
credit is granted once (the ledger dedupes on its idempotency key).

The sponsored-listings side (issue 14) comes with it: the vendor org Sandbox Labs, its own
login (printed as `vendor_email`/`vendor_password`; the demo user stays a member of the
developer org only), credit, grants and campaigns (`demo_vendor.py`). With `--usage`, the last
hours of the promoted models' sandbox endpoints are kept filled too, so their measured health
(the sponsored slots' quality gates) is there whenever `make run` starts.
"""

from __future__ import annotations

import json

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from billing.services.ledger import grant_promotional_credit
from core.money import usd_to_nanos
from marketplace.dashboard.demo_usage import add_demo_usage, add_recent_demo_traffic, has_usage
from marketplace.dashboard.demo_vendor import (
    PROMOTED,
    VENDOR_EMAIL,
    VENDOR_PASSWORD,
    seed_demo_vendor,
)
from marketplace.tenancy import key_services, selectors
from marketplace.tenancy.models import Membership, Organization, Role
from marketplace.tenancy.roles import Actor

DEMO_EMAIL = "demo@switchyard.local"
# A development-only login, printed on purpose by `make run`; never used outside the demo org.
DEMO_PASSWORD = "switchyard-demo-password"
DEMO_ORG_SLUG = "demo"
DEMO_ORG_NAME = "Demo Org"
DEMO_KEY_NAME = "demo"
DEMO_CREDIT_NANOS = usd_to_nanos(10)
DEMO_CREDIT_IDEMPOTENCY_KEY = "seed-demo-credit"


def _demo_user():
    User = get_user_model()
    user = User.objects.filter(email__iexact=DEMO_EMAIL).first()
    if user is None:
        user = User.objects.create_user(username="demo", email=DEMO_EMAIL)
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    # A verified primary address, so mandatory verification lets the demo login through.
    EmailAddress.objects.update_or_create(
        user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
    )
    return user


def _demo_org(user) -> Organization:
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if org is None:
        org = Organization.objects.create(name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG)
    Membership.objects.update_or_create(org=org, user=user, defaults={"role": Role.OWNER})
    return org


@transaction.atomic
def seed_demo() -> dict[str, str]:
    """Ensure the demo user, org, credit and a fresh demo key; return the printed facts."""
    user = _demo_user()
    org = _demo_org(user)
    actor = Actor(role=Role.OWNER, user=user)
    for key in selectors.list_api_keys(org, include_revoked=False).filter(name=DEMO_KEY_NAME):
        key_services.revoke_api_key(org=org, key=key, actor=actor)
    _, plaintext = key_services.create_api_key(org=org, name=DEMO_KEY_NAME, actor=actor)
    grant_promotional_credit(
        org,
        DEMO_CREDIT_NANOS,
        memo="Demo credit",
        idempotency_key=DEMO_CREDIT_IDEMPOTENCY_KEY,
    )
    vendor = seed_demo_vendor()
    return {
        "org": org.name,
        "api_key": plaintext,
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "dashboard_url": settings.PUBLIC_URL.rstrip("/") + "/dashboard/",
        "vendor_org": vendor.name,
        "vendor_email": VENDOR_EMAIL,
        "vendor_password": VENDOR_PASSWORD,
    }


class Command(BaseCommand):
    help = "Create or reuse the demo organization and print its login and a fresh API key."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--usage", type=int, default=0, metavar="N",
            help="Also add N synthetic usage records over the last 30 days (charts, "
                 "scripts/page_speed.py), with their request records and the analytics "
                 "rollup; they are history and move no balance. Also keeps the last hours "
                 "of the sponsored demo models' sandbox endpoints filled (their health).")
        parser.add_argument(
            "--usage-if-empty", action="store_true",
            help="With --usage: add them only when the demo org has no usage yet (make run).")

    def handle(self, *args, **options):
        facts = seed_demo()
        if options["usage"] > 0:
            org = Organization.objects.get(slug=DEMO_ORG_SLUG)
            if not (options["usage_if_empty"] and has_usage(org.pk)):
                facts["usage_added"] = str(add_demo_usage(org, options["usage"]))
            recent = add_recent_demo_traffic(org, list(PROMOTED))
            if recent:
                facts["recent_usage_added"] = str(recent)
        if options["json"]:
            self.stdout.write(json.dumps(facts))
            return
        self.stdout.write(
            f"Demo organization: {facts['org']}\n"
            f"Dashboard: {facts['dashboard_url']}\n"
            f"Login: {facts['email']} / {facts['password']}\n"
            f"API key (shown once): {facts['api_key']}\n"
            f"Vendor ({facts['vendor_org']}): {facts['vendor_email']} / "
            f"{facts['vendor_password']}\n"
        )
        if "usage_added" in facts:
            self.stdout.write(f"Usage records added: {facts['usage_added']}\n")
