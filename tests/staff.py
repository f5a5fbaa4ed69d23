"""Staff users for admin and catalog API tests: TOTP enrolled, in `operators`, signed in with it.

Staff pages refuse a staff user until an authenticator is enrolled and the session has passed
it (marketplace/tenancy/staff_access.py). `sign_in_with_mfa` leaves the session as allauth's
login does after the password and the TOTP code, as `force_login` stands in for a password;
tests/tenancy/test_staff_access.py drives the real login and code pages.
"""

from __future__ import annotations

from importlib import import_module

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.apps import apps
from django.contrib.auth.models import Group
from django.http import HttpRequest

from tests.tenancy.factories import UserFactory

OPERATORS = "operators"


def operators_group() -> Group:
    """The group catalog's migration 0003 creates (again, if a flush since emptied the table)."""
    group = Group.objects.filter(name=OPERATORS).first()
    if group is None:
        # Transactional tests flush every table, data migrations' rows included.
        import_module("catalog.migrations.0003_operators_group").forwards(apps, None)
        group = Group.objects.get(name=OPERATORS)
    return group


def staff_user(*, operator: bool = True, totp: bool = True, **fields):
    """A staff user, with TOTP enrolled (secret in `.totp_secret`) and in `operators`."""
    user = UserFactory(is_staff=True, **fields)
    user.totp_secret = None
    if totp:
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    if operator:
        user.groups.add(operators_group())
    return user


def current_code(secret: str) -> str:
    """The TOTP code an authenticator app shows now for `secret`."""
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def sign_in_with_mfa(client, user):
    """Sign `user` in on `client` (Django's or DRF's) as after password and TOTP code."""
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    record_authentication(request, user, "password", email=user.email)
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()
    return client
