"""Each pytest-xdist worker's own Redis database (applied by tests/conftest.py at import).

`make test` runs the suite on several pytest-xdist workers at once. pytest-django already gives
each worker its own test database (`test_<name>_gw0`, ...) and the SQLite test file is named by
process id, but Redis holds the gateway's rate-limit counters, the key-revocation channel and
the page cache: two workers on one Redis database would count each other's requests and receive
each other's revocations. Worker N therefore uses database `<REDIS_URL's number> + N`.

pytest-django has loaded the settings before any conftest is imported, so this sets REDIS_URL
in the settings and the cache's location as well as in the environment; nothing reads them
earlier (the gateway and tenancy read REDIS_URL when they start or send, the cache connects on
first use). Server children get `settings.REDIS_URL`; a Celery worker a test starts inherits
the environment. Without xdist, or without REDIS_URL, nothing changes.
"""

from __future__ import annotations

import os
import re

# Redis ships with 16 databases (0-15); a worker beyond them would silently share one. A server
# configured with more (`databases 32`, so that several checkouts run side by side) says so.
REDIS_DATABASES = 16


def worker_index(worker_id: str | None) -> int | None:
    """0 for "gw0", 1 for "gw1", ...; None outside xdist (or for the controller)."""
    match = re.fullmatch(r"gw(\d+)", worker_id or "")
    return int(match.group(1)) if match else None


def server_databases(url: str) -> int:
    """How many databases the Redis server at `url` has (16 if it cannot tell us)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return int(client.config_get("databases").get("databases", REDIS_DATABASES))
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return REDIS_DATABASES


def redis_url_for_worker(url: str, index: int, databases: int = REDIS_DATABASES) -> str:
    """`url` with its database number raised by `index` (no number means database 0)."""
    match = re.fullmatch(r"(?P<head>rediss?://[^/?#]*)(?:/(?P<db>\d*))?(?P<tail>[?#].*)?", url)
    if match is None:
        raise ValueError(f"REDIS_URL {url!r} is not a redis:// URL with a database number")
    database = int(match.group("db") or 0) + index
    if database >= databases:
        raise ValueError(
            f"xdist worker {index} would use Redis database {database} (from {url!r}); "
            f"Redis has {databases}: use fewer workers or a lower database number"
        )
    return f"{match.group('head')}/{database}{match.group('tail') or ''}"


def apply(settings) -> None:
    """Point this worker's settings and environment at its own Redis database."""
    index = worker_index(os.environ.get("PYTEST_XDIST_WORKER"))
    if index is None or not settings.REDIS_URL:
        return
    # The controller's value; a test checks the derivation against it.
    base = os.environ.setdefault("SWITCHYARD_BASE_REDIS_URL", settings.REDIS_URL)
    url = redis_url_for_worker(base, index, server_databases(base))
    os.environ["REDIS_URL"] = settings.REDIS_URL = url
    cache = settings.CACHES.get("default", {})
    if cache.get("LOCATION") == base:
        cache["LOCATION"] = url
