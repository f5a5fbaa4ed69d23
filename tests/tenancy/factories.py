"""Factories for users, organizations, memberships, invitations and API keys.

Keys are minted through the real service so their hash and prefix are the production ones;
`api_key()` returns (row, plaintext).
"""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from marketplace.tenancy import key_services
from marketplace.tenancy.models import Membership, Organization, Role
from marketplace.tenancy.roles import Actor

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        obj.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    org = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


def member(role: str = Role.OWNER, org: Organization | None = None) -> Membership:
    """A user with a verified email who is `role` in `org` (a new org if None)."""
    org = org or OrganizationFactory()
    return MembershipFactory(org=org, role=role)


def api_key(org: Organization, *, scope: str = "inference", name: str = "test", **kwargs):
    """Mint a key through the service as an owner; return (ApiKey, plaintext)."""
    return key_services.create_api_key(
        org=org, name=name, scope=scope, actor=Actor(role=Role.OWNER), **kwargs
    )


def session_client(membership) -> APIClient:
    """A REST API client signed in as the membership's user."""
    client = APIClient()
    client.force_login(membership.user)
    return client


def key_client(plaintext: str) -> APIClient:
    """A REST API client presenting an org API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client
