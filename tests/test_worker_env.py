"""Each pytest-xdist worker gets its own Redis database (tests/worker_env.py)."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.worker_env import redis_url_for_worker, server_databases, worker_index


@pytest.mark.parametrize(("url", "index", "expected"), [
    ("redis://127.0.0.1:6379/3", 0, "redis://127.0.0.1:6379/3"),
    ("redis://127.0.0.1:6379/3", 1, "redis://127.0.0.1:6379/4"),
    ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/2"),
    ("redis://127.0.0.1:6379/", 1, "redis://127.0.0.1:6379/1"),
    ("redis://:pw@cache:6379/0?socket_timeout=1", 3, "redis://:pw@cache:6379/3?socket_timeout=1"),
    ("rediss://cache:6380/5", 1, "rediss://cache:6380/6"),
])
def test_worker_database_is_the_base_number_plus_the_worker_index(url, index, expected):
    assert redis_url_for_worker(url, index) == expected


def test_a_worker_past_redis_sixteen_databases_is_refused():
    with pytest.raises(ValueError, match="database 16"):
        redis_url_for_worker("redis://127.0.0.1:6379/14", 2)


def test_a_server_with_more_databases_takes_more_workers():
    assert redis_url_for_worker("redis://127.0.0.1:6379/20", 3, 32) == "redis://127.0.0.1:6379/23"
    with pytest.raises(ValueError, match="database 32"):
        redis_url_for_worker("redis://127.0.0.1:6379/30", 2, 32)


def test_worker_ids():
    assert worker_index("gw0") == 0 and worker_index("gw11") == 11
    assert worker_index(None) is None and worker_index("master") is None


@pytest.mark.redis
def test_this_process_uses_its_worker_database():
    # Server children get settings.REDIS_URL, Celery workers the environment: they agree, and
    # the page cache talks to the same database.
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert cache._servers == [settings.REDIS_URL]
    index = worker_index(os.environ.get("PYTEST_XDIST_WORKER"))
    if index is not None:
        base = os.environ["SWITCHYARD_BASE_REDIS_URL"]
        assert redis_url_for_worker(base, index, server_databases(base)) == settings.REDIS_URL
