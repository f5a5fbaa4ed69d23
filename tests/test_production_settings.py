"""ENVIRONMENT=production: `check --deploy` passes with the required secrets, and the settings
refuse to load (so no process starts) without them, with the development key, or with mail that
never leaves the machine. Development (tests, CI, `make run`) needs none of them.

Each case is a fresh `manage.py` process: settings are read once, at start-up.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Long and varied enough for Django's own deploy check (security.W009).
SECRET = "prod-" + "k7Qx2Lm9Vw4Rt8Zp3Hs6Jd1Nf5Gb0Yc" * 2
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": SECRET,
    "API_KEY_HASH_SECRET": "hash-" + SECRET,
    "EMAIL_URL": "smtp+tls://mailer:mail-password@smtp.example.com:587",
    # An Ed25519 seed made by `manage.py receipt_key` (base64url of 32 bytes).
    "RECEIPT_SIGNING_KEYS": "cmVjZWlwdC1zaWduaW5nLWtleS1mb3ItdGVzdHMtMDE",
}
# Every variable these tests control: removed from the inherited environment first.
CONTROLLED = (
    "ENVIRONMENT", "SECRET_KEY", "API_KEY_HASH_SECRET", "EMAIL_URL", "EMAIL_BACKEND",
    "TRUSTED_PROXIES", "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "RECEIPT_SIGNING_KEYS",
)
REFUSED = "ENVIRONMENT=production refuses to start"


def _run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    child_env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    child_env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=child_env, capture_output=True, text=True,
        timeout=180,
    )


def _check_deploy(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return _run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)


def _settings(tmp_path, names: str, **env: str) -> str:
    """Return repr() of the named settings (comma-separated) as a fresh process loads them."""
    result = _run(
        tmp_path, "manage.py", "shell", "--no-imports", "-c",
        "from django.conf import settings; "
        f"print(repr(tuple(getattr(settings, n) for n in {names!r}.split(','))))", **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_check_deploy_passes_in_production_with_the_required_settings(tmp_path):
    result = _check_deploy(tmp_path, **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "switchyard-insecure-development-key-change-me"},
         "SECRET_KEY is the development key published in the repository"),
        ({"API_KEY_HASH_SECRET": None}, "API_KEY_HASH_SECRET is not set"),
        ({"EMAIL_URL": None}, "EMAIL_BACKEND is django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_URL": None, "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"},
         "EMAIL_BACKEND is django.core.mail.backends.filebased.EmailBackend"),
        ({"EMAIL_URL": "consolemail://"},
         "EMAIL_BACKEND is django.core.mail.backends.console.EmailBackend"),
        ({"DEBUG": "1"}, "DEBUG is on"),
        ({"RECEIPT_SIGNING_KEYS": None}, "RECEIPT_SIGNING_KEYS is not set"),
    ],
)
def test_production_refuses_to_start(tmp_path, change, message):
    env = {**PRODUCTION, **{k: v for k, v in change.items() if v is not None}}
    for name in [k for k, v in change.items() if v is None]:
        del env[name]

    result = _check_deploy(tmp_path, **env)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: " + REFUSED in result.stderr
    assert message in result.stderr
    # The refusal never echoes a secret.
    assert SECRET not in result.stderr
    assert "mail-password" not in result.stderr


def test_the_server_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    result = _run(tmp_path, "-m", "marketplace.serve", "--host", "127.0.0.1", "--port", "1",
                  **env)

    assert result.returncode != 0
    assert REFUSED + ": SECRET_KEY is not set." in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_email_url_wins_over_email_backend(tmp_path):
    env = {**PRODUCTION, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}

    assert _check_deploy(tmp_path, **env).returncode == 0
    assert _settings(tmp_path, "EMAIL_BACKEND,EMAIL_HOST,EMAIL_PORT,EMAIL_USE_TLS", **env) == (
        "('django.core.mail.backends.smtp.EmailBackend', 'smtp.example.com', 587, True)"
    )


def test_production_is_https_only_and_believes_the_proxy_header_only_behind_trusted_proxies(
    tmp_path,
):
    https = "SECURE_SSL_REDIRECT,SECURE_HSTS_SECONDS,SESSION_COOKIE_SECURE,CSRF_COOKIE_SECURE"
    assert _settings(tmp_path, https, **PRODUCTION) == "(True, 31536000, True, True)"
    assert _settings(tmp_path, "SECURE_PROXY_SSL_HEADER", **PRODUCTION) == "(None,)"
    assert _settings(
        tmp_path, "SECURE_PROXY_SSL_HEADER", TRUSTED_PROXIES="10.0.0.0/8", **PRODUCTION
    ) == "(('HTTP_X_FORWARDED_PROTO', 'https'),)"


def test_development_needs_no_secrets(tmp_path):
    result = _run(tmp_path, "manage.py", "check")

    assert result.returncode == 0, result.stderr
    assert _settings(tmp_path, "ENVIRONMENT,SECURE_SSL_REDIRECT") == "('development', False)"


@pytest.mark.parametrize("value", ["*", "ingress.example.com", "10.0.0.0/8,*"])
def test_trusted_proxies_accepts_addresses_only(tmp_path, value):
    result = _run(tmp_path, "manage.py", "check", TRUSTED_PROXIES=value)

    assert result.returncode != 0
    assert "is not an IP address or CIDR network" in result.stderr


def test_the_server_takes_its_proxy_options_only_from_trusted_proxies(tmp_path):
    from marketplace.serve import proxy_options

    assert proxy_options([]) == ["--no-proxy-headers"]
    assert proxy_options(["10.0.0.0/8", "192.0.2.7"]) == [
        "--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8,192.0.2.7"]
    result = _run(tmp_path, "-m", "marketplace.serve", "--forwarded-allow-ips", "*")
    assert result.returncode != 0
    assert "--forwarded-allow-ips comes from TRUSTED_PROXIES" in result.stderr
