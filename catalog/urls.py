"""Public catalog pages, mounted at `/models` (so these patterns start with "" and "/")."""

from django.urls import path
from django.views.generic import RedirectView

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_list, name="model-list"),
    path("/", RedirectView.as_view(url="/models", query_string=True)),
    path("/<str:author>/<str:slug>", views.model_detail, name="model-detail"),
]
