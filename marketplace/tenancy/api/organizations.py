"""Management API: the caller's organizations; create, retrieve and update one."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden
from marketplace.tenancy import selectors, services
from marketplace.tenancy.api.base import AuthenticatedApiMixin, OrgScopedMixin
from marketplace.tenancy.models import Organization, OrgKind
from marketplace.tenancy.roles import SETTINGS_EDITORS

KIND_HELP = f"One of {', '.join(OrgKind.values)} (vendors run sponsored listings); owners " \
    "change it."


class OrganizationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    # Text, not an enum, in the schema: alerts already name an enum after a field "kind".
    kind = serializers.CharField(help_text=KIND_HELP)
    created_at = serializers.DateTimeField()
    legal_name = serializers.CharField()
    billing_address = serializers.CharField()
    tax_id = serializers.CharField()
    billing_email = serializers.CharField()
    role = serializers.CharField(help_text="The caller's role in the organization.")

    class Meta:
        ref_name = "Organization"


def _org_body(org: Organization, role: str) -> dict:
    org.role = role
    return OrganizationOutputSerializer(org).data


class OrganizationListApi(AuthenticatedApiMixin, APIView):
    """The organizations the user belongs to (for an API key: its own org)."""

    @extend_schema(responses=OrganizationOutputSerializer(many=True))
    def get(self, request):
        self.require_management_key()
        if self.key_auth is not None:
            org = Organization.objects.get(pk=self.key_auth.org_id)
            return Response([_org_body(org, "admin")])
        memberships = selectors.list_user_memberships(request.user)
        return Response([_org_body(m.org, m.role) for m in memberships])


class OrganizationCreateApi(AuthenticatedApiMixin, APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120)

        class Meta:
            ref_name = "OrganizationCreateInput"

    @extend_schema(request=InputSerializer, responses={201: OrganizationOutputSerializer})
    def post(self, request):
        if self.key_auth is not None:
            raise Forbidden("Organizations are created by a signed-in user, not an API key.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.create_organization(name=data.validated_data["name"], owner=request.user)
        return Response(_org_body(org, "owner"), status=status.HTTP_201_CREATED)


class OrganizationDetailApi(OrgScopedMixin, APIView):
    org_url_kwarg = "org_id"

    @extend_schema(responses=OrganizationOutputSerializer)
    def get(self, request, org_id: int):
        return Response(_org_body(self.org, self.actor.role))


class OrganizationUpdateApi(OrgScopedMixin, APIView):
    """Change the name or billing details (owners and admins) or the kind (owners only);
    omitted fields stay."""

    org_url_kwarg = "org_id"
    required_roles = SETTINGS_EDITORS

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120, required=False)
        legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        billing_address = serializers.CharField(required=False, allow_blank=True)
        tax_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
        billing_email = serializers.EmailField(required=False, allow_blank=True)
        kind = serializers.CharField(max_length=10, required=False, help_text=KIND_HELP)

        class Meta:
            ref_name = "OrganizationUpdateInput"

    @extend_schema(request=InputSerializer, responses=OrganizationOutputSerializer)
    def post(self, request, org_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        kind = fields.pop("kind", None)
        org = self.org
        # Both changes or neither: each service's transaction nests in this one.
        with transaction.atomic():
            if kind is not None:
                org = services.set_organization_kind(org=org, actor=self.actor, kind=kind)
            if fields:
                org = services.update_organization(org=org, actor=self.actor, **fields)
        return Response(_org_body(org, self.actor.role))
