"""The request log's dashboard URLs, mounted at `/requests/`."""

from django.urls import path

from observability import views

app_name = "observability"

urlpatterns = [
    path("", views.request_log, name="request-log"),
    path("export.csv", views.request_log_csv, name="request-log-csv"),
    path("<str:request_id>/", views.request_detail, name="request-detail"),
]
