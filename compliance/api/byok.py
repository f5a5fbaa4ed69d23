"""Management API for BYOK keys: list, add (or replace) and delete an org's provider keys.

Write-only: a key goes in once and is never answered back; answers describe it by provider and
last four characters. Owners and admins (and management keys, which act as admins).
"""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import byok, selectors
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import SETTINGS_EDITORS


class ByokKeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField(source="provider.slug", help_text="The provider's slug.")
    last4 = serializers.CharField(help_text="The key's last four characters (all that is shown).")
    base_url = serializers.CharField(help_text="Empty: the provider's own base URL.")
    always_use = serializers.BooleanField(
        help_text="Never fall back to the platform's key for this provider.")
    created_at = serializers.DateTimeField()
    rotated_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(
        allow_null=True, help_text="When the provider last refused this key (replace it).")

    class Meta:
        ref_name = "ByokKey"


class ByokKeyInputSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=60)
    api_key = serializers.CharField(write_only=True, max_length=byok.MAX_KEY_LENGTH,
                                    trim_whitespace=True)
    base_url = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                     max_length=byok.MAX_BASE_URL_LENGTH, default="")
    always_use = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "ByokKeyInput"


@method_decorator(sensitive_post_parameters("api_key"), name="dispatch")
class ByokKeyListApi(OrgScopedMixin, APIView):
    required_roles = SETTINGS_EDITORS

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=ByokKeySerializer(many=True))
    def get(self, request):
        return Response(ByokKeySerializer(selectors.list_byok_keys(self.org), many=True).data)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=ByokKeyInputSerializer,
                   responses={201: ByokKeySerializer, 200: ByokKeySerializer})
    def post(self, request):
        """Add the org's key for a provider; a provider that has one gets it replaced (200)."""
        data = ByokKeyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row, replaced = byok.add_byok_key(org=self.org, actor=self.actor, **data.validated_data)
        return Response(ByokKeySerializer(row).data,
                        status=status.HTTP_200_OK if replaced else status.HTTP_201_CREATED,
                        headers={"Cache-Control": "no-store"})


class ByokKeyDetailApi(OrgScopedMixin, APIView):
    required_roles = SETTINGS_EDITORS

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=None, responses={204: None})
    def delete(self, request, byok_id: int):
        byok.remove_byok_key(org=self.org, actor=self.actor, byok_id=byok_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
