"""What compliance tells the router about one caller: plain frozen data, no Django.

`compliance.selectors.get_caller_rules` builds a `CallerRules` from the org's current policy,
the key's policy and the org's BYOK keys; the gateway keeps it beside the authenticated key
(refreshed within a second of any change, as revocation is) and `routing.policy` applies it
from memory, so no request reads the database for it (ARCHITECTURE.md, "The hot path").
A `None` list means no restriction; a policy can only narrow what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class OrgRules:
    """The org's current policy; version None: the org never set one."""

    version: int | None = None
    provider_allow: frozenset[str] | None = None
    provider_deny: frozenset[str] | None = None
    model_allow: frozenset[str] | None = None
    model_deny: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    require_zdr: bool = False
    deny_training: bool = False
    fallbacks_outside_preferred: bool = True
    content_retention_days: int | None = None


@dataclass(frozen=True, slots=True)
class KeyRules:
    """The key's current policy (it narrows the org's) and its own rate limits."""

    version: int | None = None
    models: frozenset[str] | None = None
    providers: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True, slots=True, weakref_slot=True)
class ByokCredential:
    """An org's own key for one provider, decrypted; `api_key` never appears in a repr.

    Weakly referable: the vault registers each one with core.redaction, whose logging filter
    scrubs the keys of the credentials still alive from every log record.
    """

    byok_id: int
    provider_slug: str
    api_key: str = field(repr=False)
    base_url: str = ""
    always_use: bool = False


@dataclass(frozen=True, slots=True)
class CallerRules:
    org: OrgRules = field(default_factory=OrgRules)
    key: KeyRules = field(default_factory=KeyRules)
    # provider slug -> the org's key for it (read-only)
    byok: Mapping[str, ByokCredential] = field(default_factory=lambda: MappingProxyType({}))


NO_RULES = CallerRules()


def org_model_reasons(org: OrgRules, model_slug: str) -> list[str]:
    """Every rule of the org's policy that denies the model itself (empty: allowed)."""
    reasons = []
    if org.model_allow and model_slug not in org.model_allow:
        reasons.append("org_policy.model_allow")
    if org.model_deny and model_slug in org.model_deny:
        reasons.append("org_policy.model_deny")
    return reasons


def runs_only_within(regions: tuple[str, ...], allowed: frozenset[str]) -> bool:
    """Runs only in allowed regions. `regions` is where the endpoint may run (its own region,
    else every region its provider runs in), so all of them must be allowed; an endpoint with
    no known region is never within."""
    return bool(regions) and all(region in allowed for region in regions)


def org_endpoint_reasons(org: OrgRules, *, provider_slug: str, regions: tuple[str, ...],
                         zdr: bool, retention_days: int | None, trains_on_data: bool
                         ) -> list[str]:
    """Every rule of the org's policy that excludes one endpoint, from the endpoint's plain
    facts: the router (`routing.policy.exclusion_reasons`) and the pages that must not show a
    model the org could never reach (compliance's `models_excluded_for_org`) ask the same
    question here, so the two cannot drift apart."""
    reasons = []
    if org.provider_allow and provider_slug not in org.provider_allow:
        reasons.append("org_policy.provider_allow")
    if org.provider_deny and provider_slug in org.provider_deny:
        reasons.append("org_policy.provider_deny")
    if org.regions and not runs_only_within(regions, org.regions):
        reasons.append("org_policy.regions")
    if org.require_zdr and not (zdr or retention_days == 0):
        reasons.append("org_policy.require_zdr")
    if org.deny_training and trains_on_data:
        reasons.append("org_policy.deny_training")
    return reasons
