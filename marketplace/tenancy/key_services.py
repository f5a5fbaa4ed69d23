"""The verbs that change API keys: mint, revoke (with every key minted under it), rename, and
record use. One transaction each; permission checks here, as in services.py.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.breaker import Breaker
from core.errors import Conflict, Forbidden, InvalidRequest
from marketplace.tenancy import broadcast
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.keys import generate_api_key
from marketplace.tenancy.models import ApiKey, KeyScope, Organization
from marketplace.tenancy.roles import KEY_CREATORS, MANAGEMENT_KEY_CREATORS, Actor, require_role

logger = logging.getLogger(__name__)

# Published here on every revocation; the gateway subscribes (through routing/gateway/seams.py).
REVOKED_KEYS_CHANNEL = "switchyard:keys:revoked"
# Process-wide on purpose (revocations are rare, not on any hot path): a few failed publishes
# in a row skip Redis for 5 s, so revoking many keys during an outage stays fast.
_REVOCATION_BREAKER = Breaker("key revocation publish", logger)


def _minting_parent(*, org: Organization, actor: Actor) -> ApiKey | None:
    """The management key minting for `actor`, locked; None when a user mints."""
    if actor.api_key_id is None:
        return None
    # The row lock orders this mint against a concurrent revocation of the parent: either the
    # revocation sees the child, or this sees the parent revoked.
    parent = ApiKey.objects.select_for_update().filter(pk=actor.api_key_id, org=org).first()
    now = timezone.now()
    if parent is None or parent.revoked_at is not None or (
        parent.expires_at is not None and parent.expires_at <= now
    ):
        raise Forbidden("This API key is revoked or expired.")
    return parent


@transaction.atomic
def create_api_key(
    *,
    org: Organization,
    name: str,
    actor: Actor,
    scope: str = KeyScope.INFERENCE,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key; return the row and the plaintext, which is never stored or shown again.

    A management key may mint only inference keys, expiring no later than itself (its expiry
    by default), so nothing it mints outlives it; revoking it revokes them (revoke_api_key).
    """
    require_role(actor, KEY_CREATORS, "Your role cannot create API keys.")
    if scope not in KeyScope.values:
        raise InvalidRequest("Unknown scope.", param="scope")
    if scope == KeyScope.MANAGEMENT and actor.role not in MANAGEMENT_KEY_CREATORS:
        raise Forbidden("Only owners and admins can create management keys.")
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("A key needs a name.", param="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidRequest("The expiry must be in the future.", param="expires_at")
    parent = _minting_parent(org=org, actor=actor)
    if parent is not None:
        if scope != KeyScope.INFERENCE:
            raise Forbidden(
                "An API key can create only inference keys; sign in to create management keys."
            )
        if expires_at is None:
            expires_at = parent.expires_at
        elif parent.expires_at is not None and expires_at > parent.expires_at:
            raise InvalidRequest(
                "The expiry cannot be later than the expiry of the key creating it "
                f"({parent.expires_at.isoformat()}).",
                param="expires_at",
            )
    for _ in range(3):
        plaintext, prefix, key_hash = generate_api_key()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    org=org,
                    name=name[:100],
                    prefix=prefix,
                    key_hash=key_hash,
                    scope=scope,
                    created_by=actor.user,
                    parent_key=parent,
                    expires_at=expires_at,
                )
            break
        except IntegrityError:  # a 256-bit collision: astronomically unlikely, retry anyway
            continue
    else:
        raise Conflict("Could not mint a unique key; try again.")
    # The prefix only: the plaintext is never stored, and the hash is not for anyone's eyes.
    record_audit(org=org, action="api_key.created", actor=actor, target=key,
                 target_label=f"{key.name} ({key.prefix})",
                 after={"name": key.name, "prefix": key.prefix, "scope": key.scope,
                        "expires_at": key.expires_at,
                        "parent_key": parent.prefix if parent is not None else None})
    logger.info("api key %s created in org %s", key.pk, org.pk)
    return key, plaintext


