"""Operators: staff edit margins (the platform default among them) and wallet credit limits in
the admin, with validation and an audit entry per change; the Stripe setup hint is theirs."""

import pytest

from billing.models import MarginRule, Wallet
from billing.selectors.spend import get_margin_table
from marketplace.tenancy.audit import AuditEntry
from tests.staff import sign_in_with_mfa, staff_user

pytestmark = pytest.mark.django_db
ADD = "/admin/billing/marginrule/add/"


@pytest.fixture
def staff_client(client):
    sign_in_with_mfa(client, staff_user(operator=False, is_superuser=True))
    return client


def _default() -> MarginRule:
    # Migration 0011 seeds it; a transactional test's flush earlier in this worker removes it.
    return MarginRule.objects.get_or_create(
        org=None, model_slug="", provider_slug="", defaults={"bps": 550})[0]


def _form(rule: MarginRule | None = None, **fields) -> dict:
    base = {"org": "", "model_slug": "", "provider_slug": "", "bps": "", "note": ""}
    if rule is not None:
        base.update(org=rule.org_id or "", model_slug=rule.model_slug,
                    provider_slug=rule.provider_slug, bps=rule.bps, note=rule.note)
    return {**base, **fields}


def test_the_default_margin_is_seeded_from_the_setting_and_staff_edit_it(staff_client, settings):
    default = _default()
    assert default.bps == settings.MARGIN_DEFAULT_BPS == 550
    url = f"/admin/billing/marginrule/{default.pk}/change/"
    assert staff_client.post(url, _form(default, bps="725")).status_code == 302

    assert _default().bps == 725
    assert get_margin_table().bps(12345, "any/model", "any-provider") == 725
    entry = AuditEntry.objects.get(action="margin_rule.updated", org=None)
    assert (entry.before, entry.after) == ({"bps": 550}, {"bps": 725})
    # It cannot be deleted: every price is computed from it.
    assert staff_client.post(f"/admin/billing/marginrule/{default.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert MarginRule.objects.filter(pk=default.pk).exists()


@pytest.mark.parametrize("bps", ["-1", "10001", "1e3", "abc", ""])
def test_basis_points_outside_0_to_10000_are_form_errors(staff_client, bps):
    response = staff_client.post(ADD, _form(provider_slug="groq", bps=bps))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["bps"]
    assert not MarginRule.objects.filter(provider_slug="groq").exists()
    assert not AuditEntry.objects.filter(action__startswith="margin_rule.").exists()


@pytest.mark.parametrize("scope", [
    {"provider_slug": "groq"},
    {"model_slug": "openai/gpt-4o"},
    {"org": "ORG"},
], ids=["provider", "model", "org contract"])
def test_provider_model_and_org_margins_are_created_audited_and_priced(staff_client, org, scope):
    scope = {k: (org.pk if v == "ORG" else v) for k, v in scope.items()}
    assert staff_client.post(ADD, _form(bps="10000", **scope)).status_code == 302
    rule = MarginRule.objects.exclude(pk=_default().pk).get()
    assert rule.bps == 10_000
    entry = AuditEntry.objects.get(action="margin_rule.created")
    assert entry.org_id == rule.org_id and entry.after["bps"] == 10_000
    model = scope.get("model_slug", "openai/gpt-4o")
    provider = scope.get("provider_slug", "groq")
    assert get_margin_table().bps(org.pk, model, provider) == 10_000


def test_staff_set_a_wallet_credit_limit_audited_with_form_errors(staff_client, org):
    wallet = Wallet.objects.get(org=org)
    url = f"/admin/billing/wallet/{wallet.pk}/credit-limit/"
    assert staff_client.get(url).status_code == 200
    for bad in ("-5", "NaN", "0.001", "2000000"):
        response = staff_client.post(url, {"credit_limit_usd": bad})
        assert response.status_code == 200
        assert response.context["form"].errors["credit_limit_usd"], bad
    assert not AuditEntry.objects.filter(action="wallet.credit_limit_changed").exists()

    assert staff_client.post(url, {"credit_limit_usd": "$1,250.00"}).status_code == 302
    assert staff_client.post(url, {"credit_limit_usd": "1250"}).status_code == 302  # no change
    wallet.refresh_from_db()
    assert wallet.credit_limit_nanos == 1_250 * 10**9
    entry = AuditEntry.objects.get(action="wallet.credit_limit_changed")
    assert entry.org_id == org.pk
    assert (entry.before, entry.after) == ({"credit_limit_nanos": 0},
                                           {"credit_limit_nanos": 1_250 * 10**9})


def test_operators_see_the_stripe_setup_hint_in_the_admin(staff_client, org, settings):
    settings.STRIPE_SECRET_KEY = ""
    wallet = Wallet.objects.get(org=org)
    for url in ("/admin/billing/wallet/", f"/admin/billing/wallet/{wallet.pk}/change/"):
        page = staff_client.get(url).content.decode()
        assert 'id="stripe-setup-hint"' in page and "STRIPE_SECRET_KEY" in page, url
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    page = staff_client.get("/admin/billing/wallet/").content.decode()
    assert 'id="stripe-setup-hint"' not in page
