"""The dashboard's BYOK page: the org's provider keys (last four characters only), add one,
remove one. Owners and admins; the same services back `/api/v1/compliance/byok/`."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from catalog.models import Status
from catalog.selectors import list_providers
from compliance import byok, selectors
from compliance.vault import VaultNotConfigured
from core.errors import Conflict, InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import SETTINGS_EDITORS


class ByokKeyForm(forms.Form):
    provider = forms.ChoiceField(label="Provider")
    # Never rendered back: a failed submission asks for the key again.
    api_key = forms.CharField(label="API key", max_length=byok.MAX_KEY_LENGTH,
                              widget=forms.PasswordInput(attrs={"autocomplete": "off"}))
    base_url = forms.CharField(label="Base URL (optional)", required=False,
                               max_length=byok.MAX_BASE_URL_LENGTH,
                               help_text="Leave empty for the provider's own API.")
    always_use = forms.BooleanField(
        label="Always use my key", required=False,
        help_text="Never fall back to the platform's key for this provider.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [
            (p.slug, p.name) for p in list_providers()
            if p.status == Status.ACTIVE and p.is_sandbox == settings.SANDBOX]


@sensitive_post_parameters("api_key")  # never in Django's error reports
@org_member_required(roles=SETTINGS_EDITORS)
def byok_keys(request: HttpRequest) -> HttpResponse:
    org = request.org
    form = ByokKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row, replaced = byok.add_byok_key(
                org=org, actor=request.actor, provider=data["provider"],
                api_key=data["api_key"], base_url=data["base_url"],
                always_use=data["always_use"])
        except InvalidRequest as exc:
            field = exc.metadata.get("param")
            form.add_error(field if field in form.fields else None, exc.message)
        except (VaultNotConfigured, Conflict) as exc:
            form.add_error(None, exc.message)
        else:
            verb = "Replaced" if replaced else "Added"
            messages.success(request, f"{verb} the {row.provider.name} key …{row.last4}.")
            return redirect("compliance-byok:list")
    return render(request, "compliance/byok.html",
                  {"keys": selectors.list_byok_keys(org), "form": form},
                  status=400 if form.errors else 200)


@require_POST
@org_member_required(roles=SETTINGS_EDITORS)
def remove_byok_key(request: HttpRequest, byok_id: int) -> HttpResponse:
    row = selectors.access_byok_key(request.org, byok_id)
    byok.remove_byok_key(org=request.org, actor=request.actor, byok_id=row.pk)
    messages.success(request, f"Removed the {row.provider.name} key …{row.last4}; requests "
                              "use the platform's key again.")
    return redirect("compliance-byok:list")