def publish_key_revoked(*key_hashes: str) -> None:
    """Tell every gateway process to drop each of `key_hashes` from its cache (best effort;
    see marketplace/tenancy/broadcast.py)."""
    broadcast.publish(REVOKED_KEYS_CHANNEL, key_hashes, _REVOCATION_BREAKER)


def revoke_with_descendants(key: ApiKey) -> list[ApiKey]:
    """Revoke `key` and every key minted under it; return the rows newly revoked.

    Gateways are told each revoked hash on commit, so a child stops working as fast as its
    parent does.
    """
    # Lock first: a concurrent mint by this key then either finishes before (and its child is
    # found below) or sees the key revoked (services.create_api_key).
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    tree, frontier = [key], [key.pk]
    while frontier:
        children = list(ApiKey.objects.select_for_update().filter(parent_key_id__in=frontier))
        tree.extend(children)
        frontier = [child.pk for child in children]
    revoked = [k for k in tree if k.revoked_at is None]
    if revoked:
        ApiKey.objects.filter(pk__in=[k.pk for k in revoked]).update(revoked_at=now)
        for k in revoked:
            k.revoked_at = now
        hashes = [k.key_hash for k in revoked]
        transaction.on_commit(lambda: publish_key_revoked(*hashes))
        logger.info(
            "api keys %s revoked in org %s", ", ".join(str(k.pk) for k in revoked), key.org_id
        )
    return revoked


@transaction.atomic
def revoke_api_key(*, org: Organization, key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key and the keys it minted at once; gateways are told on commit through Redis."""
    require_role(actor, KEY_CREATORS, "Your role cannot revoke API keys.")
    if key.org_id != org.pk:  # defence in depth: callers fetch through access_api_key
        raise Forbidden()
    if key.scope == KeyScope.MANAGEMENT and actor.role not in MANAGEMENT_KEY_CREATORS:
        raise Forbidden("Only owners and admins can revoke management keys.")
    revoked = revoke_with_descendants(key)
    key.refresh_from_db(fields=["revoked_at"])
    if revoked:  # revoking a revoked key changes nothing and records nothing
        record_audit(org=org, action="api_key.revoked", actor=actor, target=key,
                     target_label=f"{key.name} ({key.prefix})",
                     before={"revoked_at": None},
                     after={"revoked_at": key.revoked_at,
                            "also_revoked": [k.prefix for k in revoked if k.pk != key.pk]})
    return key


@transaction.atomic
def rename_api_key(*, org: Organization, key: ApiKey, name: str, actor: Actor) -> ApiKey:
    """Rename a key (who may revoke it may rename it); a revoked key keeps its name."""
    require_role(actor, KEY_CREATORS, "Your role cannot rename API keys.")
    if key.org_id != org.pk:  # defence in depth: callers fetch through access_api_key
        raise Forbidden()
    if key.scope == KeyScope.MANAGEMENT and actor.role not in MANAGEMENT_KEY_CREATORS:
        raise Forbidden("Only owners and admins can rename management keys.")
    if key.revoked_at is not None:
        raise InvalidRequest("A revoked key cannot be renamed.", param="name")
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("A key needs a name.", param="name")
    if len(name) > 100:
        raise InvalidRequest("A key's name has at most 100 characters.", param="name")
    before = key.name
    if name != before:
        ApiKey.objects.filter(pk=key.pk).update(name=name)
        key.name = name
        record_audit(org=org, action="api_key.renamed", actor=actor, target=key,
                     target_label=f"{key.name} ({key.prefix})",
                     before={"name": before}, after={"name": name})
    return key


@transaction.atomic
def record_keys_used(last_used: dict[int, dt.datetime]) -> None:
    """Batch-update `last_used_at`; only ever moves a key's time forward."""
    for key_id, used_at in last_used.items():
        ApiKey.objects.filter(pk=key_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=used_at)
        ).update(last_used_at=used_at)
