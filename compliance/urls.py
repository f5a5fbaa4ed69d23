"""Compliance's dashboard URLs, mounted at `/compliance/`."""

from django.urls import path

from compliance import audit_views, views

app_name = "compliance"

urlpatterns = [
    path("policy/", views.org_policy, name="policy"),
    path("policy/versions/<int:version>/", views.org_policy_version, name="policy-version"),
    path("keys/<int:key_id>/policy/", views.key_policy, name="key-policy"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/export.csv", audit_views.audit_log_csv, name="audit-log-csv"),
]
