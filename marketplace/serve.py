"""Run uvicorn on marketplace.asgi, believing proxy headers only from TRUSTED_PROXIES.

`python -m marketplace.serve [uvicorn options]` is how every server starts (`make run`, the
container image, compose, the tests' live server, `make bench`), so settings.TRUSTED_PROXIES is
the one place that says whose X-Forwarded-For and X-Forwarded-Proto are believed. uvicorn's
own default trusts loopback, and `--forwarded-allow-ips "*"` trusts every peer: either lets a
client pick its address per request and walk past per-address throttles.

It also prepares /metrics for several workers (`--workers N` or WEB_CONCURRENCY above 1): a
fresh prometheus_client multiprocess directory, PROMETHEUS_MULTIPROC_DIR (marketplace/metrics.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

# Chosen from TRUSTED_PROXIES here; passing them too would make a second source of truth.
_OWNED_OPTIONS = ("--proxy-headers", "--no-proxy-headers", "--forwarded-allow-ips")


def proxy_options(trusted_proxies: list[str]) -> list[str]:
    """Return uvicorn's proxy-header options for these trusted proxies (none: headers ignored)."""
    if not trusted_proxies:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", ",".join(trusted_proxies)]


def worker_count(args: list[str], environ: dict[str, str] | os._Environ[str]) -> int:
    """uvicorn's `--workers N` (or `--workers=N`), else WEB_CONCURRENCY, else 1."""
    for i, arg in enumerate(args):
        if arg == "--workers" and i + 1 < len(args):
            return int(args[i + 1])
        if arg.startswith("--workers="):
            return int(arg.split("=", 1)[1])
    return int(environ.get("WEB_CONCURRENCY") or 1)


def prepare_metrics_dir(workers: int, environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Give several workers a fresh prometheus_client multiprocess directory (see /metrics).

    A directory the operator named (PROMETHEUS_MULTIPROC_DIR) is emptied of an earlier run's
    files; with several workers and none named, a new temporary one is made. Set before any
    worker starts, so each one's prometheus_client writes its samples there.
    """
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
    elif workers > 1:
        directory = tempfile.mkdtemp(prefix="switchyard-metrics-")
        environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def main(argv: list[str] | None = None) -> None:
    """Start uvicorn with the given options plus the proxy options from the settings."""
    args = list(sys.argv[1:] if argv is None else argv)
    owned = [a for a in args if a.split("=", 1)[0] in _OWNED_OPTIONS]
    if owned:
        raise SystemExit(f"marketplace.serve: {owned[0]} comes from TRUSTED_PROXIES; set that")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    # Before the settings are read and any worker starts: they all see the same directory.
    named = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    directory = prepare_metrics_dir(worker_count(args, os.environ), os.environ)
    from django.conf import settings
    from uvicorn.main import main as uvicorn_main

    try:
        # Reading a setting loads them all: ENVIRONMENT=production refuses to start right here.
        uvicorn_main(["marketplace.asgi:application", *args,
                      *proxy_options(settings.TRUSTED_PROXIES)])
    finally:
        if directory and not named:  # ours: made above for this run's workers
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
