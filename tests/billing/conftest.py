"""Billing test fixtures: organizations with wallets, through the public services."""

import itertools

import pytest

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
