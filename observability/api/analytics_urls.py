"""The analytics management API, mounted at `/api/v1/analytics/`."""

from django.urls import path

from observability.api import analytics

urlpatterns = [
    path("", analytics.AnalyticsApi.as_view(), name="analytics"),
    path("export.csv", analytics.AnalyticsExportApi.as_view(), name="analytics-export"),
]
