"""Compliance's dashboard URLs, mounted at `/dashboard/compliance/`."""

from django.urls import path

from compliance import audit_views

app_name = "compliance"

urlpatterns = [
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/export.csv", audit_views.audit_log_csv, name="audit-log-csv"),
]
