"""Billing test fixtures: organizations with wallets, through the public services."""

import itertools

import pytest
from billing_stripe_events import sign_event

from billing.services.ledger import ensure_wallet
from marketplace.tenancy.models import Organization

_seq = itertools.count(1)


@pytest.fixture
def make_org(db):
    """Build an organization with its wallet (and wallet ledger account)."""

    def make(name: str | None = None, **fields) -> Organization:
        n = next(_seq)
        org = Organization.objects.create(
            name=name or f"Org {n}", slug=f"billing-org-{n}-{id(fields) % 10_000}", **fields
        )
        ensure_wallet(org)
        return org

    return make


@pytest.fixture
def org(make_org):
    return make_org("Acme")


@pytest.fixture
def make_key(db):
    """An org API key row (the gateway's key lookup is not under test here)."""
    from marketplace.tenancy.models import ApiKey

    def make(org: Organization) -> ApiKey:
        n = next(_seq)
        return ApiKey.objects.create(
            org=org, name=f"key {n}", prefix=f"sk-sy-{n:08d}", key_hash=f"{n:064x}"
        )

    return make


@pytest.fixture
def charge_request(make_key):
    """Admit, then settle one request through billing's ORM charging services (B1's).

    Returns the usage record the settlement wrote; the wallet is debited as the hot path does.
    """
    from billing.hotpath import Admission, Settlement
    from billing.pricing import compute_charge
    from billing.services.holds import place_hold, settle_hold

    keys: dict[int, object] = {}

    def charge(
        org: Organization,
        *,
        upstream_nanos: int,
        margin_bps: int = 550,
        byok: bool = False,
        waived: bool = False,
        hold_nanos: int | None = None,
        provider: str = "sandbox-openai",
        model: str = "openai/gpt-4o-mini",
        prompt_tokens: int = 100,
        completion_tokens: int = 50,
    ):
        key = keys.get(org.pk) or keys.setdefault(org.pk, make_key(org))
        n = next(_seq)
        request_id = f"req-{n}-{org.pk}"
        want = hold_nanos if hold_nanos is not None else upstream_nanos * 2 + 1
        granted = place_hold(
            Admission(
                request_id=request_id, org_id=org.pk, key_id=key.pk, want_nanos=want,
                min_nanos=min(want, 1), model_slug=model, endpoint_id=None, price_id=None,
                prompt_upper_bytes=400, output_allowance_tokens=1000, deadline_s=60.0,
                is_byok=byok, provider_slug=provider,
            )
        )
        split = compute_charge(
            upstream_nanos, bps=margin_bps, is_byok=byok, byok_fee_bps=500, waived=waived
        )
        return settle_hold(
            Settlement(
                request_id=request_id, org_id=org.pk, key_id=key.pk, hold_nanos=granted,
                requested_model=model, served_model=model, endpoint_id=None,
                provider_slug=provider, price_id=None, prompt_tokens=prompt_tokens,
                completion_tokens=0 if waived else completion_tokens, cache_read_tokens=0,
                cache_write_tokens=0, reasoning_tokens=0,
                upstream_cost_nanos=split.upstream_cost_nanos, margin_nanos=split.margin_nanos,
                byok_fee_nanos=split.byok_fee_nanos, charge_nanos=split.charge_nanos,
                write_off_nanos=split.write_off_nanos, latency_ms=10, ttft_ms=5,
                finish_reason="error" if waived else "stop", streamed=False, cancelled=False,
                is_byok=byok, estimated=False,
            )
        )

    return charge


@pytest.fixture
def stripe_on(localstripe, settings):
    """Point billing at the session's localstripe (settings only; the code is real)."""
    for name, value in localstripe.env.items():
        setattr(settings, name, value)
    return localstripe


@pytest.fixture
def send_event(client, settings):
    """POST a signed event to the webhook; returns the response."""
    import uuid

    def send(event_type: str, obj: dict, *, secret: str | None = None, timestamp=None):
        event = {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": event_type,
            "created": 1_700_000_000,
            "data": {"object": obj},
        }
        payload, header = sign_event(
            event, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
        )
        return client.post(
            "/billing/stripe/webhook/", data=payload, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    return send


@pytest.fixture
def member_client(db):
    """A Django test client signed in as a new user with `role` in `org`."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from marketplace.tenancy.models import Membership

    def make(org: Organization, role: str) -> Client:
        n = next(_seq)
        user = get_user_model().objects.create_user(
            username=f"user{n}", email=f"user{n}@example.com", password="pw-a-long-one-1"
        )
        Membership.objects.create(org=org, user=user, role=role)
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def finalized_invoice(charge_request):
    """An org's usage rolled and finalized into a numbered invoice."""
    from datetime import UTC, datetime

    from billing.models import Invoice
    from billing.services.invoices import finalize_due_invoices
    from billing.services.ledger import grant_promotional_credit
    from billing.tasks.invoicing import roll_usage_into_invoices

    def make(org: Organization) -> Invoice:
        grant_promotional_credit(org, 10**11, memo="welcome", idempotency_key="inv-start")
        charge_request(org, upstream_nanos=1_234_567_891, model="openai/gpt-4o")
        charge_request(org, upstream_nanos=20_000, model="anthropic/claude-3-haiku",
                       provider="sandbox-anthropic", byok=True)
        roll_usage_into_invoices()
        finalize_due_invoices(now=datetime(2099, 1, 1, tzinfo=UTC))
        return Invoice.objects.get(org=org)

    return make
