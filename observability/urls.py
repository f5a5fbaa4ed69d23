"""Observability's dashboard URLs, mounted at `/analytics/`."""

from django.urls import path

from observability import views

app_name = "observability"

urlpatterns = [
    path("", views.analytics, name="analytics"),
    path("export.csv", views.analytics_csv, name="analytics-csv"),
]
