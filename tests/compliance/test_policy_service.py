"""compliance.services: org and key policy versions, validation, roles, audit and fan-out."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from catalog.models import Provider
from compliance import selectors
from compliance.fanout import COMPLIANCE_CHANGED_CHANNEL
from compliance.models import KeyPolicy, OrgPolicy
from compliance.services import update_key_policy, update_org_policy
from core.errors import Forbidden, InvalidRequest
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.compliance.policy_fixtures import audit_entries, build_policy_catalog
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy_catalog(db):
    return build_policy_catalog()


def _owner():
    owner = member(Role.OWNER)
    return owner, Actor(role=Role.OWNER, user=owner.user)


def _fields(policy) -> dict:
    """A saved version's fields, as a caller sends them back."""
    values = selectors.org_policy_values(policy)
    values.pop("version")
    return values


def _invalid(org, actor, fields) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        update_org_policy(org, actor, fields)
    return caught.value


# --- versions ------------------------------------------------------------------------------


def test_each_change_is_a_new_version_and_old_ones_stay_readable(policy_catalog):
    owner, actor = _owner()
    first = update_org_policy(owner.org, actor, {"regions": ["eu"], "deny_training": True})
    second = update_org_policy(owner.org, actor, {"provider_deny": ["crane-cn"]})
    assert (first.changed, first.policy.version) == (True, 1)
    assert (second.changed, second.policy.version) == (True, 2)
    # A field left out keeps its value from the version before.
    assert second.policy.regions == ["eu"] and second.policy.deny_training is True
    versions = list(selectors.list_org_policy_versions(owner.org_id))
    assert [v.version for v in versions] == [2, 1]
    old = selectors.access_org_policy_version(owner.org_id, 1)
    assert old.provider_deny is None and old.regions == ["eu"]
    assert old.created_by == owner.user and old.created_at is not None
    assert selectors.current_org_policy(owner.org_id).version == 2
    assert selectors.get_caller_rules(owner.org_id, 0).org.provider_deny == {"crane-cn"}


def test_saving_what_is_already_there_makes_no_version(policy_catalog):
    owner, actor = _owner()
    nothing = update_org_policy(owner.org, actor, {"regions": [], "require_zdr": False})
    assert nothing == type(nothing)(None, changed=False)
    saved = update_org_policy(owner.org, actor, {"regions": ["eu", "us"]})
    again = update_org_policy(owner.org, actor, {
        **_fields(saved.policy), "regions": ["us", "eu", "us"]})
    assert again.changed is False and again.policy.pk == saved.policy.pk
    assert OrgPolicy.objects.filter(org=owner.org).count() == 1
    assert len(audit_entries(owner.org, "policy.updated")) == 1


def test_lists_are_normalised(policy_catalog):
    owner, actor = _owner()
    policy = update_org_policy(owner.org, actor, {
        "provider_allow": [" blue-eu", "acme-us", "blue-eu", ""],
        "model_deny": ["blue/large", "ACME/Fast"],
        "regions": ["EU", "eu-central"],
        "provider_deny": [],
    }).policy
    assert policy.provider_allow == ["acme-us", "blue-eu"]
    assert policy.model_deny == ["acme/fast", "blue/large"]  # the catalog's spelling
    assert policy.regions == ["eu", "eu-central"]  # an endpoint's region counts too
    assert policy.provider_deny is None  # empty: no restriction, stored as null


@pytest.mark.parametrize("field, value, named", [
    ("provider_allow", ["acme-us", "nope-ai"], "Unknown provider: nope-ai."),
    ("provider_deny", ["x1", "x2"], "Unknown providers: x1, x2."),
    ("model_allow", ["acme/fast", "acme/nonexistent"], "Unknown model: acme/nonexistent."),
    ("model_deny", ["gpt-4o"], "Unknown model: gpt-4o."),
    ("regions", ["eu", "mars"], "Unknown region: mars."),
])
def test_unknown_names_are_refused_naming_each(policy_catalog, field, value, named):
    owner, actor = _owner()
    error = _invalid(owner.org, actor, {field: value})
    assert error.message == named and error.metadata["param"] == field
    assert not OrgPolicy.objects.filter(org=owner.org).exists()
    assert audit_entries(owner.org, "policy.updated") == []


@pytest.mark.parametrize("fields, param", [
    ({"provider_allow": ["acme-us", "blue-eu"], "provider_deny": ["blue-eu"]}, "provider_deny"),
    ({"model_allow": ["acme/fast"], "model_deny": ["acme/fast"]}, "model_deny"),
    ({"regions": "eu"}, "regions"),
    ({"regions": ["eu", 3]}, "regions"),
    ({"regions": ["e\x00u"]}, "regions"),
    ({"provider_allow": ["a"] * 1001}, "provider_allow"),
    ({"require_zdr": "yes"}, "require_zdr"),
    ({"content_retention_days": 0}, "content_retention_days"),
    ({"content_retention_days": 3651}, "content_retention_days"),
    ({"content_retention_days": True}, "content_retention_days"),
])
def test_invalid_policies_are_refused_on_their_field(policy_catalog, fields, param):
    owner, actor = _owner()
    assert _invalid(owner.org, actor, fields).metadata["param"] == param
    assert not OrgPolicy.objects.filter(org=owner.org).exists()


