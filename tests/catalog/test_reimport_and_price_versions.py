"""`import_catalog` is idempotent, and a changed price is a new version that leaves history."""

import copy
import datetime as dt
import json

from django.core.management import call_command
from django.utils import timezone

from billing.models import UsageRecord
from catalog.models import Endpoint, EndpointHealth, Model, Price, Provider
from catalog.selectors import build_routing_snapshot, current_prices, get_catalog_version
from core.money import usage_cost_nanos
from marketplace.tenancy.models import Organization

TABLES = (Provider, Model, Endpoint, Price, EndpointHealth)


def _counts():
    return {m.__name__: m.objects.count() for m in TABLES}


def test_second_run_of_the_command_changes_nothing(db, settings, tmp_path, catalog_fixture):
    settings.SANDBOX = True
    call_command("import_catalog", stdout=(tmp_path / "1.txt").open("w"))
    counts, version = _counts(), get_catalog_version()
    assert counts["Provider"] == 22 and counts["Price"] == counts["Endpoint"] == 483
    assert version == 1
    snapshot_before = build_routing_snapshot()

    with (tmp_path / "2.txt").open("w") as out:
        call_command("import_catalog", stdout=out)

    assert _counts() == counts
    assert get_catalog_version() == version
    assert (tmp_path / "2.txt").read_text().startswith("catalog unchanged")
    assert build_routing_snapshot() == snapshot_before


def test_without_sandbox_the_import_adds_no_sandbox_provider(db, settings, tmp_path):
    settings.SANDBOX = False
    call_command("import_catalog", stdout=(tmp_path / "out.txt").open("w"))

    assert not Provider.objects.filter(is_sandbox=True).exists()
    assert Provider.objects.count() == 15


def test_changed_price_adds_a_version_and_old_usage_stays_billed_at_the_old_one(
        db, settings, tmp_path, catalog_fixture):
    settings.SANDBOX = True
    first = tmp_path / "catalog.json"
    first.write_text(json.dumps(catalog_fixture))
    call_command("import_catalog", path=str(first), stdout=(tmp_path / "o1").open("w"))
    endpoint = Endpoint.objects.get(model__slug="openai/gpt-4o-mini", provider__slug="openai")
    old = Price.objects.get(endpoint=endpoint)
    org = Organization.objects.create(name="Acme", slug="acme")
    ran_at = timezone.now()
    usage = UsageRecord.objects.create(
        request_id="req-old-price", org=org, created_at=ran_at, requested_model=endpoint.model.slug,
        endpoint_id=endpoint.id, price_id=old.id, prompt_tokens=1_000_000,
        completion_tokens=500_000,
    )
    version = get_catalog_version()

    changed = copy.deepcopy(catalog_fixture)
    row = next(e for e in changed["endpoints"]
               if (e["model"], e["provider"]) == ("openai/gpt-4o-mini", "openai"))
    row["price"]["input_nanos_per_m"] = 200_000_000  # $0.15/M -> $0.20/M
    second = tmp_path / "catalog-2.json"
    second.write_text(json.dumps(changed))
    call_command("import_catalog", path=str(second), stdout=(tmp_path / "o2").open("w"))

    versions = list(Price.objects.filter(endpoint=endpoint).order_by("effective_from"))
    assert [p.input_nanos_per_m for p in versions] == [150_000_000, 200_000_000]
    assert versions[0].id == old.id and versions[0].output_nanos_per_m == 600_000_000
    assert Price.objects.count() == 484  # one new row, nothing else touched
    assert get_catalog_version() == version + 1
    # The usage record still points at the price it ran under, and that price is unchanged.
    billed = Price.objects.get(pk=UsageRecord.objects.get(pk=usage.pk).price_id)
    assert billed.input_nanos_per_m == 150_000_000
    assert usage_cost_nanos(prompt_tokens=usage.prompt_tokens,
                            completion_tokens=usage.completion_tokens,
                            input_nanos_per_m=billed.input_nanos_per_m,
                            output_nanos_per_m=billed.output_nanos_per_m) == 450_000_000
    assert current_prices(ran_at, [endpoint.id])[endpoint.id].id == old.id
    # New requests route (and bill) at the new version.
    snapshot = build_routing_snapshot()
    view = next(e for e in snapshot.model("openai/gpt-4o-mini").endpoints
                if e.provider.slug == "openai")
    assert view.price.price_id == versions[1].id
    assert view.price.input_nanos_per_m == 200_000_000
    assert endpoint.id not in current_prices(ran_at - dt.timedelta(days=1), [endpoint.id])

    # Importing the changed file again is a no-op too.
    call_command("import_catalog", path=str(second), stdout=(tmp_path / "o3").open("w"))
    assert Price.objects.count() == 484
    assert get_catalog_version() == version + 1
