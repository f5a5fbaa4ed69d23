"""Settings of the shared test gateway (tests/fixtures/shared_gateway.py): production's, plus
a faster catalog poll (on the suite's settings, tests/settings.py).

The shared server outlives each test's catalog, so every test that builds one waits for the
server to pick it up; polling the catalog version every 0.2 s instead of every 2 s keeps that
wait short. It is one small query per poll. Nothing else differs from tests.settings.
"""

from tests.settings import *  # noqa: F403

GATEWAY_SNAPSHOT_POLL_S = 0.2
