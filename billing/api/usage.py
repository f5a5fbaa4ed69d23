"""Management API: usage records with filters (period, key, model, provider)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from billing.selectors.invoices import list_usage, parse_usage_filters
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.roles import BILLING_ROLES


class UsageRecordSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    api_key_id = serializers.IntegerField(allow_null=True)
    requested_model = serializers.CharField()
    served_model = serializers.CharField()
    provider = serializers.CharField(source="provider_slug")
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cache_read_tokens = serializers.IntegerField()
    cache_write_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()
    upstream_cost_nanos = serializers.IntegerField()
    margin_nanos = serializers.IntegerField()
    byok_fee_nanos = serializers.IntegerField()
    write_off_nanos = serializers.IntegerField()
    charge_nanos = serializers.IntegerField()
    is_byok = serializers.BooleanField()
    estimated = serializers.BooleanField()
    finish_reason = serializers.CharField()
    latency_ms = serializers.IntegerField()

    class Meta:
        ref_name = "UsageRecord"


class UsageListApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES

    @extend_schema(
        parameters=[
            ORG_HEADER_PARAMETER,
            *PAGE_PARAMETERS,
            OpenApiParameter("since", description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("until", description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("key", int, description="API key id"),
            OpenApiParameter("model", description="author/slug"),
            OpenApiParameter("provider", description="provider slug"),
        ],
        responses=paginated(UsageRecordSerializer),
    )
    def get(self, request):
        rows = list_usage(self.org, parse_usage_filters(request.query_params))
        return paginated_response(
            request=request, view=self, queryset=rows, serializer_class=UsageRecordSerializer
        )
