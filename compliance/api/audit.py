"""Management API: the org's audit log, filtered and paged, one entry, and its CSV export.

Owners and admins (and management keys, which act as admins); another org's entry is 404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.audit_log import (
    access_audit_entry,
    audit_csv_response,
    list_audit_entries,
    parse_audit_filters,
)
from marketplace.renderers import CsvRenderer
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.roles import AUDIT_VIEWERS


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    actor_user_id = serializers.IntegerField(allow_null=True)
    actor_key_id = serializers.IntegerField(allow_null=True)
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target = serializers.CharField(source="target_label")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    client_ip = serializers.IPAddressField(allow_null=True)

    class Meta:
        ref_name = "AuditEntry"


FILTER_PARAMETERS = [
    OpenApiParameter("action", description="An action (`api_key.created`), or a family ending "
                     "with a dot (`api_key.`)"),
    OpenApiParameter("since", description="YYYY-MM-DD or ISO 8601 date and time, inclusive"),
    OpenApiParameter("until", description="YYYY-MM-DD (that day included) or ISO 8601 date and "
                     "time, exclusive"),
    OpenApiParameter("actor", description="The actor as shown: an email, `key <prefix>`, or "
                     "`system`"),
]


class AuditListApi(OrgScopedMixin, APIView):
    required_roles = AUDIT_VIEWERS

    @extend_schema(operation_id="compliance_audit_list", tags=["compliance"],
                   parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS, *FILTER_PARAMETERS],
                   responses=paginated(AuditEntrySerializer))
    def get(self, request):
        rows = list_audit_entries(self.org, parse_audit_filters(request.query_params))
        return paginated_response(request=request, view=self, queryset=rows,
                                  serializer_class=AuditEntrySerializer)


class AuditDetailApi(OrgScopedMixin, APIView):
    required_roles = AUDIT_VIEWERS

    @extend_schema(operation_id="compliance_audit_get", tags=["compliance"],
                   parameters=[ORG_HEADER_PARAMETER], responses=AuditEntrySerializer)
    def get(self, request, entry_id: int):
        return Response(AuditEntrySerializer(access_audit_entry(self.org, entry_id)).data)


class AuditExportApi(OrgScopedMixin, APIView):
    required_roles = AUDIT_VIEWERS
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(operation_id="compliance_audit_export", tags=["compliance"],
                   parameters=[ORG_HEADER_PARAMETER, *FILTER_PARAMETERS],
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request):
        return audit_csv_response(self.org, parse_audit_filters(request.query_params))
