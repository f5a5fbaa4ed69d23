"""Switchyard settings: one file, read from the environment.

No variables means the embedded default (SQLite, tasks in-process, no Redis), so `make run`
works on any laptop. DATABASE_URL, REDIS_URL and CELERY_BROKER_URL switch to PostgreSQL, Redis
and a real Celery broker.
"""

import os
import tempfile
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The embedded default gets a fixed development key; production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="switchyard-insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PORT = env.int("PORT", default=8000)
SANDBOX = env.bool("SANDBOX", default=True)
SANDBOX_PORT = env.int("SANDBOX_PORT", default=PORT + 1)
# Real providers' credentials, from PROVIDER_KEYS="openai=sk-...,anthropic=...": a real provider
# is routable (outside SANDBOX) only when it has one. Never logged.
PROVIDER_API_KEYS = dict(
    item.split("=", 1) for item in env.list("PROVIDER_KEYS", default=[]) if "=" in item
)
PUBLIC_URL = env("PUBLIC_URL", default=f"http://127.0.0.1:{PORT}")
# Peers whose X-Forwarded-For and X-Forwarded-Proto are believed (IP addresses or CIDR networks;
# default none, so the socket's peer is the client). One value feeds uvicorn's
# --forwarded-allow-ips, allauth's trusted proxy count and the gateway's client address.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
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
    # Usage rolls into the month's open invoice hourly; ended periods are finalized (idempotent).
    "billing.roll_usage_into_invoices": {
        "task": "billing.tasks.invoicing.roll_usage_into_invoices", "schedule": 3600.0},
    "billing.finalize_invoices": {
        "task": "billing.tasks.invoicing.finalize_invoices", "schedule": 3600.0},
    # Auto top-ups fire once per threshold crossing.
    "billing.run_auto_top_ups": {
        "task": "billing.tasks.topups.run_auto_top_ups", "schedule": 60.0},
    # Endpoint health (latency, uptime) rolled up from usage records for pages and /v1 listings.
    "routing.rollup_endpoint_health": {
        "task": "routing.tasks.rollup_endpoint_health", "schedule": 60.0},
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
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
LOGIN_REDIRECT_URL = "/dashboard/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
# Where the file-based email backend writes (the e2e tests read confirmation mail from here).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "emails"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Switchyard <no-reply@switchyard.local>")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.errors.drf_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard management API",
    "DESCRIPTION": "Organizations, members, invitations, API keys, catalog and billing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Org API keys are stored as HMAC-SHA256 of the key under this secret (a keyed hash).
API_KEY_HASH_SECRET = env("API_KEY_HASH_SECRET", default=SECRET_KEY)
# BYOK vault keys, newest first (Fernet keys); compliance work uses them.
VAULT_KEYS = env.list("VAULT_KEYS", default=[])

# Margins and fees in basis points (550 = 5.5%); per provider/model/org overrides are
# MarginRule rows.
MARGIN_DEFAULT_BPS = env.int("MARGIN_DEFAULT_BPS", default=550)
BYOK_FEE_BPS = env.int("BYOK_FEE_BPS", default=500)
# The gateway's hot-path writer: its own small psycopg pool, and the settle batching window.
HOTPATH_POOL_MAX = env.int("HOTPATH_POOL_MAX", default=4)
# Settlements never wait for this window (the response is already on its way); a wider one
# writes more of them per statement at low request rates. Holds keep the money reserved
# meanwhile, and a gateway that dies inside the window leaves holds the sweep settles.
HOTPATH_SETTLE_WINDOW_MS = env.int("HOTPATH_SETTLE_WINDOW_MS", default=20)
# Settlements are replayed (with backoff) until the database takes them; at most this many
# wait at once (a warning at 80%; beyond it new admissions get 503 rather than lose a charge).
HOTPATH_PENDING_MAX = env.int("HOTPATH_PENDING_MAX", default=100_000)
# A hold or release that has no answer after this long is a 503 (a hung database server).
HOTPATH_DB_TIMEOUT_S = env.float("HOTPATH_DB_TIMEOUT_S", default=3.0)
# On shutdown, how long to keep replaying unwritten settlements before giving them to the sweep.
HOTPATH_SHUTDOWN_FLUSH_S = env.float("HOTPATH_SHUTDOWN_FLUSH_S", default=10.0)
# The /v1 gateway: per-minute rate limits (per key and per org; overrides as JSON
# {"key:ID": {"rpm": n, "tpm": n}, "org:ID": {...}}), body limit, deadlines, key-cache TTL.
GATEWAY_KEY_RPM = env.int("GATEWAY_KEY_RPM", default=600)
GATEWAY_KEY_TPM = env.int("GATEWAY_KEY_TPM", default=2_000_000)
GATEWAY_ORG_RPM = env.int("GATEWAY_ORG_RPM", default=3_000)
GATEWAY_ORG_TPM = env.int("GATEWAY_ORG_TPM", default=10_000_000)
GATEWAY_LIMIT_OVERRIDES = env.json("GATEWAY_LIMIT_OVERRIDES", default={})
GATEWAY_MAX_BODY_BYTES = env.int("GATEWAY_MAX_BODY_BYTES", default=4 * 1024 * 1024)
GATEWAY_REQUEST_DEADLINE_S = env.float("GATEWAY_REQUEST_DEADLINE_S", default=300.0)
GATEWAY_HOLD_GRACE_S = env.float("GATEWAY_HOLD_GRACE_S", default=60.0)
GATEWAY_KEY_CACHE_TTL_S = env.float("GATEWAY_KEY_CACHE_TTL_S", default=1.0)
# A gateway database read (key lookup, /v1/generation, ...) unanswered after this is a 503.
GATEWAY_DB_TIMEOUT_S = env.float("GATEWAY_DB_TIMEOUT_S", default=3.0)
GATEWAY_ATTEMPT_TIMEOUT_S = env.float("GATEWAY_ATTEMPT_TIMEOUT_S", default=60.0)
GATEWAY_STREAM_IDLE_TIMEOUT_S = env.float("GATEWAY_STREAM_IDLE_TIMEOUT_S", default=60.0)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# Top-up bounds in cents (Stripe's unit), and the issuer prefix invoices are numbered under.
TOPUP_MIN_CENTS = env.int("TOPUP_MIN_CENTS", default=500)
TOPUP_MAX_CENTS = env.int("TOPUP_MAX_CENTS", default=1_000_000)
INVOICE_ISSUER = env("INVOICE_ISSUER", default="SY")
INVOICE_ISSUER_DETAILS = env(
    "INVOICE_ISSUER_DETAILS",
    default="Switchyard Marketplace Inc.\n1 Rail Yard Way\nSan Francisco, CA",
)

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
