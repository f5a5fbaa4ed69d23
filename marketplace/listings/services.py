"""The verbs of the vendor side of sponsored listings, one transaction each, permission checks
inside (so the vendor pages, the campaigns API and the Django admin enforce the same rules).

Vendors (owners and admins of an org of kind vendor or both) run campaigns for the models staff
granted them and propose listing text; staff grant, approve and may pause any campaign. Every
change writes an audit entry in the vendor org's log, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.listing import CAPABILITIES
from catalog.models import Model, Provider
from core.errors import Conflict, Forbidden, InvalidRequest
from core.money import dashboard_usd, usd_to_nanos
from core.task_labels import LABELS
from marketplace.listings import selectors
from marketplace.listings.models import (
    Campaign,
    CampaignStatus,
    EditStatus,
    ListingEdit,
    Placement,
    Pricing,
    VendorGrant,
)
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import Organization
from marketplace.tenancy.roles import VENDOR_MANAGERS, Actor

# Bounds of what a vendor may type; the forms and serializers parse dollars within them.
MAX_BID_USD = 1_000
MAX_BUDGET_USD = 1_000_000
MAX_NAME_CHARS = 120
MAX_DESCRIPTION_CHARS = 4000
NOT_A_VENDOR = "Only vendor organizations can run campaigns."

# What the vendor may set on a campaign (model and pricing are fixed at creation).
EDITABLE_FIELDS = ("name", "placements", "target_tasks", "target_capabilities", "bid_nanos",
                   "daily_budget_nanos", "total_budget_nanos", "starts_on", "ends_on")
AUDITED_FIELDS = ("model", "pricing", *EDITABLE_FIELDS, "status")


def require_vendor_manager(org: Organization, actor: Actor) -> None:
    """A vendor org's owner or admin (a developer-only org is refused first, by name)."""
    if not org.is_vendor:
        raise Forbidden(NOT_A_VENDOR)
    if actor.role not in VENDOR_MANAGERS:
        raise Forbidden("Only owners and admins of a vendor organization can manage its "
                        "campaigns and listings.")


# --- grants (staff) ------------------------------------------------------------------------


@transaction.atomic
def add_grant(*, org: Organization, actor, provider: Provider | None = None,
              model: Model | None = None, evidence: str = "") -> VendorGrant:
    """Staff verified that `org` owns `provider` or `model` (exactly one)."""
    if (provider is None) == (model is None):
        raise InvalidRequest("A grant names either a provider or a model.", param="provider")
    if not org.is_vendor:
        raise InvalidRequest("Only vendor organizations can be granted models or providers "
                             "(its owner sets the kind in the organization's settings).",
                             param="org")
    if VendorGrant.objects.filter(org=org, provider=provider, model=model).exists():
        raise Conflict("This organization already has this grant.")
    grant = VendorGrant.objects.create(org=org, provider=provider, model=model,
                                       evidence=evidence.strip(),
                                       verified_by=actor if getattr(actor, "pk", None) else None)
    record_audit(org=org, action="vendor_grant.added", actor=actor, target=grant,
                 target_label=_grant_label(grant), after=_grant_values(grant))
    return grant


@transaction.atomic
def remove_grant(*, grant: VendorGrant, actor) -> None:
    """Withdraw a grant. Campaigns already running for its models keep their rows; serving
    checks what the org may promote now."""
    label, values, org_id = _grant_label(grant), _grant_values(grant), grant.org_id
    record_audit(org=org_id, action="vendor_grant.removed", actor=actor, target=grant,
                 target_label=label, before=values)
    grant.delete()


def _grant_label(grant: VendorGrant) -> str:
    return f"provider {grant.provider.slug}" if grant.provider_id else f"model {grant.model.slug}"


def _grant_values(grant: VendorGrant) -> dict[str, Any]:
    return {"provider": grant.provider.slug if grant.provider_id else None,
            "model": grant.model.slug if grant.model_id else None,
            "evidence": grant.evidence}


# --- listing text -----------------------------------------------------------------------------


def _clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    clean = list(dict.fromkeys(str(t).strip().lower() for t in tags or () if str(t).strip()))
    if len(clean) > catalog_services.MAX_LISTING_TAGS or any(
            len(t) > catalog_services.MAX_TAG_CHARS for t in clean):
        raise InvalidRequest(f"At most {catalog_services.MAX_LISTING_TAGS} tags of at most "
                             f"{catalog_services.MAX_TAG_CHARS} characters each.", param="tags")
    return clean


