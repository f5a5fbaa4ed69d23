"""Staff catalog changes are platform-wide audit entries (no org): through the catalog API,
the Django admin and the importer, one entry per change, none for a change refused."""

import copy
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.importer import import_catalog, load_fixture
from catalog.models import Endpoint, Model, Price
from marketplace.tenancy.models import AuditEntry
from tests.compliance.audit_support import entries, only
from tests.staff import sign_in_with_mfa, staff_user

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"


@pytest.fixture
def staff():
    return staff_user()


@pytest.fixture
def api(staff):
    return sign_in_with_mfa(APIClient(), staff)


def _acme(api):
    assert api.post(f"{BASE}/providers/", {
        "slug": "acme", "name": "Acme", "wire_format": "openai",
        "base_url": "https://api.acme.test", "retention_days": 0, "zdr": True,
    }, format="json", REMOTE_ADDR="192.0.2.30").status_code == 201
    assert api.post(f"{BASE}/models/", {
        "slug": "acme/acme-1", "name": "Acme: One", "context_length": 32000,
    }, format="json").status_code == 201
    created = api.post(f"{BASE}/endpoints/", {
        "model": "acme/acme-1", "provider": "acme", "upstream_model_id": "acme-1",
        "context_length": 32000,
        "price": {"input_nanos_per_m": 1_000_000_000, "output_nanos_per_m": 2_000_000_000},
    }, format="json")
    assert created.status_code == 201
    return Endpoint.objects.get(pk=created.json()["id"])


def test_catalog_api_writes_are_one_platform_entry_each(api, staff):
    endpoint = _acme(api)

    provider = only(action="provider.created", platform=True)
    assert (provider.org_id, provider.actor_user_id, provider.client_ip) == (
        None, staff.pk, "192.0.2.30")
    assert provider.after["slug"] == "acme" and provider.after["zdr"] is True
    model = only(action="model.created", platform=True)
    assert model.after["context_length"] == 32000
    created = only(action="endpoint.created", platform=True)
    assert (created.target_id, created.after["model"], created.after["provider"]) == (
        str(endpoint.pk), "acme/acme-1", "acme")
    assert created.after["price"]["input_nanos_per_m"] == 1_000_000_000

    assert api.patch(f"{BASE}/providers/acme/", {"zdr": False, "name": "Acme"},
                     format="json").status_code == 200
    assert only(action="provider.updated", platform=True).before == {"zdr": True}
    assert api.patch(f"{BASE}/models/acme/acme-1/", {"context_length": 64000},
                     format="json").status_code == 200
    updated = only(action="model.updated", platform=True)
    assert (updated.before, updated.after) == ({"context_length": 32000},
                                              {"context_length": 64000})
    # A patch that changes nothing is no change, and no entry.
    assert api.patch(f"{BASE}/models/acme/acme-1/", {"context_length": 64000},
                     format="json").status_code == 200
    assert len(entries(action="model.updated", platform=True)) == 1

    assert api.post(f"{BASE}/prices/", {"endpoint": endpoint.pk, "input_nanos_per_m": 900_000_000,
                                        "output_nanos_per_m": 2_000_000_000},
                    format="json").status_code == 201
    price = only(action="price.added", platform=True)
    assert price.before["input_nanos_per_m"] == 1_000_000_000
    assert price.after["input_nanos_per_m"] == 900_000_000
    assert price.target_label == "acme/acme-1 @ acme"

    assert api.post(f"{BASE}/endpoints/{endpoint.pk}/disable/").status_code == 200
    disabled = only(action="endpoint.updated", platform=True)
    assert (disabled.before, disabled.after) == ({"status": "active"}, {"status": "disabled"})
    # None of it is any org's.
    assert AuditEntry.objects.filter(org__isnull=False).count() == 0


def test_refused_catalog_writes_record_nothing(api):
    endpoint = _acme(api)
    count = AuditEntry.objects.count()
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    price = {"endpoint": endpoint.pk, "input_nanos_per_m": 1, "output_nanos_per_m": 1,
             "effective_from": future}
    assert api.post(f"{BASE}/prices/", price, format="json").status_code == 201
    count += 1
    # An endpoint whose price fails after the endpoint row was written: both roll back.
    assert api.post(f"{BASE}/models/", {"slug": "acme/acme-2", "name": "Two"},
                    format="json").status_code == 201
    count += 1
    response = api.post(f"{BASE}/endpoints/", {
        "model": "acme/acme-2", "provider": "acme", "upstream_model_id": "acme-2",
        "price": {"input_nanos_per_m": -1}}, format="json")
    assert response.status_code == 400
    assert not Endpoint.objects.filter(model__slug="acme/acme-2").exists()
    same_moment = {**price, "input_nanos_per_m": 5}
    assert api.post(f"{BASE}/prices/", same_moment, format="json").status_code == 409
    assert api.post(f"{BASE}/models/", {"slug": "acme/acme-1", "name": "again"},
                    format="json").status_code == 409
    member = APIClient()
    member.force_authenticate(staff_user(operator=False))
    assert member.post(f"{BASE}/models/", {"slug": "acme/acme-3", "name": "x"},
                       format="json").status_code == 403
    assert AuditEntry.objects.count() == count


def test_admin_saves_deletes_and_actions_are_audited(api, staff):
    endpoint = _acme(api)
    client = sign_in_with_mfa(Client(), staff)
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5)
    assert client.post("/admin/catalog/price/add/", {
        "endpoint": endpoint.id, "effective_from_0": f"{starts:%Y-%m-%d}",
        "effective_from_1": f"{starts:%H:%M:%S}",
        "input_nanos_per_m": 2_000_000_000, "output_nanos_per_m": 8_000_000_000,
        "cache_read_nanos_per_m": 0, "cache_write_nanos_per_m": 0, "reasoning_nanos_per_m": 0,
        "request_nanos": 0, "image_nanos": 0, "source": "", "source_date": "",
    }).status_code == 302
    added = only(action="price.added", platform=True)
    new_price = Price.objects.get(endpoint=endpoint, input_nanos_per_m=2_000_000_000)
    assert (added.actor_user_id, added.target_id) == (staff.pk, str(new_price.pk))
    assert added.after["endpoint"] == endpoint.pk
    assert added.after["input_nanos_per_m"] == 2_000_000_000

    assert client.post("/admin/catalog/endpoint/", {
        "action": "disable", "_selected_action": [endpoint.pk]}).status_code == 302
    assert only(action="endpoint.updated", platform=True).after == {"status": "disabled"}

    spare = Model.objects.create(slug="acme/spare", author="acme", name="Spare")
    assert client.post(f"/admin/catalog/model/{spare.pk}/delete/", {"post": "yes"}
                       ).status_code == 302
    deleted = only(action="model.deleted", platform=True)
    assert (deleted.target_id, deleted.target_label) == (str(spare.pk), "acme/spare")


def test_an_import_that_changes_the_catalog_is_one_entry():
    fixture = load_fixture()
    result = import_catalog(copy.deepcopy(fixture), sandbox=True)
    entry = only(action="catalog.imported", platform=True)
    assert entry.after == {"created": result.created, "updated": result.updated}
    assert entry.actor_label == "system"
    import_catalog(copy.deepcopy(fixture), sandbox=True)  # nothing changes: nothing recorded
    assert len(entries(platform=True)) == 1
