"""Tenancy's audited actions: keys created and revoked, members invited, re-roled, removed,
invitations revoked and accepted, organization settings. Each writes exactly one entry with its
actor, target, before and after, in its own transaction; an action that fails writes none."""

import pytest
from django.core import mail
from django.db import transaction
from rest_framework.test import APIClient

from core.errors import Forbidden, InvalidRequest
from marketplace.tenancy import key_services, services
from marketplace.tenancy.models import ApiKey, AuditEntry, Invitation, Role
from marketplace.tenancy.roles import Actor
from tests.compliance.audit_support import entries, only
from tests.tenancy.factories import UserFactory, api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

CLIENT = "203.0.113.7"


def as_user(m):
    return Actor(role=m.role, user=m.user)


def test_key_created_by_a_user_names_the_user_the_prefix_and_never_the_secret():
    owner = member(Role.OWNER)
    client = session_client(owner)
    response = client.post("/api/v1/keys/create/", {"name": "ci", "scope": "management"},
                           format="json", REMOTE_ADDR=CLIENT)
    assert response.status_code == 201
    plaintext = response.json()["key"]
    key = ApiKey.objects.get(pk=response.json()["id"])

    entry = only(owner.org, action="api_key.created")
    assert (entry.actor_user_id, entry.actor_key_id, entry.actor_label) == (
        owner.user.pk, None, owner.user.email)
    assert (entry.target_type, entry.target_id) == ("tenancy.apikey", str(key.pk))
    assert entry.before is None
    assert entry.after == {"name": "ci", "prefix": key.prefix, "scope": "management",
                           "expires_at": None, "parent_key": None}
    assert entry.client_ip == CLIENT
    row = AuditEntry.objects.filter(pk=entry.pk).values().get()
    assert plaintext not in repr(row) and key.key_hash not in repr(row)
    assert entries(owner.org) == [entry]


def test_key_created_by_a_management_key_names_that_key():
    owner = member(Role.OWNER)
    manager, plaintext = api_key(owner.org, scope="management")
    before = len(entries(owner.org))

    response = key_client(plaintext).post("/api/v1/keys/create/", {"name": "child"},
                                          format="json")
    assert response.status_code == 201

    assert len(entries(owner.org)) == before + 1
    entry = entries(owner.org, action="api_key.created")[-1]
    assert (entry.actor_user_id, entry.actor_key_id, entry.actor_label) == (
        None, manager.pk, f"key {manager.prefix}")
    assert entry.after["parent_key"] == manager.prefix and entry.after["name"] == "child"


def test_revoking_a_key_writes_one_entry_naming_the_keys_revoked_with_it():
    owner = member(Role.OWNER)
    parent, plaintext = api_key(owner.org, scope="management")
    child_id = key_client(plaintext).post("/api/v1/keys/create/", {"name": "child"},
                                          format="json").json()["id"]
    child = ApiKey.objects.get(pk=child_id)

    response = session_client(owner).post(f"/api/v1/keys/{parent.pk}/revoke/",
                                          REMOTE_ADDR=CLIENT)
    assert response.status_code == 200

    entry = only(owner.org, action="api_key.revoked")
    parent.refresh_from_db()
    assert entry.actor_user_id == owner.user.pk and entry.target_id == str(parent.pk)
    assert entry.before == {"revoked_at": None}
    assert entry.after["also_revoked"] == [child.prefix]
    assert entry.after["revoked_at"] == parent.revoked_at.isoformat()
    assert entry.client_ip == CLIENT
    # Revoking it again changes nothing, and records nothing.
    assert session_client(owner).post(f"/api/v1/keys/{parent.pk}/revoke/").status_code == 200
    assert len(entries(owner.org, action="api_key.revoked")) == 1


def test_a_refused_key_action_writes_nothing():
    owner = member(Role.OWNER)
    developer = member(Role.DEVELOPER, org=owner.org)
    viewer = member(Role.VIEWER, org=owner.org)
    manager, _ = api_key(owner.org, scope="management")
    count = AuditEntry.objects.count()

    with pytest.raises(Forbidden):
        key_services.create_api_key(org=owner.org, name="x", actor=as_user(viewer))
    with pytest.raises(Forbidden):
        key_services.revoke_api_key(org=owner.org, key=manager, actor=as_user(developer))
    with pytest.raises(InvalidRequest):
        key_services.create_api_key(org=owner.org, name="  ", actor=as_user(owner))
    assert session_client(viewer).post("/api/v1/keys/create/", {"name": "x"},
                                       format="json").status_code == 403
    assert session_client(owner).post("/api/v1/keys/create/", {"name": "x", "scope": "nope"},
                                      format="json").status_code == 400

    assert AuditEntry.objects.count() == count


def test_an_action_whose_transaction_rolls_back_leaves_no_entry():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    count = AuditEntry.objects.count()

    class Boom(Exception):
        pass

    # The revocation and its entry are one transaction: a failure later in it undoes both.
    with pytest.raises(Boom), transaction.atomic():
        key_services.revoke_api_key(org=owner.org, key=key, actor=as_user(owner))
        assert AuditEntry.objects.count() == count + 1  # written, inside the transaction
        raise Boom()

    assert AuditEntry.objects.count() == count
    key.refresh_from_db()
    assert key.revoked_at is None


