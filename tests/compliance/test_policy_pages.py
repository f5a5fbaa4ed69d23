"""The dashboard's policy pages: the org's policy form and history, old versions, key policies."""

from __future__ import annotations

import re

import pytest

from compliance.models import KeyPolicy, OrgPolicy
from compliance.services import update_org_policy
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.compliance.policy_fixtures import audit_entries, build_policy_catalog
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db

PAGE = "/compliance/policy/"


@pytest.fixture
def policy_catalog(db):
    return build_policy_catalog()


def _signed_in(client, membership):
    client.force_login(membership.user)
    return client


def _form(**changes) -> dict:
    """The org policy form as a browser posts it: ticked boxes only."""
    data = {"model_allow": "", "model_deny": "", "content_retention_days": ""}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


def test_an_owner_saves_the_policy_and_sees_its_history(client, policy_catalog):
    owner = member(Role.OWNER)
    client = _signed_in(client, owner)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="blue-eu"' in html and 'value="eu-central"' in html
    assert "No policy saved yet" in html and "Save policy" in html
    response = client.post(PAGE, _form(regions=["eu"], provider_deny=["crane-cn"],
                                       model_allow="acme/fast, blue/large\nacme/fast",
                                       deny_training="on"))
    assert response.status_code == 302 and response["Location"] == PAGE
    policy = OrgPolicy.objects.get(org=owner.org)
    assert (policy.version, policy.regions, policy.provider_deny) == (1, ["eu"], ["crane-cn"])
    assert policy.model_allow == ["acme/fast", "blue/large"]
    assert (policy.deny_training, policy.require_zdr, policy.fallbacks_outside_preferred) == (
        True, False, False)  # an unticked box is false
    assert policy.content_retention_days is None
    html = client.get(PAGE).content.decode()
    assert "Saved the organization&#x27;s policy as version 1." in html
    history = html[html.index('id="version-1"'):]
    assert owner.user.email in history[:600] and "current" in history[:600]
    assert '<a href="/compliance/policy/versions/1/">v1</a>' in html


def test_saving_the_form_unchanged_keeps_the_version(client, policy_catalog):
    owner = member(Role.OWNER)
    client = _signed_in(client, owner)
    form = _form(regions=["eu"], fallbacks_outside_preferred="on")
    client.post(PAGE, form)
    response = client.post(PAGE, form, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert OrgPolicy.objects.filter(org=owner.org).count() == 1


def test_an_old_version_is_shown_with_what_changed(client, policy_catalog):
    owner = member(Role.OWNER)
    actor = Actor(role=Role.OWNER, user=owner.user)
    update_org_policy(owner.org, actor, {"regions": ["eu"]})
    update_org_policy(owner.org, actor, {"regions": ["us"], "content_retention_days": 14})
    client = _signed_in(client, owner)
    old = client.get(f"{PAGE}versions/1/").content.decode()
    assert "Policy version 1" in old and "current" not in old.split("<h1>")[1][:60]
    row = re.search(r'id="field-regions">.*?</tr>', old, re.S).group(0)
    assert "eu" in row and "changed" not in row
    new = client.get(f"{PAGE}versions/2/").content.decode()
    row = re.search(r'id="field-regions">.*?</tr>', new, re.S).group(0)
    assert "us" in row and "changed" in row
    logging = re.search(r'id="field-content_retention_days">.*?</tr>', new, re.S).group(0)
    assert "kept 14 days" in logging
    assert client.get(f"{PAGE}versions/3/").status_code == 404


def test_zdr_and_content_logging_cannot_be_saved_together(client, policy_catalog):
    owner = member(Role.OWNER)
    client = _signed_in(client, owner)
    response = client.post(PAGE, _form(require_zdr="on", content_logging="on",
                                       content_retention_days="30"))
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(r'id="id_content_retention_days_errors".*?</ul>', html, re.S).group(0)
    assert "zero data retention" in errors
    assert not OrgPolicy.objects.exists()
    assert audit_entries(owner.org, "policy.updated") == []


@pytest.mark.parametrize("form, field, text", [
    (_form(content_logging="on"), "content_retention_days", "how many days"),
    (_form(content_logging="on", content_retention_days="9999"), "content_retention_days",
     "between 1 and 3650"),
    (_form(model_deny="acme/fast, nobody/nothing"), "model_deny",
     "Unknown model: nobody/nothing."),
    (_form(provider_allow=["blue-eu"], provider_deny=["blue-eu"]), "provider_deny",
     "both allowed and denied"),
])
def test_form_errors_are_shown_on_their_field(client, policy_catalog, form, field, text):
    owner = member(Role.OWNER)
    response = _signed_in(client, owner).post(PAGE, form)
    assert response.status_code == 400
    errors = re.search(rf'id="id_{field}_errors".*?</ul>', response.content.decode(), re.S)
    assert errors and text in errors.group(0)
    assert not OrgPolicy.objects.exists()


def test_content_logging_is_saved_with_its_days_and_unticking_turns_it_off(
        client, policy_catalog):
    owner = member(Role.OWNER)
    client = _signed_in(client, owner)
    client.post(PAGE, _form(content_logging="on", content_retention_days="30"))
    assert OrgPolicy.objects.get(org=owner.org).content_retention_days == 30
    html = client.get(PAGE).content.decode()
    assert re.search(r'name="content_logging"[^>]*checked', html)
    client.post(PAGE, _form(content_retention_days="30"))  # box unticked: days ignored
    assert OrgPolicy.objects.get(org=owner.org, version=2).content_retention_days is None


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.VIEWER])
def test_developers_and_viewers_read_but_cannot_edit(client, policy_catalog, role):
    someone = member(role)
    key, _ = api_key(someone.org)
    client = _signed_in(client, someone)
    for url in (PAGE, f"/compliance/keys/{key.pk}/policy/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="policy-read-only"' in html and "<button type=\"submit\">Save" not in html
        assert re.search(r'<input type="checkbox" name="\w+" value="blue-eu"[^>]*disabled', html)
    assert client.post(PAGE, _form(regions=["eu"])).status_code == 403
    assert client.post(f"/compliance/keys/{key.pk}/policy/", {"rpm": "5"}).status_code == 403
    assert not OrgPolicy.objects.exists() and not KeyPolicy.objects.exists()


def test_finance_cannot_open_the_policy_pages(client, policy_catalog):
    finance = member(Role.FINANCE)
    key, _ = api_key(finance.org)
    client = _signed_in(client, finance)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"/compliance/keys/{key.pk}/policy/").status_code == 403


