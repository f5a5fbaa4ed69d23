"""Chromium on the staff provider-health page: the whole table fits 1280 px, filters work."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import UsageRecord
from catalog.importer import import_catalog, load_fixture
from catalog.models import Endpoint
from marketplace.tenancy.models import Organization
from routing.tasks import rollup_endpoint_health
from tests.staff import sign_in_with_mfa, staff_user

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
_NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
_TABLE_FITS = ("(() => { const w = document.querySelector('.table-wrap');"
               " return w.scrollWidth <= w.clientWidth; })()")


@pytest.mark.browser
def test_the_health_table_fits_1280px_and_filters_by_provider(live_gateway_server, browser_page,
                                                              client, settings):
    settings.SANDBOX = True
    import_catalog(load_fixture(), sandbox=True)
    org = Organization.objects.create(name="Acme", slug="acme")
    endpoints = list(Endpoint.objects.select_related("model", "provider").order_by("id"))
    for i, endpoint in enumerate(endpoints):  # every window measured, long slugs included
        for minutes in (2, 40, 300):
            UsageRecord.objects.create(
                request_id=f"req-{i}-{minutes}", org=org, requested_model=endpoint.model.slug,
                created_at=timezone.now() - dt.timedelta(minutes=minutes),
                endpoint_id=endpoint.id, latency_ms=12_345 + i, ttft_ms=345,
                completion_tokens=999, finish_reason="stop", attempts=[])
    rollup_endpoint_health()
    sign_in_with_mfa(client, staff_user())
    page = browser_page
    page.context.add_cookies([{"name": "sessionid", "url": live_gateway_server.url,
                               "value": client.cookies["sessionid"].value}])
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_gateway_server.url}/routing/health/")

    assert page.locator("#provider-health tbody tr").count() == len(endpoints)
    assert page.evaluate(_NO_OVERFLOW) and page.evaluate(_TABLE_FITS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "provider-health-1280.png"), full_page=True)

    slug = endpoints[0].provider.slug
    page.select_option("#id_provider", slug)
    page.click("#health-form button[type=submit]")
    page.wait_for_url(f"**provider={slug}**")
    providers = page.eval_on_selector_all("#provider-health tbody tr",
                                          "rows => rows.map(r => r.dataset.provider)")
    assert providers and set(providers) == {slug}
