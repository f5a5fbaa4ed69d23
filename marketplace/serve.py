"""Run uvicorn on marketplace.asgi, believing proxy headers only from TRUSTED_PROXIES.

`python -m marketplace.serve [uvicorn options]` is how every server starts (`make run`, the
container image, compose, the tests' live server, `make bench`), so settings.TRUSTED_PROXIES is
the one place that says whose X-Forwarded-For and X-Forwarded-Proto are believed. uvicorn's
own default trusts loopback, and `--forwarded-allow-ips "*"` trusts every peer: either lets a
client pick its address per request and walk past per-address throttles.
"""

from __future__ import annotations

import os
import sys

# Chosen from TRUSTED_PROXIES here; passing them too would make a second source of truth.
_OWNED_OPTIONS = ("--proxy-headers", "--no-proxy-headers", "--forwarded-allow-ips")


def proxy_options(trusted_proxies: list[str]) -> list[str]:
    """Return uvicorn's proxy-header options for these trusted proxies (none: headers ignored)."""
    if not trusted_proxies:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", ",".join(trusted_proxies)]


def main(argv: list[str] | None = None) -> None:
    """Start uvicorn with the given options plus the proxy options from the settings."""
    args = list(sys.argv[1:] if argv is None else argv)
    owned = [a for a in args if a.split("=", 1)[0] in _OWNED_OPTIONS]
    if owned:
        raise SystemExit(f"marketplace.serve: {owned[0]} comes from TRUSTED_PROXIES; set that")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    from django.conf import settings
    from uvicorn.main import main as uvicorn_main

    # Reading a setting loads them all: ENVIRONMENT=production refuses to start right here.
    uvicorn_main(["marketplace.asgi:application", *args,
                  *proxy_options(settings.TRUSTED_PROXIES)])


if __name__ == "__main__":
    main()