def test_inviting_writes_the_address_and_role_never_the_token(django_capture_on_commit_callbacks):
    owner = member(Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(owner).post(
            "/api/v1/invitations/create/", {"email": "New@Example.com", "role": "developer"},
            format="json", REMOTE_ADDR=CLIENT)
    assert response.status_code == 201
    token = mail.outbox[-1].body.split("/invitations/")[1].split("/")[0]
    invitation = Invitation.objects.get(org=owner.org)

    entry = only(owner.org, action="member.invited")
    assert (entry.actor_user_id, entry.target_type, entry.target_id, entry.target_label) == (
        owner.user.pk, "tenancy.invitation", str(invitation.pk), "new@example.com")
    assert entry.after == {"email": "new@example.com", "role": "developer"}
    assert token not in repr(AuditEntry.objects.filter(pk=entry.pk).values().get())
    assert invitation.token_hash not in repr(AuditEntry.objects.filter(pk=entry.pk).values().get())


def test_accepting_and_revoking_invitations():
    owner = member(Role.OWNER)
    invitation, token = services.invite_member(org=owner.org, email="j@example.com",
                                               role="viewer", actor=as_user(owner))
    joiner = UserFactory(email="j@example.com")
    client = APIClient()
    client.force_login(joiner)
    assert client.post("/api/v1/invitations/accept/", {"token": token}, format="json",
                       REMOTE_ADDR=CLIENT).status_code == 201

    accepted = only(owner.org, action="invitation.accepted")
    assert (accepted.actor_user_id, accepted.target_type, accepted.client_ip) == (
        joiner.pk, "tenancy.membership", CLIENT)
    assert accepted.after == {"email": "j@example.com", "role": "viewer"}
    # A used token is refused, and the refusal records nothing.
    assert client.post("/api/v1/invitations/accept/", {"token": token},
                       format="json").status_code == 400
    assert len(entries(owner.org, action="invitation.accepted")) == 1

    pending, _ = services.invite_member(org=owner.org, email="k@example.com", role="admin",
                                        actor=as_user(owner))
    assert session_client(owner).post(
        f"/api/v1/invitations/{pending.pk}/revoke/").status_code == 200
    revoked = only(owner.org, action="invitation.revoked")
    assert (revoked.target_id, revoked.before, revoked.after) == (
        str(pending.pk), {"email": "k@example.com", "role": "admin"}, None)
    # Revoking a revoked invitation changes nothing.
    services.revoke_invitation(org=owner.org, invitation=Invitation.objects.get(pk=pending.pk),
                               actor=as_user(owner))
    assert len(entries(owner.org, action="invitation.revoked")) == 1


def test_a_refused_invitation_writes_nothing():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    _, plaintext = api_key(owner.org, scope="management")
    count = AuditEntry.objects.count()
    with pytest.raises(Forbidden):  # only owners invite owners
        services.invite_member(org=owner.org, email="o@example.com", role="owner",
                               actor=as_user(admin))
    assert key_client(plaintext).post("/api/v1/invitations/create/", {"email": "q@example.com"},
                                      format="json").status_code == 403
    assert AuditEntry.objects.count() == count


def test_role_change_records_before_and_after_and_a_refused_one_nothing():
    owner = member(Role.OWNER)
    dev = member(Role.DEVELOPER, org=owner.org)
    admin = member(Role.ADMIN, org=owner.org)

    response = session_client(owner).post(f"/api/v1/members/{dev.pk}/update/",
                                          {"role": "admin"}, format="json", REMOTE_ADDR=CLIENT)
    assert response.status_code == 200
    entry = only(owner.org, action="member.role_changed")
    assert (entry.actor_user_id, entry.target_id, entry.target_label) == (
        owner.user.pk, str(dev.pk), dev.user.email)
    assert (entry.before, entry.after, entry.client_ip) == (
        {"role": "developer"}, {"role": "admin"}, CLIENT)

    with pytest.raises(Forbidden):  # an admin cannot make an owner
        services.change_role(org=owner.org, membership=dev, role="owner", actor=as_user(admin))
    with pytest.raises(InvalidRequest):
        services.change_role(org=owner.org, membership=dev, role="emperor", actor=as_user(owner))
    assert len(entries(owner.org, action="member.role_changed")) == 1


def test_removing_a_member_and_their_keys_is_one_entry():
    owner = member(Role.OWNER)
    dev = member(Role.DEVELOPER, org=owner.org)
    key, _ = key_services.create_api_key(org=owner.org, name="dev key", actor=as_user(dev))

    response = session_client(owner).post(f"/api/v1/members/{dev.pk}/remove/",
                                          {"revoke_keys": True}, format="json")
    assert response.status_code in (200, 204)

    entry = only(owner.org, action="member.removed")
    assert (entry.actor_user_id, entry.target_type, entry.target_id, entry.target_label) == (
        owner.user.pk, "tenancy.membership", str(dev.pk), dev.user.email)
    assert entry.before == {"email": dev.user.email, "role": "developer"}
    assert entry.after == {"revoked_keys": [key.prefix]}
    # The keys went with the member, inside that one action: no separate revocation entry.
    assert entries(owner.org, action="api_key.revoked") == []


def test_a_refused_removal_writes_nothing():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    count = AuditEntry.objects.count()
    with pytest.raises(Forbidden):
        services.remove_member(org=owner.org, membership=owner, actor=as_user(admin))
    assert AuditEntry.objects.count() == count


def test_organization_created_and_updated():
    user = UserFactory()
    client = APIClient()
    client.force_login(user)
    org_id = client.post("/api/v1/organizations/create/", {"name": "Beta"},
                         format="json").json()["id"]
    created = only(org_id, action="organization.created")
    assert (created.actor_user_id, created.after["name"]) == (user.pk, "Beta")

    assert client.post(f"/api/v1/organizations/{org_id}/update/",
                       {"legal_name": "Beta Ltd", "name": "Beta"}, format="json",
                       ).status_code == 200
    updated = only(org_id, action="organization.updated")
    # Only what changed: the name was sent unchanged.
    assert (updated.before, updated.after) == ({"legal_name": ""}, {"legal_name": "Beta Ltd"})
