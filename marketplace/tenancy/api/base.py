"""Base pieces for every management API view (tenancy, catalog, billing).

`OrgScopedMixin` resolves `self.org`, `self.membership` (None for key auth) and `self.actor`
from either a management-scope org API key (`Authorization: Bearer sk-sy-...`) or the session
user's org: the `X-Switchyard-Org` header (an org id) if given, else the session's current org.
Inference-scope keys are refused with 403: they are for `/v1` only. A view that names the org
in its URL sets `org_url_kwarg`; another org's id then answers 404 like a missing one.

Service errors that name a field (`InvalidRequest(param=...)`) become DRF field errors, so every
bad payload answers 400 with `{field: [message]}`.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from core.errors import Forbidden, InvalidRequest, NotFound
from marketplace.fields import reject_nul
from marketplace.tenancy import key_services, selectors
from marketplace.tenancy.current_org import current_membership
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
        now = timezone.now()
        if key_auth is None or not key_auth.is_usable(now):
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        key_services.record_keys_used({key_auth.key_id: now})
        return ApiKeyPrincipal(key_auth), key_auth

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiErrorsMixin:
    """Turn a service's field-naming InvalidRequest into DRF's 400 field errors.

    Query parameters and URL parts with NUL are refused up front: PostgreSQL text cannot hold
    NUL, so any filter carrying one would fail in the database (a 500) instead.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reject_nul(request.query_params, kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, InvalidRequest) and exc.metadata.get("param"):
            exc = exceptions.ValidationError({exc.metadata["param"]: [exc.message]})
        return super().handle_exception(exc)


class AuthenticatedApiMixin(ApiErrorsMixin):
    """Session or org-API-key authentication, no org resolved (user-level endpoints)."""

    authentication_classes = [OrgApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @property
    def key_auth(self) -> selectors.KeyAuth | None:
        auth = self.request.auth
        return auth if isinstance(auth, selectors.KeyAuth) else None

    def require_management_key(self) -> None:
        if self.key_auth is not None and self.key_auth.scope != KeyScope.MANAGEMENT:
            raise Forbidden("Inference keys cannot use the management API.")


class OrgScopedMixin(AuthenticatedApiMixin):
    """Mix into an APIView; set `required_roles` (None = any member) per view."""

    required_roles: frozenset[str] | None = None
    org_url_kwarg: str | None = None

    org: Organization
    actor: Actor

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.require_management_key()
        self.membership = None
        wanted_org = kwargs.get(self.org_url_kwarg) if self.org_url_kwarg else None
        wanted_org = wanted_org or request.META.get(ORG_HEADER)
        key_auth = self.key_auth
        if key_auth is not None:
            # A key belongs to one org; naming any other answers 404 like a missing org.
            if wanted_org and str(wanted_org) != str(key_auth.org_id):
                raise NotFound("Organization not found.")
            self.org = Organization.objects.get(pk=key_auth.org_id)
            self.actor = Actor(role=MANAGEMENT_KEY_ROLE, api_key_id=key_auth.key_id)
        else:
            if wanted_org:
                membership = selectors.access_membership_for_user(
                    user=request.user, org_id=wanted_org
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


class OrgApiKeyScheme(OpenApiAuthenticationExtension):
    """Describe org API keys in the OpenAPI schema (bearer tokens `sk-sy-...`)."""

    target_class = OrgApiKeyAuthentication
    name = "OrgApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "sk-sy-…"}


# Add to `extend_schema(parameters=[...])` of org-scoped views so the docs show the header.
ORG_HEADER_PARAMETER = OpenApiParameter(
    name="X-Switchyard-Org",
    type=int,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Organization id for session requests (default: the session's current org). "
    "Ignored for API keys, which belong to one org.",
)
