"""`POST /api/v1/routing/explain/`: how the gateway would route a model for this org and key.

Owners, admins and developers (and management keys, which act as admins). The body is
`{model, provider?, key_id?}`: `provider` is OpenRouter's preferences object, checked by the
gateway's own parser; a `key_id` of another org answers 404 like a missing one.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import KEY_CREATORS
from routing.selectors import explain_route, explanation_payload


class CandidateSerializer(serializers.Serializer):
    endpoint = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    tier = serializers.IntegerField(help_text="Tiers are tried in order.")
    rule = serializers.CharField(
        help_text="order, sort:price|throughput|latency, weighted, or recent_outage.")
    position = serializers.IntegerField(allow_null=True,
                                        help_text="1-based within the tier (fixed orders).")
    weight = serializers.FloatField(
        allow_null=True, help_text="Weighted tiers: the chance of being drawn first.")
    sort_key = serializers.FloatField(allow_null=True)
    slow = serializers.BooleanField()
    prompt_nanos_per_m = serializers.IntegerField()
    completion_nanos_per_m = serializers.IntegerField()


class ExcludedSerializer(serializers.Serializer):
    endpoint = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    reason = serializers.CharField(help_text="The first reason (what the gateway reports).")
    reasons = serializers.ListField(child=serializers.CharField())


class RouteErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    model = serializers.CharField()
    status = serializers.IntegerField(help_text="What /v1 would answer: 200, 403 or 503.")
    error = RouteErrorSerializer(allow_null=True)
    only_first = serializers.BooleanField()
    candidates = CandidateSerializer(many=True)
    excluded = ExcludedSerializer(many=True)


class RouteExplainApi(OrgScopedMixin, APIView):
    required_roles = KEY_CREATORS

    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(max_length=200)
        provider = serializers.JSONField(required=False, allow_null=True)
        key_id = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                          max_value=2**63 - 1)

        class Meta:
            ref_name = "RouteExplainIn"

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=InputSerializer,
                   responses=ExplanationSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = explain_route(self.org, model=data["model"], provider=data.get("provider"),
                               key_id=data.get("key_id"))
        return Response(explanation_payload(result))
