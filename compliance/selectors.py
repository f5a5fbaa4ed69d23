"""Reads of compliance rows, always scoped to an org, and the rules the gateway routes by."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.db.models import QuerySet

from catalog.models import Status
from catalog.selectors import list_endpoints, list_models, list_providers
from compliance import vault
from compliance.models import ByokKey, KeyPolicy, OrgPolicy
from core.compliance_rules import (
    ByokCredential,
    CallerRules,
    KeyRules,
    OrgRules,
    org_endpoint_reasons,
    org_model_reasons,
)
from core.errors import NotFound
from core.redaction import register_secret
from marketplace.tenancy.models import AuditEntry, Organization

log = logging.getLogger(__name__)

# The fields a policy version holds besides its version, author and time, in display order.
ORG_POLICY_FIELDS = (
    "provider_allow", "provider_deny", "model_allow", "model_deny", "regions",
    "require_zdr", "deny_training", "fallbacks_outside_preferred", "content_retention_days",
)
ORG_POLICY_DEFAULTS: dict[str, Any] = {
    "provider_allow": None, "provider_deny": None, "model_allow": None, "model_deny": None,
    "regions": None, "require_zdr": False, "deny_training": False,
    "fallbacks_outside_preferred": True, "content_retention_days": None,
}
KEY_POLICY_FIELDS = ("allowed_models", "allowed_providers", "allowed_regions", "rpm", "tpm")
KEY_POLICY_DEFAULTS: dict[str, Any] = dict.fromkeys(KEY_POLICY_FIELDS)
# The audit actions policy changes write (services.py); history pages read authors from them.
ORG_POLICY_ACTION = "policy.updated"
KEY_POLICY_ACTION = "key_policy.updated"


def _frozen(values: Any) -> frozenset[str] | None:
    """A stored list as a set; None or empty means no restriction."""
    return frozenset(values) if values else None


def current_org_policy(org_id: int) -> OrgPolicy | None:
    return OrgPolicy.objects.filter(org_id=org_id).order_by("-version").first()


def current_key_policy(org_id: int, key_id: int) -> KeyPolicy | None:
    return (KeyPolicy.objects.filter(org_id=org_id, api_key_id=key_id)
            .order_by("-version").first())


def org_policy_values(policy: OrgPolicy | None) -> dict[str, Any]:
    """The policy's fields (the defaults when None) and its version, as the API shows them."""
    if policy is None:
        return {"version": None, **ORG_POLICY_DEFAULTS}
    return {"version": policy.version,
            **{name: getattr(policy, name) for name in ORG_POLICY_FIELDS}}


def key_policy_values(policy: KeyPolicy | None) -> dict[str, Any]:
    if policy is None:
        return {"version": None, **KEY_POLICY_DEFAULTS}
    return {"version": policy.version,
            **{name: getattr(policy, name) for name in KEY_POLICY_FIELDS}}


def list_org_policy_versions(org_id: int) -> QuerySet[OrgPolicy]:
    """Every version of the org's policy, newest first, with its author."""
    return (OrgPolicy.objects.filter(org_id=org_id).select_related("created_by")
            .order_by("-version"))


def access_org_policy_version(org_id: int, version: Any) -> OrgPolicy:
    """One version of the org's policy; NotFound for a missing one (or another org's)."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise NotFound("Policy version not found.") from None
    policy = list_org_policy_versions(org_id).filter(version=number).first()
    if policy is None:
        raise NotFound("Policy version not found.")
    return policy


def list_key_policy_versions(org_id: int, key_id: int) -> QuerySet[KeyPolicy]:
    return (KeyPolicy.objects.filter(org_id=org_id, api_key_id=key_id)
            .select_related("created_by").order_by("-version"))


@dataclass(frozen=True)
class VersionAuthor:
    label: str  # an email, "key sk-sy-…" for a management key, or "unknown"
    user_id: int | None


def policy_authors(org_id: int, versions: Iterable[OrgPolicy | KeyPolicy]
                   ) -> dict[int, VersionAuthor]:
    """Who wrote each version, by version number.

    A version records its user; one written with a management key has none, so its author is
    the actor of the audit entry that recorded it (written in the same transaction).
    """
    versions = list(versions)
    authors = {v.version: VersionAuthor(v.created_by.email or str(v.created_by_id),
                                        v.created_by_id)
               for v in versions if v.created_by is not None}
    missing = [v for v in versions if v.created_by is None]
    if missing:
        by_key = isinstance(missing[0], KeyPolicy)
        entries = AuditEntry.objects.filter(
            org_id=org_id, action=KEY_POLICY_ACTION if by_key else ORG_POLICY_ACTION,
            after__version__in=[v.version for v in missing])
        if by_key:
            entries = entries.filter(target_id=str(missing[0].api_key_id))
        labels = dict(entries.values_list("after__version", "actor_label"))
        for v in missing:
            authors[v.version] = VersionAuthor(labels.get(v.version, "unknown"), None)
    return authors


@dataclass(frozen=True)
class PolicyChoices:
    """What a policy may name: the catalog's provider slugs, model slugs and region codes."""

    providers: dict[str, str]  # slug -> display name
    models: frozenset[str]
    regions: frozenset[str]


def policy_choices() -> PolicyChoices:
    """Every provider, model and region the catalog knows, enabled or not (a deny list may
    name a provider that is switched off today)."""
    providers = {}
    regions: set[str] = set()
    for slug, name, provider_regions in list_providers().values_list("slug", "name", "regions"):
        providers[slug] = name
        regions.update(r for r in provider_regions or () if isinstance(r, str) and r)
    regions.update(r for r in list_endpoints().order_by().values_list("region", flat=True)
                   .distinct() if r)
    return PolicyChoices(
        providers=providers,
        models=frozenset(list_models().values_list("slug", flat=True)),
        regions=frozenset(regions),
    )


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


def models_excluded_for_org(org_id: int, model_slugs: Iterable[str]) -> frozenset[str]:
    """Which of `model_slugs` the org's current policy keeps it from ever reaching: the model
    denied by the org's model allow/deny lists, or every active endpoint of it excluded by the
    org's provider, region, ZDR or training rules (`core.compliance_rules`, the router's own
    checks). Pages use it to never show an org a model it could not call (sponsored listings,
    issue 14). Two queries; one when the org has no policy."""
    rules = org_rules(current_org_policy(org_id))
    slugs = set(model_slugs)
    excluded = {slug for slug in slugs if org_model_reasons(rules, slug)}
    if not (rules.provider_allow or rules.provider_deny or rules.regions or rules.require_zdr
            or rules.deny_training):
        return frozenset(excluded)
    reachable: set[str] = set()
    seen: set[str] = set()
    endpoints = (list_endpoints().filter(model__slug__in=slugs - excluded,
                                         status=Status.ACTIVE, provider__status=Status.ACTIVE)
                 .values_list("model__slug", "region", "provider__slug", "provider__regions",
                              "provider__zdr", "provider__retention_days",
                              "provider__trains_on_data"))
    for slug, region, provider, regions, zdr, retention, trains in endpoints:
        seen.add(slug)
        if slug in reachable:
            continue
        where = (region,) if region else tuple(regions or ())
        if not org_endpoint_reasons(rules, provider_slug=provider, regions=where, zdr=zdr,
                                    retention_days=retention, trains_on_data=trains):
            reachable.add(slug)
    # A model with no active endpoint at all is unreachable for everyone, not by this policy.
    return frozenset(excluded | (seen - reachable))
