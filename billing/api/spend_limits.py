"""`/api/v1/billing/keys/<key_id>/spend-limit`: read, set and clear one key's spend limit.

Owners and admins (and management keys, which act as admins); another org's key is 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import LimitPeriod
from billing.selectors.spend import get_key_usage
from billing.services.spend_limits import (
    MAX_SPEND_LIMIT_NANOS,
    MAX_SPEND_LIMIT_USD,
    clear_key_spend_limit,
    set_key_spend_limit,
)
from core.money import api_usd
from marketplace.fields import UsdSerializerField
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import SETTINGS_EDITORS
from marketplace.tenancy.selectors import access_api_key


class KeySpendLimitApi(OrgScopedMixin, APIView):
    required_roles = SETTINGS_EDITORS

    class InputSerializer(serializers.Serializer):
        # One of the two: exact nanos, or dollars as a decimal (a JSON string keeps it exact).
        limit_nanos = serializers.IntegerField(
            min_value=0, max_value=MAX_SPEND_LIMIT_NANOS, required=False
        )
        limit_usd = UsdSerializerField(max_usd=MAX_SPEND_LIMIT_USD, required=False)
        period = serializers.ChoiceField(choices=LimitPeriod.values)

        class Meta:
            ref_name = "KeySpendLimitIn"

        def validate(self, attrs):
            if ("limit_nanos" in attrs) == ("limit_usd" in attrs):
                raise serializers.ValidationError("Give exactly one of limit_nanos or limit_usd.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        key_id = serializers.IntegerField()
        limit_nanos = serializers.IntegerField(allow_null=True)
        limit_usd = serializers.CharField(allow_null=True)
        period = serializers.CharField(allow_null=True)
        period_spent_nanos = serializers.IntegerField(allow_null=True)
        held_nanos = serializers.IntegerField()
        limit_remaining_nanos = serializers.IntegerField(allow_null=True)
        usage_nanos = serializers.IntegerField()

        class Meta:
            ref_name = "KeySpendLimit"

    def _render(self, key_id: int) -> Response:
        usage = get_key_usage(self.org.pk, key_id)
        body = {
            "key_id": key_id,
            "limit_nanos": usage["limit_nanos"],
            "limit_usd": (
                api_usd(usage["limit_nanos"]) if usage["limit_nanos"] is not None
                else None
            ),
            "period": usage["limit_period"],
            "period_spent_nanos": usage["period_spent_nanos"],
            "held_nanos": usage["held_nanos"],
            "limit_remaining_nanos": usage["limit_remaining_nanos"],
            "usage_nanos": usage["usage_nanos"],
        }
        return Response(self.OutputSerializer(body).data)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=OutputSerializer)
    def get(self, request, key_id):
        key = access_api_key(self.org, key_id)
        return self._render(key.pk)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=InputSerializer,
                   responses=OutputSerializer)
    def put(self, request, key_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # DRF's 400 with the fields, as tenancy's API
        data = serializer.validated_data
        limit_nanos = data.get("limit_nanos")
        if limit_nanos is None:
            limit_nanos = data["limit_usd"]  # already nanos: the field parses dollars
        limit = set_key_spend_limit(
            org=self.org, key_id=key_id, limit_nanos=limit_nanos, period=data["period"],
            actor=self.actor,
        )
        return self._render(limit.api_key_id)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses={204: None})
    def delete(self, request, key_id):
        clear_key_spend_limit(org=self.org, key_id=key_id, actor=self.actor)
        return Response(status=204)
