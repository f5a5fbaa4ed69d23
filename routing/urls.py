"""Routing's dashboard URLs, mounted at `/routing/`."""

from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("explain/", views.explain, name="explain"),
    path("health/", views.provider_health, name="provider-health"),
]
