"""BYOK keys: the services that add, replace, remove and flag an org's own provider keys.

Owners and admins only (management keys act as admins). Each verb is one transaction that
writes its audit entry (`byok_key.added`, `byok_key.rotated` when a provider's key is replaced,
`byok_key.removed`, `byok_key.rejected` when the provider refused it) and announces the change
so every gateway reloads the org's keys within a second. A key is described by its provider and
last four characters only: the plaintext goes to the vault and nowhere else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from catalog.models import Provider, Status
from catalog.selectors import list_providers
from compliance import vault
from compliance.fanout import announce_change
from compliance.models import ByokKey
from compliance.selectors import access_byok_key
from core.errors import Conflict, Forbidden, InvalidRequest
from core.upstream_urls import UpstreamURLError, check_base_url, parse_networks
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import ApiKey, Organization
from marketplace.tenancy.roles import SETTINGS_EDITORS, Actor
from marketplace.tenancy.selectors import access_api_key

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 512
MAX_BASE_URL_LENGTH = 300  # ByokKey.base_url's column
# At most one `byok_key.rejected` entry per key in this window, however many requests fail.
REJECTION_INTERVAL = timedelta(minutes=1)


def _require_editor(actor: Actor) -> None:
    if actor.role not in SETTINGS_EDITORS:
        raise Forbidden("Only owners and admins can manage BYOK keys.")


def _audit_actor(org: Organization, actor: Actor) -> Any:
    if actor.user is not None:
        return actor.user
    if actor.api_key_id is not None:
        key: ApiKey = access_api_key(org, actor.api_key_id)
        return key
    return None


def _described(row: ByokKey) -> dict[str, Any]:
    """What an audit entry may say about a key: never the key itself."""
    return {"provider": row.provider.slug, "last4": row.last4, "base_url": row.base_url,
            "always_use": row.always_use}


def _label(row: ByokKey) -> str:
    return f"{row.provider.slug} key …{row.last4}"


def _provider(slug: object) -> Provider:
    if not isinstance(slug, str) or not slug.strip():
        raise InvalidRequest("Name the provider by its slug.", param="provider")
    provider = list_providers().filter(slug=slug.strip()).first()
    if provider is None or provider.status != Status.ACTIVE:
        raise InvalidRequest(f"No active provider {slug.strip()[:60]!r}.", param="provider")
    if provider.is_sandbox != settings.SANDBOX:
        where = "sandbox mode" if settings.SANDBOX else "production routing"
        raise InvalidRequest(f"Provider {provider.slug!r} is not routed in {where}.",
                             param="provider")
    return provider


@sensitive_variables("api_key")
def _clean_key(api_key: object) -> str:
    if not isinstance(api_key, str) or not api_key.strip():
        raise InvalidRequest("The API key is required.", param="api_key")
    api_key = api_key.strip()
    if not MIN_KEY_LENGTH <= len(api_key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"An API key is {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters long.",
            param="api_key")
    # It travels in an HTTP header: printable ASCII without spaces, nothing to inject.
    if not all("!" <= ch <= "~" for ch in api_key):
        raise InvalidRequest("An API key has only printable characters and no spaces.",
                             param="api_key")
    return api_key


def _clean_base_url(base_url: object) -> str:
    if base_url is None:
        return ""
    if not isinstance(base_url, str):
        raise InvalidRequest("The base URL must be a string.", param="base_url")
    base_url = base_url.strip()
    if not base_url:
        return ""
    if len(base_url) > MAX_BASE_URL_LENGTH:
        raise InvalidRequest(f"A base URL has at most {MAX_BASE_URL_LENGTH} characters.",
                             param="base_url")
    # The catalog's rule (core/upstream_urls.py), without the sandbox:// scheme: a customer's
    # URL is a real one, checked again by the gateway at connect time.
    try:
        check_base_url(base_url, parse_networks(settings.UPSTREAM_ALLOWED_NETWORKS),
                       extra_schemes=())
    except UpstreamURLError as exc:
        raise InvalidRequest(f"Refused base URL: {exc}.", param="base_url") from exc
    return base_url.rstrip("/")


@sensitive_variables("api_key", "plaintext")  # never in Django's error reports
def add_byok_key(*, org: Organization, actor: Actor, provider: object, api_key: object,
                 base_url: object = "", always_use: object = False) -> tuple[ByokKey, bool]:
    """Store the org's key for a provider; replaces (rotates) the one it had. Returns the row
    and whether it replaced an existing key."""
    _require_editor(actor)
    target = _provider(provider)
    plaintext = _clean_key(api_key)
    url = _clean_base_url(base_url)
    if not isinstance(always_use, bool):
        raise InvalidRequest("always_use must be true or false.", param="always_use")
    ciphertext = vault.encrypt(org.pk, plaintext)  # VaultNotConfigured: a clear 503
    who = _audit_actor(org, actor)
    now = timezone.now()
    try:
        with transaction.atomic():
            row = (ByokKey.objects.select_for_update().select_related("provider")
                   .filter(org=org, provider=target).first())
            if row is None:
                row = ByokKey.objects.create(
                    org=org, provider=target, ciphertext=ciphertext, last4=plaintext[-4:],
                    base_url=url, always_use=always_use, created_by=actor.user)
                record_audit(org=org, action="byok_key.added", actor=who, target=row,
                             target_label=_label(row), after=_described(row))
                replaced = False
            else:
                before = _described(row)
                row.ciphertext, row.last4 = ciphertext, plaintext[-4:]
                row.base_url, row.always_use = url, always_use
                row.rotated_at, row.rejected_at = now, None
                row.save(update_fields=["ciphertext", "last4", "base_url", "always_use",
                                        "rotated_at", "rejected_at"])
                record_audit(org=org, action="byok_key.rotated", actor=who, target=row,
                             target_label=_label(row), before=before, after=_described(row))
                replaced = True
            announce_change(org.pk)
    except IntegrityError:  # a concurrent add for the same provider won
        raise Conflict("A key for this provider was just added; try again.") from None
    return row, replaced


def remove_byok_key(*, org: Organization, actor: Actor, byok_id: object) -> None:
    """Delete the org's key: its requests go back to the platform's keys."""
    _require_editor(actor)
    row = access_byok_key(org, byok_id)
    who = _audit_actor(org, actor)
    with transaction.atomic():
        deleted, _ = ByokKey.objects.filter(pk=row.pk, org=org).delete()
        if deleted:
            record_audit(org=org, action="byok_key.removed", actor=who, target=row,
                         target_label=_label(row), before=_described(row))
            announce_change(org.pk)


def mark_byok_rejected(org_id: int, byok_id: int) -> bool:
    """The provider answered 401 to this key: show the org a notice and audit it, at most once
    a minute per key. Called by the gateway (its database thread); True when it recorded."""
    now = timezone.now()
    with transaction.atomic():
        row = (ByokKey.objects.select_for_update().select_related("provider")
               .filter(pk=byok_id, org_id=org_id).first())
        if row is None:
            return False
        if row.rejected_at is not None and now - row.rejected_at < REJECTION_INTERVAL:
            return False
        row.rejected_at = now
        row.save(update_fields=["rejected_at"])
        record_audit(org=org_id, action="byok_key.rejected", target=row,
                     target_label=_label(row),
                     after={**_described(row), "rejected_at": now.isoformat()})
    return True


def rotate_vault() -> tuple[int, int]:
    """Re-encrypt every BYOK key under the newest vault key: (re-encrypted, already current).

    Idempotent: a row the newest key already opens is left alone. A row no vault key opens
    raises (the operator dropped a key too early), before anything is written.
    """
    if not vault.is_configured():
        raise vault.VaultNotConfigured()
    rotated = current = 0
    with transaction.atomic():
        for row in ByokKey.objects.select_for_update().order_by("pk").only(
                "id", "org_id", "ciphertext"):
            if vault.is_current(row.org_id, row.ciphertext):
                current += 1
                continue
            ByokKey.objects.filter(pk=row.pk).update(
                ciphertext=vault.rotate(row.org_id, row.ciphertext))
            rotated += 1
    return rotated, current
