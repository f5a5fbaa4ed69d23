"""Base pieces for every org-scoped management API view (tenancy, catalog, billing).

`OrgScopedMixin` resolves `self.org`, `self.membership` (None for key auth) and `self.actor`
from either a management-scope org API key (`Authorization: Bearer sk-sy-...`) or the session
user's org: the `X-Switchyard-Org` header (an org id) if given, else the session's current org.
Inference-scope keys are refused with 403: they are for `/v1` only.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from marketplace.errors import Forbidden, NotFound
from marketplace.tenancy import selectors
from marketplace.tenancy.access import current_membership
from marketplace.tenancy.keys import hash_api_key, looks_like_api_key
from marketplace.tenancy.models import KeyScope, Organization
from marketplace.tenancy.roles import MANAGEMENT_KEY_ROLE, Actor

ORG_HEADER = "HTTP_X_SWITCHYARD_ORG"


class ApiKeyPrincipal:
    """`request.user` for a request authenticated by an org API key (no human behind it)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key_auth: selectors.KeyAuth):
        self.key_auth = key_auth

    def __str__(self) -> str:
        return f"api key {self.key_auth.prefix}"


class OrgApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer sk-sy-...` with an org API key; other schemes are left alone."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not looks_like_api_key(token):
            raise exceptions.AuthenticationFailed("Malformed API key.")
        key_auth = selectors.get_key_auth(hash_api_key(token))
        if key_auth is None or not key_auth.is_usable(timezone.now()):
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return ApiKeyPrincipal(key_auth), key_auth

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class OrgScopedMixin:
    """Mix into an APIView; set `required_roles` (None = any member) per view."""

    authentication_classes = [OrgApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    required_roles: frozenset[str] | None = None

    org: Organization
    actor: Actor

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.membership = None
        if isinstance(request.auth, selectors.KeyAuth):
            key_auth = request.auth
            if key_auth.scope != KeyScope.MANAGEMENT:
                raise Forbidden("Inference keys cannot use the management API.")
            self.org = Organization.objects.get(pk=key_auth.org_id)
            self.actor = Actor(role=MANAGEMENT_KEY_ROLE, api_key_id=key_auth.key_id)
        else:
            header_org = request.META.get(ORG_HEADER)
            if header_org:
                membership = selectors.access_membership_for_user(
                    user=request.user, org_id=header_org
                )
            else:
                membership = current_membership(request._request)
                if membership is None:
                    raise NotFound("You are not a member of any organization.")
            self.membership = membership
            self.org = membership.org
            self.actor = Actor(role=membership.role, user=request.user)
        if self.required_roles is not None and self.actor.role not in self.required_roles:
            raise Forbidden("Your role does not allow this operation.")
