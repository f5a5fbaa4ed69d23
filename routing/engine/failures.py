"""How failed attempts become the one error the caller sees.

Callers get the status, OpenRouter's typed `metadata.error_type`, the provider's name and a short
redacted message; what the provider actually sent goes to our log only, redacted too.
"""

from __future__ import annotations

import logging

from catalog.snapshot import ProviderView
from core.errors import (
    Forbidden,
    InvalidRequest,
    RateLimited,
    RequestTimeout,
    SwitchyardError,
    UpstreamError,
)
from core.redaction import redact, short_message
from core.upstream_urls import AddressRefused
from routing.engine.http1 import ConnectError, Disconnected, HttpClientError, MalformedResponse
from routing.types import Attempt, UpstreamFailure

log = logging.getLogger(__name__)

# Answers to an org's own key (BYOK) that say "this key may not, now": the key is refused (401),
# lacks access (403) or is over its own account's limits (429). They say nothing about the
# endpoint for other orgs, so its breaker and health ignore them, and the platform's key may
# still serve the request (unless the org always uses its own key).
BYOK_KEY_FAULT_STATUSES = frozenset({401, 403, 429})
# Upstream 4xx answers that say "this endpoint is misconfigured" (our key, our model id, our
# account), not "this request is wrong": another endpoint may well serve the request.
ENDPOINT_FAULT_STATUSES = frozenset({401, 402, 404})


# OpenRouter's ApiErrorType by upstream status, when the provider's answer names none.
STATUS_ERROR_TYPES: dict[int | str, str] = {
    400: "invalid_request", 401: "authentication", 402: "payment_required",
    403: "permission_denied", 404: "not_found", 408: "timeout", 412: "precondition_failed",
    413: "payload_too_large", 422: "unprocessable", 429: "rate_limit_exceeded",
    502: "provider_unavailable", 503: "provider_unavailable", 504: "provider_unavailable",
    529: "provider_overloaded", "timeout": "timeout", "reset": "provider_unavailable",
    "connect_error": "provider_unavailable", "circuit_open": "provider_unavailable",
}
# What a 502 after every endpoint failed may call itself: the caller's request was not at fault.
_AVAILABILITY_TYPES = frozenset({"provider_unavailable", "provider_overloaded", "server",
                                 "timeout", "rate_limit_exceeded"})


def error_type(failure: UpstreamFailure) -> str:
    """OpenRouter's `ApiErrorType` for a failed attempt."""
    if failure.error_type:
        return failure.error_type
    status = failure.status
    known = STATUS_ERROR_TYPES.get(status)
    if known:
        return known
    if isinstance(status, int) and 300 <= status < 400:
        return "provider_unavailable"  # a redirect we did not follow
    if isinstance(status, int) and status < 500:
        return "unmapped"
    return "server"


def report(failure: UpstreamFailure, provider: ProviderView, secret: str | None) -> None:
    """Make a failure fit for callers: log what the provider sent, redacted, and cut the
    provider's message to a short redacted line (our own messages are only redacted).

    Every failed attempt passes here before its message can reach an error body or a record.
    """
    secrets = (secret,) if secret else ()
    if failure.raw:
        log.warning("provider %s failed (%s): %s", provider.slug, failure.status,
                    redact(failure.raw, secrets))
        failure.message = short_message(failure.message, secrets) or "Provider error."
        failure.raw = ""  # logged once
    else:
        failure.message = redact(failure.message, secrets)


def moves_on(failure: UpstreamFailure) -> bool:
    """Whether another attempt may follow this failure (same or next endpoint)."""
    return failure.retryable or failure.status in ENDPOINT_FAULT_STATUSES


def attempts_metadata(attempts: list[Attempt]) -> list[dict[str, object]]:
    """Attempts as plain rows; `byok: true` marks those made with the org's own key."""
    rows: list[dict[str, object]] = []
    for a in attempts:
        row: dict[str, object] = {"endpoint_id": a.endpoint_id, "provider": a.provider,
                                  "status": a.status, "latency_ms": a.latency_ms,
                                  "error": a.error}
        if a.byok:
            row["byok"] = True
        rows.append(row)
    return rows


def terminal_error(failure: UpstreamFailure, provider: ProviderView,
                   attempts: list[Attempt]) -> SwitchyardError:
    """A provider's rejection of the request itself (a 4xx we must not route around).

    403 stays a 403: it is how providers refuse on policy or moderation grounds, and falling
    back to another provider would route around that refusal.
    """
    metadata = {"provider": provider.slug, "provider_name": provider.name,
                "error_type": error_type(failure), "upstream_status": failure.status,
                "attempts": attempts_metadata(attempts)}
    message = f"The provider rejected the request: {failure.message}"
    if failure.status == 403:
        return Forbidden(message, metadata=metadata)
    return InvalidRequest(message, metadata=metadata)


def exhausted_error(attempts: list[Attempt], failures: list[UpstreamFailure], *,
                    deadline_passed: bool,
                    provider: ProviderView | None = None) -> SwitchyardError:
    """No endpoint answered; `provider` is the last one that failed."""
    metadata: dict[str, object] = {"attempts": attempts_metadata(attempts)}
    if provider is not None:
        metadata["provider_name"] = provider.name
    if deadline_passed:
        metadata["error_type"] = "timeout"
        return RequestTimeout("The providers did not answer before the deadline.",
                              metadata=metadata)
    if failures and all(f.status == 429 for f in failures):
        metadata["error_type"] = "rate_limit_exceeded"
        waits = [f.retry_after_s for f in failures if f.retry_after_s is not None]
        headers = {"retry-after": str(max(1, round(min(waits))))} if waits else {}
        return RateLimited("Every provider for this model is rate limited; retry later.",
                           metadata=metadata, headers=headers)
    kind = error_type(failures[-1]) if failures else "provider_unavailable"
    metadata["error_type"] = kind if kind in _AVAILABILITY_TYPES else "provider_unavailable"
    last = failures[-1].message if failures else "no endpoint could be tried"
    return UpstreamError(f"The provider failed to answer: {last}", metadata=metadata)


def failure_from_exception(exc: BaseException) -> UpstreamFailure:
    """I/O trouble as a retryable failure, with the Attempt status names of routing.types."""
    if isinstance(exc, UpstreamFailure):
        return exc
    if isinstance(exc, TimeoutError):
        return UpstreamFailure("timeout", "The provider did not answer in time.", True)
    if isinstance(exc, ConnectError):
        if isinstance(exc.os_error, AddressRefused):  # our own connect-time check
            return UpstreamFailure("connect_error", f"Refused to connect: {exc.os_error}.", True)
        return UpstreamFailure("connect_error", f"Could not connect: {exc}", True)
    if isinstance(exc, Disconnected):
        return UpstreamFailure("reset", f"The provider dropped the connection: {exc}", True)
    if isinstance(exc, MalformedResponse):
        return UpstreamFailure("malformed", f"The provider's answer was not HTTP: {exc}", True)
    return UpstreamFailure("connect_error", f"{type(exc).__name__}: {exc}", True)


# What an upstream call can raise that we turn into a failed attempt.
IO_ERRORS = (UpstreamFailure, TimeoutError, HttpClientError)
