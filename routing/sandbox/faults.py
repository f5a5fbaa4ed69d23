"""Per-provider fault profiles, the request log and the deterministic fault decision.

A profile is set through the control API. Failure faults (``error_status``, ``rate_limit``,
``reset_after_bytes``, ``stall``, ``stall_after_bytes``, ``malformed_json``) apply to every
request, or only to the first ``fail_first_n`` requests after the profile was set, and
``error_rate`` (0..1) thins ``error_status``/``rate_limit`` deterministically: request k fails when
``floor(k * rate) > floor((k - 1) * rate)``, so rate 0.5 fails every second request.
Timing faults (``latency_ms``, ``ttft_ms``, ``inter_chunk_ms``) always apply.
"""

import hashlib
import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from routing.sandbox.engine import PromptCache

REQUEST_LOG_SIZE = 200
_HIDDEN_HEADERS = {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"}
_NUMBERS = ("latency_ms", "ttft_ms", "inter_chunk_ms", "retry_after_s", "error_rate")
_INTEGERS = ("error_status", "reset_after_bytes", "stall_after_bytes", "fail_first_n")
_FLAGS = ("rate_limit", "stall", "malformed_json")
KNOWN = {*_NUMBERS, *_INTEGERS, *_FLAGS, "error_body"}


def credential_fingerprint(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The first 12 hex digits of the SHA-256 of the credential a request presented, or "none".

    The credential is what each wire carries: `Authorization: Bearer`, `x-api-key`,
    `x-goog-api-key` or Gemini's `key` query parameter. Tests compare it with the fingerprint
    of the key they expect (the org's own or the platform's) without the log ever holding a key.
    """
    lowered = {str(k).lower(): v for k, v in headers.items()}
    credential = None
    authorization = lowered.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        credential = authorization[7:].strip()
    for name in ("x-api-key", "x-goog-api-key", "api-key"):
        credential = credential or lowered.get(name, "").strip()
    credential = credential or str(query.get("key", "")).strip()
    if not credential:
        return "none"
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()[:12]


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class FaultProfile:
    latency_ms: float = 0
    ttft_ms: float = 0
    inter_chunk_ms: float = 0
    error_status: int | None = None
    error_rate: float = 1.0
    error_body: object = None
    rate_limit: bool = False
    retry_after_s: float = 1
    reset_after_bytes: int | None = None
    stall_after_bytes: int | None = None
    stall: bool = False
    malformed_json: bool = False
    fail_first_n: int | None = None

    @classmethod
    def parse(cls, data: object) -> "FaultProfile":
        if not isinstance(data, dict):
            raise ProfileError("the fault profile must be a JSON object")
        unknown = set(data) - KNOWN
        if unknown:
            raise ProfileError(f"unknown fault fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key in _NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ProfileError(f"{key} must be a number")
            if key in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
                raise ProfileError(f"{key} must be an integer")
            if key in _FLAGS and not isinstance(value, bool):
                raise ProfileError(f"{key} must be true or false")
            if (key in _NUMBERS or key in _INTEGERS) and value < 0:
                raise ProfileError(f"{key} must not be negative")
            values[key] = value
        if not 0 <= values.get("error_rate", 1.0) <= 1:
            raise ProfileError("error_rate must be between 0 and 1")
        status = values.get("error_status")
        if status is not None and not 400 <= status <= 599:
            raise ProfileError("error_status must be an HTTP error status (400-599)")
        if values.get("fail_first_n") is not None and not _any_failure(values):
            values["error_status"] = 503
        return cls(**values)


def _any_failure(values: dict[str, Any]) -> bool:
    failures = (*_FLAGS, "error_status", "reset_after_bytes", "stall_after_bytes")
    return any(values.get(k) not in (None, False) for k in failures)


@dataclass(frozen=True)
class Plan:
    """What happens to one request."""

    latency_ms: float = 0
    ttft_ms: float = 0
    inter_chunk_ms: float = 0
    status: int | None = None  # an error answer (429 included)
    retry_after_s: float | None = None
    error_body: object = None
    reset_after_bytes: int | None = None
    stall_after_bytes: int | None = None
    stall: bool = False
    malformed_json: bool = False


@dataclass
class Provider:
    slug: str
    profile: FaultProfile = field(default_factory=FaultProfile)
    counter: int = 0
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    cache: PromptCache = field(default_factory=PromptCache)
    served: int = 0

    def set_profile(self, profile: FaultProfile) -> None:
        self.profile, self.counter = profile, 0

    def record(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str], body: object) -> None:
        self.requests.append({
            "method": method,
            "path": path,
            "query": {str(k): v for k, v in query.items() if k.lower() != "key"},
            "headers": {str(k): v for k, v in headers.items() if k.lower() not in _HIDDEN_HEADERS},
            "body": body,
            "credential_fingerprint": credential_fingerprint(headers, query),
            "timestamp": time.time(),
        })

    def plan(self) -> Plan:
        """Advance the counter and decide this request's faults."""
        p = self.profile
        self.counter += 1
        k = self.counter
        timing = Plan(latency_ms=p.latency_ms, ttft_ms=p.ttft_ms,
                      inter_chunk_ms=p.inter_chunk_ms)
        if p.fail_first_n is not None and k > p.fail_first_n:
            return timing
        if p.stall:
            return replace(timing, stall=True)
        hit = math.floor(k * p.error_rate) > math.floor((k - 1) * p.error_rate)
        if p.rate_limit and hit:
            return replace(timing, status=429, retry_after_s=p.retry_after_s,
                           error_body=p.error_body)
        if p.error_status is not None and hit:
            return replace(timing, status=p.error_status, error_body=p.error_body)
        return replace(timing, reset_after_bytes=p.reset_after_bytes,
                       stall_after_bytes=p.stall_after_bytes, malformed_json=p.malformed_json)


class Registry:
    """Every provider slug seen so far (created on first use)."""

    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}

    def get(self, slug: str) -> Provider:
        provider = self.providers.get(slug)
        if provider is None:
            provider = self.providers[slug] = Provider(slug)
        return provider

    def clear_faults(self) -> None:
        for provider in self.providers.values():
            provider.set_profile(FaultProfile())

    def reset(self) -> None:
        for provider in self.providers.values():
            provider.set_profile(FaultProfile())
            provider.requests.clear()
            provider.cache.clear()
