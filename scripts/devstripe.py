"""`make run` without Stripe keys: a local Stripe (localstripe) so card top-ups work end to end.

localstripe (a development dependency) answers the Stripe API and serves its own Stripe.js; it
listens on PORT + 2 (the sandbox providers take PORT + 1), so two `make run`s with different
PORTs never share one. Once it answers, the app's webhook (`/billing/stripe/webhook/`) is
registered with a secret made for this run, so a paid top-up is credited by the same verified
webhook real Stripe would send. The app and Stripe.js are pointed at it through the STRIPE_*
variables `stripe_env` returns. Setting STRIPE_SECRET_KEY (and the others, README "Payments")
uses real Stripe instead and starts nothing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

WEBHOOK_PATH = "/billing/stripe/webhook/"
READY_TIMEOUT_S = 60
# Fixed, obviously fake keys: localstripe accepts any; the webhook secret is per run.
SECRET_KEY = "sk_test_switchyard_localstripe"
PUBLISHABLE_KEY = "pk_test_switchyard_localstripe"


def localstripe_port(port: int) -> int:
    """Where localstripe listens for the app on `port`: PORT + 2, beside the sandbox's PORT + 1."""
    return port + 2


def wanted(environ: dict) -> bool:
    """No Stripe secret key configured: run localstripe."""
    return not environ.get("STRIPE_SECRET_KEY", "").strip()


def stripe_env(url: str, webhook_secret: str) -> dict[str, str]:
    """The STRIPE_* settings that point the app and Stripe.js at localstripe at `url`."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "STRIPE_API_BASE": url,
        "STRIPE_JS_URL": f"{url}/js.stripe.com/v3/",
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own loopback URL)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def register_webhook(url: str, app_url: str, webhook_secret: str) -> None:
    """Tell localstripe to sign and send its events to the app's webhook."""
    body = urllib.parse.urlencode(
        {"url": app_url.rstrip("/") + WEBHOOK_PATH, "secret": webhook_secret}).encode()
    request = urllib.request.Request(  # noqa: S310  (loopback)
        f"{url}/_config/webhooks/switchyard", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (loopback)
        if response.status != 200:
            raise RuntimeError(f"localstripe refused the webhook: HTTP {response.status}")


def start(port: int, app_url: str, **popen) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start localstripe on `port`, register `app_url`'s webhook; return it and its STRIPE_*.

    `popen` goes to subprocess.Popen (cwd, env, preexec_fn...). The process is terminated if
    it does not answer in time; stop it with `stop`.
    """
    executable = os.path.join(os.path.dirname(sys.executable), "localstripe")
    process = subprocess.Popen(  # noqa: S603  (our own virtualenv's script)
        # --from-scratch: never load another run's customers and payments from disk.
        [executable, "--port", str(port), "--from-scratch"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(f"{url}/js.stripe.com/v3/"):
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited with status {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"localstripe did not answer in {READY_TIMEOUT_S}s")
            time.sleep(0.1)
        webhook_secret = f"whsec_{secrets.token_hex(16)}"
        register_webhook(url, app_url, webhook_secret)
    except BaseException:
        stop(process)
        raise
    return process, stripe_env(url, webhook_secret)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
