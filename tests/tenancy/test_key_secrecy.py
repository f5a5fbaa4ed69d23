"""A key's plaintext reaches its creator once and nowhere else: not the database, not the
session, not the logs, not any later response."""

import io
import json
import logging

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import Role
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db


def _every_stored_value() -> str:
    """All rows of all tables as text, plus every session decoded."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            chunks.extend(repr(row) for row in cursor.fetchall())
    for session in Session.objects.all():
        chunks.append(json.dumps(session.get_decoded(), default=str))
    return "\n".join(chunks)


def _assert_secret_absent(plaintext: str, *texts: str) -> None:
    # The random part alone must not leak either (e.g. stored without the "sk-sy-" prefix).
    secret_part = plaintext.removeprefix("sk-sy-")
    for text in texts:
        assert plaintext not in text
        assert secret_part not in text


def test_dashboard_key_plaintext_is_not_stored_logged_or_shown_again(client, caplog):
    caplog.set_level(logging.DEBUG)
    owner = member(Role.OWNER)
    client.force_login(owner.user)
    response = client.post("/dashboard/keys/", {"name": "web", "scope": "management"})
    plaintext = response.context["new_key"]["plaintext"]
    assert plaintext in response.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get("/api/v1/keys/").status_code == 200
    later = [
        client.get("/dashboard/keys/").content.decode(),
        client.get("/dashboard/").content.decode(),
        api.get("/api/v1/keys/").content.decode(),
    ]
    stored = _every_stored_value()
    # The scan does see the keys table: the keyed hash is there, the plaintext is not.
    assert hash_api_key(plaintext) in stored
    _assert_secret_absent(plaintext, stored, caplog.text, *later)


def test_api_key_plaintext_is_not_stored_logged_or_shown_again(caplog):
    caplog.set_level(logging.DEBUG)
    owner = member(Role.OWNER)
    api = APIClient()
    api.force_login(owner.user)
    created = api.post("/api/v1/keys/create/", {"name": "api"}, format="json").json()
    plaintext = created["key"]
    later = api.get("/api/v1/keys/").content.decode()
    _assert_secret_absent(plaintext, _every_stored_value(), caplog.text, later)


def test_seed_demo_key_is_not_stored_or_logged(caplog):
    caplog.set_level(logging.DEBUG)
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    plaintext = json.loads(out.getvalue())["api_key"]
    _assert_secret_absent(plaintext, _every_stored_value(), caplog.text)
