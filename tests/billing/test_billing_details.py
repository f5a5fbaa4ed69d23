"""Finance members edit the billing details (and only those) in the dashboard; invoices print
them; bad input is a form error that writes nothing."""

import pytest

from marketplace.tenancy.audit import AuditEntry
from marketplace.tenancy.models import Organization

pytestmark = pytest.mark.django_db
URL = "/billing/details/"
GOOD = {"legal_name": "Acme Holdings GmbH", "billing_address": "Hauptstr. 1\n10115 Berlin",
        "tax_id": "DE 123/456-789", "billing_email": "ap@acme.example"}


def test_finance_edits_billing_details_and_the_draft_invoice_prints_them(
        org, member_client, charge_request):
    from billing.models import Invoice
    from billing.services.ledger import grant_promotional_credit
    from billing.tasks.invoicing import roll_usage_into_invoices

    client = member_client(org, "finance")
    assert client.get(URL).status_code == 200
    response = client.post(URL, {**GOOD, "name": "Hijacked"})  # not a field here: ignored
    assert response.status_code == 302

    org.refresh_from_db()
    assert {f: getattr(org, f) for f in GOOD} == GOOD
    assert org.name == "Acme"
    entry = AuditEntry.objects.get(org=org, action="organization.updated")
    assert entry.after["tax_id"] == "DE 123/456-789" and "name" not in entry.after

    grant_promotional_credit(org, 10**10, memo="", idempotency_key="s")
    charge_request(org, upstream_nanos=1000)
    roll_usage_into_invoices()
    invoice = Invoice.objects.get(org=org)
    page = client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    billed = page[page.index('id="billed-to"'):]
    billed = billed[:billed.index("</p>")]
    assert "Acme Holdings GmbH" in billed and "10115 Berlin" in billed
    assert "Tax ID: DE 123/456-789" in billed


@pytest.mark.parametrize(("field", "value"), [
    ("tax_id", "<script>"),
    ("tax_id", "-leading-dash"),
    ("tax_id", "X" * 65),
    ("billing_email", "not-an-email"),
    ("billing_address", "a" * 1001),
    ("legal_name", "N" * 201),
    ("billing_address", "nul\x00byte"),
])
def test_bad_billing_details_are_form_errors_and_write_nothing(org, member_client, field, value):
    client = member_client(org, "finance")
    response = client.post(URL, {**GOOD, field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert f'id="{field}-error"' in response.content.decode()
    assert Organization.objects.get(pk=org.pk).legal_name == ""
    assert not AuditEntry.objects.filter(org=org, action="organization.updated").exists()


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_other_roles_cannot_edit_billing_details(org, member_client, role):
    client = member_client(org, role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, GOOD).status_code == 403
    assert Organization.objects.get(pk=org.pk).tax_id == ""


def test_the_service_keeps_finance_to_billing_fields(org):
    from core.errors import Forbidden, InvalidRequest
    from marketplace.tenancy import services
    from marketplace.tenancy.roles import Actor

    with pytest.raises(InvalidRequest):
        services.update_billing_details(org=org, actor=Actor(role="finance"), name="Renamed")
    with pytest.raises(Forbidden):
        services.update_organization(org=org, actor=Actor(role="finance"), tax_id="DE1")
    with pytest.raises(Forbidden):
        services.update_billing_details(org=org, actor=Actor(role="developer"), tax_id="DE1")
    services.update_billing_details(org=org, actor=Actor(role="finance"), tax_id="DE1")
    assert Organization.objects.get(pk=org.pk).tax_id == "DE1"
