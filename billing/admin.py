"""Billing in the Django admin: read-only money, plus audited staff actions.

Ledger rows are append-only, so their admins refuse add/change/delete. Staff grant promotional
credit from a wallet's page; the grant is a ledger transaction recording the staff user as its
actor, and a per-form idempotency key makes a double submit credit once. Staff set a wallet's
credit limit there too (billing/services/wallets.py). Margin rules, the platform default
among them, are edited here through billing/services/margins.py, so each change is in the
audit log. The wallet pages tell operators how to turn card top-ups on while they are off:
customers are only told to contact support.
"""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billing.models import (
    Hold,
    LedgerEntry,
    LedgerTransaction,
    MarginRule,
    UsageRecord,
    Wallet,
)
from billing.services.ledger import grant_promotional_credit
from billing.services.margins import delete_margin_rule, save_margin_rule
from billing.services.wallets import set_credit_limit
from billing.stripe_client import missing_settings
from core.errors import SwitchyardError
from core.money import dashboard_usd
from marketplace.fields import UsdFormField


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class GrantCreditForm(forms.Form):
    # Nanos, through the one money parser (at most $1M per grant, whole cents).
    amount_usd = UsdFormField(label="Amount (USD)", min_usd=Decimal("0.01"), max_usd=1_000_000,
                              places=2)
    memo = forms.CharField(max_length=300)
    # Generated when the form is shown: a resubmitted form posts the same grant only once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


class CreditLimitForm(forms.Form):
    credit_limit_usd = UsdFormField(label="Credit limit (USD)", max_usd=1_000_000, places=2,
                                    noun="credit limit")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("org", "currency", "balance", "held", "credit_limit", "updated_at")
    search_fields = ("org__name", "org__slug")
    readonly_fields = ("org", "currency", "balance_nanos", "held_nanos", "credit_limit_nanos")
    change_form_template = "admin/billing/wallet/change_form.html"

    @admin.display(description="Balance")
    def balance(self, obj):
        return dashboard_usd(obj.balance_nanos)

    @admin.display(description="Held")
    def held(self, obj):
        return dashboard_usd(obj.held_nanos)

    @admin.display(description="Credit limit")
    def credit_limit(self, obj):
        return dashboard_usd(obj.credit_limit_nanos)

    def get_urls(self):
        own = [
            path(
                "<int:wallet_id>/grant-credit/",
                self.admin_site.admin_view(self.grant_credit_view),
                name="billing_wallet_grant_credit",
            ),
            path(
                "<int:wallet_id>/credit-limit/",
                self.admin_site.admin_view(self.credit_limit_view),
                name="billing_wallet_credit_limit",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "stripe_missing": missing_settings()})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url,
            {**(extra_context or {}), "stripe_missing": missing_settings()})

    def credit_limit_view(self, request, wallet_id: int):
        if not request.user.has_perm("billing.change_wallet"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("org"), pk=wallet_id)
        if request.method == "POST":
            form = CreditLimitForm(request.POST)
            if form.is_valid():
                try:
                    set_credit_limit(wallet, form.cleaned_data["credit_limit_usd"],
                                     actor=request.user)
                except SwitchyardError as exc:
                    form.add_error(None, str(exc))
                else:
                    limit = dashboard_usd(form.cleaned_data["credit_limit_usd"])
                    messages.success(request, f"Credit limit of {wallet.org} set to {limit}.")
                    return redirect(reverse("admin:billing_wallet_change", args=[wallet.pk]))
        else:
            form = CreditLimitForm(
                initial={"credit_limit_usd": dashboard_usd(wallet.credit_limit_nanos)})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Credit limit of {wallet.org}",
            "wallet": wallet,
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/wallet/credit_limit.html", context)

    def grant_credit_view(self, request, wallet_id: int):
        if not request.user.has_perm("billing.add_ledgertransaction"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("org"), pk=wallet_id)
        if request.method == "POST":
            form = GrantCreditForm(request.POST)
            if form.is_valid():
                try:
                    posted = grant_promotional_credit(
                        wallet.org,
                        form.cleaned_data["amount_usd"],
                        memo=form.cleaned_data["memo"],
                        idempotency_key=f"admin-grant:{form.cleaned_data['idempotency_key']}",
                        actor=request.user,
                    )
                except SwitchyardError as exc:
                    form.add_error(None, str(exc))
                else:
                    verb = "Granted" if posted.created else "Already granted"
                    amount = dashboard_usd(form.cleaned_data["amount_usd"])
                    messages.success(request, f"{verb} {amount} to {wallet.org}.")
                    return redirect(reverse("admin:billing_wallet_change", args=[wallet.pk]))
        else:
            form = GrantCreditForm(initial={"idempotency_key": uuid.uuid4().hex})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Grant promotional credit to {wallet.org}",
            "wallet": wallet,
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/wallet/grant_credit.html", context)


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "amount_nanos")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "org", "kind", "idempotency_key", "wallet_delta", "actor", "memo")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "org__name", "memo")
    inlines = [LedgerEntryInline]
    readonly_fields = (
        "org", "kind", "idempotency_key", "memo", "created_at", "actor", "wallet_delta_nanos",
        "metadata",
    )

    @admin.display(description="Wallet change")
    def wallet_delta(self, obj):
        return dashboard_usd(obj.wallet_delta_nanos)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at", "org", "request_id", "served_model", "provider_slug", "charge_nanos",
        "posted_at",
    )
    list_filter = ("provider_slug", "is_byok", "estimated")
    search_fields = ("request_id", "org__name")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "org", "request_id", "amount_nanos", "status", "deadline_at")
    list_filter = ("status",)
    search_fields = ("request_id", "org__name")


@admin.register(MarginRule)
class MarginRuleAdmin(admin.ModelAdmin):
    """Every save and delete goes through the margins service, which audits it."""

    list_display = ("org", "model_slug", "provider_slug", "bps", "note", "updated_at")
    list_filter = ("org",)
    search_fields = ("model_slug", "provider_slug", "org__name")
    raw_id_fields = ("org",)

    def get_list_display(self, request):
        return ("scope",) + self.list_display[1:]

    @admin.display(description="Scope")
    def scope(self, obj):
        if obj.is_platform_default:
            return "Platform default (every org without a more specific rule)"
        return f"Org {obj.org}" if obj.org_id else "Platform"

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_platform_default:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        save_margin_rule(obj, actor=request.user)

    def delete_model(self, request, obj):
        delete_margin_rule(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for rule in queryset:
                if rule.is_platform_default:
                    continue  # refused one by one too; a bulk delete skips it
                delete_margin_rule(rule, actor=request.user)
