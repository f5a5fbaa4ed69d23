"""Reads of compliance rows, always scoped to an org, and the rules the gateway routes by."""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Any

from django.db.models import QuerySet

from compliance import vault
from compliance.models import ByokKey, KeyPolicy, OrgPolicy
from core.compliance_rules import ByokCredential, CallerRules, KeyRules, OrgRules
from core.errors import NotFound
from core.redaction import register_secret
from marketplace.tenancy.models import Organization

log = logging.getLogger(__name__)


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
    """The org's BYOK keys, decrypted, by provider slug (one indexed read).

    Runs in the gateway's database thread with the key lookup, cached with the key (at most a
    second). Each decrypted key is registered with the logging filter (core.redaction). A row
    the vault cannot open (its master key was dropped, or the row was moved from another org)
    is left out and logged by id, never by value.
    """
    rows = list(ByokKey.objects.filter(org_id=org_id).select_related("provider")
                .only("id", "ciphertext", "base_url", "always_use", "provider__slug"))
    credentials: dict[str, ByokCredential] = {}
    for row in rows:
        try:
            api_key = vault.decrypt(org_id, row.ciphertext)
        except (vault.VaultDecryptError, vault.VaultNotConfigured) as exc:
            log.error("BYOK key %s of org %s is not usable: %s", row.pk, org_id,
                      type(exc).__name__)
            continue
        credential = ByokCredential(byok_id=row.pk, provider_slug=row.provider.slug,
                                    api_key=api_key, base_url=row.base_url,
                                    always_use=row.always_use)
        register_secret(credential)
        credentials[row.provider.slug] = credential
    return credentials


def list_byok_keys(org: Organization) -> QuerySet[ByokKey]:
    """The org's BYOK keys, newest first (no secret: the ciphertext is never shown)."""
    return (ByokKey.objects.filter(org=org).select_related("provider")
            .defer("ciphertext").order_by("provider__slug"))


def access_byok_key(org: Organization, byok_id: object) -> ByokKey:
    """One of the org's BYOK keys; another org's is NotFound exactly like a missing one."""
    try:
        pk = int(str(byok_id))
    except ValueError:
        raise NotFound("No such BYOK key.") from None
    row = ByokKey.objects.filter(org=org, pk=pk).select_related("provider").first()
    if row is None:
        raise NotFound("No such BYOK key.")
    return row


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
