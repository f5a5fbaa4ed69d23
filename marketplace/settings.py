"""Switchyard settings: one file, read from the environment.

No variables means the embedded default (SQLite, tasks in-process, no Redis), so `make run`
works on any laptop. DATABASE_URL, REDIS_URL and CELERY_BROKER_URL switch to PostgreSQL, Redis
and a real Celery broker.
"""

import base64
import binascii
import ipaddress
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The one switch between development (make run, tests, CI: no secrets needed) and production
# (the image, compose and the manifests set it): production refuses to start on unsafe settings
# (see "Production" at the end of this file).
ENVIRONMENT = env("ENVIRONMENT", default="development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured(
        f"ENVIRONMENT must be development or production, not {ENVIRONMENT!r}"
    )
IS_PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DEBUG", default=False)
# Development gets a fixed key published in this repository; production refuses it.
DEVELOPMENT_SECRET_KEY = "switchyard-insecure-development-key-change-me"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PORT = env.int("PORT", default=8000)
SANDBOX = env.bool("SANDBOX", default=True)
SANDBOX_PORT = env.int("SANDBOX_PORT", default=PORT + 1)
# Where the gateway finds the sandbox providers when they are not on this host's SANDBOX_PORT
# (the tests' own sandbox server); empty: http://127.0.0.1:SANDBOX_PORT.
SANDBOX_BASE_URL = env("SANDBOX_BASE_URL", default="")
# Networks (CIDRs) provider URLs may reach, over http too (core/upstream_urls.py): loopback under
# SANDBOX, where the sandbox providers listen; none by default in production.
UPSTREAM_ALLOWED_NETWORKS = env.list(
    "UPSTREAM_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"] if SANDBOX else [])
# Real providers' credentials, from PROVIDER_KEYS="openai=sk-...,anthropic=...": a real provider
# is routable (outside SANDBOX) only when it has one. Never logged.
PROVIDER_API_KEYS = dict(
    item.split("=", 1) for item in env.list("PROVIDER_KEYS", default=[]) if "=" in item
)
# Under SANDBOX the platform calls each sandbox provider with a key of its own, this prefix plus
# the provider's slug, as it would a real provider (the sandbox logs only its fingerprint).
SANDBOX_PROVIDER_KEY_PREFIX = env("SANDBOX_PROVIDER_KEY_PREFIX", default="sk-sandbox-platform-")
PUBLIC_URL = env("PUBLIC_URL", default=f"http://127.0.0.1:{PORT}")
# Peers whose X-Forwarded-For and X-Forwarded-Proto are believed (IP addresses or CIDR networks;
# default none, so the socket's peer is the client). One value feeds uvicorn's
# --forwarded-allow-ips, allauth's trusted proxy count and the gateway's client address.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    # Addresses only: "*" (trust every peer) is exactly the hole this setting closes.
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR network"
        ) from None
# uvicorn (marketplace/serve.py) has already replaced a trusted proxy's address with the client's
# when Django sees the request, so REMOTE_ADDR is the client: allauth's throttles must not read
# X-Forwarded-For again (a count above 0 would let any peer choose its address).
ALLAUTH_TRUSTED_PROXY_COUNT = 0

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "marketplace.tenancy",
    "marketplace.dashboard",
    "catalog",
    "routing",
    "billing",
    "compliance",
    "observability",
    "marketplace.listings",
]

MIDDLEWARE = [
    # A request id per request: bound into every log line and returned as X-Request-Id.
    "marketplace.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves /static/ from the ASGI app itself (make run, e2e tests, containers): no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff reach the admin only with a second factor enrolled and passed this session.
    "marketplace.tenancy.staff_access.StaffMfaMiddleware",
    # The client address audit entries record (marketplace/tenancy/audit.py).
    "marketplace.tenancy.audit.AuditClientMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
ASGI_APPLICATION = "marketplace.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite unless DATABASE_URL says otherwise (PostgreSQL via psycopg 3 and its pool).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    # A database that is down must cost a caller a couple of seconds, not ten: connecting gives
    # up after DB_CONNECT_TIMEOUT_S, waiting for a pooled connection after DB_POOL_TIMEOUT_S.
    # Pooled connections are checked on checkout (a dead one is replaced), and the pool's
    # background reconnect gives up within 2 s, so the next request retries at once instead of
    # after psycopg_pool's growing backoff: service comes back within ~2 s of the database.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT_S", default=2))
    _db_options["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_MAX", default=8),
        "timeout": env.float("DB_POOL_TIMEOUT_S", default=2.0),
        "reconnect_timeout": 2.0,
    }
