"""On PostgreSQL the audit log is append-only: updates and deletes are refused, except the
SET NULL Django does on an entry's actor when that user or key is deleted (who it was stays in
`actor_label`). An org with entries cannot be deleted."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import ApiKey, AuditEntry, Organization, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_updates_and_deletes_are_refused():
    owner = member(Role.OWNER)
    entry = record_audit(org=owner.org, action="api_key.created", actor=owner.user,
                         after={"name": "k"})
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="api_key.revoked")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(after={"name": "other"})
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.actor_label = "someone else"
        entry.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        # Pointing the actor at someone else is a change, not a SET NULL.
        AuditEntry.objects.filter(pk=entry.pk).update(actor_user=member(Role.OWNER).user)
    entry.refresh_from_db()
    assert (entry.action, entry.after, entry.actor_label, entry.actor_user_id) == (
        "api_key.created", {"name": "k"}, owner.user.email, owner.user.pk)


def test_deleting_the_actor_clears_the_link_and_keeps_the_record():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org, scope="management")
    by_user = record_audit(org=owner.org, action="member.invited", actor=owner.user)
    by_key = record_audit(org=owner.org, action="api_key.created",
                          actor=Actor(role=Role.ADMIN, api_key_id=key.pk))
    label = owner.user.email

    owner.user.delete()
    ApiKey.objects.filter(pk=key.pk).delete()

    by_user.refresh_from_db()
    by_key.refresh_from_db()
    assert (by_user.actor_user_id, by_user.actor_label) == (None, label)
    assert (by_key.actor_key_id, by_key.actor_label) == (None, f"key {key.prefix}")


def test_an_org_with_entries_cannot_be_deleted():
    owner = member(Role.OWNER)
    record_audit(org=owner.org, action="member.invited", actor=owner.user)
    with pytest.raises(ProtectedError) as refused:
        Organization.objects.get(pk=owner.org_id).delete()
    assert {type(row) for row in refused.value.protected_objects} == {AuditEntry}
    assert AuditEntry.objects.filter(org=owner.org).count() == 1
