"""Public catalog pages (no login): the model list with search/filters, and a model's page.

Thin: parse the query, call selectors, render. A malformed filter renders the list page with
the error and status 400; an unknown model slug is a 404.
"""

from django.http import Http404
from django.shortcuts import render

from catalog import selectors
from catalog.listing import CAPABILITIES, MODALITIES, SORTS, CatalogFilters
from core.errors import InvalidRequest, NotFound

SORT_LABELS = {"name": "Name", "price": "Price: low to high", "-price": "Price: high to low",
               "context": "Context length", "newest": "Newest"}


def model_list(request):
    rows = selectors.list_model_rows(selectors.get_catalog_stamp())
    error, status = None, 200
    try:
        filters = selectors.parse_catalog_filters(request.GET)
        results = selectors.filter_model_rows(rows, filters)
    except InvalidRequest as exc:
        filters, results, error, status = CatalogFilters(), [], exc.message, 400
    providers = sorted({p for row in rows for p in row.providers}, key=lambda p: p[1].lower())
    context = {
        "results": results, "total": len(rows), "filters": filters, "error": error,
        "params": request.GET, "providers": providers,
        "authors": sorted({row.author for row in rows}),
        "modalities": MODALITIES, "capabilities": list(CAPABILITIES),
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
    }
    return render(request, "catalog/model_list.html", context, status=status)


def model_detail(request, author: str, slug: str):
    try:
        model = selectors.get_model(f"{author}/{slug}")
    except NotFound:
        raise Http404("No such model.") from None
    endpoints = selectors.list_model_endpoints(model)
    ids = [e.id for e in endpoints]
    prices = selectors.current_prices(endpoint_ids=ids)
    health = selectors.get_endpoint_health(ids)
    rows = []
    for endpoint in endpoints:
        windows = health.get(endpoint.id, {})
        measured = windows.get("1h") or windows.get("1d")
        rows.append({
            "endpoint": endpoint, "provider": endpoint.provider,
            "price": prices.get(endpoint.id),
            "region": endpoint.region or ", ".join(endpoint.provider.regions or ()),
            "available": selectors.provider_available(endpoint.provider)
            and endpoint.status == "active",
            "health": measured if measured and measured.sample_count else None,
        })
    rows.sort(key=lambda r: (not r["available"], r["price"] is None,
                             r["price"].input_nanos_per_m if r["price"] else 0,
                             r["provider"].name))
    return render(request, "catalog/model_detail.html", {"model": model, "rows": rows})
