"""The campaigns API, mounted at `/api/v1/listings/`."""

from django.urls import path

from marketplace.listings.api import campaigns, vendor

urlpatterns = [
    path("campaigns/", campaigns.CampaignListApi.as_view(), name="listing-campaigns"),
    path("campaigns/<int:campaign_id>/", campaigns.CampaignDetailApi.as_view(),
         name="listing-campaign"),
    path("campaigns/<int:campaign_id>/pause/", campaigns.CampaignPauseApi.as_view(),
         name="listing-campaign-pause"),
    path("campaigns/<int:campaign_id>/resume/", campaigns.CampaignResumeApi.as_view(),
         name="listing-campaign-resume"),
    path("campaigns/<int:campaign_id>/report/", campaigns.CampaignReportApi.as_view(),
         name="listing-campaign-report"),
    path("models/", vendor.VendorModelsApi.as_view(), name="listing-models"),
    path("edits/", vendor.ListingEditsApi.as_view(), name="listing-edits"),
]