@transaction.atomic
def propose_listing_edit(*, org: Organization, actor: Actor, model_slug: str, description: str,
                         tags) -> ListingEdit:
    """A vendor proposes the description and tags of one of its models, for staff review."""
    require_vendor_manager(org, actor)
    model = selectors.access_promotable_model(org, model_slug)
    description = (description or "").strip()
    if not description:
        raise InvalidRequest("Write a description.", param="description")
    if len(description) > MAX_DESCRIPTION_CHARS or "\x00" in description:
        raise InvalidRequest(f"A description is at most {MAX_DESCRIPTION_CHARS} characters of "
                             "text.", param="description")
    edit = ListingEdit.objects.create(org=org, model=model, description=description,
                                      tags=_clean_tags(tags), submitted_by=actor.user)
    record_audit(org=org, action="listing_edit.proposed", actor=actor, target=edit,
                 target_label=model.slug, after={"model": model.slug,
                                                 "description": description, "tags": edit.tags})
    return edit


def _pending_edit(edit_id: int) -> ListingEdit:
    edit = ListingEdit.objects.select_for_update().select_related("model").get(pk=edit_id)
    if edit.status != EditStatus.PENDING:
        raise Conflict(f"This listing edit was already {edit.status}.")
    return edit


@transaction.atomic
def approve_listing_edit(*, edit: ListingEdit, actor, note: str = "") -> ListingEdit:
    """Staff approve: the text goes to the catalog (its own audited write) in this
    transaction."""
    edit = _pending_edit(edit.pk)
    catalog_services.set_listing_text(edit.model, description=edit.description, tags=edit.tags,
                                      actor=actor, source=f"listing edit {edit.pk}")
    return _review(edit, actor, EditStatus.APPROVED, note)


@transaction.atomic
def reject_listing_edit(*, edit: ListingEdit, actor, note: str = "") -> ListingEdit:
    return _review(_pending_edit(edit.pk), actor, EditStatus.REJECTED, note)


def _review(edit: ListingEdit, actor, status: str, note: str) -> ListingEdit:
    edit.status = status
    edit.reviewed_by = actor if getattr(actor, "pk", None) else None
    edit.reviewed_at = timezone.now()
    edit.review_note = (note or "").strip()[:300]
    edit.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    record_audit(org=edit.org_id, action=f"listing_edit.{status}", actor=actor, target=edit,
                 target_label=edit.model.slug, before={"status": EditStatus.PENDING},
                 after={"status": status, "note": edit.review_note})
    return edit


# --- campaigns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignInput:
    """Parsed input (money already in nanos, by the form or serializer)."""

    name: str
    placements: list[str]
    bid_nanos: int
    daily_budget_nanos: int
    total_budget_nanos: int
    starts_on: dt.date
    ends_on: dt.date | None = None
    target_tasks: list[str] | None = None
    target_capabilities: list[str] | None = None


def _subset(values, allowed, param: str, noun: str, *, required: bool = False) -> list[str]:
    if values is None:
        values = []
    if isinstance(values, str) or not isinstance(values, list | tuple | set | frozenset):
        raise InvalidRequest(f"{noun.capitalize()} are a list.", param=param)
    names = {str(v) for v in values}
    unknown = sorted(names - set(allowed))
    if unknown:
        raise InvalidRequest(f"Unknown {noun}: {', '.join(unknown)[:200]}. Choose from "
                             f"{', '.join(allowed)}.", param=param)
    if required and not names:
        raise InvalidRequest(f"Choose at least one of the {noun}.", param=param)
    return [v for v in allowed if v in names]  # the canonical order, no duplicates


