"""Management API: the wallet's balance and its ledger transactions."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import TransactionKind
from billing.selectors.invoices import parse_usage_filters
from billing.selectors.ledger import get_wallet_summary, list_wallet_transactions
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.roles import BILLING_ROLES


class WalletSerializer(serializers.Serializer):
    balance_nanos = serializers.IntegerField()
    held_nanos = serializers.IntegerField()
    credit_limit_nanos = serializers.IntegerField()
    available_nanos = serializers.IntegerField()

    class Meta:
        ref_name = "Wallet"


class WalletTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    idempotency_key = serializers.CharField()
    memo = serializers.CharField()
    created_at = serializers.DateTimeField()
    amount_nanos = serializers.IntegerField(source="wallet_delta_nanos")

    class Meta:
        ref_name = "WalletTransaction"


class WalletApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=WalletSerializer)
    def get(self, request):
        return Response(WalletSerializer(get_wallet_summary(self.org)).data)


class WalletTransactionListApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES

    @extend_schema(
        parameters=[
            ORG_HEADER_PARAMETER,
            *PAGE_PARAMETERS,
            OpenApiParameter("kind", enum=TransactionKind.values),
            OpenApiParameter("since", description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("until", description="YYYY-MM-DD, inclusive"),
        ],
        responses=paginated(WalletTransactionSerializer),
    )
    def get(self, request):
        period = parse_usage_filters(request.query_params)
        rows = list_wallet_transactions(
            self.org, kind=request.query_params.get("kind") or None,
            since=period.since, until=period.until,
        )
        return paginated_response(
            request=request, view=self, queryset=rows,
            serializer_class=WalletTransactionSerializer,
        )
