"""Staff views of tenancy rows. Keys and invitations are minted only through the services
(their secrets exist only at creation), so the admin cannot add them, only inspect. The audit
log is read-only here: staff see every org's entries and the platform-wide ones (catalog and
platform margin changes), which no org's log shows."""

from django.contrib import admin

from marketplace.tenancy.models import ApiKey, AuditEntry, Invitation, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at", "billing_email")
    search_fields = ("name", "slug", "legal_name", "billing_email")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "org", "role", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "org")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "org", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = ("token_hash",)

    def has_add_permission(self, request):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "org", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("name", "prefix")
    # Lineage is fixed at minting: editing it would unhook a key from its parent's revocation.
    readonly_fields = (
        "prefix", "key_hash", "created_by", "parent_key", "created_at", "last_used_at"
    )

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "org", "action", "actor_label", "target_label", "client_ip")
    list_filter = ("action",)
    search_fields = ("action", "actor_label", "target_label", "org__name")
    raw_id_fields = ("org", "actor_user", "actor_key")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
