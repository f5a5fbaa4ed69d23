"""Staff changes to margin rules, each audited in its own transaction.

A platform-wide rule's entry has no org (it is every org's price); an org's contract rule is
recorded in that org's log, so its owners see who changed what they pay. The gateway picks a
change up on its next margin-table poll (billing.selectors.spend.get_margin_table's version).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.models import MarginRule
from core.errors import Conflict, InvalidRequest
from marketplace.tenancy.audit import record_audit

_FIELDS = ("org_id", "model_slug", "provider_slug", "bps", "note")


def _snapshot(rule: MarginRule) -> dict:
    return {name: getattr(rule, name) for name in _FIELDS}


@transaction.atomic
def save_margin_rule(rule: MarginRule, *, actor) -> MarginRule:
    """Create or change `rule` as given; record `margin_rule.created` or `.updated`."""
    old = (MarginRule.objects.select_for_update().filter(pk=rule.pk).first()
           if rule.pk is not None else None)
    try:
        rule.full_clean()
        with transaction.atomic():
            rule.save()
    except ValidationError as exc:
        raise InvalidRequest("; ".join(exc.messages)) from exc
    except IntegrityError as exc:
        raise Conflict("A margin rule for this scope already exists.") from exc
    before = _snapshot(old) if old is not None else None
    after = _snapshot(rule)
    if before is not None:
        # An org moved between scopes is recorded in the log of the org it now belongs to.
        changed = [name for name in _FIELDS if before[name] != after[name]]
        if not changed:
            return rule
        before = {name: before[name] for name in changed}
        after = {name: after[name] for name in changed}
    record_audit(org=rule.org_id, action="margin_rule.updated" if old else "margin_rule.created",
                 actor=actor, target=rule, before=before, after=after)
    return rule


@transaction.atomic
def delete_margin_rule(rule: MarginRule, *, actor) -> None:
    if rule.is_platform_default:
        # Every price is computed from it; staff change its figure instead.
        raise InvalidRequest("The platform default margin cannot be deleted; edit its figure.")
    before = _snapshot(rule)
    pk, org_id, label = rule.pk, rule.org_id, str(rule)
    rule.delete()
    rule.pk = pk  # the entry names the row deleted
    record_audit(org=org_id, action="margin_rule.deleted", actor=actor, target=rule,
                 target_label=label, before=before)
