"""/docs/ and /docs/<page>/: the product documentation, public (no sign-in)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplace.dashboard.docs import PAGES, get_page


@require_GET
def doc_page(request, slug: str = ""):
    page = get_page(slug)
    if page is None:
        return render(request, "docs/not_found.html", {"pages": PAGES, "slug": slug},
                      status=404)
    return render(request, "docs/page.html", {"page": page, "pages": PAGES})
