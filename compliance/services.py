"""Changing org and key policies: each change is a new version, audited and announced.

Owners and admins edit (management keys too: they act as admins, marketplace/tenancy/roles.py);
the dashboard and the API call these same functions, so both refuse the same input with the
same message. A policy is never edited in place: a change inserts the next version in one
transaction with its `policy.updated` / `key_policy.updated` audit entry, and gateways are told
on commit (`fanout.announce_change`). A change that changes nothing writes no version, no entry
and no announcement.

`fields` holds only what changes: a field left out keeps its current value, so a client that
sends back what it read (the API's GET body) loses nothing it did not mean to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from compliance.fanout import announce_change
from compliance.models import KeyPolicy, OrgPolicy
from compliance.selectors import (
    KEY_POLICY_ACTION,
    KEY_POLICY_FIELDS,
    ORG_POLICY_ACTION,
    ORG_POLICY_FIELDS,
    PolicyChoices,
    current_key_policy,
    current_org_policy,
    key_policy_values,
    org_policy_values,
    policy_choices,
)
from core.errors import Conflict, Forbidden, InvalidRequest
from core.money_input import InputError, parse_bounded_int
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import ApiKey, Organization
from marketplace.tenancy.roles import SETTINGS_EDITORS, Actor
from marketplace.tenancy.selectors import access_api_key

# More names than the catalog will hold for years, few enough to keep a policy row small.
MAX_LIST_ITEMS = 1000
MAX_NAME_CHARS = 200
# Content logging keeps request and response content at most ten years.
MAX_RETENTION_DAYS = 3650
# A key's own limits; the columns are PostgreSQL integers (below 2**31).
MAX_KEY_RPM = 1_000_000
MAX_KEY_TPM = 1_000_000_000
# Two editors saving at once both try the next version; the unique constraint lets one win and
# the other retries on top of it.
_VERSION_ATTEMPTS = 5
ZDR_FORBIDS_CONTENT_LOGGING = (
    "Content logging cannot be turned on while zero data retention is required."
)

T = TypeVar("T")


@dataclass(frozen=True)
class PolicyUpdate:
    """What a save did: `changed` False means no new version (`policy` is the current one,
    None when the org or key never had a policy)."""

    policy: Any
    changed: bool


def _require_editor(actor: Actor) -> None:
    if actor.role not in SETTINGS_EDITORS:
        raise Forbidden("Only owners and admins can change policies.")


def _audit_actor(org: Organization, actor: Actor) -> Any:
    if actor.user is not None:
        return actor.user
    if actor.api_key_id is not None:
        return access_api_key(org, actor.api_key_id)
    return None


def _check_field_names(fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidRequest(f"Unknown fields: {', '.join(unknown)}.")


def _name_list(value: Any, *, param: str, noun: str) -> list[str] | None:
    """A list of names, stripped, deduplicated and sorted; None when empty (no restriction)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
        raise InvalidRequest(f"Give a list of {noun} names, or null for no restriction.",
                             param=param)
    if len(value) > MAX_LIST_ITEMS:
        raise InvalidRequest(f"At most {MAX_LIST_ITEMS} {noun}s.", param=param)
    names: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise InvalidRequest(f"Each {noun} is a name (a string).", param=param)
        name = item.strip()
        if len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise InvalidRequest(f"Unknown {noun}: {name[:60]!r}.", param=param)
        if name:
            names.add(name)
    return sorted(names) or None


def _known(names: list[str] | None, *, known: Mapping[str, str], previous: Any, param: str,
           noun: str) -> list[str] | None:
    """`names` in the catalog's spelling; unknown names are refused, naming each.

    A name the current version already holds stays accepted after the catalog drops it, so
    sending back the policy as read never fails.
    """
    if names is None:
        return None
    kept = set(previous or ())
    spelled, unknown = set(), []
    for name in names:
        if name in kept:
            spelled.add(name)
        elif (canonical := known.get(name.lower())) is not None:
            spelled.add(canonical)
        else:
            unknown.append(name)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        shown = ", ".join(unknown[:10]) + (", …" if len(unknown) > 10 else "")
        raise InvalidRequest(f"Unknown {noun}{plural}: {shown}.", param=param)
    return sorted(spelled)


def _by_lower(names: Iterable[str]) -> dict[str, str]:
    return {name.lower(): name for name in names}


