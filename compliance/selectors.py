"""Reads of compliance rows, always scoped to an org, and the rules the gateway routes by."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from compliance.models import KeyPolicy, OrgPolicy
from core.compliance_rules import ByokCredential, CallerRules, KeyRules, OrgRules


def _frozen(values: Any) -> frozenset[str] | None:
    """A stored list as a set; None or empty means no restriction."""
    return frozenset(values) if values else None


def current_org_policy(org_id: int) -> OrgPolicy | None:
    return OrgPolicy.objects.filter(org_id=org_id).order_by("-version").first()


def current_key_policy(org_id: int, key_id: int) -> KeyPolicy | None:
    return (KeyPolicy.objects.filter(org_id=org_id, api_key_id=key_id)
            .order_by("-version").first())


def org_rules(policy: OrgPolicy | None) -> OrgRules:
    if policy is None:
        return OrgRules()
    return OrgRules(
        version=policy.version,
        provider_allow=_frozen(policy.provider_allow),
        provider_deny=_frozen(policy.provider_deny),
        model_allow=_frozen(policy.model_allow),
        model_deny=_frozen(policy.model_deny),
        regions=_frozen(policy.regions),
        require_zdr=policy.require_zdr,
        deny_training=policy.deny_training,
        fallbacks_outside_preferred=policy.fallbacks_outside_preferred,
        content_retention_days=policy.content_retention_days,
    )


def key_rules(policy: KeyPolicy | None) -> KeyRules:
    if policy is None:
        return KeyRules()
    return KeyRules(
        version=policy.version,
        models=_frozen(policy.allowed_models),
        providers=_frozen(policy.allowed_providers),
        regions=_frozen(policy.allowed_regions),
        rpm=policy.rpm,
        tpm=policy.tpm,
    )


def get_byok_credentials(org_id: int) -> dict[str, ByokCredential]:
    """The org's BYOK keys, decrypted, by provider slug (the vault fills this in)."""
    return {}


def get_caller_rules(org_id: int, key_id: int) -> CallerRules:
    """Everything compliance says about one key's requests; a few indexed reads.

    The gateway calls it beside the key lookup, in its database thread, and caches the result
    with the key (ARCHITECTURE.md, "The hot path").
    """
    return CallerRules(
        org=org_rules(current_org_policy(org_id)),
        key=key_rules(current_key_policy(org_id, key_id)),
        byok=MappingProxyType(get_byok_credentials(org_id)),
    )
