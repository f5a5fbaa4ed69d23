"""Staff's side of sponsored listings in the Django admin, every write through the services.

- Vendor grants: add (a provider or a model a vendor org verifiably owns) and delete; a grant is
  never edited (delete it and add another), and each add or delete is audited in the vendor's
  log by `services.add_grant` / `services.remove_grant`.
- Listing edits: approve (the text goes to the catalog) or reject, as actions.
- Campaigns: read-only, with staff pause and unpause actions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from core.errors import SwitchyardError
from marketplace.listings import services
from marketplace.listings.models import Campaign, EditStatus, ListingEdit, VendorGrant


class VendorGrantForm(forms.ModelForm):
    class Meta:
        model = VendorGrant
        fields = ("org", "provider", "model", "evidence")

    def clean(self):
        cleaned = super().clean()
        org = cleaned.get("org")
        if (cleaned.get("provider") is None) == (cleaned.get("model") is None):
            raise forms.ValidationError("Choose either a provider or a model.")
        if org is not None and not org.is_vendor:
            raise forms.ValidationError(
                "This organization is not a vendor: its owner sets the kind in the "
                "organization's settings first.")
        return cleaned


@admin.register(VendorGrant)
class VendorGrantAdmin(admin.ModelAdmin):
    form = VendorGrantForm
    list_display = ("org", "provider", "model", "verified_by", "created_at")
    list_select_related = ("org", "provider", "model", "verified_by")
    search_fields = ("org__name", "provider__slug", "model__slug")
    raw_id_fields = ("org", "provider", "model")

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed; a grant is replaced, not edited.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        grant = services.add_grant(org=obj.org, actor=request.user, provider=obj.provider,
                                   model=obj.model, evidence=obj.evidence)
        obj.pk = grant.pk  # the admin's redirect and message name the saved row
        obj.created_at = grant.created_at

    def delete_model(self, request, obj):
        services.remove_grant(grant=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for grant in queryset.select_related("provider", "model"):
                services.remove_grant(grant=grant, actor=request.user)


def _each(modeladmin, request, queryset, verb, done: str) -> None:
    count, failures = 0, []
    for obj in queryset:
        try:
            verb(obj)
        except SwitchyardError as error:
            failures.append(f"{obj}: {error.message}")
        else:
            count += 1
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


class ReadOnlyFieldsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(ListingEdit)
class ListingEditAdmin(ReadOnlyFieldsAdmin):
    list_display = ("model", "org", "status", "created_at", "reviewed_by")
    list_filter = ("status",)
    list_select_related = ("model", "org", "reviewed_by")
    search_fields = ("model__slug", "org__name")
    actions = ["approve", "reject"]

    @admin.action(description="Approve: publish the text on the model's listing",
                  permissions=["change"])
    def approve(self, request, queryset):
        _each(self, request, queryset.filter(status=EditStatus.PENDING),
              lambda edit: services.approve_listing_edit(edit=edit, actor=request.user),
              "listing edit(s) approved and published")

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request, queryset):
        _each(self, request, queryset.filter(status=EditStatus.PENDING),
              lambda edit: services.reject_listing_edit(edit=edit, actor=request.user),
              "listing edit(s) rejected")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyFieldsAdmin):
    list_display = ("name", "org", "model", "status", "pricing", "spent_nanos",
                    "total_budget_nanos", "starts_on", "ends_on")
    list_filter = ("status", "pricing")
    list_select_related = ("org", "model")
    search_fields = ("name", "org__name", "model__slug")
    actions = ["staff_pause", "staff_unpause"]

    @admin.action(description="Pause (staff): the vendor cannot resume it",
                  permissions=["change"])
    def staff_pause(self, request, queryset):
        _each(self, request, queryset,
              lambda c: services.staff_pause_campaign(campaign=c, actor=request.user),
              "campaign(s) paused by staff")

    @admin.action(description="Lift staff's pause (the vendor resumes it)",
                  permissions=["change"])
    def staff_unpause(self, request, queryset):
        _each(self, request, queryset,
              lambda c: services.staff_unpause_campaign(campaign=c, actor=request.user),
              "campaign(s) released to their vendor")