def _flag(value: Any, *, param: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest("Give true or false.", param=param)
    return value


def _bounded(value: Any, *, param: str, high: int) -> int | None:
    if value is None:
        return None
    try:
        return parse_bounded_int(value, low=1, high=high)
    except InputError as exc:
        raise InvalidRequest(exc.message, param=param) from None


def _clean_lists(fields: Mapping[str, Any], current: Mapping[str, Any],
                 specs: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """Each list field in `fields` checked against the catalog (read only when needed)."""
    given = [name for name in specs if name in fields]
    if not given:
        return {}
    choices: PolicyChoices = policy_choices()
    known = {
        "provider": _by_lower(choices.providers),
        "model": _by_lower(choices.models),
        "region": _by_lower(choices.regions),
    }
    cleaned = {}
    for name in given:
        kind, noun = specs[name]
        cleaned[name] = _known(_name_list(fields[name], param=name, noun=noun),
                               known=known[kind], previous=current.get(name), param=name,
                               noun=noun)
    return cleaned


def _in_new_version(change: Callable[[], T]) -> T:
    """Run `change` in its own transaction, again when a concurrent save took its version."""
    for attempt in range(_VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                return change()
        except IntegrityError:
            if attempt == _VERSION_ATTEMPTS - 1:
                raise Conflict(
                    "The policy was being changed at the same time; try again.") from None
    raise AssertionError("unreachable")


# --- the org's policy ----------------------------------------------------------------------

_ORG_LISTS = {
    "provider_allow": ("provider", "provider"),
    "provider_deny": ("provider", "provider"),
    "model_allow": ("model", "model"),
    "model_deny": ("model", "model"),
    "regions": ("region", "region"),
}


def _check_org_policy(values: Mapping[str, Any]) -> None:
    for allow, deny, noun in (("provider_allow", "provider_deny", "provider"),
                              ("model_allow", "model_deny", "model")):
        both = sorted(set(values[allow] or ()) & set(values[deny] or ()))
        if both:
            raise InvalidRequest(
                f"A {noun} cannot be both allowed and denied: {', '.join(both[:10])}.",
                param=deny)
    if values["require_zdr"] and values["content_retention_days"] is not None:
        raise InvalidRequest(ZDR_FORBIDS_CONTENT_LOGGING, param="content_retention_days")


def _clean_org_fields(fields: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    _check_field_names(fields, ORG_POLICY_FIELDS)
    cleaned = _clean_lists(fields, current, _ORG_LISTS)
    for name in ("require_zdr", "deny_training", "fallbacks_outside_preferred"):
        if name in fields:
            cleaned[name] = _flag(fields[name], param=name)
    if "content_retention_days" in fields:
        cleaned["content_retention_days"] = _bounded(
            fields["content_retention_days"], param="content_retention_days",
            high=MAX_RETENTION_DAYS)
    return cleaned


def update_org_policy(org: Organization, actor: Actor, fields: Mapping[str, Any]
                      ) -> PolicyUpdate:
    """Save the org's policy with `fields` changed, as its next version.

    Unknown providers, models and regions are refused naming each; a name both allowed and
    denied, and content logging while zero data retention is required, are refused too.
    """
    _require_editor(actor)
    audit_actor = _audit_actor(org, actor)

    def change() -> PolicyUpdate:
        current = current_org_policy(org.pk)
        before = org_policy_values(current)
        after = {**before, **_clean_org_fields(fields, before)}
        _check_org_policy(after)
        if all(after[name] == before[name] for name in ORG_POLICY_FIELDS):
            return PolicyUpdate(current, changed=False)
        policy = OrgPolicy.objects.create(
            org=org, version=(current.version if current else 0) + 1, created_by=actor.user,
            **{name: after[name] for name in ORG_POLICY_FIELDS})
        record_audit(org=org, action=ORG_POLICY_ACTION, actor=audit_actor, target=org,
                     before=before, after=org_policy_values(policy))
        announce_change(org.pk)
        return PolicyUpdate(policy, changed=True)

    return _in_new_version(change)


# --- a key's policy ------------------------------------------------------------------------

_KEY_LISTS = {
    "allowed_models": ("model", "model"),
    "allowed_providers": ("provider", "provider"),
    "allowed_regions": ("region", "region"),
}


def _clean_key_fields(fields: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    _check_field_names(fields, KEY_POLICY_FIELDS)
    cleaned = _clean_lists(fields, current, _KEY_LISTS)
    if "rpm" in fields:
        cleaned["rpm"] = _bounded(fields["rpm"], param="rpm", high=MAX_KEY_RPM)
    if "tpm" in fields:
        cleaned["tpm"] = _bounded(fields["tpm"], param="tpm", high=MAX_KEY_TPM)
    return cleaned


def update_key_policy(key: ApiKey, actor: Actor, fields: Mapping[str, Any]) -> PolicyUpdate:
    """Save the key's policy with `fields` changed, as its next version.

    A key's lists narrow the org's policy (the router applies both), so a key can never reach
    what the org's policy excludes, whatever its own lists say. `rpm`/`tpm` None: the
    operator's default limits.
    """
    _require_editor(actor)
    org = key.org
    audit_actor = _audit_actor(org, actor)

    def change() -> PolicyUpdate:
        current = current_key_policy(org.pk, key.pk)
        before = key_policy_values(current)
        after = {**before, **_clean_key_fields(fields, before)}
        if all(after[name] == before[name] for name in KEY_POLICY_FIELDS):
            return PolicyUpdate(current, changed=False)
        policy = KeyPolicy.objects.create(
            org=org, api_key=key, version=(current.version if current else 0) + 1,
            created_by=actor.user, **{name: after[name] for name in KEY_POLICY_FIELDS})
        record_audit(org=org, action=KEY_POLICY_ACTION, actor=audit_actor, target=key,
                     before=before, after=key_policy_values(policy))
        announce_change(org.pk)
        return PolicyUpdate(policy, changed=True)

    return _in_new_version(change)

