"""The shared gateway (tests/fixtures/shared_gateway.py) serves each test its own catalog.

A flush between tests restarts the catalog's version counter; the gateway rebuilds its routing
snapshot only when the counter changes, so a later test whose catalog reaches the number the
gateway last saw would be routed to the earlier test's (deleted) endpoints. This test plays
that flush and rebuild in one transaction, so the gateway cannot see the counter in between.
"""

import time

import httpx
from django.core.management import call_command
from django.db import transaction

from catalog.models import CatalogVersion
from tests.fixtures.shared_gateway import restart_catalog_counter
from tests.gateway.conftest import build_sandbox_catalog, fund, wait_for_models

POLL_S = 0.2  # tests/gateway_settings.py


def _descriptions(catalog):
    return {slug: model.description for slug, model in catalog.models.items()}


def test_a_rebuilt_catalog_behind_the_same_counter_is_served_after_the_restart(
        sandbox_catalog, funded_key, make_org_key, gateway):
    seen = CatalogVersion.objects.get(pk=1).version
    with transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
        catalog = build_sandbox_catalog()
        key = make_org_key()
        fund(key.org, 10**9)
        CatalogVersion.objects.filter(pk=1).update(version=seen)

    # The hazard: same counter, new rows; the gateway keeps the old snapshot.
    time.sleep(5 * POLL_S)
    wait_for_models(gateway, key.plaintext, _descriptions(sandbox_catalog), timeout_s=1)

    # What every test on the shared gateway gets first: a counter the gateway never saw.
    restart_catalog_counter()
    wait_for_models(gateway, key.plaintext, _descriptions(catalog), timeout_s=10)
    response = httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30,
                          headers={"Authorization": f"Bearer {key.plaintext}"},
                          json={"model": "openai/gpt-4o-mini",
                                "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "openai/gpt-4o-mini"