def test_a_conflict_with_the_current_version_is_refused_too(policy_catalog):
    owner, actor = _owner()
    update_org_policy(owner.org, actor, {"provider_allow": ["acme-us"]})
    error = _invalid(owner.org, actor, {"provider_deny": ["acme-us"]})
    assert "acme-us" in error.message and "both allowed and denied" in error.message


def test_unknown_field_names_are_refused(policy_catalog):
    owner, actor = _owner()
    assert _invalid(owner.org, actor, {"colour": "red"}).message == "Unknown fields: colour."


def test_zdr_forbids_content_logging(policy_catalog):
    owner, actor = _owner()
    error = _invalid(owner.org, actor, {"require_zdr": True, "content_retention_days": 30})
    assert error.metadata["param"] == "content_retention_days"
    assert "zero data retention" in error.message
    update_org_policy(owner.org, actor, {"content_retention_days": 30})
    # Turning ZDR on while content is logged is refused: logging must be turned off first.
    _invalid(owner.org, actor, {"require_zdr": True})
    both = update_org_policy(owner.org, actor, {"require_zdr": True,
                                                "content_retention_days": None}).policy
    assert (both.version, both.require_zdr, both.content_retention_days) == (2, True, None)
    _invalid(owner.org, actor, {"content_retention_days": 7})
    assert selectors.current_org_policy(owner.org_id).version == 2


def test_a_name_the_catalog_dropped_stays_accepted_once_held(policy_catalog):
    owner, actor = _owner()
    saved = update_org_policy(owner.org, actor, {"provider_deny": ["crane-cn"]}).policy
    Provider.objects.filter(slug="crane-cn").update(slug="crane-china")  # renamed away
    # Sending the policy back as read still works; naming it anew does not.
    again = update_org_policy(owner.org, actor, {**_fields(saved),
                                                 "deny_training": True})
    assert again.changed and again.policy.provider_deny == ["crane-cn"]
    other, other_actor = _owner()
    assert _invalid(other.org, other_actor, {"provider_deny": ["crane-cn"]}).message == (
        "Unknown provider: crane-cn.")


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.VIEWER, Role.FINANCE])
def test_only_owners_and_admins_change_policies(policy_catalog, role):
    someone = member(role)
    key, _ = api_key(someone.org)
    actor = Actor(role=role, user=someone.user)
    with pytest.raises(Forbidden):
        update_org_policy(someone.org, actor, {"regions": ["eu"]})
    with pytest.raises(Forbidden):
        update_key_policy(key, actor, {"rpm": 10})
    assert not OrgPolicy.objects.exists() and not KeyPolicy.objects.exists()
    assert audit_entries(someone.org, "policy.updated") == []


def test_admins_and_management_keys_change_policies(policy_catalog):
    admin = member(Role.ADMIN)
    update_org_policy(admin.org, Actor(role=Role.ADMIN, user=admin.user), {"regions": ["us"]})
    manager, _ = api_key(admin.org, scope="management")
    saved = update_org_policy(admin.org, Actor(role=Role.ADMIN, api_key_id=manager.pk),
                              {"regions": ["eu"]}).policy
    assert saved.version == 2 and saved.created_by is None
    entry = audit_entries(admin.org, "policy.updated")[-1]
    assert entry.actor_key == manager and entry.actor_user is None
    authors = selectors.policy_authors(admin.org_id, selectors.list_org_policy_versions(
        admin.org_id))
    assert authors[1].label == admin.user.email
    assert authors[2].label == f"key {manager.prefix}"


# --- audit -----------------------------------------------------------------------------------


def test_each_change_writes_exactly_one_audit_entry(policy_catalog):
    owner, actor = _owner()
    update_org_policy(owner.org, actor, {"regions": ["eu"]})
    update_org_policy(owner.org, actor, {"regions": ["eu"]})  # no change, no entry
    _invalid(owner.org, actor, {"regions": ["mars"]})  # refused, no entry
    update_org_policy(owner.org, actor, {"require_zdr": True})
    first, second = audit_entries(owner.org, "policy.updated")
    assert first.before == {"version": None, **selectors.ORG_POLICY_DEFAULTS}
    assert first.after["version"] == 1 and first.after["regions"] == ["eu"]
    assert second.before == first.after
    assert second.after == {**first.after, "version": 2, "require_zdr": True}
    assert first.actor_user == owner.user and first.target_type == "tenancy.organization"
    assert first.target_id == str(owner.org_id)


def test_a_change_rolled_back_leaves_neither_version_nor_entry(policy_catalog):
    owner, actor = _owner()
    with pytest.raises(RuntimeError), transaction.atomic():
        update_org_policy(owner.org, actor, {"regions": ["eu"]})
        raise RuntimeError("the caller's transaction fails")
    assert not OrgPolicy.objects.filter(org=owner.org).exists()
    assert audit_entries(owner.org, "policy.updated") == []


