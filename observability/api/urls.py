"""The request log's management API, mounted at `/api/v1/requests/`."""

from django.urls import path

from observability.api import requests

urlpatterns = [
    path("", requests.RequestListApi.as_view(), name="requests"),
    path("export.csv", requests.RequestExportApi.as_view(), name="requests-export"),
    path("<str:request_id>/", requests.RequestDetailApi.as_view(), name="request"),
]