def test_the_key_policy_form(client, policy_catalog):
    admin = member(Role.ADMIN)
    key, _ = api_key(admin.org, name="staging")
    url = f"/compliance/keys/{key.pk}/policy/"
    client = _signed_in(client, admin)
    assert "No key policy saved yet" in client.get(url).content.decode()
    response = client.post(url, {"allowed_providers": ["acme-us"], "allowed_models": "acme/fast",
                                 "allowed_regions": ["us"], "rpm": "60", "tpm": ""})
    assert response.status_code == 302
    policy = KeyPolicy.objects.get(api_key=key)
    assert (policy.version, policy.allowed_providers, policy.allowed_models, policy.rpm,
            policy.tpm) == (1, ["acme-us"], ["acme/fast"], 60, None)
    html = client.get(url).content.decode()
    assert "as version 1" in html
    row = re.search(r'id="version-1">.*?</tr>', html, re.S).group(0)
    assert admin.user.email in row and "acme/fast" in row and "60" in row
    assert "operator&#x27;s default" in row  # tpm left empty
    bad = client.post(url, {"rpm": "0", "tpm": "lots"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "between 1 and 1000000" in re.search(r'id="id_rpm_errors".*?</ul>', html, re.S)[0]
    assert re.search(r'id="id_tpm_errors"', html)
    assert KeyPolicy.objects.filter(api_key=key).count() == 1
    assert len(audit_entries(admin.org, "key_policy.updated")) == 1


def test_another_orgs_key_is_not_found(client, policy_catalog):
    owner = member(Role.OWNER)
    theirs, _ = api_key(member(Role.OWNER).org)
    client = _signed_in(client, owner)
    assert client.get(f"/compliance/keys/{theirs.pk}/policy/").status_code == 404
    assert client.post(f"/compliance/keys/{theirs.pk}/policy/", {"rpm": "5"}).status_code == 404
    assert not KeyPolicy.objects.exists()


def test_the_nav_and_the_keys_page_link_to_the_policies(client, policy_catalog):
    viewer = member(Role.VIEWER)
    key, _ = api_key(viewer.org)
    client = _signed_in(client, viewer)
    keys_page = client.get("/dashboard/keys/").content.decode()
    assert f'href="/compliance/keys/{key.pk}/policy/"' in keys_page
    assert 'href="/compliance/policy/"' in keys_page
    finance = member(Role.FINANCE)
    overview = _signed_in(client, finance).get("/dashboard/").content.decode()
    assert 'href="/compliance/policy/"' not in overview
