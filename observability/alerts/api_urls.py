"""The alerts API, mounted at `/api/v1/alerts/`."""

from django.urls import path

from observability.alerts.api import AlertsApi

urlpatterns = [
    path("", AlertsApi.as_view(), name="alerts"),
]