else:
    # WAL lets the gateway's writer thread and Django share the file without "database locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"}
    )
    # BEGIN IMMEDIATE: a transaction that reads then writes takes the write lock up front, so two
    # writers wait in turn (busy timeout) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # The test database is a file (not in-memory) so a real uvicorn process in the e2e tests can
    # share it; one per pytest process so concurrent runs never collide.
    _test_db = Path(tempfile.gettempdir()) / f"switchyard-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": env("SQLITE_TEST_NAME", default=str(_test_db))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Fails open (marketplace/cache.py): a down or hung Redis costs pages their cache, not a 500.
    CACHES = {
        "default": {
            "BACKEND": "marketplace.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when configured, else tasks run in-process (eagerly).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks: {name: {"task": dotted name, "schedule": seconds or timedelta}}. Apps add entries;
# with no broker marketplace/periodic.py runs them on an in-process timer.
CELERY_BEAT_SCHEDULE = {
    # Holds whose request deadline passed (a gateway died) are settled at the prompt estimate.
    "billing.sweep_stale_holds": {
        "task": "billing.tasks.sweep.sweep_stale_holds", "schedule": 60.0},
    # Settled usage is posted to the ledger (exactly once per request id).
    "billing.post_usage_to_ledger": {
        "task": "billing.tasks.posting.post_usage_to_ledger", "schedule": 60.0},
    # Vendors' sponsored-listing charges are posted to the ledger (exactly once per event).
    "billing.post_sponsored_to_ledger": {
        "task": "billing.tasks.sponsored.post_sponsored_to_ledger", "schedule": 60.0},
    # Usage rolls into the month's open invoice hourly; ended periods are finalized (idempotent).
    "billing.roll_usage_into_invoices": {
        "task": "billing.tasks.invoicing.roll_usage_into_invoices", "schedule": 3600.0},
    "billing.finalize_invoices": {
        "task": "billing.tasks.invoicing.finalize_invoices", "schedule": 3600.0},
    # Auto top-ups fire once per threshold crossing.
    "billing.run_auto_top_ups": {
        "task": "billing.tasks.topups.run_auto_top_ups", "schedule": 60.0},
    # Request content past its org's retention period is deleted (compliance/content_log.py).
    "compliance.purge_expired_content": {
        "task": "compliance.tasks.purge_expired_content", "schedule": 86_400.0},
    # Endpoint health (latency, uptime) rolled up from usage records for pages and /v1 listings.
    "routing.rollup_endpoint_health": {
        "task": "routing.tasks.rollup_endpoint_health", "schedule": 60.0},
    # Request records' monthly partitions: the coming months created, expired ones dropped.
    "observability.maintain_partitions": {
        "task": "observability.tasks.maintain_partitions", "schedule": 86_400.0},
    # Alerts (balance, daily spend, error rate, key limits): one email per crossing.
    "observability.evaluate_alerts": {
        "task": "observability.tasks.evaluate_alerts", "schedule": 60.0},
    # Request records rolled up by org, hour/day, model, provider, key, app and task (analytics).
    "observability.rollup_requests": {
        "task": "observability.tasks.rollup_requests", "schedule": 60.0},
}
CELERY_TIMEZONE = "UTC"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email is the login; verification mail goes to the console by default.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up says plainly when an email is already registered (marketplace/dashboard/signup.py).
ACCOUNT_FORMS = {"signup": "marketplace.dashboard.signup.SignupForm"}
# Signing up from an invitation link with the invited address needs no confirmation mail.
ACCOUNT_ADAPTER = "marketplace.dashboard.account_adapter.AccountAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
LOGIN_REDIRECT_URL = "/dashboard/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
# Where the file-based email backend writes (the e2e tests read confirmation mail from here).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "emails"))
# EMAIL_URL (smtp+tls://user:password@host:587, smtps://...) wins over EMAIL_BACKEND: backend,
# host, port, credentials and TLS in one secret.
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(
        {k: v for k, v in env.email_url("EMAIL_URL").items() if v not in (None, "")}
    )
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Switchyard <no-reply@switchyard.local>")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api_errors.drf_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "marketplace.tenancy.api.pagination.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "marketplace.parsers.JSONParser",  # deep nesting is a 400, not a RecursionError 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    # Throttles (if any) key on REMOTE_ADDR, which uvicorn resolved from TRUSTED_PROXIES.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard management API",
    "DESCRIPTION": "Organizations, members, invitations, API keys, catalog and billing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from our static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No online validator badge: it is an image from validator.swagger.io (offline, CSP).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Input and output modalities share one choice set: one enum in the schema.
    "ENUM_NAME_OVERRIDES": {"ModalityEnum": "catalog.api.serializers.MODALITIES"},
}

# Org API keys are stored as HMAC-SHA256 of the key under this secret (a keyed hash).
API_KEY_HASH_SECRET = env("API_KEY_HASH_SECRET", default=SECRET_KEY)
# Signed receipts' Ed25519 keys, newest first (the first signs; all are published in the JWKS so
# older receipts still verify): comma-separated base64url 32-byte seeds, made by
# `python manage.py receipt_key`. An operator secret, never stored in the database. Empty
# outside production: a development key generated on first use and kept in RECEIPT_DEV_KEY_FILE,
# beside the SQLite database (var/ when the database is PostgreSQL); production refuses to start.
RECEIPT_SIGNING_KEYS = env.list("RECEIPT_SIGNING_KEYS", default=[])
for _position, _seed in enumerate(RECEIPT_SIGNING_KEYS, start=1):
    try:
        _seed_ok = len(base64.b64decode(_seed.strip() + "=" * (-len(_seed.strip()) % 4),
                                        altchars=b"-_", validate=True)) == 32
    except ValueError:
        _seed_ok = False
    if not _seed_ok:
        # Names the position only: the value is a secret.
        raise ImproperlyConfigured(
            f"RECEIPT_SIGNING_KEYS: key {_position} is not a base64url 32-byte Ed25519 seed "
            "(make one with `python manage.py receipt_key`)"
        )
RECEIPT_DEV_KEY_FILE = (
    Path(DATABASES["default"]["NAME"]).parent if not IS_POSTGRES else BASE_DIR / "var"
) / "receipt-signing-dev.key"
# BYOK vault keys, newest first: Fernet keys (url-safe base64 of 32 bytes) that encrypt the
# orgs' own provider keys (compliance/vault.py; `manage.py rotate_vault` moves every row to the
# newest). Outside production, none set means a development key generated on first start and
# kept beside the SQLite file (gitignored), so `make run` needs nothing; production without one
# refuses to store BYOK keys, and refuses to start while BYOK rows exist (compliance/checks.py).
VAULT_KEYS = [key.strip() for key in env.list("VAULT_KEYS", default=[]) if key.strip()]
for _vault_key in VAULT_KEYS:
    try:
        _vault_raw = base64.urlsafe_b64decode(_vault_key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        _vault_raw = b""
    if len(_vault_raw) != 32:
        raise ImproperlyConfigured(
            "VAULT_KEYS: each key must be a Fernet key (url-safe base64 of 32 bytes), e.g. from "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'`"
        )


def _development_vault_key() -> str:
    """The development vault key, created once beside the SQLite file (or in var/)."""
    database = DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and str(database.get("NAME", "")).strip() \
            and str(database["NAME"]) != ":memory:":
        path = Path(database["NAME"]).with_name(Path(database["NAME"]).name + "-vault.key")
    else:
        path = BASE_DIR / "var" / "development-vault.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_text(fresh + "\n")
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)  # atomic: concurrent first starts agree on one key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


if not VAULT_KEYS and not IS_PRODUCTION:
    VAULT_KEYS = [_development_vault_key()]

# Margins and fees in basis points (550 = 5.5%); per provider/model/org overrides are
# MarginRule rows.
MARGIN_DEFAULT_BPS = env.int("MARGIN_DEFAULT_BPS", default=550)
BYOK_FEE_BPS = env.int("BYOK_FEE_BPS", default=500)
# The gateway's hot-path writer: its own small asyncpg pool, and the settle batching window.
# Holds of one org queue on its wallet row whatever the pool: past two connections, more of
# them only wait there, and PostgreSQL's lock waits cost it CPU (make bench, one org at 16
# connections: 4 connections cost ~10% more database CPU a request than 2, at the same
# throughput). Raise it for a database far away or slow to answer.
HOTPATH_POOL_MAX = env.int("HOTPATH_POOL_MAX", default=2)
# Settlements never wait for this window (the response is already on its way); a wider one
# writes more of them per statement at low request rates. Holds keep the money reserved
# meanwhile, and a gateway that dies inside the window leaves holds the sweep settles. Each
# batch waits for a WAL flush (durable across a database crash), so the window also sets the
# flushes a second: at 20 ms the fsyncs slowed one-connection holds by ~0.5 ms in make bench,
# at 100 ms they cost ~0.1 ms.
HOTPATH_SETTLE_WINDOW_MS = env.int("HOTPATH_SETTLE_WINDOW_MS", default=100)
# Settlements are replayed (with backoff) until the database takes them; at most this many
# wait at once (a warning at 80%; beyond it new admissions get 503 rather than lose a charge).
HOTPATH_PENDING_MAX = env.int("HOTPATH_PENDING_MAX", default=100_000)
# A hold or release that has no answer after this long is a 503 (a hung database server).
HOTPATH_DB_TIMEOUT_S = env.float("HOTPATH_DB_TIMEOUT_S", default=3.0)
# On shutdown, how long to keep replaying unwritten settlements before giving them to the sweep.
HOTPATH_SHUTDOWN_FLUSH_S = env.float("HOTPATH_SHUTDOWN_FLUSH_S", default=10.0)
# The /v1 gateway: per-minute rate limits (per key and per org; the operator's overrides as
# JSON {"key:ID": {"rpm": n, "tpm": n}, "org:ID": {...}}, under a key policy's own rpm/tpm,
# which win for that key), body limit, deadlines, key-cache TTL.
GATEWAY_KEY_RPM = env.int("GATEWAY_KEY_RPM", default=600)
GATEWAY_KEY_TPM = env.int("GATEWAY_KEY_TPM", default=2_000_000)
GATEWAY_ORG_RPM = env.int("GATEWAY_ORG_RPM", default=3_000)
GATEWAY_ORG_TPM = env.int("GATEWAY_ORG_TPM", default=10_000_000)
GATEWAY_LIMIT_OVERRIDES = env.json("GATEWAY_LIMIT_OVERRIDES", default={})
GATEWAY_MAX_BODY_BYTES = env.int("GATEWAY_MAX_BODY_BYTES", default=4 * 1024 * 1024)
GATEWAY_REQUEST_DEADLINE_S = env.float("GATEWAY_REQUEST_DEADLINE_S", default=300.0)
GATEWAY_HOLD_GRACE_S = env.float("GATEWAY_HOLD_GRACE_S", default=60.0)
GATEWAY_KEY_CACHE_TTL_S = env.float("GATEWAY_KEY_CACHE_TTL_S", default=1.0)
GATEWAY_KEY_CACHE_MAX = env.int("GATEWAY_KEY_CACHE_MAX", default=100_000)
# How often the gateway checks the catalog's version (rebuilding its routing snapshot on a change),
# and how often it writes the keys' last-used times (one batched write, off the request path).
GATEWAY_SNAPSHOT_POLL_S = env.float("GATEWAY_SNAPSHOT_POLL_S", default=2.0)
GATEWAY_LAST_USED_FLUSH_S = env.float("GATEWAY_LAST_USED_FLUSH_S", default=5.0)
# Request records (observability/): each request's task label, computed in one gateway thread
# off the answer's path, in batches; past TASK_LABEL_MAX_PENDING waiting requests they go
# unlabelled.
TASK_LABELS_ENABLED = env.bool("TASK_LABELS_ENABLED", default=True)
TASK_LABEL_MAX_PENDING = env.int("TASK_LABEL_MAX_PENDING", default=5000)
# Request records older than this are dropped by whole months (partitions on PostgreSQL).
REQUEST_RECORD_RETENTION_DAYS = env.int("REQUEST_RECORD_RETENTION_DAYS", default=400)
# Abuse limits: GET /v1/... per key per minute, failed authentications per address per minute.
GATEWAY_KEY_READ_RPM = env.int("GATEWAY_KEY_READ_RPM", default=1_200)
GATEWAY_AUTH_FAILURES_PER_MIN = env.int("GATEWAY_AUTH_FAILURES_PER_MIN", default=60)
# Redis faults: per-call timeout of the gateway's limiter, and its breaker (failures in a row
# before counting in-process, seconds before probing Redis again).
GATEWAY_REDIS_TIMEOUT_S = env.float("GATEWAY_REDIS_TIMEOUT_S", default=0.25)
GATEWAY_REDIS_BREAKER_FAILURES = env.int("GATEWAY_REDIS_BREAKER_FAILURES", default=3)
GATEWAY_REDIS_BREAKER_RESET_S = env.float("GATEWAY_REDIS_BREAKER_RESET_S", default=5.0)
# A gateway database read (key lookup, /v1/generation, ...) unanswered after this is a 503.
GATEWAY_DB_TIMEOUT_S = env.float("GATEWAY_DB_TIMEOUT_S", default=3.0)
GATEWAY_ATTEMPT_TIMEOUT_S = env.float("GATEWAY_ATTEMPT_TIMEOUT_S", default=60.0)
GATEWAY_STREAM_IDLE_TIMEOUT_S = env.float("GATEWAY_STREAM_IDLE_TIMEOUT_S", default=60.0)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# Sponsored listings (issue 14): the auction's reserve, in nanos per thousand impressions
# ($0.50): the least a slot costs, and what a winner with no bidder below it pays.
SPONSORED_RESERVE_CPM_NANOS = env.int("SPONSORED_RESERVE_CPM_NANOS", default=500_000_000)
# Top-up bounds in cents (Stripe's unit), and the issuer prefix invoices are numbered under.
TOPUP_MIN_CENTS = env.int("TOPUP_MIN_CENTS", default=500)
TOPUP_MAX_CENTS = env.int("TOPUP_MAX_CENTS", default=1_000_000)
INVOICE_ISSUER = env("INVOICE_ISSUER", default="SY")
INVOICE_ISSUER_DETAILS = env(
    "INVOICE_ISSUER_DETAILS",
    default="Switchyard Marketplace Inc.\n1 Rail Yard Way\nSan Francisco, CA",
)
# Promotional credit for each new organization (once per org, at most once per verified user),
# in dollars through the one money parser; $1 under SANDBOX so a new sign-up can call at once.
SIGNUP_CREDIT_USD = env("SIGNUP_CREDIT_USD", default="1" if SANDBOX else "0")
try:
    from core.money_input import InputError, parse_usd_nanos

    SIGNUP_CREDIT_NANOS = parse_usd_nanos(SIGNUP_CREDIT_USD, max_usd=1_000, typed=False,
                                          noun="amount")
except InputError as _error:
    raise ImproperlyConfigured(f"SIGNUP_CREDIT_USD: {_error.message}") from None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (make run, tests) WhiteNoise finds files where the finders do; the
# container image runs collectstatic into STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
# Outside production STATIC_ROOT is usually never collected: WhiteNoise then looks each file up
# when it is requested (finders first) instead of indexing STATIC_ROOT and every finder's files
# at start-up, which warned "No directory at: .../staticfiles" for every app instance and hid
# nothing. Production serves the collected files from the index it builds once.
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION

# Every line through structlog (marketplace/logs.py): `json`, one object a line with timestamp,
# level, logger, event and the request id (production's default), or `console` for people.
LOG_FORMAT = env("LOG_FORMAT", default="json" if IS_PRODUCTION else "console")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Secrets never reach a log line, even by mistake: provider and org keys, Authorization
    # values, credentials in URLs and every BYOK key this process decrypted are redacted
    # (core/redaction.py).
    "filters": {"redact_secrets": {"()": "core.redaction.RedactingFilter"}},
    "formatters": {"structlog": {"()": "marketplace.logs.formatter", "log_format": LOG_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"],
                             "formatter": "structlog"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # uvicorn's lines go through the same handler (JSON too), not its own.
    "loggers": {name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.access")} if LOG_FORMAT == "json" else {},
}
# A Celery worker keeps this logging rather than installing its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- Metrics (/metrics, marketplace/metrics.py) ------------------------------------------------
# Off: no per-request observation and /metrics answers 404 (`make bench` compares both).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
# Set: /metrics requires `Authorization: Bearer <token>`; unset: it answers loopback peers only.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Several workers per server: prometheus_client's multiprocess directory (prometheus_client
# reads this variable itself; marketplace/serve.py sets up a fresh one for `--workers` > 1).
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")


# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# Scripts only from our own origin and Stripe.js's (no inline scripts: page code lives in
# static/js/); Stripe's card fields are frames. Inline styles stay allowed (style attributes,
# Swagger UI's page).


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_STRIPE_ORIGINS = [_origin(STRIPE_JS_URL)]
if STRIPE_API_BASE:
    _STRIPE_ORIGINS.append(_origin(STRIPE_API_BASE))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, _origin(STRIPE_JS_URL)],
        "frame-src": sorted({*_STRIPE_ORIGINS, "https://js.stripe.com", "https://hooks.stripe.com"}),
        "connect-src": sorted({SELF, *_STRIPE_ORIGINS, "https://api.stripe.com"}),
        "img-src": [SELF, "data:", "https://*.stripe.com"],
        "style-src": [SELF, UNSAFE_INLINE],
        "font-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Production (ENVIRONMENT=production) ----------------------------------------------------
# Refuse to start rather than run with a published key, no key-hash secret, or mail that never
# leaves the machine (reset, confirmation and invitation links would go to stdout or a file).
_LOCAL_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
if IS_PRODUCTION:
    _problems = []
    if not env("SECRET_KEY", default=""):
        _problems.append("SECRET_KEY is not set")
    elif SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        _problems.append("SECRET_KEY is the development key published in the repository")
    if not env("API_KEY_HASH_SECRET", default=""):
        _problems.append(
            "API_KEY_HASH_SECRET is not set (an existing deployment sets it to its current "
            "SECRET_KEY, or every org API key stops working)"
        )
    elif API_KEY_HASH_SECRET == DEVELOPMENT_SECRET_KEY:
        _problems.append("API_KEY_HASH_SECRET is the development key published in the repository")
    if EMAIL_BACKEND in _LOCAL_MAIL_BACKENDS:
        _problems.append(
            f"EMAIL_BACKEND is {EMAIL_BACKEND}, which never delivers mail: set EMAIL_URL "
            "(smtp+tls://user:password@host:587)"
        )
    if DEBUG:
        _problems.append("DEBUG is on")
    if not RECEIPT_SIGNING_KEYS:
        _problems.append(
            "RECEIPT_SIGNING_KEYS is not set (make a key with `python manage.py receipt_key`)"
        )
    if _problems:
        raise ImproperlyConfigured(
            "ENVIRONMENT=production refuses to start: " + "; ".join(_problems) + "."
        )
    # HTTPS only: redirect, HSTS for a year, cookies never sent over plain HTTP.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if TRUSTED_PROXIES:
    # Behind a TLS-terminating proxy the request reaches us over HTTP: its X-Forwarded-Proto
    # says whether the client used HTTPS (for the redirect above and secure cookies). Only the
    # proxies can reach the pods (deploy/k8s/base/networkpolicy.yaml, compose's network).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
