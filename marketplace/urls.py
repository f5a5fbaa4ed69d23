"""Django's URLs. `/v1/` never reaches here: marketplace/asgi.py sends it to the gateway."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from compliance.jwks import jwks_view
from marketplace.tenancy.staff_access import admin_login

api_v1 = [
    # Before tenancy's include: compliance serves `keys/<id>/policy/` (tenancy imports no app).
    path("", include("compliance.api.urls")),
    path("", include("marketplace.tenancy.api.urls")),
    path("catalog/", include("catalog.api.urls")),
    path("billing/", include("billing.api.urls")),
    path("compliance/byok/", include("compliance.api.byok_urls")),
    path("compliance/content/", include("compliance.api.content")),
    path("routing/", include("routing.api.urls")),
    path("requests/", include("observability.api.urls")),
    path("alerts/", include("observability.alerts.api_urls")),
    path("analytics/", include("observability.api.analytics_urls")),
    path("listings/", include("marketplace.listings.api.urls")),
]

urlpatterns = [
    # Before the admin's own login form: staff sign in through allauth (second factor, limits).
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_v1)),
    # Public: the keys signed receipts (GET /v1/generation/receipt) verify against.
    path(".well-known/jwks.json", jwks_view, name="receipts-jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script): no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("models", include("marketplace.dashboard.catalog_urls")),
    path("billing/", include("billing.urls")),
    path("compliance/byok/", include("compliance.urls_byok")),
    path("compliance/", include("compliance.urls")),
    path("routing/", include("routing.urls")),
    path("requests/", include("observability.urls")),
    path("analytics/", include("observability.analytics_urls")),
    path("docs/", include("marketplace.dashboard.docs_urls")),
    path("dashboard/alerts/", include("observability.alerts.urls")),
    path("listings/", include("marketplace.listings.beacon_urls")),
    path("vendor/", include("marketplace.listings.urls")),
    path("", include("marketplace.dashboard.urls")),
]
