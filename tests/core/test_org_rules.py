"""core.compliance_rules' org checks: the router and the sponsored-listing pages share them."""

from core.compliance_rules import (
    OrgRules,
    org_endpoint_reasons,
    org_model_reasons,
    runs_only_within,
)

ENDPOINT = {"provider_slug": "acme", "regions": ("us",), "zdr": False, "retention_days": 30,
            "trains_on_data": True}


def test_no_policy_excludes_nothing():
    assert org_endpoint_reasons(OrgRules(), **ENDPOINT) == []
    assert org_model_reasons(OrgRules(), "a/model") == []


def test_each_rule_names_itself():
    rules = OrgRules(provider_allow=frozenset({"other"}), provider_deny=frozenset({"acme"}),
                     regions=frozenset({"eu"}), require_zdr=True, deny_training=True)
    assert org_endpoint_reasons(rules, **ENDPOINT) == [
        "org_policy.provider_allow", "org_policy.provider_deny", "org_policy.regions",
        "org_policy.require_zdr", "org_policy.deny_training"]
    models = OrgRules(model_allow=frozenset({"b/model"}), model_deny=frozenset({"a/model"}))
    assert org_model_reasons(models, "a/model") == ["org_policy.model_allow",
                                                     "org_policy.model_deny"]
    assert org_model_reasons(models, "b/model") == []


def test_zero_retention_counts_as_zdr_and_regions_must_all_be_allowed():
    zdr = OrgRules(require_zdr=True)
    assert org_endpoint_reasons(zdr, **{**ENDPOINT, "retention_days": 0}) == []
    assert org_endpoint_reasons(zdr, **{**ENDPOINT, "zdr": True}) == []
    assert runs_only_within(("eu",), frozenset({"eu", "us"}))
    assert not runs_only_within(("eu", "us"), frozenset({"eu"}))
    assert not runs_only_within((), frozenset({"eu"}))
