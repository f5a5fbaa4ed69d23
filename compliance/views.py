"""Dashboard pages for policies: the org's policy with its version history, any old version,
and one key's policy.

Every member but finance reads (as keys and members); owners and admins edit, which the
services check too. Others see the form disabled and a POST answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from compliance import selectors
from compliance.forms import KeyPolicyForm, OrgPolicyForm
from compliance.services import PolicyUpdate, update_key_policy, update_org_policy
from core.errors import InvalidRequest
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.roles import KEY_VIEWERS, SETTINGS_EDITORS
from marketplace.tenancy.selectors import access_api_key

HISTORY_PAGE_SIZE = 20
READ_ONLY = "Only owners and admins can change policies."


def _saved_message(request: HttpRequest, saved: PolicyUpdate, what: str) -> None:
    if saved.changed:
        messages.success(request, f"Saved {what} as version {saved.policy.version}.")
    elif saved.policy is None:
        messages.info(request, f"Nothing changed; {what} still has no saved version.")
    else:
        messages.info(request, f"Nothing changed; {what} stays at version "
                               f"{saved.policy.version}.")


@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["GET", "POST"])
def org_policy(request: HttpRequest) -> HttpResponse:
    org = request.org
    editable = request.membership.role in SETTINGS_EDITORS
    if request.method == "POST" and not editable:
        return forbidden(request, READ_ONLY)
    current = selectors.current_org_policy(org.pk)
    values = selectors.org_policy_values(current)
    form = OrgPolicyForm(request.POST if request.method == "POST" else None,
                         initial=OrgPolicyForm.initial_from(values), editable=editable,
                         choices=selectors.policy_choices(), current=values)
    if request.method == "POST" and form.is_valid():
        try:
            saved = update_org_policy(org, request.actor, form.policy_fields())
        except InvalidRequest as error:
            _add_error(form, error)
        else:
            _saved_message(request, saved, "the organization's policy")
            return redirect("compliance:policy")
    history = Paginator(selectors.list_org_policy_versions(org.pk), HISTORY_PAGE_SIZE)
    page = history.get_page(request.GET.get("page"))
    context = {
        "form": form, "editable": editable, "policy": current, "page": page,
        "history": _history(org.pk, page), "current_version": values["version"],
    }
    return render(request, "compliance/policy.html", context,
                  status=400 if form.is_bound and form.errors else 200)


@org_member_required(roles=KEY_VIEWERS)
@require_GET
def org_policy_version(request: HttpRequest, version: int) -> HttpResponse:
    org = request.org
    policy = selectors.access_org_policy_version(org.pk, version)  # NotFound: 404
    previous = selectors.list_org_policy_versions(org.pk).filter(
        version__lt=policy.version).first()
    values = selectors.org_policy_values(policy)
    before = selectors.org_policy_values(previous) if previous else None
    rows = [(name, values[name], before is not None and before[name] != values[name])
            for name in selectors.ORG_POLICY_FIELDS]
    context = {
        "policy": policy, "rows": rows, "previous": previous,
        "author": selectors.policy_authors(org.pk, [policy])[policy.version],
        "current": selectors.current_org_policy(org.pk),
    }
    return render(request, "compliance/policy_version.html", context)


@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["GET", "POST"])
def key_policy(request: HttpRequest, key_id: int) -> HttpResponse:
    org = request.org
    key = access_api_key(org, key_id)  # another org's key: 404, as a missing one
    editable = request.membership.role in SETTINGS_EDITORS
    if request.method == "POST" and not editable:
        return forbidden(request, READ_ONLY)
    current = selectors.current_key_policy(org.pk, key.pk)
    values = selectors.key_policy_values(current)
    form = KeyPolicyForm(request.POST if request.method == "POST" else None, initial=values,
                         editable=editable, choices=selectors.policy_choices(), current=values)
    if request.method == "POST" and form.is_valid():
        try:
            saved = update_key_policy(key, request.actor, form.policy_fields())
        except InvalidRequest as error:
            _add_error(form, error)
        else:
            _saved_message(request, saved, f"the policy of “{key.name}”")
            return redirect("compliance:key-policy", key_id=key.pk)
    versions = selectors.list_key_policy_versions(org.pk, key.pk)[:HISTORY_PAGE_SIZE]
    context = {
        "key": key, "form": form, "editable": editable, "policy": current,
        "history": _history(org.pk, versions), "current_version": values["version"],
        "org_policy": selectors.current_org_policy(org.pk),
    }
    return render(request, "compliance/key_policy.html", context,
                  status=400 if form.is_bound and form.errors else 200)


def _history(org_id: int, versions) -> list[tuple[object, str]]:
    versions = list(versions)
    authors = selectors.policy_authors(org_id, versions)
    return [(version, authors[version.version].label) for version in versions]


def _add_error(form, error: InvalidRequest) -> None:
    """A service error on the field it names, else on the form."""
    field = error.metadata.get("param")
    form.add_error(field if field in form.fields else None, error.message)
