"""The vendor's models and listing text in the API: `GET /api/v1/listings/models/` (what the
org may promote, with the public catalog's figures) and `GET/POST /api/v1/listings/edits/`
(listing text proposals, for staff review)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.listings import selectors, services
from marketplace.listings.api.campaigns import VendorApiMixin
from marketplace.listings.statistics import model_statistics
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER


class ModelStatisticsSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    requests_7d = serializers.IntegerField(help_text="Requests over 7 days, all orgs.")
    uptime_bps = serializers.IntegerField(allow_null=True,
                                          help_text="Last day, basis points (10000 = 100%).")
    p50_latency_ms = serializers.IntegerField(allow_null=True)
    input_nanos_per_m = serializers.IntegerField(allow_null=True,
                                                 help_text="List price per million tokens.")
    output_nanos_per_m = serializers.IntegerField(allow_null=True)
    routable = serializers.BooleanField()

    class Meta:
        ref_name = "VendorModelStatistics"


class ListingEditSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model.slug")
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="pending, approved or rejected.")
    review_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ListingEdit"


class ListingEditInputSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=services.MAX_DESCRIPTION_CHARS)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                 max_length=12)

    class Meta:
        ref_name = "ListingEditInput"


class VendorModelsApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER],
                   responses=ModelStatisticsSerializer(many=True), tags=["listings"])
    def get(self, request):
        return Response(ModelStatisticsSerializer(model_statistics(self.org), many=True).data)


class ListingEditsApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER],
                   responses=ListingEditSerializer(many=True), tags=["listings"])
    def get(self, request):
        edits = selectors.list_listing_edits(self.org)[:200]
        return Response(ListingEditSerializer(edits, many=True).data)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=ListingEditInputSerializer,
                   responses={201: ListingEditSerializer}, tags=["listings"])
    def post(self, request):
        data = ListingEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edit = services.propose_listing_edit(
            org=self.org, actor=self.actor, model_slug=data.validated_data["model"],
            description=data.validated_data["description"],
            tags=data.validated_data.get("tags", []))
        return Response(ListingEditSerializer(edit).data, status=status.HTTP_201_CREATED)
