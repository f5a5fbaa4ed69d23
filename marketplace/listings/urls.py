"""The vendor pages, mounted at `/vendor/`."""

from django.urls import path

from marketplace.listings import views

app_name = "listings"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign-new"),
    path("campaigns/<int:campaign_id>/", views.campaign_edit, name="campaign"),
    path("campaigns/<int:campaign_id>/pause/", views.campaign_pause, name="campaign-pause"),
    path("campaigns/<int:campaign_id>/resume/", views.campaign_resume, name="campaign-resume"),
    path("campaigns/<int:campaign_id>/report/", views.campaign_report, name="campaign-report"),
    path("models/", views.model_stats, name="models"),
    path("listings/", views.listing_edits, name="listing-edits"),
]
