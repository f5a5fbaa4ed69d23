"""`make run` without Stripe keys: localstripe on PORT + 2, the webhook registered, stopped on exit.

The launcher (scripts/devstripe.py) runs for real here: two side by side for two PORTs, a card
payment through each, and each one's signed webhook arriving at its own app URL.
"""

import http.server
import importlib.util
import socket
import threading
from pathlib import Path

import pytest
import stripe

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
_spec = importlib.util.spec_from_file_location("devstripe", SCRIPTS / "devstripe.py")
devstripe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(devstripe)


def _ports_of_make_run(port: int) -> set[int]:
    return {port, port + 1, devstripe.localstripe_port(port)}  # app, sandbox, localstripe


def test_localstripe_port_is_derived_from_port_beside_the_sandbox():
    assert devstripe.localstripe_port(8000) == 8002
    assert devstripe.localstripe_port(9100) == 9102
    # Two make runs whose PORTs differ by 3 or more share no port.
    for other in (8003, 8010, 7997):
        assert not _ports_of_make_run(8000) & _ports_of_make_run(other)


def test_localstripe_is_wanted_only_without_a_secret_key():
    assert devstripe.wanted({})
    assert devstripe.wanted({"STRIPE_SECRET_KEY": "  "})
    assert not devstripe.wanted({"STRIPE_SECRET_KEY": "sk_live_x"})


def _free_base_port() -> int:
    """A PORT whose ports for make run (app, sandbox, localstripe) are all free."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1] - 2
        if base > 1024 and all(_free(port) for port in _ports_of_make_run(base)):
            return base
    raise RuntimeError("no free port")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class _Hooks(http.server.ThreadingHTTPServer):
    """A stand-in app URL that records the webhook posts it receives."""

    def __init__(self):
        self.received: list[tuple[bytes, str]] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, body, self.headers["Stripe-Signature"]))
                outer.arrived.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _pay(env: dict) -> str:
    client = stripe.StripeClient(env["STRIPE_SECRET_KEY"], base_addresses={
        "api": env["STRIPE_API_BASE"]})
    method = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4242424242424242", "exp_month": 12,
                                 "exp_year": 2030, "cvc": "123"}})
    intent = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "payment_method": method.id, "confirm": True})
    assert intent.status == "succeeded"
    return intent.id


@pytest.mark.timeout(120)
def test_two_launchers_side_by_side_each_deliver_signed_webhooks_and_stop():
    started = []
    try:
        for _ in range(2):
            hooks = _Hooks()
            port = devstripe.localstripe_port(_free_base_port())
            process, env = devstripe.start(port, hooks.url)
            started.append((process, env, hooks, port))
        assert started[0][3] != started[1][3]
        for process, env, hooks, port in started:
            assert process.poll() is None
            assert env["STRIPE_API_BASE"] == f"http://127.0.0.1:{port}"
            assert env["STRIPE_JS_URL"] == f"http://127.0.0.1:{port}/js.stripe.com/v3/"
            assert env["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
            intent_id = _pay(env)
            assert hooks.arrived.wait(30), "no webhook from localstripe"
            for path, body, signature in hooks.received:
                assert path == "/billing/stripe/webhook/"
                # Signed with this run's secret: the app's verification accepts it.
                event = stripe.Webhook.construct_event(body, signature,
                                                       env["STRIPE_WEBHOOK_SECRET"])
                if event["type"] == "payment_intent.succeeded":
                    assert event["data"]["object"]["id"] == intent_id
                    break
            else:
                pytest.fail(f"no payment_intent.succeeded among {len(hooks.received)} posts")
        assert started[0][1]["STRIPE_WEBHOOK_SECRET"] != started[1][1]["STRIPE_WEBHOOK_SECRET"]
    finally:
        for process, *_ in started:
            devstripe.stop(process)
    for process, _env, hooks, port in started:
        assert process.returncode is not None
        hooks.shutdown()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "localstripe still listening"


def test_make_run_refuses_to_start_when_its_localstripe_port_is_taken():
    """A second `make run` whose PORT + 2 is taken says so and starts nothing."""
    import os
    import subprocess
    import sys

    base = _free_base_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", devstripe.localstripe_port(base)))
        busy.listen()
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
        env.pop("SANDBOX_PORT", None)
        result = subprocess.run(
            [sys.executable, str(SCRIPTS / "devserver.py"), "--port", str(base)],
            env=env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {devstripe.localstripe_port(base)} is already in use" in result.stdout
