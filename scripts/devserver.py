"""`make run`: prepare the embedded database, start the sandbox and the server, print how to log in.

Steps (ARCHITECTURE.md, "Running it"): without STRIPE_SECRET_KEY start a local Stripe on
PORT + 2 (scripts/devstripe.py) and point the app at it, migrate, import the catalog, seed the
demo org (both idempotent), start the sandbox providers on SANDBOX_PORT (default PORT + 1) and
uvicorn on 127.0.0.1:PORT, start the in-process periodic timer when there is no broker, print the
dashboard URL, demo login and demo API key, then wait. Ctrl-C or SIGTERM stops every child; if
a child dies the rest are stopped too and the exit status is non-zero. Children die with this
process even if it is killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import devstripe  # scripts/, beside this file

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 90
PR_SET_PDEATHSIG = 1


def log(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if this process dies, even by SIGKILL, so nothing is orphaned.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(check, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"[make run] {what} exited with status {process.returncode}")
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"[make run] {what} did not become ready in {READY_TIMEOUT_S}s")


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own loopback URL)
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except OSError:
        return False


def prepare_database() -> dict:
    """Migrate, import the catalog and seed the demo org; return seed_demo's JSON."""
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    log("migrating the database")
    call_command("migrate", interactive=False, verbosity=0)
    log("importing the catalog")
    call_command("import_catalog", verbosity=0)
    log("seeding the demo organization")
    out = io.StringIO()
    # A first run also gets a month of demo traffic, so the charts and analytics show data.
    call_command("seed_demo", "--json", "--usage", "2000", "--usage-if-empty", stdout=out)
    demo = json.loads(out.getvalue().strip().splitlines()[-1])
    # Endpoint health from the seeded traffic now, not a minute after start: the catalog's
    # latency and uptime, and the quality gates sponsored listings must pass, read it.
    from routing.tasks import rollup_endpoint_health

    rollup_endpoint_health()
    # The database is handed to the children now; this process keeps no connection open.
    connections.close_all()
    return demo


def start_children(port: int, sandbox_port: int, env: dict) -> list[tuple[str, subprocess.Popen]]:
    children: list[tuple[str, subprocess.Popen]] = []
    common = {"cwd": REPO_ROOT, "env": env, "stdin": subprocess.DEVNULL,
              "preexec_fn": _die_with_parent}
    try:
        log(f"starting the sandbox providers on 127.0.0.1:{sandbox_port}")
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "routing.sandbox", "--port", str(sandbox_port)], **common
        )
        children.append(("sandbox", sandbox))
        _wait_for(lambda: _port_in_use(sandbox_port), "the sandbox", sandbox)
        log(f"starting uvicorn on 127.0.0.1:{port}")
        server = subprocess.Popen(
            # marketplace.serve: uvicorn believing proxy headers only from TRUSTED_PROXIES.
            [sys.executable, "-m", "marketplace.serve", "--host", "127.0.0.1", "--port", str(port)],
            **common,
        )
        children.append(("uvicorn", server))
        _wait_for(lambda: _http_answers(f"http://127.0.0.1:{port}/accounts/login/"),
                  "uvicorn", server)
    except BaseException:
        stop_children(children)
        raise
    return children


def stop_children(children: list[tuple[str, subprocess.Popen]]) -> None:
    for _name, process in reversed(children):
        if process.poll() is None:
            process.terminate()
    for name, process in reversed(children):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in 15s; killing it")
            process.kill()
            process.wait()


def print_banner(port: int, demo: dict) -> None:
    lines = [
        "",
        "Switchyard is running.",
        f"  Dashboard:  {demo.get('dashboard_url') or f'http://127.0.0.1:{port}/'}",
        f"  Login:      {demo['email']} / {demo['password']}",
        f"  API key:    {demo['api_key']}",
        f"  Try it:     curl -H 'Authorization: Bearer {demo['api_key']}' "
        f"http://127.0.0.1:{port}/v1/models",
        f"  Payments:   {demo['payments']}",
        f"  Vendor:     {demo['vendor_email']} / {demo['vendor_password']} "
        f"({demo['vendor_org']}: sponsored listings)",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    port = args.port
    sandbox_port = int(os.environ.get("SANDBOX_PORT", port + 1))
    # Settings read these; set them before Django loads so every process agrees.
    os.environ.update({"PORT": str(port), "SANDBOX_PORT": str(sandbox_port)})
    os.environ.setdefault("SANDBOX", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.path.insert(0, str(REPO_ROOT))
    os.chdir(REPO_ROOT)

    # Settings read .env too; read it first so Stripe keys kept there count as configured.
    import environ

    environ.Env.read_env(REPO_ROOT / ".env", overwrite=False)
    stripe_port = devstripe.localstripe_port(port) if devstripe.wanted(os.environ) else None

    for busy in (port, sandbox_port, stripe_port):
        if busy is not None and _port_in_use(busy):
            log(f"port {busy} is already in use on 127.0.0.1; set PORT (and SANDBOX_PORT)")
            return 2

    children: list[tuple[str, subprocess.Popen]] = []
    if stripe_port is not None:
        log(f"no STRIPE_SECRET_KEY: starting a local Stripe (localstripe) on "
            f"127.0.0.1:{stripe_port}")
        stripe, stripe_settings = devstripe.start(
            stripe_port, f"http://127.0.0.1:{port}", cwd=REPO_ROOT, preexec_fn=_die_with_parent)
        children.append(("localstripe", stripe))
        # Before Django loads, so this process (the periodic timer) and every child agree.
        os.environ.update(stripe_settings)
    try:
        demo = prepare_database()
        children += start_children(port, sandbox_port, dict(os.environ))
    except BaseException:
        stop_children(children)
        raise
    # From here a signal only asks the loop below to stop, so the cleanup always runs.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    timer = None
    try:
        from marketplace.periodic import start_embedded_timer

        timer = start_embedded_timer()
        if timer is not None:
            log(f"periodic tasks run in-process: {', '.join(timer.runs()) or 'none scheduled'}")
        demo["payments"] = (
            "local Stripe (localstripe); top up with card 4242 4242 4242 4242"
            if stripe_port is not None else "Stripe (STRIPE_SECRET_KEY is set)")
        print_banner(port, demo)
        while not stop.wait(0.5):
            dead = [(name, p.returncode) for name, p in children if p.poll() is not None]
            if dead:
                log(f"{dead[0][0]} exited with status {dead[0][1]}; stopping")
                return 1
        log("stopping")
        return 0
    finally:
        if timer is not None:
            timer.stop(timeout_s=10)
        stop_children(children)


if __name__ == "__main__":
    sys.exit(main())
