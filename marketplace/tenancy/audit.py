"""The audit log's one writer, `record_audit`, and the middleware that tells it the client.

Every service that changes an audited row calls `record_audit` inside its own transaction
(ARCHITECTURE.md, "The audit log"): the entry commits with the change or not at all. Entries
are never updated or deleted by our code (on PostgreSQL a trigger refuses it, migration 0004).
The client address comes from the request being served (uvicorn already resolved it from
TRUSTED_PROXIES into REMOTE_ADDR); outside a request (Celery, the gateway, management commands)
it is empty unless the caller passes one, and a caller acting for someone other than the
request's sender (Stripe's webhook crediting a user's top-up) passes `client_ip=None`.

Never put a secret in `before` or `after`: describe keys by prefix or last four characters.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import HttpRequest, HttpResponse

from marketplace.tenancy.models import ApiKey, AuditEntry, Organization
from marketplace.tenancy.roles import Actor as ServiceActor

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_client_ip", default=None)

# The default of `client_ip`: the address of the request being served, if any.
FROM_REQUEST = "from-request"

Actor = AbstractBaseUser | ApiKey | ServiceActor | None


class _Encoder(DjangoJSONEncoder):
    """Django's encoder (dates, decimals, UUIDs), but times to the microsecond it keeps."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def _json_safe(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Callers pass a model's field values as they are.
    return None if value is None else json.loads(json.dumps(value, cls=_Encoder))


def _actor_columns(actor: Actor) -> tuple[AbstractBaseUser | None, int | None, str]:
    """(user, key id, label) of whoever acted: a user, an org API key, or nobody ("system")."""
    user: AbstractBaseUser | None = None
    key_id: int | None = None
    prefix = ""
    if isinstance(actor, ServiceActor):
        user, key_id = actor.user, actor.api_key_id
        if key_id is not None:
            prefix = ApiKey.objects.filter(pk=key_id).values_list("prefix", flat=True).first() or ""
    elif isinstance(actor, AbstractBaseUser):
        user = actor
    elif isinstance(actor, ApiKey):
        key_id, prefix = actor.pk, actor.prefix
    if user is not None and user.pk is not None:
        return user, None, getattr(user, "email", "") or str(user.pk)
    if key_id is not None:
        return None, key_id, f"key {prefix}" if prefix else f"key {key_id}"
    return None, None, "system"


def record_audit(*, org: Organization | int | None, action: str, actor: Actor = None,
                 target: models.Model | None = None, target_label: str = "",
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 client_ip: str | None = FROM_REQUEST) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records.

    `actor` is a user, an org API key, or the `Actor` tenancy's services take (its user, else
    its management key); None is the system. `org` is None for platform-wide changes by staff.
    """
    org_id = org.pk if isinstance(org, Organization) else org
    user, key_id, label = _actor_columns(actor)
    if client_ip == FROM_REQUEST:
        client_ip = _client_ip.get()
    return AuditEntry.objects.create(
        org_id=org_id, actor_user=user, actor_key_id=key_id, actor_label=label[:200],
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        before=_json_safe(before), after=_json_safe(after), client_ip=client_ip or None,
    )


class AuditClientMiddleware:
    """Makes the request's client address available to `record_audit` for its duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
