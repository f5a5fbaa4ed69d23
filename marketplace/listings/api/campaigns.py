"""The campaigns API, `/api/v1/listings/campaigns/`: list, create, read, update, pause, resume
and report a vendor org's campaigns.

Sessions and management keys (acting as admins) of a vendor org; any member reads, owners and
admins write (the services decide). A developer-only org gets 403 "Only vendor organizations
can run campaigns"; another vendor's campaign id is 404 on every route, like a missing one.
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Forbidden, InvalidRequest
from marketplace.listings import reports, selectors, services
from marketplace.listings.api.serializers import (
    CampaignInputSerializer,
    CampaignReportSerializer,
    CampaignSerializer,
)
from marketplace.tenancy.api.base import ORG_HEADER_PARAMETER, OrgScopedMixin

CREATE_REQUIRED = ("model", "pricing", "name", "placements", "bid_nanos",
                   "daily_budget_nanos", "total_budget_nanos", "starts_on")


class VendorApiMixin(OrgScopedMixin):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.org.is_vendor:
            raise Forbidden(services.NOT_A_VENDOR)


def _body(campaign) -> dict:
    return CampaignSerializer(campaign).data


class CampaignListApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=CampaignSerializer(many=True),
                   tags=["listings"])
    def get(self, request):
        return Response([_body(c) for c in selectors.list_campaigns(self.org)])

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=CampaignInputSerializer,
                   responses={201: CampaignSerializer}, tags=["listings"])
    def post(self, request):
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        missing = [f for f in CREATE_REQUIRED if f not in values]
        if missing:
            raise InvalidRequest(f"Missing {', '.join(missing)}.", param=missing[0])
        campaign = services.create_campaign(
            org=self.org, actor=self.actor, model_slug=values.pop("model"),
            pricing=values.pop("pricing"), data=services.CampaignInput(**values))
        return Response(_body(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER], responses=CampaignSerializer,
                   tags=["listings"])
    def get(self, request, campaign_id: int):
        return Response(_body(selectors.access_campaign(self.org, campaign_id)))

    def _update(self, request, campaign_id: int, *, partial: bool):
        campaign = selectors.access_campaign(self.org, campaign_id)
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if not partial:
            missing = [f for f in services.EDITABLE_FIELDS
                       if f not in changes and f != "ends_on" and not f.startswith("target_")]
            if missing:
                raise InvalidRequest(f"PUT replaces the campaign: missing {', '.join(missing)}.",
                                     param=missing[0])
            changes.setdefault("ends_on", None)
            changes.setdefault("target_tasks", [])
            changes.setdefault("target_capabilities", [])
        # Model and pricing are fixed; repeating them as they are (a GET body) is fine.
        for field, current in (("model", campaign.model.slug), ("pricing", campaign.pricing)):
            if field in changes and changes.pop(field) != current:
                raise InvalidRequest(f"A campaign's {field} cannot change; create another "
                                     "campaign.", param=field)
        campaign = services.update_campaign(org=self.org, actor=self.actor,
                                            campaign_id=campaign.pk, changes=changes)
        return Response(_body(campaign))

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=CampaignInputSerializer,
                   responses=CampaignSerializer, tags=["listings"])
    def patch(self, request, campaign_id: int):
        return self._update(request, campaign_id, partial=True)

    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=CampaignInputSerializer,
                   responses=CampaignSerializer, tags=["listings"])
    def put(self, request, campaign_id: int):
        return self._update(request, campaign_id, partial=False)


class CampaignPauseApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=None,
                   responses=CampaignSerializer, tags=["listings"])
    def post(self, request, campaign_id: int):
        campaign = services.pause_campaign(org=self.org, actor=self.actor,
                                           campaign_id=campaign_id)
        return Response(_body(campaign))


class CampaignResumeApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[ORG_HEADER_PARAMETER], request=None,
                   responses=CampaignSerializer, tags=["listings"])
    def post(self, request, campaign_id: int):
        campaign = services.resume_campaign(org=self.org, actor=self.actor,
                                            campaign_id=campaign_id)
        return Response(_body(campaign))


def _query_day(params, name: str) -> dt.date | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"{name} is a date, YYYY-MM-DD.", param=name) from None


def report_body(campaign, report: reports.CampaignReport) -> dict:
    conversions = report.conversions
    return {
        "campaign_id": campaign.pk, "rows": report.rows, "totals": report.totals,
        "conversions": {
            "window_days": reports.CONVERSION_WINDOW.days,
            "min_orgs": reports.CONVERSION_MIN_ORGS,
            "converted_orgs": conversions.converted,
            "note": "" if conversions.shown
            else f"fewer than {reports.CONVERSION_MIN_ORGS} orgs converted",
        },
    }


class CampaignReportApi(VendorApiMixin, APIView):
    @extend_schema(parameters=[
        ORG_HEADER_PARAMETER,
        OpenApiParameter("since", str, description="First UTC day (YYYY-MM-DD)."),
        OpenApiParameter("until", str, description="Last UTC day (YYYY-MM-DD), inclusive."),
    ], responses=CampaignReportSerializer, tags=["listings"])
    def get(self, request, campaign_id: int):
        campaign = selectors.access_campaign(self.org, campaign_id)
        report = reports.campaign_report(campaign, since=_query_day(request.query_params, "since"),
                                         until=_query_day(request.query_params, "until"))
        return Response(CampaignReportSerializer(report_body(campaign, report)).data)
