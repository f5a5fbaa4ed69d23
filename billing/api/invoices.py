"""Management API: the org's invoices and their lines (finance, owners, admins)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.selectors.invoices import access_invoice, list_invoice_lines, list_invoices
from core.money import nanos_to_cents
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.api.pagination import PAGE_PARAMETERS, paginated, paginated_response
from marketplace.tenancy.roles import BILLING_ROLES


class InvoiceLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    model = serializers.CharField()
    provider = serializers.CharField()
    description = serializers.CharField()
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    upstream_cost_nanos = serializers.IntegerField()
    margin_nanos = serializers.IntegerField()
    byok_fee_nanos = serializers.IntegerField()
    write_off_nanos = serializers.IntegerField()
    amount_nanos = serializers.IntegerField()

    class Meta:
        ref_name = "InvoiceLine"


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    status = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    finalized_at = serializers.DateTimeField(allow_null=True)
    requests = serializers.IntegerField()
    upstream_cost_nanos = serializers.IntegerField()
    margin_nanos = serializers.IntegerField()
    byok_fee_nanos = serializers.IntegerField()
    write_off_nanos = serializers.IntegerField()
    charge_nanos = serializers.IntegerField()
    top_ups_nanos = serializers.IntegerField()
    credits_nanos = serializers.IntegerField()
    reversals_nanos = serializers.IntegerField()
    sponsored_nanos = serializers.IntegerField(
        help_text="A vendor's sponsored-listing charges (stated at finalization).")
    total_cents = serializers.SerializerMethodField(
        help_text="Usage charges plus sponsored-listing charges, rounded once.")

    class Meta:
        ref_name = "Invoice"

    def get_total_cents(self, invoice) -> int:
        return nanos_to_cents(invoice.charge_nanos + invoice.sponsored_nanos)


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = serializers.SerializerMethodField()
    legal_name = serializers.CharField()
    billing_address = serializers.CharField()
    tax_id = serializers.CharField()

    class Meta:
        ref_name = "InvoiceDetail"

    @extend_schema(responses=InvoiceLineSerializer(many=True))
    def get_lines(self, invoice) -> list:
        return InvoiceLineSerializer(list_invoice_lines(invoice), many=True).data


class InvoiceListApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES

    @extend_schema(operation_id="billing_invoices_list",
                   parameters=[ORG_HEADER_PARAMETER, *PAGE_PARAMETERS],
                   responses=paginated(InvoiceSerializer))
    def get(self, request):
        return paginated_response(
            request=request, view=self, queryset=list_invoices(self.org),
            serializer_class=InvoiceSerializer,
        )


class InvoiceDetailApi(OrgScopedMixin, APIView):
    required_roles = BILLING_ROLES

    @extend_schema(operation_id="billing_invoices_get", parameters=[ORG_HEADER_PARAMETER],
                   responses=InvoiceDetailSerializer)
    def get(self, request, invoice_id: int):
        return Response(InvoiceDetailSerializer(access_invoice(self.org, invoice_id)).data)
