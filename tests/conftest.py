"""Suite-wide fixtures and the rule for skipping.

With no environment the suite runs on the embedded default and skips only tests that need a
service it lacks, each with its reason. `.ci/run` sets every service and fails on any skip.
"""

import os
import shutil

import pytest
from django.conf import settings

pytest_plugins = ["tests.fixtures.sandbox"]  # sandbox_server / sandbox fixtures

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
