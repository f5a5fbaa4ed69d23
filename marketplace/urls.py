"""Django's URLs. `/v1/` never reaches here: marketplace/asgi.py sends it to the gateway."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from marketplace.tenancy.staff_access import admin_login

api_v1 = [
    path("", include("marketplace.tenancy.api.urls")),
    path("catalog/", include("catalog.api.urls")),
    path("billing/", include("billing.api.urls")),
    path("compliance/byok/", include("compliance.api.byok_urls")),
]

urlpatterns = [
    # Before the admin's own login form: staff sign in through allauth (second factor, limits).
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script): no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("models", include("catalog.urls")),
    path("billing/", include("billing.urls")),
    path("compliance/byok/", include("compliance.urls_byok")),
    path("", include("marketplace.dashboard.urls")),
]
