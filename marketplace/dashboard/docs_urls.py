"""The documentation's URLs, mounted at /docs/."""

from django.urls import path

from marketplace.dashboard.views import docs

urlpatterns = [
    path("", docs.doc_page, name="docs-index"),
    path("<slug:slug>/", docs.doc_page, name="docs-page"),
]
