"""Reads of the audit log for its viewer, API and export: always one org's entries.

The entries are written by `marketplace.tenancy.audit.record_audit` in every app's services;
this module only reads them. Platform-wide entries (no org: catalog and platform margin changes)
are never in an org's log; staff see them in the Django admin.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_date, parse_datetime

from core.errors import InvalidRequest, NotFound
from marketplace.tenancy.models import AuditEntry, Organization

MAX_ACTION_LENGTH = 64
MAX_ACTOR_LENGTH = 200


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: str = ""  # exact, or a family ending with ".": "api_key." is every key action
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive (a date given as `until` includes that day)
    actor: str = ""  # the actor as shown: an email, "key sk-sy-...", or "system"


def _moment(params, name: str, *, end_of_day: bool) -> datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        # A date first: parse_datetime would also read "2026-11-02" as that day's midnight.
        day = parse_date(raw)
        moment = None if day is not None else parse_datetime(raw)
    except ValueError:  # well-formed but impossible, such as 2026-02-30
        moment = day = None
    if isinstance(day, date):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    if moment is not None:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    raise InvalidRequest(
        f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date and time.", param=name)


def parse_audit_filters(params) -> AuditFilters:
    """Filters from query parameters; a malformed one is an InvalidRequest naming it (a 400)."""
    for name in ("action", "since", "until", "actor"):
        if "\x00" in (params.get(name) or ""):
            raise InvalidRequest(f"{name} cannot contain NUL characters.", param=name)
    action = (params.get("action") or "").strip()
    if len(action) > MAX_ACTION_LENGTH:
        raise InvalidRequest(f"action is at most {MAX_ACTION_LENGTH} characters.", param="action")
    actor = (params.get("actor") or "").strip()
    if len(actor) > MAX_ACTOR_LENGTH:
        raise InvalidRequest(f"actor is at most {MAX_ACTOR_LENGTH} characters.", param="actor")
    since = _moment(params, "since", end_of_day=False)
    until = _moment(params, "until", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise InvalidRequest("until must be after since.", param="until")
    return AuditFilters(action=action, since=since, until=until, actor=actor)


def list_audit_entries(org: Organization, filters: AuditFilters | None = None) -> QuerySet:
    """The org's entries, newest first, filtered."""
    filters = filters or AuditFilters()
    rows = AuditEntry.objects.filter(org=org)
    if filters.action.endswith("."):
        rows = rows.filter(action__startswith=filters.action)
    elif filters.action:
        rows = rows.filter(action=filters.action)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(created_at__lt=filters.until)
    if filters.actor:
        rows = rows.filter(actor_label__iexact=filters.actor)
    return rows.order_by("-created_at", "-id")


def access_audit_entry(org: Organization, entry_id: int) -> AuditEntry:
    """One of the org's entries; another org's (or a platform-wide one) is NotFound as well."""
    entry = AuditEntry.objects.filter(org=org, pk=entry_id).first()
    if entry is None:
        raise NotFound("Audit entry not found.")
    return entry


def list_audit_actions(org: Organization) -> list[str]:
    """The actions the org's log holds, for the dashboard's filter."""
    return sorted(set(AuditEntry.objects.filter(org=org).values_list("action", flat=True)
                      .distinct()))


def describe_changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field either side names, values as compact JSON."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}

    def shown(side: dict, name: str) -> str:
        return json.dumps(side[name], sort_keys=True) if name in side else ""

    names = list(before) + [name for name in after if name not in before]
    return [(name, shown(before, name), shown(after, name)) for name in names]


# --- CSV export ------------------------------------------------------------------------------

CSV_COLUMNS = ["id", "created_at", "action", "actor", "actor_user_id", "actor_key_id",
               "target_type", "target_id", "target", "before", "after", "client_ip"]
# A cell starting with one of these is a formula to a spreadsheet: labels are user-typed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def audit_csv_rows(entries: Iterable[AuditEntry]) -> Iterator[list]:
    """The header, then one row per entry; before/after as JSON."""
    yield CSV_COLUMNS
    for entry in entries:
        yield [_cell(value) for value in (
            entry.pk, entry.created_at.isoformat(), entry.action, entry.actor_label,
            entry.actor_user_id or "", entry.actor_key_id or "", entry.target_type,
            entry.target_id, entry.target_label,
            "" if entry.before is None else json.dumps(entry.before, sort_keys=True),
            "" if entry.after is None else json.dumps(entry.after, sort_keys=True),
            entry.client_ip or "",
        )]


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_response(org: Organization, filters: AuditFilters) -> StreamingHttpResponse:
    """The filtered log as a streamed CSV download (billing's invoice CSVs' style)."""
    writer = csv.writer(_Echo())
    entries = list_audit_entries(org, filters).iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in audit_csv_rows(entries)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log-{org.slug}.csv"'
    return response
