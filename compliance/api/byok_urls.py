"""BYOK key API URLs, mounted at `/api/v1/compliance/byok/`."""

from django.urls import path

from compliance.api.byok import ByokKeyDetailApi, ByokKeyListApi

app_name = "byok-api"

urlpatterns = [
    path("", ByokKeyListApi.as_view(), name="list"),
    path("<int:byok_id>/", ByokKeyDetailApi.as_view(), name="detail"),
]
