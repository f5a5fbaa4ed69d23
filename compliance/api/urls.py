"""Compliance's management API URLs, mounted under `/api/v1/` ahead of tenancy's, so the key
policy route (`keys/<id>/policy/`) lives here while tenancy keeps the rest of `keys/`."""

from django.urls import path

from compliance.api import audit, policy

urlpatterns = [
    path("compliance/policy/", policy.OrgPolicyApi.as_view(), name="compliance-policy"),
    path("compliance/policy/versions/", policy.OrgPolicyVersionListApi.as_view(),
         name="compliance-policy-versions"),
    path("compliance/policy/versions/<int:version>/", policy.OrgPolicyVersionApi.as_view(),
         name="compliance-policy-version"),
    path("keys/<int:key_id>/policy/", policy.KeyPolicyApi.as_view(), name="key-policy"),
    path("keys/<int:key_id>/policy/versions/", policy.KeyPolicyVersionListApi.as_view(),
         name="key-policy-versions"),
    path("compliance/audit/", audit.AuditListApi.as_view(), name="compliance-audit"),
    path("compliance/audit/export.csv", audit.AuditExportApi.as_view(),
         name="compliance-audit-export"),
    path("compliance/audit/<int:entry_id>/", audit.AuditDetailApi.as_view(),
         name="compliance-audit-entry"),
]
