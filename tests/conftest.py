"""Suite-wide fixtures and the rule for skipping.

With no environment the suite runs on the embedded default and skips only tests that need a
service it lacks, each with its reason. `.ci/run` sets every service and fails on any skip.
"""

import os
import shutil

import pytest
from django.conf import settings

from tests import worker_env

# Before anything connects to Redis: this xdist worker's own database (tests/worker_env.py).
worker_env.apply(settings)

# sandbox_server / sandbox; start_gateway_server / browser_page; live_gateway_server (shared);
# private_redis; cluster (a private PostgreSQL)
pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.live_server",
                  "tests.fixtures.shared_gateway", "tests.fixtures.redis_server",
                  "tests.fixtures.pgcluster"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

_NEEDS = {
    "postgres": (lambda: settings.IS_POSTGRES, "needs PostgreSQL: set DATABASE_URL"),
    "redis": (lambda: bool(settings.REDIS_URL), "needs Redis: set REDIS_URL"),
    "rabbitmq": (
        lambda: settings.CELERY_BROKER_URL.startswith("amqp"),
        "needs RabbitMQ: set CELERY_BROKER_URL=amqp://...",
    ),
    "browser": (
        lambda: shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM),
        f"needs headless Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, (available, reason) in _NEEDS.items():
            if item.get_closest_marker(marker) and not available():
                item.add_marker(pytest.mark.skip(reason=reason))


class LocalStripe:
    """A running `localstripe` (PyPI's local Stripe server): `.url` and the STRIPE_* `.env`."""

    def __init__(self, url: str):
        self.url = url
        self.env = {
            "STRIPE_SECRET_KEY": "sk_test_switchyard",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_switchyard",
            "STRIPE_WEBHOOK_SECRET": "whsec_switchyard_test",
            "STRIPE_API_BASE": url,
            "STRIPE_JS_URL": f"{url}/js.stripe.com/v3/",
        }


@pytest.fixture(scope="session")
def localstripe():
    """Start `localstripe --port <free port> --from-scratch` for the session (billing tests)."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "localstripe"), "--port", str(port),
         "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/js.stripe.com/v3/", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.1)
    yield LocalStripe(url)
    process.terminate()
    process.wait(timeout=10)


def _serving_is_the_skeleton() -> bool:
    import inspect

    from marketplace.listings import serving

    return "raise NotImplementedError" in inspect.getsource(serving.sponsored_slots)


_SPONSORED_SKELETON = _serving_is_the_skeleton()


@pytest.fixture(autouse=True)
def _no_sponsored_slots_before_serving_lands(monkeypatch):
    """Issue 14 was built on parallel branches: the overview calls
    `marketplace.listings.serving.sponsored_slots`, whose skeleton raises NotImplementedError
    until the auction's branch lands. While it is the skeleton, pages get no sponsored slot;
    once it is implemented this does nothing (and may be deleted)."""
    if _SPONSORED_SKELETON:
        from marketplace.listings import serving

        monkeypatch.setattr(serving, "sponsored_slots", lambda request, context, **kw: [])
