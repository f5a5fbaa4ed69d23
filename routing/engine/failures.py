"""How failed attempts become the one error the caller sees."""

from __future__ import annotations

import aiohttp

from marketplace.errors import (
    Forbidden,
    InvalidRequest,
    RateLimited,
    RequestTimeout,
    SwitchyardError,
    UpstreamError,
)
from routing.types import Attempt, UpstreamFailure

# Upstream 4xx answers that say "this endpoint is misconfigured" (our key, our model id, our
# account), not "this request is wrong": another endpoint may well serve the request.
ENDPOINT_FAULT_STATUSES = frozenset({401, 402, 404})


def moves_on(failure: UpstreamFailure) -> bool:
    """Whether another attempt may follow this failure (same or next endpoint)."""
    return failure.retryable or failure.status in ENDPOINT_FAULT_STATUSES


def attempts_metadata(attempts: list[Attempt]) -> list[dict[str, object]]:
    return [{"endpoint_id": a.endpoint_id, "provider": a.provider, "status": a.status,
             "latency_ms": a.latency_ms, "error": a.error} for a in attempts]


def terminal_error(failure: UpstreamFailure, provider: str,
                   attempts: list[Attempt]) -> SwitchyardError:
    """A provider's rejection of the request itself (a 4xx we must not route around).

    403 stays a 403: it is how providers refuse on policy or moderation grounds, and falling
    back to another provider would route around that refusal.
    """
    metadata = {"provider": provider, "upstream_status": failure.status,
                "attempts": attempts_metadata(attempts)}
    message = f"The provider rejected the request: {failure.message}"
    if failure.status == 403:
        return Forbidden(message, metadata=metadata)
    return InvalidRequest(message, metadata=metadata)


def exhausted_error(attempts: list[Attempt], failures: list[UpstreamFailure], *,
                    deadline_passed: bool) -> SwitchyardError:
    metadata = {"attempts": attempts_metadata(attempts)}
    if deadline_passed:
        return RequestTimeout("The providers did not answer before the deadline.",
                              metadata=metadata)
    if failures and all(f.status == 429 for f in failures):
        waits = [f.retry_after_s for f in failures if f.retry_after_s is not None]
        headers = {"retry-after": str(max(1, round(min(waits))))} if waits else {}
        return RateLimited("Every provider for this model is rate limited; retry later.",
                           metadata=metadata, headers=headers)
    last = failures[-1].message if failures else "no endpoint could be tried"
    return UpstreamError(f"The provider failed to answer: {last}", metadata=metadata)


def failure_from_exception(exc: BaseException) -> UpstreamFailure:
    """I/O trouble as a retryable failure, with the Attempt status names of routing.types."""
    if isinstance(exc, UpstreamFailure):
        return exc
    if isinstance(exc, TimeoutError):
        return UpstreamFailure("timeout", "The provider did not answer in time.", True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamFailure("connect_error", f"Could not connect: {exc}", True)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError
                  | aiohttp.ClientOSError):
        return UpstreamFailure("reset", f"The provider dropped the connection: {exc}", True)
    return UpstreamFailure("connect_error", f"{type(exc).__name__}: {exc}", True)


# What an upstream call can raise that we turn into a failed attempt.
IO_ERRORS = (UpstreamFailure, TimeoutError, aiohttp.ClientError)
