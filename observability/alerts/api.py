"""`/api/v1/alerts/`: every member reads the org's rules and its open and recent events; owners
and admins (and management keys) create or change a rule by kind with POST."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import api_usd
from marketplace.fields import BoundedIntSerializerField, UsdSerializerField
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin
from marketplace.tenancy.roles import SETTINGS_EDITORS, require_role
from observability.alerts.rules import (
    ERROR_RATE_WINDOW,
    MAX_DAILY_SPEND_USD,
    MAX_MIN_REQUESTS,
    MONEY_KINDS,
    EffectiveRule,
    describe,
)
from observability.alerts.selectors import list_events, list_rules
from observability.alerts.services import set_alert_rule
from observability.models import AlertKind


class AlertRuleSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertKind.values)
    label = serializers.CharField()
    enabled = serializers.BooleanField()
    active = serializers.BooleanField(help_text="Enabled with a threshold that can fire.")
    saved = serializers.BooleanField(help_text="False while the kind has its defaults.")
    threshold_nanos = serializers.IntegerField(allow_null=True)
    threshold_usd = serializers.CharField(allow_null=True)
    threshold_percent = serializers.IntegerField(allow_null=True)
    min_requests = serializers.IntegerField(allow_null=True)
    window_minutes = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "AlertRule"


class AlertEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AlertKind.values)
    key_id = serializers.IntegerField(allow_null=True)
    open = serializers.BooleanField()
    fired_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(allow_null=True)
    notified_at = serializers.DateTimeField(allow_null=True)
    unit = serializers.ChoiceField(choices=["nanos", "bps"],
                                   help_text="Of value and threshold: nano-USD or basis points.")
    value = serializers.IntegerField()
    threshold = serializers.IntegerField()
    value_text = serializers.CharField()
    threshold_text = serializers.CharField()
    title = serializers.CharField()
    message = serializers.CharField()

    class Meta:
        ref_name = "AlertEvent"


class AlertsSerializer(serializers.Serializer):
    rules = AlertRuleSerializer(many=True)
    events = AlertEventSerializer(many=True)

    class Meta:
        ref_name = "Alerts"


def rule_body(rule: EffectiveRule) -> dict:
    money = rule.kind in MONEY_KINDS
    return {
        "kind": rule.kind, "label": AlertKind(rule.kind).label, "enabled": rule.enabled,
        "active": rule.active, "saved": rule.saved,
        "threshold_nanos": rule.threshold_nanos if money else None,
        "threshold_usd": (api_usd(rule.threshold_nanos)
                          if money and rule.threshold_nanos is not None else None),
        "threshold_percent": None if money else rule.threshold_percent,
        "min_requests": rule.min_requests if rule.kind == AlertKind.ERROR_RATE else None,
        "window_minutes": (int(ERROR_RATE_WINDOW.total_seconds() // 60)
                           if rule.kind == AlertKind.ERROR_RATE else None),
    }


def event_body(row: dict) -> dict:
    words = describe(row)
    return {
        "id": row["id"], "kind": row["kind"], "key_id": row["key_id"],
        "open": row["cleared_at"] is None, "fired_at": row["fired_at"],
        "cleared_at": row["cleared_at"], "notified_at": row["notified_at"],
        "unit": "nanos" if row["kind"] in MONEY_KINDS else "bps",
        "value": row["value"], "threshold": row["threshold"],
        "value_text": words.value, "threshold_text": words.threshold,
        "title": words.title, "message": words.message,
    }


class AlertsApi(OrgScopedMixin, APIView):
    required_roles = None  # every member reads; POST checks below (and in the service)

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=AlertKind.values)
        enabled = serializers.BooleanField(required=False)
        # low_balance (the wallet's threshold; 0 turns it off) and daily_spend, in dollars as a
        # decimal string (a JSON number works too).
        threshold_usd = UsdSerializerField(max_usd=MAX_DAILY_SPEND_USD, required=False)
        threshold_percent = BoundedIntSerializerField(low=1, high=100, required=False)
        min_requests = BoundedIntSerializerField(low=1, high=MAX_MIN_REQUESTS, required=False)

        class Meta:
            ref_name = "AlertRuleIn"

    def _render(self, status: int = 200) -> Response:
        body = {"rules": [rule_body(rule) for rule in list_rules(self.org.pk)],
                "events": [event_body(row) for row in list_events(self.org.pk)]}
        return Response(AlertsSerializer(body).data, status=status)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=AlertsSerializer)
    def get(self, request):
        return self._render()

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=InputSerializer,
                   responses=AlertRuleSerializer)
    def post(self, request):
        require_role(self.actor, SETTINGS_EDITORS, "Only owners and admins can change alerts.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rule = set_alert_rule(
            org=self.org, kind=data["kind"], actor=self.actor, enabled=data.get("enabled"),
            threshold_nanos=data.get("threshold_usd"),
            threshold_percent=data.get("threshold_percent"),
            min_requests=data.get("min_requests"))
        return Response(AlertRuleSerializer(rule_body(rule)).data)
