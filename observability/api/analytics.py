"""Management API: the org's analytics (rollups by hour or day, grouped), and their CSV export.

Every member reads (developers, finance and viewers included); the CSV export is for owners,
admins and finance. A management key acts for its org; an inference key is refused (403).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.renderers import CsvRenderer
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import BILLING_ROLES
from observability.analytics import csv_response, list_buckets, parse_query


class BucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="The UTC hour's or day's start")
    group = serializers.CharField(help_text="The model or provider slug, the key's id, the "
                                  "app's name or the task label; \"\" without group_by")
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_usd = serializers.CharField(help_text="Exact decimal string")
    cost_nanos = serializers.IntegerField()
    errors = serializers.IntegerField()
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    p99_ms = serializers.FloatField(allow_null=True)
    ttft_p50_ms = serializers.FloatField(allow_null=True)

    class Meta:
        ref_name = "AnalyticsBucket"


class AnalyticsSerializer(serializers.Serializer):
    buckets = BucketSerializer(many=True)

    class Meta:
        ref_name = "Analytics"


PARAMETERS = [
    ORG_HEADER_PARAMETER,
    OpenApiParameter("since", description="ISO 8601 date or date and time (UTC if no offset), "
                     "inclusive; default: until less 24 hours (hour) or 30 days (day)"),
    OpenApiParameter("until", description="ISO 8601 date (that day included) or date and "
                     "time, exclusive; default: now"),
    OpenApiParameter("bucket", enum=["hour", "day"], description="Default day. Hour buckets "
                     "cover at most 31 days, day buckets 731"),
    OpenApiParameter("group_by", enum=["model", "provider", "key", "app", "task"],
                     description="Omitted: one group (\"\") for all requests"),
]


class AnalyticsApi(OrgScopedMixin, APIView):
    required_roles = None  # every member

    @extend_schema(operation_id="analytics_get", tags=["analytics"], parameters=PARAMETERS,
                   responses=AnalyticsSerializer)
    def get(self, request):
        query = parse_query(request.query_params)
        return Response({"buckets": list_buckets(self.org, query)})


class AnalyticsExportApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(operation_id="analytics_export", tags=["analytics"], parameters=PARAMETERS,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request):
        return csv_response(self.org, parse_query(request.query_params, capped=False))
