"""The alerts page, mounted at `/dashboard/alerts/`."""

from django.urls import path

from observability.alerts.views import alerts

urlpatterns = [
    path("", alerts, name="alerts"),
]