def _positive(value, param: str, max_usd: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequest("Enter an amount above zero.", param=param)
    if value > usd_to_nanos(max_usd):
        raise InvalidRequest(f"The amount is at most {dashboard_usd(usd_to_nanos(max_usd))}.",
                             param=param)
    return value


def _validate(values: dict[str, Any], campaign: Campaign | None = None) -> dict[str, Any]:
    """Check and normalise every campaign field (the merged state for an update)."""
    name = (values.get("name") or "").strip()
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name:
        raise InvalidRequest(f"A campaign needs a name of at most {MAX_NAME_CHARS} characters.",
                             param="name")
    out = {
        "name": name,
        "placements": _subset(values.get("placements"), Placement.values, "placements",
                              "placements", required=True),
        "target_tasks": _subset(values.get("target_tasks"), LABELS, "target_tasks",
                                "task labels"),
        "target_capabilities": _subset(values.get("target_capabilities"), list(CAPABILITIES),
                                       "target_capabilities", "capabilities"),
        "bid_nanos": _positive(values.get("bid_nanos"), "bid_usd", MAX_BID_USD),
        "daily_budget_nanos": _positive(values.get("daily_budget_nanos"), "daily_budget_usd",
                                        MAX_BUDGET_USD),
        "total_budget_nanos": _positive(values.get("total_budget_nanos"), "total_budget_usd",
                                        MAX_BUDGET_USD),
        "starts_on": values.get("starts_on"),
        "ends_on": values.get("ends_on"),
    }
    if not isinstance(out["starts_on"], dt.date):
        raise InvalidRequest("Give the start date.", param="starts_on")
    if out["ends_on"] is not None and out["ends_on"] < out["starts_on"]:
        raise InvalidRequest("The end date is on or after the start date.", param="ends_on")
    if out["daily_budget_nanos"] > out["total_budget_nanos"]:
        raise InvalidRequest("The daily budget cannot exceed the total budget.",
                             param="daily_budget_usd")
    if campaign is not None:
        if out["total_budget_nanos"] < campaign.spent_nanos:
            raise InvalidRequest("The total budget cannot go below what the campaign has "
                                 "already spent.", param="total_budget_usd")
        if (campaign.spent_day == timezone.now().date()
                and out["daily_budget_nanos"] < campaign.spent_day_nanos):
            raise InvalidRequest("The daily budget cannot go below what the campaign has "
                                 "spent today.", param="daily_budget_usd")
    return out


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    values = {f: getattr(campaign, f) for f in AUDITED_FIELDS if f != "model"}
    values["model"] = campaign.model.slug
    return values


@transaction.atomic
def create_campaign(*, org: Organization, actor: Actor, model_slug: str, pricing: str,
                    data: CampaignInput) -> Campaign:
    require_vendor_manager(org, actor)
    if pricing not in Pricing.values:
        raise InvalidRequest(f"Pricing is one of {', '.join(Pricing.values)}.", param="pricing")
    model = selectors.access_promotable_model(org, model_slug)
    values = _validate(vars(data))
    campaign = Campaign.objects.create(org=org, model=model, pricing=pricing, **values)
    record_audit(org=org, action="campaign.created", actor=actor, target=campaign,
                 after=_snapshot(campaign))
    return campaign


def _locked(org: Organization, campaign_id: int) -> Campaign:
    selectors.access_campaign(org, campaign_id)  # NotFound for another vendor's id
    return Campaign.objects.select_for_update().select_related("model").get(pk=campaign_id)


@transaction.atomic
def update_campaign(*, org: Organization, actor: Actor, campaign_id: int,
                    changes: dict[str, Any]) -> Campaign:
    """Change any of EDITABLE_FIELDS; omitted fields stay. Model and pricing are fixed."""
    require_vendor_manager(org, actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidRequest(f"These cannot be changed: {', '.join(sorted(unknown))}.",
                             param=sorted(unknown)[0])
    campaign = _locked(org, campaign_id)
    before = _snapshot(campaign)
    merged = {f: getattr(campaign, f) for f in EDITABLE_FIELDS}
    merged.update(changes)
    for field, value in _validate(merged, campaign).items():
        setattr(campaign, field, value)
    after = _snapshot(campaign)
    changed = [f for f in AUDITED_FIELDS if before[f] != after[f]]
    if changed:
        campaign.save()
        record_audit(org=org, action="campaign.updated", actor=actor, target=campaign,
                     before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return campaign


def _set_status(campaign: Campaign, status: str, action: str, actor) -> Campaign:
    if campaign.status == status:
        return campaign  # a repeat changes nothing and writes no entry
    before = campaign.status
    campaign.status = status
    campaign.save(update_fields=["status", "updated_at"])
    record_audit(org=campaign.org_id, action=action, actor=actor, target=campaign,
                 before={"status": before}, after={"status": status})
    return campaign


@transaction.atomic
def pause_campaign(*, org: Organization, actor: Actor, campaign_id: int) -> Campaign:
    require_vendor_manager(org, actor)
    campaign = _locked(org, campaign_id)
    if campaign.status == CampaignStatus.STAFF_PAUSED:
        return campaign  # already not serving; staff's pause stays the reason
    return _set_status(campaign, CampaignStatus.PAUSED, "campaign.paused", actor)


@transaction.atomic
def resume_campaign(*, org: Organization, actor: Actor, campaign_id: int) -> Campaign:
    require_vendor_manager(org, actor)
    campaign = _locked(org, campaign_id)
    if campaign.status == CampaignStatus.STAFF_PAUSED:
        raise Forbidden("Staff paused this campaign; only staff can resume it. Contact "
                        "support.")
    return _set_status(campaign, CampaignStatus.ACTIVE, "campaign.resumed", actor)


@transaction.atomic
def staff_pause_campaign(*, campaign: Campaign, actor) -> Campaign:
    """Staff stop any campaign (the Django admin); the vendor cannot resume it."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    return _set_status(campaign, CampaignStatus.STAFF_PAUSED, "campaign.staff_paused", actor)


@transaction.atomic
def staff_unpause_campaign(*, campaign: Campaign, actor) -> Campaign:
    """Lift staff's pause; the campaign is left paused, for its vendor to resume."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.STAFF_PAUSED:
        return campaign
    return _set_status(campaign, CampaignStatus.PAUSED, "campaign.staff_unpaused", actor)
