"""The gateway's settings, read once at start-up from Django settings (never per request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from core.upstream_urls import Network, parse_networks


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """Requests and tokens per minute, per key and per org; overrides keyed "org:ID"/"key:ID"."""

    key_rpm: int = 600
    key_tpm: int = 2_000_000
    org_rpm: int = 3_000
    org_tpm: int = 10_000_000
    # The read routes' own bucket (GET /v1/...), generous enough for dashboards that poll.
    key_read_rpm: int = 1_200
    # Failed authentications per client address per minute before 429 (no database read).
    auth_failures_per_min: int = 60
    overrides: dict[str, dict[str, int]] = field(default_factory=dict)

    def for_key(self, key_id: int) -> tuple[int, int]:
        o = self.overrides.get(f"key:{key_id}", {})
        return int(o.get("rpm", self.key_rpm)), int(o.get("tpm", self.key_tpm))

    def for_org(self, org_id: int) -> tuple[int, int]:
        o = self.overrides.get(f"org:{org_id}", {})
        return int(o.get("rpm", self.org_rpm)), int(o.get("tpm", self.org_tpm))


@dataclass(frozen=True, slots=True)
class GatewayConfig:
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
    attempt_timeout_s: float
    stream_idle_timeout_s: float
    limits: LimitConfig
    upstream_allowed_networks: tuple[Network, ...] = ()
    key_cache_max: int = 100_000
    trusted_proxies: tuple[str, ...] = ()
    # The limiter's Redis: per-call timeout, and the breaker that then counts in-process.
    redis_timeout_s: float = 0.25
    redis_breaker_failures: int = 3
    redis_breaker_reset_s: float = 5.0
    db_timeout_s: float = 3.0

    @classmethod
    def from_settings(cls) -> GatewayConfig:
        get = getattr
        return cls(
            max_body_bytes=get(settings, "GATEWAY_MAX_BODY_BYTES", 4 * 1024 * 1024),
            key_cache_ttl_s=min(float(get(settings, "GATEWAY_KEY_CACHE_TTL_S", 1.0)), 1.0),
            redis_url=get(settings, "REDIS_URL", ""),
            # None lets the catalog use http://127.0.0.1:SANDBOX_PORT for sandbox:// providers.
            sandbox_base_url=get(settings, "SANDBOX_BASE_URL", None) or None,
            snapshot_poll_s=float(get(settings, "GATEWAY_SNAPSHOT_POLL_S", 2.0)),
            last_used_flush_s=float(get(settings, "GATEWAY_LAST_USED_FLUSH_S", 5.0)),
            # A hold may be swept once its request cannot still be running: the request's
            # overall deadline plus a grace for settlement to land.
            request_deadline_s=float(get(settings, "GATEWAY_REQUEST_DEADLINE_S", 300.0)),
            hold_grace_s=float(get(settings, "GATEWAY_HOLD_GRACE_S", 60.0)),
            default_margin_bps=int(get(settings, "MARGIN_DEFAULT_BPS", 550)),
            byok_fee_bps=int(get(settings, "BYOK_FEE_BPS", 500)),
            provider_keys=dict(get(settings, "PROVIDER_API_KEYS", {}) or {}),
            attempt_timeout_s=float(get(settings, "GATEWAY_ATTEMPT_TIMEOUT_S", 60.0)),
            stream_idle_timeout_s=float(get(settings, "GATEWAY_STREAM_IDLE_TIMEOUT_S", 60.0)),
            limits=LimitConfig(
                key_rpm=get(settings, "GATEWAY_KEY_RPM", 600),
                key_tpm=get(settings, "GATEWAY_KEY_TPM", 2_000_000),
                org_rpm=get(settings, "GATEWAY_ORG_RPM", 3_000),
                org_tpm=get(settings, "GATEWAY_ORG_TPM", 10_000_000),
                key_read_rpm=int(get(settings, "GATEWAY_KEY_READ_RPM", 1_200)),
                auth_failures_per_min=int(get(settings, "GATEWAY_AUTH_FAILURES_PER_MIN", 60)),
                overrides=dict(get(settings, "GATEWAY_LIMIT_OVERRIDES", {}) or {}),
            ),
            upstream_allowed_networks=parse_networks(
                get(settings, "UPSTREAM_ALLOWED_NETWORKS", ())),
            key_cache_max=int(get(settings, "GATEWAY_KEY_CACHE_MAX", 100_000)),
            trusted_proxies=tuple(get(settings, "TRUSTED_PROXIES", ()) or ()),
            redis_timeout_s=float(get(settings, "GATEWAY_REDIS_TIMEOUT_S", 0.25)),
            redis_breaker_failures=int(get(settings, "GATEWAY_REDIS_BREAKER_FAILURES", 3)),
            redis_breaker_reset_s=float(get(settings, "GATEWAY_REDIS_BREAKER_RESET_S", 5.0)),
            db_timeout_s=float(get(settings, "GATEWAY_DB_TIMEOUT_S", 3.0)),
        )
