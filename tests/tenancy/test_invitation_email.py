"""The invitation email says who invited whom to which organization, with what role."""

import pytest

from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from marketplace.tenancy.services import create_organization, invite_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(
        username="ada", email="ada@example.com", password="Correct-Horse-9",
        first_name="Ada", last_name="Lovelace")


def _invite(org, owner, role, captured, email="grace@example.com"):
    with captured(execute=True):
        return invite_member(org=org, email=email, role=role,
                             actor=Actor(role=Role.OWNER, user=owner))


def test_email_names_the_inviter_the_organization_and_the_role(
        owner, django_capture_on_commit_callbacks, mailoutbox, settings):
    settings.PUBLIC_URL = "https://switchyard.example"
    org = create_organization(name="Analytical Engines", owner=owner)
    _, token = _invite(org, owner, Role.ADMIN, django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert mail.to == ["grace@example.com"]
    assert mail.subject == ("Ada Lovelace (ada@example.com) invited you to Analytical Engines "
                            "on Switchyard")
    assert ('Ada Lovelace (ada@example.com) invited you to join the organization '
            '"Analytical Engines" on Switchyard as an Admin.') in mail.body
    assert "manage members, API keys, settings, billing and policies" in mail.body
    assert f"https://switchyard.example/invitations/{token}/" in mail.body
    assert "grace@example.com" in mail.body


def test_each_role_is_named_with_its_article(owner, django_capture_on_commit_callbacks,
                                             mailoutbox):
    org = create_organization(name="Acme", owner=owner)
    for n, (role, words) in enumerate([(Role.DEVELOPER, "as a Developer."),
                                       (Role.FINANCE, "as a Finance"),
                                       (Role.VIEWER, "as a Viewer."),
                                       (Role.OWNER, "as an Owner.")]):
        _invite(org, owner, role, django_capture_on_commit_callbacks, email=f"p{n}@example.com")
        assert words in mailoutbox[-1].body, role


def test_inviter_without_a_name_is_named_by_email_and_html_is_not_escaped(
        django_user_model, django_capture_on_commit_callbacks, mailoutbox):
    owner = django_user_model.objects.create_user(
        username="noname", email="ops@example.com", password="Correct-Horse-9")
    org = create_organization(name="R&D <Labs>", owner=owner)
    _invite(org, owner, Role.VIEWER, django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert mail.subject == "ops@example.com invited you to R&D <Labs> on Switchyard"
    assert '"R&D <Labs>"' in mail.body and "&amp;" not in mail.body


def test_the_invitation_page_names_the_inviter_too(owner, client):
    org = create_organization(name="Analytical Engines", owner=owner)
    _, token = invite_member(org=org, email="grace@example.com", role=Role.DEVELOPER,
                             actor=Actor(role=Role.OWNER, user=owner))
    html = client.get(f"/invitations/{token}/").content.decode()
    assert ("Ada Lovelace invited you to join <strong>Analytical Engines</strong> as "
            "<strong>Developer</strong>.") in html
