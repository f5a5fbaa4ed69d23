"""Reads of the listings app, scoped to the vendor org asking.

Another vendor's campaign or listing edit is NotFound exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import Model
from catalog.selectors import models_granted
from core.errors import NotFound
from marketplace.fields import MAX_ID
from marketplace.listings.models import Campaign, ListingEdit, VendorGrant
from marketplace.tenancy.models import Organization


def list_grants(org: Organization) -> QuerySet[VendorGrant]:
    return (VendorGrant.objects.filter(org=org).select_related("provider", "model")
            .order_by("created_at", "id"))


def promotable_models(org: Organization) -> QuerySet[Model]:
    """Models staff granted the org directly, and those with an active endpoint at a provider
    staff granted it; none for an org that is not a vendor."""
    if not org.is_vendor:
        return Model.objects.none()
    grants = list(VendorGrant.objects.filter(org=org).values_list("model_id", "provider_id"))
    return models_granted(model_ids=[m for m, _ in grants if m is not None],
                          provider_ids=[p for _, p in grants if p is not None])


def access_promotable_model(org: Organization, slug: str) -> Model:
    """One of the org's promotable models by slug; any other model is NotFound."""
    model = promotable_models(org).filter(slug=slug).first() if slug else None
    if model is None:
        raise NotFound(f"Model {slug!r} is not one of your promotable models.")
    return model


def list_campaigns(org: Organization) -> QuerySet[Campaign]:
    return (Campaign.objects.filter(org=org).select_related("model")
            .order_by("-created_at", "-id"))


def access_campaign(org: Organization, campaign_id: int | str) -> Campaign:
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound("Campaign not found.") from None
    if not 0 < campaign_id <= MAX_ID:
        raise NotFound("Campaign not found.")
    campaign = list_campaigns(org).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("Campaign not found.")
    return campaign


def list_listing_edits(org: Organization) -> QuerySet[ListingEdit]:
    return (ListingEdit.objects.filter(org=org).select_related("model")
            .order_by("-created_at", "-id"))
