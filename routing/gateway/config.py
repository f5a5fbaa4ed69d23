"""The gateway's settings, read once at start-up from Django settings (never per request).

marketplace/settings.py is the one place their defaults and environment variables are written;
this module only gathers them into frozen objects the hot path reads without a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from core.upstream_urls import Network, parse_networks

if TYPE_CHECKING:
    from routing.gateway.seams import ProviderView


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """Requests and tokens per minute, per key and per org; overrides keyed "org:ID"/"key:ID".

    These are the operator's defaults: a key policy's rpm/tpm (carried with the caller) win
    for that key (routing/gateway/limits.py)."""

    key_rpm: int
    key_tpm: int
    org_rpm: int
    org_tpm: int
    # The read routes' own bucket (GET /v1/...), generous enough for dashboards that poll.
    key_read_rpm: int
    # Failed authentications per client address per minute before 429 (no database read).
    auth_failures_per_min: int
    overrides: dict[str, dict[str, int]]

    def for_key(self, key_id: int) -> tuple[int, int]:
        o = self.overrides.get(f"key:{key_id}", {})
        return int(o.get("rpm", self.key_rpm)), int(o.get("tpm", self.key_tpm))

    def for_org(self, org_id: int) -> tuple[int, int]:
        o = self.overrides.get(f"org:{org_id}", {})
        return int(o.get("rpm", self.org_rpm)), int(o.get("tpm", self.org_tpm))


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every field comes from a Django setting of the same meaning; no defaults here."""

    max_body_bytes: int
    key_cache_ttl_s: float
    redis_url: str
    sandbox_base_url: str | None
    snapshot_poll_s: float
    last_used_flush_s: float
    request_deadline_s: float
    hold_grace_s: float
    default_margin_bps: int
    byok_fee_bps: int
    provider_keys: dict[str, str]
    # Under SANDBOX, the platform's own key for sandbox provider <slug> is this prefix + slug.
    sandbox_key_prefix: str | None
    attempt_timeout_s: float
    stream_idle_timeout_s: float
    limits: LimitConfig
    upstream_allowed_networks: tuple[Network, ...]
    key_cache_max: int
    trusted_proxies: tuple[str, ...]
    # The limiter's Redis: per-call timeout, and the breaker that then counts in-process.
    redis_timeout_s: float
    redis_breaker_failures: int
    redis_breaker_reset_s: float
    db_timeout_s: float
    # Task labels of request records (routing/gateway/labels.py): on, and how many may wait.
    task_labels: bool
    task_label_max_pending: int
    # Prometheus: observe each request (METRICS_ENABLED), and whether several workers share
    # a multiprocess directory (then state is copied there every few seconds).
    metrics_enabled: bool
    metrics_multiprocess: bool
    # The dashboard's public base URL (links in /v1 answers: a generation's request-log page).
    public_url: str

    def platform_key(self, provider: ProviderView) -> str | None:
        """The platform's key for a provider: from PROVIDER_KEYS, or (under SANDBOX) the
        sandbox provider's own, so the sandbox sees a credential exactly as a provider would."""
        key = self.provider_keys.get(provider.slug)
        if key is None and provider.is_sandbox and self.sandbox_key_prefix is not None:
            key = self.sandbox_key_prefix + provider.slug
        return key

    @classmethod
    def from_settings(cls) -> GatewayConfig:
        s = settings
        return cls(
            max_body_bytes=s.GATEWAY_MAX_BODY_BYTES,
            # The key cache bounds how late a revocation lands: never more than a second.
            key_cache_ttl_s=min(float(s.GATEWAY_KEY_CACHE_TTL_S), 1.0),
            redis_url=s.REDIS_URL,
            # None lets the catalog use http://127.0.0.1:SANDBOX_PORT for sandbox:// providers.
            sandbox_base_url=s.SANDBOX_BASE_URL or None,
            snapshot_poll_s=s.GATEWAY_SNAPSHOT_POLL_S,
            last_used_flush_s=s.GATEWAY_LAST_USED_FLUSH_S,
            # A hold may be swept once its request cannot still be running: the request's
            # overall deadline plus a grace for settlement to land.
            request_deadline_s=s.GATEWAY_REQUEST_DEADLINE_S,
            hold_grace_s=s.GATEWAY_HOLD_GRACE_S,
            default_margin_bps=s.MARGIN_DEFAULT_BPS,
            byok_fee_bps=s.BYOK_FEE_BPS,
            provider_keys=dict(s.PROVIDER_API_KEYS),
            sandbox_key_prefix=s.SANDBOX_PROVIDER_KEY_PREFIX if s.SANDBOX else None,
            attempt_timeout_s=s.GATEWAY_ATTEMPT_TIMEOUT_S,
            stream_idle_timeout_s=s.GATEWAY_STREAM_IDLE_TIMEOUT_S,
            limits=LimitConfig(
                key_rpm=s.GATEWAY_KEY_RPM,
                key_tpm=s.GATEWAY_KEY_TPM,
                org_rpm=s.GATEWAY_ORG_RPM,
                org_tpm=s.GATEWAY_ORG_TPM,
                key_read_rpm=s.GATEWAY_KEY_READ_RPM,
                auth_failures_per_min=s.GATEWAY_AUTH_FAILURES_PER_MIN,
                overrides=dict(s.GATEWAY_LIMIT_OVERRIDES),
            ),
            upstream_allowed_networks=parse_networks(s.UPSTREAM_ALLOWED_NETWORKS),
            key_cache_max=s.GATEWAY_KEY_CACHE_MAX,
            trusted_proxies=tuple(s.TRUSTED_PROXIES),
            redis_timeout_s=s.GATEWAY_REDIS_TIMEOUT_S,
            redis_breaker_failures=s.GATEWAY_REDIS_BREAKER_FAILURES,
            redis_breaker_reset_s=s.GATEWAY_REDIS_BREAKER_RESET_S,
            db_timeout_s=s.GATEWAY_DB_TIMEOUT_S,
            task_labels=s.TASK_LABELS_ENABLED,
            task_label_max_pending=s.TASK_LABEL_MAX_PENDING,
            metrics_enabled=s.METRICS_ENABLED,
            metrics_multiprocess=bool(s.PROMETHEUS_MULTIPROC_DIR),
            public_url=s.PUBLIC_URL.rstrip("/"),
        )
