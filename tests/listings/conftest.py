"""Listings test fixtures: a small catalog with measured health, vendors with funded wallets,
campaigns, and viewers (anonymous, or signed in to an org)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory
from django.utils import timezone

from billing.models import Wallet
from billing.services.ledger import ensure_wallet
from catalog.models import Endpoint, EndpointHealth, Model, Price, Provider
from catalog.services import bump_catalog_version
from marketplace.listings.models import Campaign, Placement
from marketplace.tenancy.models import Membership, Organization, OrgKind

DOLLAR = 1_000_000_000
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A private in-memory cache per test: the quality telemetry is cached a minute, and one
    test's health rows must not leak into the next."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"listings-{next(_seq)}"}}


class Market:
    """Builds catalog rows, vendors and campaigns for one test."""

    def __init__(self):
        self.providers: dict[str, Provider] = {}

    def provider(self, slug: str, **fields) -> Provider:
        if slug not in self.providers:
            defaults = {"name": slug.title(), "wire_format": "openai",
                        "base_url": "https://api.example.com/v1", "regions": ["us"]}
            defaults.update(fields)
            self.providers[slug] = Provider.objects.create(slug=slug, **defaults)
        return self.providers[slug]

    def model(self, slug: str, *, providers=("prov-a",), price_nanos_per_m: int = DOLLAR,
              uptime_bps: int | None = 10_000, latency_ms: int | None = 300,
              error_rate_bps: int = 0, samples: int = 100, description: str = "",
              **fields) -> Model:
        author = slug.split("/")[0]
        model = Model.objects.create(slug=slug, author=author, name=slug.split("/")[1].title(),
                                     description=description or f"{slug} does things well.",
                                     input_modalities=["text"], output_modalities=["text"],
                                     context_length=128_000, **fields)
        for provider_slug in providers:
            endpoint = Endpoint.objects.create(
                model=model, provider=self.provider(provider_slug),
                upstream_model_id=slug, context_length=128_000, input_modalities=["text"],
                output_modalities=["text"])
            Price.objects.create(endpoint=endpoint, effective_from=timezone.now()
                                 - dt.timedelta(days=1), input_nanos_per_m=price_nanos_per_m,
                                 output_nanos_per_m=price_nanos_per_m)
            if uptime_bps is not None:
                EndpointHealth.objects.create(
                    endpoint=endpoint, window="1d", uptime_bps=uptime_bps,
                    p50_latency_ms=latency_ms, error_rate_bps=error_rate_bps,
                    sample_count=samples, computed_at=timezone.now())
        bump_catalog_version()
        return model

    def vendor(self, name: str, *, balance_nanos: int = 100 * DOLLAR) -> Organization:
        org = Organization.objects.create(name=name, slug=f"vendor-{next(_seq)}",
                                          kind=OrgKind.VENDOR)
        ensure_wallet(org)
        Wallet.objects.filter(org=org).update(balance_nanos=balance_nanos)
        return org

    def campaign(self, org: Organization, model: Model, *, bid_nanos: int = 2 * DOLLAR,
                 placements=(Placement.CATALOG, Placement.ALTERNATIVES), **fields) -> Campaign:
        values = {"name": f"{model.slug} campaign", "pricing": "cpm",
                  "daily_budget_nanos": 10 * DOLLAR, "total_budget_nanos": 50 * DOLLAR,
                  "starts_on": timezone.now().date() - dt.timedelta(days=1)}
        values.update(fields)
        return Campaign.objects.create(org=org, model=model, bid_nanos=bid_nanos,
                                       placements=list(placements), **values)


@pytest.fixture
def market(db) -> Market:
    return Market()


def member_of(org: Organization, email: str | None = None):
    user = get_user_model().objects.create_user(
        username=email or f"user{next(_seq)}@example.com",
        email=email or f"user{next(_seq)}@example.com", password="pw-for-tests-only")
    Membership.objects.create(org=org, user=user, role="developer")
    return user


# A desktop browser: an empty or scripted user agent is a crawler and gets no slots.
BROWSER_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/18.1 Safari/605.1.15")


@pytest.fixture
def client():
    """The test client, as a desktop browser."""
    return Client(HTTP_USER_AGENT=BROWSER_AGENT)


def page_request(path: str = "/models", user=None, **meta):
    """A GET of `path` with a session, as the middleware would hand it to a view."""
    meta.setdefault("HTTP_USER_AGENT", BROWSER_AGENT)
    request = RequestFactory().get(path, **meta)
    request.user = user or AnonymousUser()
    SessionMiddleware(lambda r: None).process_request(request)
    return request
