"""Bench fixtures, created through the apps' own services (run by scripts/bench.py in a child
process configured for the bench database): three mock providers and models, an org with a
routing policy, an inference key with a spend limit and credit. Idempotent: a second run reuses
the catalog and the policy and mints a fresh key. The key has a limit because production keys
often do, and a limit adds a row every hold, settle and release locks (it never refuses: it is
as large as the credit). The policy makes every request pass the router's policy checks (a
deny list, regions, zero data retention, no training) without excluding the bench endpoint:
`make bench` measures what policies cost."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from billing.services.ledger import grant_promotional_credit  # noqa: E402
from billing.services.spend_limits import set_key_spend_limit  # noqa: E402
from catalog import services as catalog_services  # noqa: E402
from catalog.models import Model, Provider  # noqa: E402
from compliance.models import OrgPolicy  # noqa: E402
from core.money import usd_to_nanos  # noqa: E402
from marketplace.tenancy.key_services import create_api_key  # noqa: E402
from marketplace.tenancy.models import Organization, Role  # noqa: E402
from marketplace.tenancy.roles import Actor  # noqa: E402
from marketplace.tenancy.services import create_organization  # noqa: E402

MOCKS = {"json": 18080, "sse": 18081, "delay": 18090}
# gpt-4o-mini's list price: the mock answers as gpt-4o-mini does.
PRICE = {"input_nanos_per_m": 150_000_000, "output_nanos_per_m": 600_000_000}
CREDIT_NANOS = usd_to_nanos(1_000_000)  # the run never runs out


def setup() -> dict:
    models = {}
    for kind, port in MOCKS.items():
        slug = f"bench-{kind}"
        provider = Provider.objects.filter(slug=slug).first()
        base_url = f"http://127.0.0.1:{port}/v1"
        if provider is None:
            provider = catalog_services.create_provider(
                slug=slug, name=f"Bench mock ({kind})", wire_format="openai", base_url=base_url,
                regions=["local"], retention_days=0, zdr=True, is_sandbox=False)
        elif provider.base_url != base_url:
            catalog_services.update_provider(provider, base_url=base_url)
        model_slug = f"bench/mock-{kind}"
        model = Model.objects.filter(slug=model_slug).first()
        if model is None:
            model = catalog_services.create_model(
                slug=model_slug, name=f"Bench mock {kind}", context_length=128_000,
                input_modalities=["text"], output_modalities=["text"])
            catalog_services.create_endpoint(
                model=model, provider=provider, upstream_model_id="gpt-4o-mini",
                context_length=128_000, max_output_tokens=16_384,
                supported_parameters=["max_tokens", "temperature", "stream"],
                price=dict(PRICE))
        models[kind] = model_slug
    user_model = get_user_model()
    user = user_model.objects.filter(email="bench@switchyard.local").first() or \
        user_model.objects.create_user(username="bench@switchyard.local",
                                       email="bench@switchyard.local", password=None)
    org = Organization.objects.filter(slug="switchyard-bench").first() or \
        create_organization(name="Switchyard Bench", owner=user)
    if not OrgPolicy.objects.filter(org=org).exists():
        # Written directly: the bench database is ours, as seed_demo's demo org is.
        OrgPolicy.objects.create(org=org, version=1, provider_deny=["sandbox-trains"],
                                 regions=["local"], require_zdr=True, deny_training=True)
    owner = Actor(role=Role.OWNER, user=user)
    key, plaintext = create_api_key(org=org, name="make bench", actor=owner)
    set_key_spend_limit(org=org, key_id=key.pk, limit_nanos=CREDIT_NANOS, period="month",
                        actor=owner)
    grant_promotional_credit(org, CREDIT_NANOS, memo="make bench credit",
                             idempotency_key=f"bench-{plaintext[-12:]}")
    return {"key": plaintext, "models": models, "org": org.pk}
