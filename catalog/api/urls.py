"""Catalog management API, mounted at /api/v1/catalog/."""

from django.urls import path

from catalog.api import views

urlpatterns = [
    path("providers/", views.ProviderListApi.as_view(), name="catalog-providers"),
    path("providers/<slug:slug>/", views.ProviderDetailApi.as_view(), name="catalog-provider"),
    path("models/", views.ModelListApi.as_view(), name="catalog-models"),
    path("models/<str:author>/<str:slug>/", views.ModelDetailApi.as_view(),
         name="catalog-model"),
    path("endpoints/", views.EndpointListApi.as_view(), name="catalog-endpoints"),
    path("endpoints/<int:endpoint_id>/", views.EndpointDetailApi.as_view(),
         name="catalog-endpoint"),
    path("endpoints/<int:endpoint_id>/disable/", views.EndpointDisableApi.as_view(),
         name="catalog-endpoint-disable"),
    path("prices/", views.PriceListApi.as_view(), name="catalog-prices"),
]
