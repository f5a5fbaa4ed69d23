"""models_excluded_for_org: the models an org's policy keeps it from reaching at all."""

import pytest

from catalog.models import Endpoint, Model, Provider
from compliance.models import OrgPolicy
from compliance.selectors import models_excluded_for_org
from marketplace.tenancy.models import Organization


@pytest.fixture
def models(db):
    providers = {slug: Provider.objects.create(slug=slug, name=slug, wire_format="openai",
                                               base_url="https://x.example/v1", **fields)
                 for slug, fields in (("us-trains", {"regions": ["us"], "trains_on_data": True}),
                                      ("eu-zdr", {"regions": ["eu"], "zdr": True}),
                                      ("off", {"regions": ["eu"], "status": "disabled"}))}
    layout = {"x/us-only": ["us-trains"], "x/both": ["us-trains", "eu-zdr"],
              "x/eu-off": ["off"]}
    for slug, where in layout.items():
        model = Model.objects.create(slug=slug, author="x", name=slug)
        for provider in where:
            Endpoint.objects.create(model=model, provider=providers[provider],
                                    upstream_model_id=slug)
    return list(layout)


def _excluded(models, **policy):
    org = Organization.objects.create(name="o", slug=f"o-{len(policy)}-{sorted(policy)}")
    if policy:
        OrgPolicy.objects.create(org=org, version=1, **policy)
    return models_excluded_for_org(org.pk, models)


@pytest.mark.parametrize("policy, expected", [
    ({}, set()),
    ({"model_deny": ["x/both"]}, {"x/both"}),
    ({"model_allow": ["x/both"]}, {"x/us-only", "x/eu-off"}),
    ({"provider_deny": ["us-trains"]}, {"x/us-only"}),
    ({"regions": ["eu"]}, {"x/us-only"}),
    ({"require_zdr": True}, {"x/us-only"}),
    ({"deny_training": True}, {"x/us-only"}),
    ({"provider_allow": ["off"]}, {"x/us-only", "x/both"}),
])
def test_a_model_is_excluded_when_no_active_endpoint_is_allowed(models, policy, expected):
    # x/eu-off's only provider is disabled: nobody can reach it, so no policy is why (the
    # listings' quality gates keep such a model off the pages: it has no health measured).
    assert _excluded(models, **policy) == expected


def test_only_the_latest_policy_version_counts(models):
    org = Organization.objects.create(name="v", slug="v")
    OrgPolicy.objects.create(org=org, version=1, model_deny=["x/both"])
    OrgPolicy.objects.create(org=org, version=2, model_deny=["x/us-only"])
    assert models_excluded_for_org(org.pk, models) == {"x/us-only"}
