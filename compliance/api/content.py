"""Management API: one request's stored content (owners and admins; content logging on only).

`GET /api/v1/compliance/content/{request_id}/`: the request body as received and its answer,
while the org's retention period keeps them. Another org's request id answers 404 exactly as a
missing or expired one.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.content_log import access_content
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import SETTINGS_EDITORS


class RequestContentSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    request = serializers.JSONField(help_text="The request body as received.")
    response = serializers.JSONField(
        allow_null=True,
        help_text="The answer's JSON body; for a stream, its assembled choices and usage.")

    class Meta:
        ref_name = "RequestContent"


class RequestContentApi(OrgScopedMixin, APIView):
    # Content is the org's most sensitive data: the roles that set the policy keeping it.
    required_roles = SETTINGS_EDITORS

    @extend_schema(operation_id="compliance_content_get", parameters=[ORG_HEADER_PARAMETER],
                   responses=RequestContentSerializer)
    def get(self, request, request_id: str):
        return Response(RequestContentSerializer(
            access_content(self.org.pk, request_id[:64])).data)


urlpatterns = [
    path("<str:request_id>/", RequestContentApi.as_view(), name="compliance-content"),
]
