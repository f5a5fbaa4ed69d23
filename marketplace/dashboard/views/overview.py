"""The org overview: balance, spend, the daily chart, top models and keys, the last requests,
the recommendations (organic, with the sponsored slots beside them) and the quick start (which
mints the org's first inference key when it has none).

Every figure comes from billing's selectors, each one aggregate query, so the page costs the
same few queries whatever the org's usage (tests/dashboard/test_overview.py counts them). The
organic recommendations are observability's, cached a few minutes per org (a handful of
aggregate queries when they are computed); the sponsored slots are the listings app's auction
for the org's top tasks.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing.hotpath.rules import period_starts
from billing.selectors import spend_summary
from core import charts
from core.errors import Conflict, InvalidRequest
from marketplace.dashboard import quickstart
from marketplace.dashboard.forms import add_service_error
from marketplace.dashboard.overview_forms import FirstKeyForm
from marketplace.listings import serving
from marketplace.listings.models import Placement
from marketplace.tenancy import key_services, selectors
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.models import KeyScope
from marketplace.tenancy.roles import BILLING_ROLES, KEY_CREATORS, KEY_VIEWERS
from observability import recommendations as organic

# Organic recommendations shown on the card, and how many of the org's top tasks the
# sponsored slots are targeted at.
CARD_RECOMMENDATIONS = 3
SPONSORED_TASKS = 3


def _context(request, *, first_key_form=None, new_key=None) -> dict:
    org, role = request.org, request.membership.role
    now = timezone.now()
    spend = spend_summary.get_spend_overview(org.pk, now=now)
    top_models = spend.top_models
    context = {
        "org": org,
        "balance": spend_summary.get_balance_overview(org.pk),
        "totals": spend.totals,
        "spend_chart": charts.spend_by_group(spend.days, spend.daily_by_model),
        "top_models": top_models,
        "top_keys": spend_summary.list_top_keys(org.pk, since=period_starts(now)["month"]),
        "recent": spend_summary.list_recent_usage(org.pk),
        "can_billing": role in BILLING_ROLES,
        "can_keys": role in KEY_VIEWERS,
        "can_create_keys": role in KEY_CREATORS,
        "new_key": new_key,
        **_recommendations(request),
    }
    if context["can_keys"]:
        has_key = new_key is not None or selectors.list_api_keys(
            org, include_revoked=False).filter(scope=KeyScope.INFERENCE).exists()
        context.update(
            has_inference_key=has_key,
            first_key_form=first_key_form or FirstKeyForm(),
            api_base=quickstart.api_base(),
            snippets=quickstart.snippets(top_models[0]["model"] if top_models else None),
        )
    return context


def _recommendations(request) -> dict:
    """The card: organic recommendations with their computation, and beside them the sponsored
    slots for the org's top tasks (labelled; the auction applies its quality gates, and only
    models that clear the organic recommendations' bar compete)."""
    found = organic.cached_recommendations(request.org)
    sponsored = serving.sponsored_slots(request, serving.SlotContext(
        placement=Placement.RECOMMENDATIONS.value, page=request.get_full_path(),
        tasks=frozenset(found.top_tasks[:SPONSORED_TASKS]),
        # The model the org spends most on: its rivals compete, it is never advertised to it.
        competing_with=found.top_model,
        # Held to the organic bar: measured on one of the org's tasks at least as well as the
        # model it uses there.
        only_models=found.sponsorable))
    return {
        "recommendations": found.recommendations[:CARD_RECOMMENDATIONS],
        "sponsored": sponsored,
        "recommendation_rules": {
            "days": organic.WINDOW.days, "min_sample": organic.MIN_SAMPLE,
            "min_saving_percent": organic.MIN_SAVING_BPS // 100,
            "faster_percent": 100 - organic.FASTER_BPS // 100,
        },
    }


@never_cache  # no-store: the quick start may show a new key's secret
@org_member_required()
@require_http_methods(["GET"])
def overview(request):
    return render(request, "dashboard/overview.html", _context(request))


@never_cache
@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["POST"])
def create_first_key(request):
    """The quick start's "create my first key": rendered, never redirected, so the secret
    is shown once and never reaches the session."""
    if request.membership.role not in KEY_CREATORS:
        return forbidden(request, "Your role cannot create API keys.")
    form = FirstKeyForm(request.POST)
    new_key = None
    if form.is_valid():
        try:
            key, plaintext = key_services.create_api_key(
                org=request.org, name=form.cleaned_data["name"], scope=KeyScope.INFERENCE,
                actor=request.actor)
        except (InvalidRequest, Conflict) as error:
            add_service_error(form, error)
        else:
            new_key = {"key": key, "plaintext": plaintext}
            form = None
    return render(request, "dashboard/overview.html",
                  _context(request, first_key_form=form, new_key=new_key),
                  status=200 if new_key else 400)
