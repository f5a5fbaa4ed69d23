"""Compliance management API, mounted at /api/v1/compliance/."""

from django.urls import path

from compliance.api import audit

urlpatterns = [
    path("audit/", audit.AuditListApi.as_view(), name="compliance-audit"),
    path("audit/export.csv", audit.AuditExportApi.as_view(), name="compliance-audit-export"),
    path("audit/<int:entry_id>/", audit.AuditDetailApi.as_view(), name="compliance-audit-entry"),
]
