"""The public catalog pages (/models, /models/<author>/<slug>), priced for the viewer.

They compose the catalog (models, endpoints, health), billing (the viewer's margin, requests
per model) and tenancy (the viewer's current org), so they live above all three. Query counts
are fixed: the list reads the catalog stamp, the cached index (on a miss), the margin table,
the health rollups and the 7-day request counts, whatever the number of models.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render

from billing.selectors.popularity import count_requests_by_model
from catalog import selectors
from catalog.listing import CAPABILITIES, MODALITIES, PAGE_SIZE, SORTS, CatalogFilters
from core.errors import InvalidRequest, NotFound
from marketplace.dashboard.viewer_prices import fee_percent, viewer_prices
from marketplace.listings.models import Placement
from marketplace.listings.serving import SlotContext, sponsored_slots
from marketplace.tenancy.current_org import current_membership

SORT_LABELS = {"name": "Name", "price": "Price: low to high", "-price": "Price: high to low",
               "context": "Context length", "latency": "Latency: fastest first",
               "throughput": "Throughput: highest first", "popularity": "Popularity (7 days)",
               "newest": "Newest"}


# The request records' task labels (routing/task_labels/labels.py; the dashboard may not import
# routing): a search naming one makes the list a page about that task for sponsored targeting.
TASK_LABELS = ("coding", "extraction", "summarization", "translation", "classification",
               "document_qa", "chat", "creative_writing", "math_reasoning", "agentic")


def search_tasks(q: str) -> frozenset[str]:
    """The task labels a search names as whole words ("document qa", "Extraction",
    "math-reasoning"; not "chatgpt")."""
    words = f' {" ".join(q.lower().replace("-", " ").replace("_", " ").split())} '
    return frozenset(label for label in TASK_LABELS
                     if f' {label.replace("_", " ")} ' in words)


def _viewer(request):
    membership = current_membership(request)
    request.membership = membership  # base.html's navigation reads it rather than again
    return viewer_prices(membership)


def _fee_note(viewer, varies: bool) -> str:
    who = f"Prices are what {viewer.org_name} pays," if viewer.org_id else "Prices are"
    note = f"{who} in US dollars per million tokens, and include Switchyard's " \
           f"{fee_percent(viewer.fee_bps)} platform fee."
    if varies:
        note += " Some models and providers carry a different fee; each price includes its own."
    return note


def _query_without_page(params) -> str:
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


def model_list(request):
    viewer = _viewer(request)
    rows = selectors.list_model_rows(selectors.get_catalog_stamp())
    entries = selectors.build_entries(
        rows, price_of=viewer.price_of, routable_of=selectors.provider_routable,
        margin_of=viewer.bps, health=selectors.get_measured_speeds(),
        popularity=count_requests_by_model())
    error, status = None, 200
    try:
        filters = selectors.parse_catalog_filters(request.GET)
        results = selectors.filter_entries(entries, filters)
    except InvalidRequest as exc:
        filters, results, error, status = CatalogFilters(), [], exc.message, 400
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    sponsored = [] if error else sponsored_slots(request, SlotContext(
        placement=Placement.CATALOG, page=request.get_full_path(),
        tasks=search_tasks(filters.q),
        capabilities=frozenset([filters.capability] if filters.capability else [])))
    context = {
        # Sponsored slots top the results, inside the part htmx swaps, so a new search gets
        # its own; model_list.html loads their script and style once for every swap.
        "sponsored": sponsored, "sponsored_script_loaded": True,
        "page": page, "results_count": len(results), "total": len(rows),
        "routable_count": sum(e.routable for e in entries), "sandbox": settings.SANDBOX,
        "filters": filters, "error": error, "params": request.GET,
        "query": _query_without_page(request.GET),
        "providers": sorted({p for row in rows for p in row.providers},
                            key=lambda p: p[1].lower()),
        "authors": sorted({row.author for row in rows}),
        "modalities": MODALITIES, "capabilities": list(CAPABILITIES),
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
        "fee_note": _fee_note(viewer, any(e.margin_bps not in (None, viewer.fee_bps)
                                          for e in page)),
    }
    # The type-ahead search swaps only the results (htmx); without JS the whole page renders.
    template = "catalog/_results.html" if request.htmx and not request.htmx.boosted \
        else "catalog/model_list.html"
    return render(request, template, context, status=status)


def _snippets(slug: str) -> dict[str, str]:
    base = settings.PUBLIC_URL.rstrip("/") + "/v1"
    curl = (f"curl {base}/chat/completions \\\n"
            '  -H "Authorization: Bearer $SWITCHYARD_API_KEY" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{{\"model\": \"{slug}\", "
            '"messages": [{"role": "user", "content": "Hello!"}]}\'')
    python = ("import os\nfrom openai import OpenAI\n\n"
              f'client = OpenAI(base_url="{base}", api_key=os.environ["SWITCHYARD_API_KEY"])\n'
              "reply = client.chat.completions.create(\n"
              f'    model="{slug}",\n'
              '    messages=[{"role": "user", "content": "Hello!"}],\n)\n'
              "print(reply.choices[0].message.content)")
    return {"curl": curl, "python": python}


def model_detail(request, author: str, slug: str):
    viewer = _viewer(request)
    try:
        model = selectors.get_model(f"{author}/{slug}")
    except NotFound:
        return render(request, "catalog/model_not_found.html",
                      {"slug": f"{author}/{slug}"[:200]}, status=404)
    endpoints = selectors.list_model_endpoints(model)
    ids = [e.id for e in endpoints]
    prices = selectors.current_prices(endpoint_ids=ids)
    health = selectors.get_endpoint_health(ids)
    rows = []
    for endpoint in endpoints:
        windows = health.get(endpoint.id, {})
        measured = windows.get("1h") or windows.get("1d")
        price = prices.get(endpoint.id)
        bps = viewer.bps(model.slug, endpoint.provider.slug)
        rows.append({
            "endpoint": endpoint, "provider": endpoint.provider,
            "input_nanos": viewer.price_of(price.input_nanos_per_m, model.slug,
                                           endpoint.provider.slug) if price else None,
            "output_nanos": viewer.price_of(price.output_nanos_per_m, model.slug,
                                            endpoint.provider.slug) if price else None,
            "margin_bps": bps,
            "region": endpoint.region or ", ".join(endpoint.provider.regions or ()),
            "available": price is not None and endpoint.status == "active"
            and selectors.provider_available(endpoint.provider),
            "health": measured if measured and measured.sample_count else None,
        })
    rows.sort(key=lambda r: (not r["available"], r["input_nanos"] is None,
                             r["input_nanos"] or 0, r["provider"].name))
    routable = [r for r in rows if r["available"]]
    sponsored = sponsored_slots(request, SlotContext(
        placement=Placement.ALTERNATIVES, page=request.get_full_path(),
        capabilities=frozenset(c for c, field in CAPABILITIES.items()
                               if getattr(model, field)),
        competing_with=model.slug))
    context = {
        "sponsored": sponsored,
        "model": model, "rows": rows, "routable": routable, "sandbox": settings.SANDBOX,
        "snippets": _snippets(model.slug),
        "fee_note": _fee_note(viewer, any(r["margin_bps"] != viewer.fee_bps for r in rows)),
    }
    return render(request, "catalog/model_detail.html", context)
