"""`/api/v1/compliance/policy/` (the org's policy and its versions) and
`/api/v1/keys/{key_id}/policy/` (one key's, and its versions).

Every member but finance reads (as keys and members); owners, admins and management keys save,
which the services check. A saved body that changes nothing keeps the same version and answers
`changed: false`. Another org's key answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import selectors
from compliance.api.serializers import (
    KeyPolicyFields,
    KeyPolicySavedSerializer,
    KeyPolicySerializer,
    OrgPolicyFields,
    OrgPolicySavedSerializer,
    OrgPolicySerializer,
)
from compliance.services import update_key_policy, update_org_policy
from marketplace.parsers import JSONParser
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import (
    PAGE_PARAMETERS,
    BoundedLimitOffsetPagination,
    paginated,
)
from marketplace.tenancy.roles import KEY_VIEWERS
from marketplace.tenancy.selectors import access_api_key


def _version_fields(org_id: int, policy: Any) -> dict[str, Any]:
    if policy is None:
        return {"created_at": None, "created_by": None}
    author = selectors.policy_authors(org_id, [policy])[policy.version]
    return {"created_at": policy.created_at, "created_by": author.label}


def org_policy_body(org_id: int, policy: Any) -> dict[str, Any]:
    return {**selectors.org_policy_values(policy), **_version_fields(org_id, policy)}


def key_policy_body(org_id: int, key_id: int, policy: Any) -> dict[str, Any]:
    return {"key_id": key_id, **selectors.key_policy_values(policy),
            **_version_fields(org_id, policy)}


class OrgPolicyApi(OrgScopedMixin, APIView):
    """The org's current policy (the defaults, `version: null`, before any save)."""

    required_roles = KEY_VIEWERS
    parser_classes = [JSONParser]

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=OrgPolicySerializer)
    def get(self, request):
        policy = selectors.current_org_policy(self.org.pk)
        return Response(OrgPolicySerializer(org_policy_body(self.org.pk, policy)).data)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=OrgPolicyFields,
                   responses=OrgPolicySavedSerializer)
    def put(self, request):
        data = OrgPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = update_org_policy(self.org, self.actor, data.validated_data)
        body = {**org_policy_body(self.org.pk, saved.policy), "changed": saved.changed}
        return Response(OrgPolicySavedSerializer(body).data)


def _versions_page(view: APIView, versions, body) -> Response:
    """A page of versions, newest first, each as `body(version, author label)`."""
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(versions, view.request, view=view)
    authors = selectors.policy_authors(view.org.pk, page)
    return paginator.get_paginated_response(
        [body(version, authors[version.version].label) for version in page])


class OrgPolicyVersionListApi(OrgScopedMixin, APIView):
    """Every saved version of the org's policy, newest first, with author and time."""

    required_roles = KEY_VIEWERS

    @extend_schema(operation_id="v1_compliance_policy_versions_list",
                   parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
                   responses=paginated(OrgPolicySerializer))
    def get(self, request):
        def body(policy, author: str) -> dict[str, Any]:
            return OrgPolicySerializer({**selectors.org_policy_values(policy),
                                        "created_at": policy.created_at,
                                        "created_by": author}).data

        return _versions_page(self, selectors.list_org_policy_versions(self.org.pk), body)


class OrgPolicyVersionApi(OrgScopedMixin, APIView):
    """One saved version of the org's policy."""

    required_roles = KEY_VIEWERS

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=OrgPolicySerializer)
    def get(self, request, version: int):
        policy = selectors.access_org_policy_version(self.org.pk, version)
        return Response(OrgPolicySerializer(org_policy_body(self.org.pk, policy)).data)


class KeyPolicyApi(OrgScopedMixin, APIView):
    """One key's policy: it narrows the org's, and sets the key's own rate limits."""

    required_roles = KEY_VIEWERS
    parser_classes = [JSONParser]

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=KeyPolicySerializer)
    def get(self, request, key_id: int):
        key = access_api_key(self.org, key_id)
        policy = selectors.current_key_policy(self.org.pk, key.pk)
        return Response(KeyPolicySerializer(key_policy_body(self.org.pk, key.pk, policy)).data)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=KeyPolicyFields,
                   responses=KeyPolicySavedSerializer)
    def put(self, request, key_id: int):
        key = access_api_key(self.org, key_id)
        data = KeyPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = update_key_policy(key, self.actor, data.validated_data)
        body = {**key_policy_body(self.org.pk, key.pk, saved.policy), "changed": saved.changed}
        return Response(KeyPolicySavedSerializer(body).data)


class KeyPolicyVersionListApi(OrgScopedMixin, APIView):
    """Every saved version of one key's policy, newest first, with author and time."""

    required_roles = KEY_VIEWERS

    @extend_schema(operation_id="v1_keys_policy_versions_list",
                   parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
                   responses=paginated(KeyPolicySerializer))
    def get(self, request, key_id: int):
        key = access_api_key(self.org, key_id)

        def body(policy, author: str) -> dict[str, Any]:
            return KeyPolicySerializer({"key_id": key.pk, **selectors.key_policy_values(policy),
                                        "created_at": policy.created_at,
                                        "created_by": author}).data

        return _versions_page(
            self, selectors.list_key_policy_versions(self.org.pk, key.pk), body)
