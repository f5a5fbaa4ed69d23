"""The audit log's one writer, `record_audit`, and the middleware that tells it the client.

Every service that changes an audited row calls `record_audit` inside its own transaction
(ARCHITECTURE.md, "The audit log"): the entry commits with the change or not at all. Entries
are never updated or deleted by our code. The client address comes from the request being
served (uvicorn already resolved it from TRUSTED_PROXIES into REMOTE_ADDR); outside a request
(Celery, the gateway, management commands) it is empty unless the caller passes one.

Never put a secret in `before` or `after`: describe keys by prefix or last four characters.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.http import HttpRequest, HttpResponse

from marketplace.tenancy.models import ApiKey, AuditEntry, Organization

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_client_ip", default=None)

Actor = AbstractBaseUser | ApiKey | None


def record_audit(*, org: Organization | int | None, action: str, actor: Actor = None,
                 target: models.Model | None = None, target_label: str = "",
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 client_ip: str | None = None) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records."""
    org_id = org.pk if isinstance(org, Organization) else org
    user = actor if isinstance(actor, AbstractBaseUser) else None
    key = actor if isinstance(actor, ApiKey) else None
    if user is not None:
        label = getattr(user, "email", "") or str(user.pk)
    elif key is not None:
        label = f"key {key.prefix}"
    else:
        label = "system"
    return AuditEntry.objects.create(
        org_id=org_id, actor_user=user, actor_key=key, actor_label=label[:200], action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        before=before, after=after, client_ip=client_ip or _client_ip.get(),
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
