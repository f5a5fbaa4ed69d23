"""Operators curate in Django admin: each save bumps the catalog version; prices append only."""

import datetime as dt

from django.utils import timezone

from catalog.models import Endpoint, Price
from catalog.selectors import build_routing_snapshot, get_catalog_version
from tests.staff import sign_in_with_mfa, staff_user


def _staff_client(client):
    return sign_in_with_mfa(client, staff_user())


def test_adding_a_price_in_admin_is_a_new_version_the_gateway_sees(imported_catalog, client):
    client = _staff_client(client)
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="sandbox-openai")
    old = Price.objects.get(endpoint=endpoint)
    version = get_catalog_version()
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5)

    response = client.post("/admin/catalog/price/add/", {
        "endpoint": endpoint.id, "effective_from_0": f"{starts:%Y-%m-%d}",
        "effective_from_1": f"{starts:%H:%M:%S}",
        "input_nanos_per_m": 2_000_000_000, "output_nanos_per_m": 8_000_000_000,
        "cache_read_nanos_per_m": 0, "cache_write_nanos_per_m": 0, "reasoning_nanos_per_m": 0,
        "request_nanos": 0, "image_nanos": 0, "source": "https://openai.com/api/pricing/",
        "source_date": "2026-11-26",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_catalog_version() == version + 1
    assert Price.objects.filter(endpoint=endpoint).count() == 2
    assert Price.objects.get(pk=old.pk).input_nanos_per_m == old.input_nanos_per_m
    assert build_routing_snapshot().endpoints[endpoint.id].price.price_id == old.id  # not yet
    later = build_routing_snapshot(at=starts + dt.timedelta(seconds=1))
    view = later.endpoints[endpoint.id]
    assert (view.price.input_nanos_per_m, view.price.output_nanos_per_m) == (
        2_000_000_000, 8_000_000_000)


def test_existing_prices_are_read_only_in_admin(imported_catalog, client):
    client = _staff_client(client)
    price = Price.objects.get(endpoint__model__slug="openai/gpt-4o",
                              endpoint__provider__slug="openai")

    page = client.get(f"/admin/catalog/price/{price.pk}/change/")
    client.post(f"/admin/catalog/price/{price.pk}/change/", {"input_nanos_per_m": 1})

    assert page.status_code == 200
    assert 'name="input_nanos_per_m"' not in page.content.decode()
    assert Price.objects.get(pk=price.pk).input_nanos_per_m == 2_500_000_000
    assert client.post(f"/admin/catalog/price/{price.pk}/delete/", {"post": "yes"}
                       ).status_code == 403


def test_disable_action_bumps_the_version_once(imported_catalog, client):
    client = _staff_client(client)
    ids = list(Endpoint.objects.filter(provider__slug="sandbox-gemini").values_list("id",
                                                                                   flat=True))
    version = get_catalog_version()

    response = client.post("/admin/catalog/endpoint/", {
        "action": "disable", "_selected_action": ids})

    assert response.status_code == 302
    assert set(Endpoint.objects.filter(id__in=ids).values_list("status", flat=True)) == {
        "disabled"}
    assert get_catalog_version() == version + 1
