"""A catalog rebuilt behind the same version counter (a restore, a test flush) is routed on.

The gateway used to rebuild its routing snapshot only when the catalog's counter changed. A
database restored from a backup, or flushed and refilled, can bring the counter back to a number
the gateway has already seen, with other rows behind it: the gateway then kept routing to
endpoints that no longer exist. This test plays that flush and rebuild in one transaction, so
the gateway never sees the counter in between.
"""

import httpx
from django.core.management import call_command
from django.db import transaction

from catalog.models import CatalogVersion
from tests.gateway.conftest import build_sandbox_catalog, fund, wait_for_models


def _descriptions(catalog):
    return {slug: model.description for slug, model in catalog.models.items()}


def test_a_catalog_rebuilt_behind_the_same_counter_is_served(
        sandbox_catalog, funded_key, make_org_key, gateway):
    seen = CatalogVersion.objects.get(pk=1).version
    with transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
        catalog = build_sandbox_catalog()
        key = make_org_key()
        fund(key.org, 10**9)
        CatalogVersion.objects.filter(pk=1).update(version=seen)

    wait_for_models(gateway, key.plaintext, _descriptions(catalog), timeout_s=10)
    response = httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30,
                          headers={"Authorization": f"Bearer {key.plaintext}"},
                          json={"model": "openai/gpt-4o-mini",
                                "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "openai/gpt-4o-mini"
