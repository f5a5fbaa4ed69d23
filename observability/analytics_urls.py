"""The analytics page and its CSV export, mounted at `/analytics/`."""

from django.urls import path

from observability import analytics_views as views

app_name = "analytics"

urlpatterns = [
    path("", views.analytics, name="analytics"),
    path("export.csv", views.analytics_csv, name="analytics-csv"),
]
