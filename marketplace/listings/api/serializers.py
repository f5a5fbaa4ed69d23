"""Campaign and report bodies of the campaigns API.

Money goes out as both exact decimal dollars (`*_usd`, strings) and integer nanos (`*_nanos`),
as billing's API does; it comes in as either (a body may carry both, as GET returned them, if
they agree), parsed by the one bounded money parser.
"""

from __future__ import annotations

from rest_framework import serializers

from catalog.listing import CAPABILITIES
from core.money import api_usd, usd_to_nanos
from core.task_labels import LABELS
from marketplace.fields import UsdSerializerField
from marketplace.listings.models import Placement, Pricing
from marketplace.listings.services import MAX_BID_USD, MAX_BUDGET_USD

MONEY_FIELDS = ("bid", "daily_budget", "total_budget")
_MAX_USD = {"bid": MAX_BID_USD, "daily_budget": MAX_BUDGET_USD, "total_budget": MAX_BUDGET_USD}
_NOUN = {"bid": "bid", "daily_budget": "daily budget", "total_budget": "total budget"}


def _amount_field(field: str) -> UsdSerializerField:
    return UsdSerializerField(max_usd=_MAX_USD[field], noun=_NOUN[field], required=False,
                              help_text=f"The {_NOUN[field]} in US dollars (exact decimal).")


def _nanos_field(field: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=usd_to_nanos(_MAX_USD[field]),
                                    required=False,
                                    help_text=f"The {_NOUN[field]} in nano-USD.")


class CampaignInputSerializer(serializers.Serializer):
    """Create (model, pricing, placements, bid, budgets and starts_on required) or update
    (any subset; model and pricing cannot change but may be repeated as they are). Read-only
    fields of the campaign body (id, status, spend...) are ignored, so a GET body can be sent
    back as it is."""

    model = serializers.CharField(max_length=200, required=False,
                                  help_text="The slug of one of your promotable models.")
    pricing = serializers.ChoiceField(choices=Pricing.choices, required=False)
    name = serializers.CharField(max_length=120, required=False)
    placements = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=10,
        help_text=f"Any of: {', '.join(Placement.values)}.")
    target_tasks = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=len(LABELS) + 5,
        help_text=f"Task labels (empty: any task): {', '.join(LABELS)}.")
    target_capabilities = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20,
        help_text=f"Capabilities (empty: any): {', '.join(CAPABILITIES)}.")
    bid_usd = _amount_field("bid")
    bid_nanos = _nanos_field("bid")
    daily_budget_usd = _amount_field("daily_budget")
    daily_budget_nanos = _nanos_field("daily_budget")
    total_budget_usd = _amount_field("total_budget")
    total_budget_nanos = _nanos_field("total_budget")
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True,
                                    help_text="Inclusive; null: until the budget is spent.")

    class Meta:
        ref_name = "CampaignInput"

    def validate(self, attrs):
        # One amount per money field: nanos wins the name; dollars must say the same.
        for field in MONEY_FIELDS:
            usd = attrs.pop(f"{field}_usd", None)
            nanos = attrs.get(f"{field}_nanos")
            if usd is not None and nanos is not None and usd != nanos:
                raise serializers.ValidationError(
                    {f"{field}_usd": [f"{field}_usd and {field}_nanos disagree; give one."]})
            if usd is not None:
                attrs[f"{field}_nanos"] = usd
        return attrs


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    model = serializers.CharField(source="model.slug")
    pricing = serializers.ChoiceField(choices=Pricing.choices)
    placements = serializers.ListField(child=serializers.CharField())
    target_tasks = serializers.ListField(child=serializers.CharField())
    target_capabilities = serializers.ListField(child=serializers.CharField())
    bid_usd = serializers.SerializerMethodField()
    bid_nanos = serializers.IntegerField()
    daily_budget_usd = serializers.SerializerMethodField()
    daily_budget_nanos = serializers.IntegerField()
    total_budget_usd = serializers.SerializerMethodField()
    total_budget_nanos = serializers.IntegerField()
    spent_usd = serializers.SerializerMethodField()
    spent_nanos = serializers.IntegerField(help_text="Reserved by billable events so far.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text="active, paused (by you) or staff_paused.")
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Campaign"

    def get_bid_usd(self, obj) -> str:
        return api_usd(obj.bid_nanos)

    def get_daily_budget_usd(self, obj) -> str:
        return api_usd(obj.daily_budget_nanos)

    def get_total_budget_usd(self, obj) -> str:
        return api_usd(obj.total_budget_nanos)

    def get_spent_usd(self, obj) -> str:
        return api_usd(obj.spent_nanos)


class ReportRowSerializer(serializers.Serializer):
    day = serializers.DateField(allow_null=True, help_text="UTC day; null on the totals.")
    placement = serializers.CharField(help_text="Empty on the totals.")
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    ctr = serializers.FloatField(allow_null=True,
                                 help_text="Clicks per impression; null with none.")
    spend_usd = serializers.SerializerMethodField()
    spend_nanos = serializers.IntegerField()
    avg_cpc_usd = serializers.SerializerMethodField()
    avg_cpc_nanos = serializers.IntegerField(
        allow_null=True, help_text="Spend on clicks per click (CPM campaigns: all spend per "
        "click), rounded half up to the nano; null with no click.")

    class Meta:
        ref_name = "CampaignReportRow"

    def get_spend_usd(self, obj) -> str:
        return api_usd(obj.spend_nanos)

    def get_avg_cpc_usd(self, obj) -> str | None:
        return api_usd(obj.avg_cpc_nanos) if obj.avg_cpc_nanos is not None else None


class ConversionsSerializer(serializers.Serializer):
    window_days = serializers.IntegerField()
    min_orgs = serializers.IntegerField()
    converted_orgs = serializers.IntegerField(
        allow_null=True, help_text="Orgs that clicked and then sent requests served by the "
        "model within the window; null when fewer than min_orgs (never which orgs).")
    note = serializers.CharField()

    class Meta:
        ref_name = "CampaignConversions"


class CampaignReportSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    rows = ReportRowSerializer(many=True)
    totals = ReportRowSerializer()
    conversions = ConversionsSerializer()

    class Meta:
        ref_name = "CampaignReport"
