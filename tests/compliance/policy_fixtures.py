"""A small catalog for policy tests (providers in several regions, models, an endpoint region)
and a helper to read what a policy save left behind."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.tenancy.models import AuditEntry

PROVIDERS = {
    # slug: (name, regions, zdr, trains on prompts)
    "acme-us": ("Acme US", ["us"], True, False),
    "blue-eu": ("Blue EU", ["eu"], True, False),
    "crane-cn": ("Crane CN", ["cn"], False, True),
}
MODELS = ("acme/fast", "acme/smart", "blue/large")
# (model, provider, endpoint region)
ENDPOINTS = (("acme/fast", "acme-us", ""), ("acme/smart", "acme-us", ""),
             ("acme/fast", "blue-eu", "eu-central"), ("blue/large", "blue-eu", ""),
             ("acme/fast", "crane-cn", ""))


@dataclass
class PolicyCatalog:
    providers: dict
    models: dict


def build_policy_catalog() -> PolicyCatalog:
    from catalog import services as catalog_services

    providers = {
        slug: catalog_services.create_provider(
            slug=slug, name=name, wire_format="openai", base_url=f"sandbox://{slug}/v1",
            regions=regions, retention_days=0 if zdr else 30, zdr=zdr, trains_on_data=trains,
            is_sandbox=True)
        for slug, (name, regions, zdr, trains) in PROVIDERS.items()
    }
    models = {slug: catalog_services.create_model(slug=slug, name=slug.split("/")[1],
                                                  context_length=8_000)
              for slug in MODELS}
    for model, provider, region in ENDPOINTS:
        catalog_services.create_endpoint(
            model=models[model], provider=providers[provider], upstream_model_id=model,
            context_length=8_000, max_output_tokens=1_000, region=region,
            supported_parameters=["temperature"],
            price={"input_nanos_per_m": 10**8, "output_nanos_per_m": 2 * 10**8})
    return PolicyCatalog(providers, models)


def audit_entries(org, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(org=org, action=action).order_by("id"))
