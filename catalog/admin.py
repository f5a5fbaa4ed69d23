"""Staff curation in Django admin. Prices are append-only: add a version, never edit one.

Every page checks the user's model permissions (the `operators` group grants the catalog's);
marketplace/tenancy/staff_access.py keeps staff without a second factor out.
"""

from django.contrib import admin
from django.db import models, transaction

from catalog.models import Endpoint, EndpointHealth, Model, Price, Provider, Status
from catalog.services import bump_catalog_version
from marketplace.tenancy.audit import record_audit


def _plain(value):
    """A form value as the audit log keeps it: related rows by primary key."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, models.QuerySet)):
        return [_plain(item) for item in value]
    return value


class VersionBumpingAdmin(admin.ModelAdmin):
    """Every admin write bumps the catalog version and writes a platform-wide audit entry
    (what changed, by which staff user) in its transaction (gateway + page cache + log)."""

    def _audit(self, request, obj, verb: str, *, before=None, after=None, label=""):
        record_audit(org=None, action=f"{obj._meta.model_name}.{verb}", actor=request.user,
                     target=obj, target_label=label, before=before, after=after)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            bump_catalog_version()
            fields = form.changed_data if change else list(form.cleaned_data)
            after = {name: _plain(form.cleaned_data.get(name)) for name in fields}
            if change:
                if fields:
                    before = {name: _plain(form.initial.get(name)) for name in fields}
                    self._audit(request, obj, "updated", before=before, after=after)
            else:
                self._audit(request, obj, "added" if isinstance(obj, Price) else "created",
                            after=after)

    def delete_model(self, request, obj):
        with transaction.atomic():
            pk, label = obj.pk, str(obj)
            super().delete_model(request, obj)
            bump_catalog_version()
            obj.pk = pk  # the entry names the row deleted
            self._audit(request, obj, "deleted", label=label)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            doomed = [(obj, obj.pk, str(obj)) for obj in queryset]
            super().delete_queryset(request, queryset)
            bump_catalog_version()
            for obj, pk, label in doomed:
                obj.pk = pk
                self._audit(request, obj, "deleted", label=label)


@admin.register(Provider)
class ProviderAdmin(VersionBumpingAdmin):
    list_display = ("slug", "name", "wire_format", "status", "is_sandbox", "retention_days",
                    "zdr")
    list_filter = ("wire_format", "status", "is_sandbox")
    search_fields = ("slug", "name")
    # A website typed without a scheme is an https one (Django 6's default; saying so now also
    # answers its deprecation warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Model)
class ModelAdmin(VersionBumpingAdmin):
    list_display = ("slug", "name", "context_length", "status")
    list_filter = ("status", "author", "supports_tools", "supports_vision")
    search_fields = ("slug", "name")


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    can_delete = False
    readonly_fields = ("effective_from", "input_nanos_per_m", "output_nanos_per_m",
                       "cache_read_nanos_per_m", "cache_write_nanos_per_m",
                       "reasoning_nanos_per_m", "request_nanos", "image_nanos", "source",
                       "source_date")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(VersionBumpingAdmin):
    list_display = ("model", "provider", "upstream_model_id", "context_length", "status")
    list_filter = ("status", "provider")
    search_fields = ("model__slug", "upstream_model_id")
    list_select_related = ("model", "provider")
    inlines = [PriceInline]
    actions = ["disable"]

    # Without `permissions` an action is offered to anyone who may view the list.
    @admin.action(description="Disable the selected endpoints", permissions=["change"])
    def disable(self, request, queryset):
        with transaction.atomic():
            endpoints = list(queryset.select_for_update().exclude(status=Status.DISABLED))
            Endpoint.objects.filter(pk__in=[e.pk for e in endpoints]).update(
                status=Status.DISABLED)
            bump_catalog_version()
            for endpoint in endpoints:
                self._audit(request, endpoint, "updated", before={"status": endpoint.status},
                            after={"status": Status.DISABLED})


@admin.register(Price)
class PriceAdmin(VersionBumpingAdmin):
    """Adding a row adds a new price version; existing versions are read-only."""

    list_display = ("endpoint", "effective_from", "input_nanos_per_m", "output_nanos_per_m",
                    "source_date")
    list_select_related = ("endpoint__model", "endpoint__provider")
    raw_id_fields = ("endpoint",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f.name for f in Price._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EndpointHealth)
class EndpointHealthAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "window", "p50_latency_ms", "uptime_bps", "sample_count",
                    "computed_at")
    list_filter = ("window",)
