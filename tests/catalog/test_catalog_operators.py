"""Catalog writes (API and admin) are for operators: staff in `operators`, signed in with MFA."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from catalog.models import Endpoint, Model, Provider
from catalog.selectors import get_catalog_version
from tests.staff import sign_in_with_mfa, staff_user

BASE = "/api/v1/catalog"
NEW_PROVIDER = {"slug": "acme", "name": "Acme", "wire_format": "openai",
                "base_url": "https://api.acme.test/v1"}


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="catalog", codename=codename)


def _catalog_state():
    return (Provider.objects.count(), Model.objects.get(slug="openai/gpt-4o").context_length,
            sorted(Endpoint.objects.values_list("status", flat=True)), get_catalog_version())


def _attempt_writes(client) -> list[int]:
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="openai")
    return [
        client.post(f"{BASE}/providers/", NEW_PROVIDER, format="json").status_code,
        client.patch(f"{BASE}/models/openai/gpt-4o/", {"context_length": 1},
                     format="json").status_code,
        client.post(f"{BASE}/endpoints/{endpoint.pk}/disable/").status_code,
        client.post(f"{BASE}/prices/", {"endpoint": endpoint.pk, "input_nanos_per_m": 1,
                                        "output_nanos_per_m": 1}, format="json").status_code,
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_creates_operators_with_the_catalog_permissions():
    executor = MigrationExecutor(connection)
    executor.migrate([("catalog", "0002_openai_sdk_base_urls")])
    assert not Group.objects.filter(name="operators").exists()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # Other apps' migrations add their own staff permissions (listings 0002); this is catalog's.
    granted = set(Group.objects.get(name="operators").permissions
                  .filter(content_type__app_label="catalog")
                  .values_list("content_type__app_label", "codename"))
    models = ("provider", "model", "endpoint", "price", "endpointhealth", "catalogversion")
    assert granted == {("catalog", f"{action}_{model}") for model in models
                       for action in ("add", "change", "delete", "view")}


def test_staff_without_an_authenticator_cannot_write(imported_catalog):
    client = APIClient()
    client.force_login(staff_user(totp=False))
    before = _catalog_state()

    response = client.post(f"{BASE}/providers/", NEW_PROVIDER, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Staff accounts need two-factor authentication")
    assert _attempt_writes(client) == [403, 403, 403, 403]
    assert client.get(f"{BASE}/providers/").status_code == 200
    assert _catalog_state() == before


def test_staff_session_that_skipped_the_second_factor_cannot_write(imported_catalog):
    client = APIClient()
    client.force_login(staff_user())  # enrolled, but this session never passed the code
    before = _catalog_state()

    response = client.post(f"{BASE}/providers/", NEW_PROVIDER, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("This session has not passed your second factor")
    assert _attempt_writes(client) == [403, 403, 403, 403]
    assert _catalog_state() == before


def test_staff_outside_operators_cannot_write_but_reads_stay(imported_catalog):
    client = sign_in_with_mfa(APIClient(), staff_user(operator=False))
    before = _catalog_state()

    response = client.post(f"{BASE}/providers/", NEW_PROVIDER, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Catalog changes need the operators group's permissions (catalog.add_provider).")
    assert _attempt_writes(client) == [403, 403, 403, 403]
    assert client.get(f"{BASE}/models/openai/gpt-4o/").status_code == 200
    assert _catalog_state() == before


def test_operator_with_mfa_writes(imported_catalog):
    client = sign_in_with_mfa(APIClient(), staff_user())
    version = get_catalog_version()

    assert _attempt_writes(client) == [201, 200, 200, 201]
    assert Provider.objects.filter(slug="acme").exists()
    assert Model.objects.get(slug="openai/gpt-4o").context_length == 1
    assert get_catalog_version() == version + 4


def test_a_single_permission_grants_only_its_write(imported_catalog):
    staff = staff_user(operator=False)
    staff.user_permissions.add(_permission("change_model"))
    client = sign_in_with_mfa(APIClient(), staff)

    assert _attempt_writes(client) == [403, 200, 403, 403]


def test_admin_catalog_pages_follow_the_operators_permissions(imported_catalog, client):
    sign_in_with_mfa(client, staff_user(operator=False))
    assert client.get("/admin/catalog/provider/").status_code == 403
    assert client.get("/admin/catalog/price/add/").status_code == 403

    client.logout()
    sign_in_with_mfa(client, staff_user())
    assert client.get("/admin/catalog/provider/").status_code == 200
    assert client.get("/admin/catalog/price/add/").status_code == 200


def test_viewing_endpoints_in_admin_does_not_allow_disabling_them(imported_catalog, client):
    staff = staff_user(operator=False)
    staff.user_permissions.add(_permission("view_endpoint"))
    sign_in_with_mfa(client, staff)
    ids = list(Endpoint.objects.filter(provider__slug="sandbox-gemini").values_list("id",
                                                                                   flat=True))
    version = get_catalog_version()

    assert client.get("/admin/catalog/endpoint/").status_code == 200
    client.post("/admin/catalog/endpoint/", {"action": "disable", "_selected_action": ids})

    assert set(Endpoint.objects.filter(id__in=ids).values_list("status", flat=True)) == {
        "active"}
    assert get_catalog_version() == version
