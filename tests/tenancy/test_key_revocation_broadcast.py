"""Revoking a key publishes its hash on Redis after commit, so gateways drop it at once."""

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from marketplace.tenancy import key_services
from marketplace.tenancy.key_services import REVOKED_KEYS_CHANNEL
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, member


def _next_message(pubsub, timeout_s=5.0, *, about=None):
    """The next message (about one of the hashes in `about`, when given: other tests and
    other xdist workers revoke keys on the same channel at the same time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None and (about is None or message["data"].decode() in about):
            return message
    return None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_revocation_is_published_on_commit_only_once():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(REVOKED_KEYS_CHANNEL)
    try:
        pubsub.get_message(timeout=1)  # the subscribe confirmation
        actor = Actor(role=Role.OWNER, user=owner.user)
        key_services.revoke_api_key(org=owner.org, key=key, actor=actor)
        message = _next_message(pubsub, about={key.key_hash})
        assert message is not None and message["data"].decode() == key.key_hash
        # Revoking again changes nothing and announces nothing.
        key_services.revoke_api_key(org=owner.org, key=key, actor=actor)
        assert _next_message(pubsub, timeout_s=1.0, about={key.key_hash}) is None
    finally:
        pubsub.close()
        client.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rolled_back_revocation_publishes_nothing():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(REVOKED_KEYS_CHANNEL)
    try:
        pubsub.get_message(timeout=1)
        with pytest.raises(RuntimeError), transaction.atomic():
            key_services.revoke_api_key(
                org=owner.org, key=key, actor=Actor(role=Role.OWNER, user=owner.user)
            )
            raise RuntimeError("abort")
        assert _next_message(pubsub, timeout_s=1.0, about={key.key_hash}) is None
        key.refresh_from_db()
        assert key.revoked_at is None
    finally:
        pubsub.close()
        client.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_revoking_a_parent_publishes_each_minted_key():
    owner = member(Role.OWNER)
    parent, _ = api_key(owner.org, scope="management")
    children = [
        key_services.create_api_key(
            org=owner.org, name=f"child {i}", actor=Actor(role=Role.ADMIN, api_key_id=parent.pk)
        )[0]
        for i in range(2)
    ]
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(REVOKED_KEYS_CHANNEL)
    try:
        pubsub.get_message(timeout=1)
        key_services.revoke_api_key(
            org=owner.org, key=parent, actor=Actor(role=Role.OWNER, user=owner.user)
        )
        expected = {parent.key_hash, *(child.key_hash for child in children)}
        seen = set()
        # Other test processes may share this Redis; wait for ours, ignore theirs.
        while expected - seen and (message := _next_message(pubsub)) is not None:
            seen.add(message["data"].decode())
        assert expected <= seen
    finally:
        pubsub.close()
        client.close()
