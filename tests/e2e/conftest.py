"""Fixtures for tests that drive the real server: a uvicorn process and headless Chromium.

`live_gateway_server` runs `uvicorn marketplace.asgi:application` as a child process against
pytest-django's TEST database, so `/v1` goes through the real gateway (pytest-django's
`live_server` is WSGI and would bypass the ASGI dispatch). The child sees only COMMITTED rows:
tests use it with `transactional_db` (it requests that itself) and create their data through
the public interfaces or before starting a server with `start_gateway_server`. The child never
migrates: pytest-django already built the test database.

`browser_page` is a fresh Playwright page (sync API) in Debian's Chromium, a new browser per
test. Tests that use it must be marked `browser`, so the suite skips them with a reason where
Chromium is absent.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# The file-based email backend ends every message with this line (django.core.mail).
_EMAIL_SEPARATOR = b"-" * 79


@dataclass(frozen=True)
class SentEmail:
    """One message the server wrote to its outbox: the parts a test asserts on."""

    to: list[str]
    subject: str
    body: str


@dataclass
class LiveGatewayServer:
    """A running uvicorn child: `.url` (no trailing slash), `.env` it got, `.pid`, `.outbox_dir`."""

    url: str
    env: dict[str, str]
    pid: int
    outbox_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def read_emails(self) -> list[SentEmail]:
        """Return every email the server has sent so far, oldest first."""
        sent = []
        for path in sorted(self.outbox_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            for chunk in path.read_bytes().split(_EMAIL_SEPARATOR):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default)
                body_part = message.get_body(preferencelist=("plain", "html"))
                sent.append(
                    SentEmail(
                        to=[a.strip() for a in str(message.get("To", "")).split(",") if a.strip()],
                        subject=str(message.get("Subject", "")),
                        body=body_part.get_content() if body_part is not None else "",
                    )
                )
        return sent

    def log_text(self) -> str:
        """Return what the server printed (stdout and stderr), for failure messages."""
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    # A small race with other binders is possible; startup retries on a new port if it loses.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    """Return a DATABASE_URL for the test database pytest-django created in this process."""
    db = connection.settings_dict
    if settings.IS_POSTGRES:
        user = quote(db.get("USER") or "", safe="")
        password = db.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{quote(db['NAME'], safe='')}"
    name = str(db["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise RuntimeError(
            "The SQLite test database is in memory; a server process cannot share it. "
            "settings.DATABASES['default']['TEST']['NAME'] must be a file."
        )
    return f"sqlite:///{name}"


def _optional_fixture(request, name):
    """Return the fixture `name` if some plugin defines it, else None."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


def _sandbox_env(sandbox) -> dict[str, str]:
    if sandbox is None:
        return {}
    base_url = str(sandbox.base_url).rstrip("/")
    port = base_url.rsplit(":", 1)[-1].split("/", 1)[0]
    return {"SANDBOX_PORT": port, "SANDBOX_BASE_URL": base_url}


def _stripe_env(stripe) -> dict[str, str]:
    if stripe is None:
        return {}
    values = stripe if isinstance(stripe, dict) else getattr(stripe, "env", {})
    return {k: str(v) for k, v in values.items() if k.startswith("STRIPE_")}


def _wait_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"uvicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            # Any HTTP answer means lifespan start-up finished and the socket is serving.
            httpx.get(f"{url}/accounts/login/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer in {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def start_gateway_server(request, transactional_db, tmp_path):
    """Return a function that starts a uvicorn child and returns its LiveGatewayServer.

    Call it with extra environment variables (`start_gateway_server(LOG_LEVEL="DEBUG")`) after
    the test has committed what the server must see at start-up (the routing snapshot and caches
    are built then). Every server started is stopped at teardown.

    The child gets: DATABASE_URL of the test database, the parent's REDIS_URL and
    CELERY_BROKER_URL, SANDBOX=1 and SANDBOX_PORT/SANDBOX_BASE_URL of the `sandbox_server`
    fixture when the suite defines one, STRIPE_* from an optional `stripe_env` fixture (a dict
    or an object with `.env`), and email written to files in `.outbox_dir`.
    """
    sandbox = _optional_fixture(request, "sandbox_server")
    stripe = _optional_fixture(request, "stripe_env")
    started: list[subprocess.Popen] = []
    counter = iter(range(1_000_000))

    def start(**extra_env: str) -> LiveGatewayServer:
        index = next(counter)
        outbox = tmp_path / f"outbox-{index}"
        outbox.mkdir()
        log_path = tmp_path / f"uvicorn-{index}.log"
        last_error = None
        for _attempt in range(3):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            child_env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "marketplace.settings",
                "DATABASE_URL": _test_database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "DB_POOL_MAX": "3",
                "SANDBOX": "1",
                "PORT": str(port),
                "PUBLIC_URL": url,
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(outbox),
                "PYTHONUNBUFFERED": "1",
                **_sandbox_env(sandbox),
                **_stripe_env(stripe),
                **{k: str(v) for k, v in extra_env.items()},
            }
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "marketplace.asgi:application",
                     "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                    cwd=REPO_ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            started.append(process)
            try:
                _wait_ready(process, url, log_path)
            except RuntimeError as exc:
                _stop(process)
                last_error = exc
                if "address already in use" in str(exc).lower():
                    continue
                raise
            return LiveGatewayServer(
                url=url, env=child_env, pid=process.pid, outbox_dir=outbox,
                log_path=log_path, process=process,
            )
        raise last_error

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def live_gateway_server(start_gateway_server) -> LiveGatewayServer:
    """A uvicorn child serving the real ASGI app on the test database (see start_gateway_server).

    Yields `.url`, `.env`, `.pid`, `.outbox_dir` and `.read_emails()`; stopped at teardown.
    """
    return start_gateway_server()


@pytest.fixture
def browser_page(request, monkeypatch):
    """A fresh Playwright Page in headless Chromium (Debian's package, never a downloaded build).

    The test must carry `@pytest.mark.browser`. Playwright, the browser and its context live
    for this test only: the sync API keeps an asyncio loop running in this thread while started,
    which would break every later test that calls `asyncio.run`. Default timeouts are 15 s so a
    broken page fails fast instead of hanging to the suite's timeout.
    """
    if request.node.get_closest_marker("browser") is None:
        pytest.fail("tests that use browser_page must be marked @pytest.mark.browser")
    from playwright.sync_api import sync_playwright

    # While Playwright's loop runs in this thread, the ORM calls a test makes between page
    # actions are still plain blocking calls; Django's async guard must let them through.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
