"""Vendors and campaigns for the listings tests (and others' after the merge).

`vendor()` builds a vendor org (kind vendor, a funded wallet, an owner) with a provider staff
granted it, serving one model at a priced, active endpoint; `campaign()` adds a campaign for
that model through the real service, so it is valid and audited as a vendor's would be.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from billing.services.ledger import ensure_wallet, grant_promotional_credit
from catalog.models import Endpoint, Model, Price, Provider
from catalog.services import bump_catalog_version
from marketplace.listings import services
from marketplace.listings.models import Campaign, Placement, Pricing, VendorGrant
from marketplace.tenancy.models import Membership, OrgKind, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import OrganizationFactory, member

_seq = itertools.count(1)
USD = 1_000_000_000


@dataclass
class Vendor:
    owner: Membership
    provider: Provider
    model: Model
    grant: VendorGrant

    @property
    def org(self):
        return self.owner.org

    @property
    def actor(self) -> Actor:
        return Actor(role=self.owner.role, user=self.owner.user)


def catalog_model(provider: Provider | None = None, *, slug: str | None = None,
                  input_nanos_per_m: int = 1 * USD, output_nanos_per_m: int = 2 * USD) -> Model:
    """A model with an active, priced endpoint at `provider` (a new one if None)."""
    n = next(_seq)
    provider = provider or Provider.objects.create(
        slug=f"vendor-prov-{n}", name=f"Vendor Provider {n}", wire_format="openai",
        base_url="https://vendor.example/v1")
    slug = slug or f"{provider.slug}/model-{n}"
    model = Model.objects.create(slug=slug, author=slug.split("/")[0], name=f"Model {n}",
                                 input_modalities=["text"], output_modalities=["text"],
                                 supports_tools=True)
    endpoint = Endpoint.objects.create(model=model, provider=provider, upstream_model_id=slug,
                                       context_length=32_000)
    Price.objects.create(endpoint=endpoint, effective_from=timezone.now() - dt.timedelta(days=1),
                         input_nanos_per_m=input_nanos_per_m,
                         output_nanos_per_m=output_nanos_per_m)
    bump_catalog_version()
    return model


def vendor(*, kind: str = OrgKind.VENDOR, funds_nanos: int = 100 * USD,
           name: str | None = None) -> Vendor:
    """A vendor org with an owner, a funded wallet and a granted provider serving a model."""
    n = next(_seq)
    org = OrganizationFactory(kind=kind, name=name or f"Vendor {n}")
    owner = member(Role.OWNER, org=org)
    ensure_wallet(org)
    if funds_nanos:
        grant_promotional_credit(org, funds_nanos, memo="test funds",
                                 idempotency_key=f"vendor-funds-{org.pk}")
    model = catalog_model()
    provider = Provider.objects.get(endpoints__model=model)
    grant = services.add_grant(org=org, actor=None, provider=provider,
                               evidence="DNS TXT record")
    return Vendor(owner=owner, provider=provider, model=model, grant=grant)


def campaign(v: Vendor | None = None, **overrides) -> Campaign:
    """A CPC campaign for the vendor's model, on every placement, starting today."""
    v = v or vendor()
    pricing = overrides.pop("pricing", Pricing.CPC)
    model_slug = overrides.pop("model_slug", v.model.slug)
    values = dict(name=f"Campaign {next(_seq)}", placements=list(Placement.values),
                  bid_nanos=USD // 2, daily_budget_nanos=10 * USD, total_budget_nanos=50 * USD,
                  starts_on=timezone.now().date(), ends_on=None, target_tasks=[],
                  target_capabilities=[])
    values.update(overrides)
    return services.create_campaign(org=v.org, actor=v.actor, model_slug=model_slug,
                                    pricing=pricing, data=services.CampaignInput(**values))
