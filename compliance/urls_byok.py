"""The BYOK dashboard page, mounted at `/compliance/byok/`."""

from django.urls import path

from compliance import views_byok

app_name = "compliance-byok"

urlpatterns = [
    path("", views_byok.byok_keys, name="list"),
    path("<int:byok_id>/remove/", views_byok.remove_byok_key, name="remove"),
]
