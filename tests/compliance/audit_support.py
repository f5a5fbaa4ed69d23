"""Reading the audit log back in tests: the entries one org (or the platform) has."""

from __future__ import annotations

from datetime import datetime

from marketplace.tenancy.models import AuditEntry


def entries(org=None, *, action: str | None = None, platform: bool = False) -> list[AuditEntry]:
    """The org's entries (or, with `platform`, the org-less ones), oldest first."""
    rows = AuditEntry.objects.filter(org__isnull=True) if platform else AuditEntry.objects.filter(
        org=org)
    if action is not None:
        rows = rows.filter(action=action)
    return list(rows.order_by("id"))


def only(org=None, *, action: str, platform: bool = False) -> AuditEntry:
    """The one entry of `action`; fails when there are none or several."""
    found = entries(org, action=action, platform=platform)
    assert len(found) == 1, [(e.action, e.target_label) for e in found]
    return found[0]


def backdated(*, at: datetime, **fields) -> AuditEntry:
    """An entry written at `at`, as loading a fixture would (raw: `created_at` kept as given).

    Entries are append-only, so a test cannot move one in time after writing it.
    """
    entry = AuditEntry(created_at=at, **fields)
    entry.save_base(raw=True)
    return entry