# --- key policies ------------------------------------------------------------------------


def test_key_policy_versions_validation_and_audit(policy_catalog):
    owner, actor = _owner()
    key, _ = api_key(owner.org)
    first = update_key_policy(key, actor, {"allowed_models": ["acme/fast", "acme/fast"],
                                           "rpm": 60})
    assert (first.policy.version, first.policy.allowed_models, first.policy.rpm) == (
        1, ["acme/fast"], 60)
    assert update_key_policy(key, actor, {"rpm": 60}).changed is False
    second = update_key_policy(key, actor, {"tpm": 100_000, "allowed_regions": ["EU"]})
    assert (second.policy.version, second.policy.rpm, second.policy.allowed_regions) == (
        2, 60, ["eu"])
    rules = selectors.get_caller_rules(owner.org_id, key.pk).key
    assert (rules.version, rules.rpm, rules.tpm, rules.models) == (
        2, 60, 100_000, frozenset({"acme/fast"}))
    for fields, param in (({"rpm": 0}, "rpm"), ({"tpm": 10**10}, "tpm"), ({"rpm": "ten"}, "rpm"),
                          ({"allowed_providers": ["nope"]}, "allowed_providers"),
                          ({"regions": ["eu"]}, None)):
        with pytest.raises(InvalidRequest) as caught:
            update_key_policy(key, actor, fields)
        assert caught.value.metadata.get("param") == param
    entries = audit_entries(owner.org, "key_policy.updated")
    assert len(entries) == 2
    assert entries[0].target_type == "tenancy.apikey" and entries[0].target_id == str(key.pk)
    assert entries[1].before == entries[0].after and entries[1].after["version"] == 2
    # Another key's versions are its own.
    other, _ = api_key(owner.org)
    assert update_key_policy(other, actor, {"rpm": 5}).policy.version == 1


# --- concurrency -------------------------------------------------------------------------


def _wait_until_a_query_waits_on_a_lock(timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                           " AND datname = current_database()")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second save never waited for the first")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_each_get_their_own_version():
    build_policy_catalog()
    owner, actor = _owner()
    first_inserted, let_go = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def slow_saver():
        try:
            with transaction.atomic():  # holds version 1 uncommitted until told
                results["slow"] = update_org_policy(owner.org, actor, {"regions": ["eu"]})
                first_inserted.set()
                let_go.wait(10)
        finally:
            connection.close()

    def racer():
        try:
            results["racer"] = update_org_policy(owner.org, actor, {"deny_training": True})
        finally:
            connection.close()

    slow = threading.Thread(target=slow_saver)
    slow.start()
    assert first_inserted.wait(10)
    race = threading.Thread(target=racer)
    race.start()
    _wait_until_a_query_waits_on_a_lock()  # the racer, on version 1's unique index entry
    let_go.set()
    slow.join(10)
    race.join(10)
    assert results["slow"].policy.version == 1
    assert results["racer"].policy.version == 2
    # The racer retried on top of version 1: nothing the first save wrote is lost.
    latest = selectors.current_org_policy(owner.org_id)
    assert (latest.regions, latest.deny_training) == (["eu"], True)
    before = [e.before["version"] for e in audit_entries(owner.org, "policy.updated")]
    assert before == [None, 1]


# --- fan-out -----------------------------------------------------------------------------


def _messages_for(pubsub, org_id: int, timeout_s: float) -> list[str]:
    """Our org's announcements within `timeout_s` (other test processes share the channel)."""
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None and message["data"].decode() == str(org_id):
            seen.append(message["data"].decode())
    return seen


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_change_is_announced_once_after_commit_and_nothing_else_is():
    build_policy_catalog()
    owner, actor = _owner()
    key, _ = api_key(owner.org)
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(COMPLIANCE_CHANGED_CHANNEL)
    try:
        pubsub.get_message(timeout=1)  # the subscribe confirmation
        with transaction.atomic():
            update_org_policy(owner.org, actor, {"regions": ["eu"]})
            assert _messages_for(pubsub, owner.org_id, 0.5) == []  # not before commit
        assert _messages_for(pubsub, owner.org_id, 2) == [str(owner.org_id)]
        update_key_policy(key, actor, {"rpm": 30})
        assert _messages_for(pubsub, owner.org_id, 2) == [str(owner.org_id)]
        # No change, a refused change, a rolled-back change: no announcement.
        update_org_policy(owner.org, actor, {"regions": ["eu"]})
        with pytest.raises(InvalidRequest):
            update_org_policy(owner.org, actor, {"regions": ["mars"]})
        with pytest.raises(RuntimeError), transaction.atomic():
            update_org_policy(owner.org, actor, {"regions": ["us"]})
            raise RuntimeError("abort")
        assert _messages_for(pubsub, owner.org_id, 1) == []
    finally:
        pubsub.close()
        client.close()
