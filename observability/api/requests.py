"""Management API: the request log, one request with its attempts, and the log's CSV export.

`GET /api/v1/requests/` answers `{data: [...], next_cursor}`, newest first; pass `next_cursor`
back as `?cursor=` for the next page (null on the last). Every member reads it; the CSV export
is for owners, admins and finance (management keys act as admins). Another org's request id is
404 exactly as a missing one.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import api_usd
from marketplace.renderers import CsvRenderer
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import USAGE_EXPORTERS, USAGE_READERS
from observability.request_log import (
    MAX_LIMIT,
    access_request,
    csv_response,
    key_name,
    list_requests,
    parse_cursor,
    parse_limit,
    parse_log_filters,
)


class AttemptSerializer(serializers.Serializer):
    endpoint_id = serializers.IntegerField(allow_null=True)
    provider = serializers.CharField()
    status = serializers.IntegerField(allow_null=True, help_text="The provider's HTTP status, "
                                      "or null when no answer came (connection, timeout).")
    latency_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="Why this attempt failed over.")
    byok = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "RequestAttempt"


class RequestRecordSerializer(serializers.Serializer):
    id = serializers.CharField(source="request_id", help_text="The request id (gen-...).")
    created_at = serializers.DateTimeField()
    key_id = serializers.IntegerField(allow_null=True)
    key_name = serializers.SerializerMethodField()
    app = serializers.CharField()
    model_requested = serializers.CharField()
    model_served = serializers.CharField()
    provider = serializers.CharField()
    endpoint_id = serializers.IntegerField(allow_null=True)
    status = serializers.IntegerField(help_text="The HTTP status the caller got.")
    outcome = serializers.CharField(help_text="success, refused, failed or cancelled.")
    error_type = serializers.CharField(help_text="Empty on success.")
    error_message = serializers.CharField()
    finish_reason = serializers.CharField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_usd = serializers.SerializerMethodField(help_text="What was charged, exact decimal.")
    cost_nanos = serializers.IntegerField()
    latency_ms = serializers.IntegerField()
    ttft_ms = serializers.IntegerField(allow_null=True)
    streamed = serializers.BooleanField()
    is_fallback = serializers.BooleanField()
    is_byok = serializers.BooleanField()
    is_cached = serializers.BooleanField()
    task = serializers.CharField()
    count = serializers.IntegerField(help_text="Requests this row stands for (>1 when identical "
                                     "rate-limit refusals of a key and minute were merged).")

    class Meta:
        ref_name = "RequestRecord"

    def get_key_name(self, record) -> str:
        return key_name(record)

    def get_cost_usd(self, record) -> str:
        return api_usd(record.cost_nanos)


class RequestDetailSerializer(RequestRecordSerializer):
    attempts = AttemptSerializer(many=True, help_text="Every upstream attempt, in order.")

    class Meta:
        ref_name = "RequestRecordDetail"


FILTER_PARAMETERS = [
    OpenApiParameter("since", description="YYYY-MM-DD or ISO 8601 date and time, inclusive"),
    OpenApiParameter("until", description="YYYY-MM-DD (that day included) or ISO 8601 date and "
                     "time, exclusive"),
    OpenApiParameter("key", int, description="API key id"),
    OpenApiParameter("model", description="Model asked for or served (author/slug)"),
    OpenApiParameter("provider", description="Provider slug"),
    OpenApiParameter("status", description="success, refused, failed, cancelled, or an HTTP "
                     "status such as 429"),
    OpenApiParameter("error_type", description="rate_limit, upstream_5xx, timeout, refusal, "
                     "content_filter, no_endpoint, policy, credit, invalid_request, "
                     "unavailable, cancelled or internal"),
    OpenApiParameter("task", description="Task label: coding, chat, translation, ..."),
]
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", description="The `next_cursor` of the previous page"),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                     description=f"Page size (default 50, at most {MAX_LIMIT})."),
]


class RequestListApi(OrgScopedMixin, APIView):
    required_roles = USAGE_READERS

    @extend_schema(operation_id="requests_list", tags=["requests"],
                   parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS, *FILTER_PARAMETERS],
                   responses=inline_serializer(name="RequestLogPage", fields={
                       "data": RequestRecordSerializer(many=True),
                       "next_cursor": serializers.CharField(allow_null=True)}))
    def get(self, request):
        params = request.query_params
        filters = parse_log_filters(params)
        page = list_requests(self.org.pk, filters, cursor=parse_cursor(params.get("cursor")),
                             limit=parse_limit(params.get("limit")))
        return Response({"data": RequestRecordSerializer(page.rows, many=True).data,
                         "next_cursor": page.next_cursor})


class RequestDetailApi(OrgScopedMixin, APIView):
    required_roles = USAGE_READERS

    @extend_schema(operation_id="requests_get", tags=["requests"],
                   parameters=[ORG_HEADER_PARAMETER], responses=RequestDetailSerializer)
    def get(self, request, request_id: str):
        return Response(RequestDetailSerializer(access_request(self.org.pk, request_id)).data)


class RequestExportApi(OrgScopedMixin, APIView):
    required_roles = USAGE_EXPORTERS
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(operation_id="requests_export", tags=["requests"],
                   parameters=[ORG_HEADER_PARAMETER, *FILTER_PARAMETERS],
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request):
        return csv_response(self.org.pk, self.org.slug, parse_log_filters(request.query_params))
