"""pytest plugin (`-p tests.worker_env` in pyproject's addopts): each xdist worker's own Redis.

`make test` runs the suite on several pytest-xdist workers at once. pytest-django already gives
each worker its own test database (`test_<name>_gw0`, ...) and the SQLite test file is named by
process id, but Redis holds the gateway's rate-limit counters, the key-revocation channel and
the page cache: two workers on one Redis database would count each other's requests and receive
each other's revocations. Worker N therefore uses database `<REDIS_URL's number> + N`.

This runs when pytest imports its `-p` plugins, before pytest-django loads the settings (which
read REDIS_URL once), so the settings, the test process and every server child it starts (they
are given `settings.REDIS_URL`) agree. Without xdist, or without REDIS_URL, nothing changes.
"""

from __future__ import annotations

import os
import re

# Redis ships with 16 databases (0-15); a worker beyond them would silently share one.
REDIS_DATABASES = 16


def worker_index(worker_id: str | None) -> int | None:
    """0 for "gw0", 1 for "gw1", ...; None outside xdist (or for the controller)."""
    match = re.fullmatch(r"gw(\d+)", worker_id or "")
    return int(match.group(1)) if match else None


def redis_url_for_worker(url: str, index: int) -> str:
    """`url` with its database number raised by `index` (no number means database 0)."""
    match = re.fullmatch(r"(?P<head>rediss?://[^/?#]*)(?:/(?P<db>\d*))?(?P<tail>[?#].*)?", url)
    if match is None:
        raise ValueError(f"REDIS_URL {url!r} is not a redis:// URL with a database number")
    database = int(match.group("db") or 0) + index
    if database >= REDIS_DATABASES:
        raise ValueError(
            f"xdist worker {index} would use Redis database {database} (from {url!r}); "
            f"Redis has {REDIS_DATABASES}: use fewer workers or a lower database number"
        )
    return f"{match.group('head')}/{database}{match.group('tail') or ''}"


def _apply() -> None:
    index = worker_index(os.environ.get("PYTEST_XDIST_WORKER"))
    url = os.environ.get("REDIS_URL", "")
    if index is None or not url:
        return
    # The controller's value, kept so a test can check the derivation.
    os.environ.setdefault("SWITCHYARD_BASE_REDIS_URL", url)
    os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["SWITCHYARD_BASE_REDIS_URL"], index)


_apply()
