"""One error hierarchy, rendered three ways; stdlib only, so every layer may raise it.

Each error's HTTP status, machine code and default message are class attributes (as DRF's
exceptions do). The `/v1` gateway renders them as OpenAI-style JSON
(`{"error": {"code", "message", "type", "metadata"}}`), the management API through
`marketplace.api_errors.drf_exception_handler`, and the dashboard as form errors
(`str(error)`). See ARCHITECTURE.md (the core package) for why this lives outside Django.
"""

from __future__ import annotations

from typing import Any


class SwitchyardError(Exception):
    status = 500
    code = "internal_error"
    type = "api_error"
    message = "Internal error."
    retryable = False

    def __init__(self, message: str | None = None, *, metadata: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.metadata = metadata or {}
        self.headers = headers or {}
        super().__init__(self.message)

    def as_openai(self) -> dict[str, Any]:
        """The OpenAI/OpenRouter error body; `code` is the HTTP status as OpenRouter sends it."""
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "type": self.type,
                "metadata": {"reason": self.code, **self.metadata},
            }
        }


class InvalidRequest(SwitchyardError):
    status = 400
    code = "invalid_request"
    type = "invalid_request_error"
    message = "The request is invalid."

    def __init__(self, message: str | None = None, *, param: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if param:
            self.metadata.setdefault("param", param)


class Unauthenticated(SwitchyardError):
    status = 401
    code = "unauthenticated"
    type = "authentication_error"
    message = "Missing or invalid API key."


class InsufficientCredits(SwitchyardError):
    status = 402
    code = "insufficient_credits"
    type = "insufficient_credits"
    message = "Not enough credits for this request."


class Forbidden(SwitchyardError):
    status = 403
    code = "forbidden"
    type = "permission_error"
    message = "You do not have permission to do this."


class ModelNotAllowed(Forbidden):
    """The caller's org or key policy denies every model the request names."""

    code = "model_not_allowed"
    message = "Your policy does not allow this model."


class NotFound(SwitchyardError):
    status = 404
    code = "not_found"
    type = "not_found_error"
    message = "Not found."


class RequestTimeout(SwitchyardError):
    status = 408
    code = "timeout"
    type = "timeout_error"
    message = "The request timed out."
    retryable = True


class Conflict(SwitchyardError):
    status = 409
    code = "conflict"
    type = "invalid_request_error"
    message = "The request conflicts with the current state."


class RateLimited(SwitchyardError):
    status = 429
    code = "rate_limited"
    type = "rate_limit_error"
    message = "Rate limit exceeded."
    retryable = True


class UpstreamError(SwitchyardError):
    status = 502
    code = "upstream_error"
    type = "api_error"
    message = "The provider failed to answer."
    retryable = True


class NoEndpointAvailable(SwitchyardError):
    status = 503
    code = "no_endpoint"
    type = "api_error"
    message = "No endpoint satisfies the request's constraints."


class ServiceUnavailable(SwitchyardError):
    """A dependency we cannot serve without (the database) is down: retry in a few seconds."""

    status = 503
    code = "service_unavailable"
    type = "api_error"
    message = "The service is temporarily unavailable; retry in a few seconds."
    retryable = True
    retry_after_s = 2

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(self.retry_after_s))

