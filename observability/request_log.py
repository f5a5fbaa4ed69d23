"""Reads of the request log for its pages, API and CSV export: always one org's records.

The records are written by the gateway (`recording.py`); this module only reads them. Pages
are keyset-paginated over (created_at, id), newest first, on the (org, -created_at, -id) index:
a page costs the same at the millionth row as at the first (never OFFSET), and rows arriving
meanwhile neither repeat nor skip a row across pages. The cursor is opaque to callers: the
last row's (created_at, id), base64url-encoded.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime

from compliance.content_log import access_content
from compliance.models import RequestContent
from compliance.selectors import current_org_policy
from core.errors import InvalidRequest, NotFound
from core.money import api_usd
from core.money_input import InputError, parse_bounded_int
from marketplace.tenancy.roles import SETTINGS_EDITORS
from observability.models import ERROR_TYPES, OUTCOMES, RequestRecord
from observability.moments import parse_moment

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EXPORT_PAGE = 1000  # rows read per query while streaming the CSV
MAX_TEXT = 200  # model, provider: the columns' own length
_TASK = re.compile(r"[a-z_]{1,32}")
_CURSOR_MAX = 200
FILTER_NAMES = ("since", "until", "key", "model", "provider", "status", "error_type", "task")


@dataclass(frozen=True, slots=True)
class LogFilters:
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive (a date given as `until` includes that day)
    key_id: int | None = None
    model: str = ""  # asked or served
    provider: str = ""
    outcome: str = ""  # success, refused, failed, cancelled
    status: int | None = None  # the HTTP status the caller got
    error_type: str = ""
    task: str = ""


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: dt.datetime
    id: int


@dataclass(frozen=True, slots=True)
class LogPage:
    rows: list[RequestRecord]
    next_cursor: str | None  # None on the last page


# --- parsing what callers send -----------------------------------------------------------------

def _text(params: Mapping, name: str) -> str:
    value = (params.get(name) or "").strip()
    if "\x00" in value:
        raise InvalidRequest(f"{name} cannot contain NUL characters.", param=name)
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"{name} is at most {MAX_TEXT} characters.", param=name)
    return value


def parse_log_filters(params: Mapping) -> LogFilters:
    """Filters from query parameters; a malformed one is an InvalidRequest naming it (a 400).

    `status` is an outcome (success, refused, failed, cancelled) or an HTTP status (429);
    `model` matches the model asked for or the one that served.
    """
    text = {name: _text(params, name) for name in FILTER_NAMES}
    since = parse_moment(text["since"], "since", end_of_day=False)
    until = parse_moment(text["until"], "until", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise InvalidRequest("until must be after since.", param="until")
    key_id = None
    if text["key"]:
        try:
            key_id = parse_bounded_int(text["key"], low=1, high=2**63 - 1)
        except InputError:
            raise InvalidRequest("key must be an API key id (a whole number).",
                                 param="key") from None
    outcome, status = "", None
    if text["status"] in OUTCOMES:
        outcome = text["status"]
    elif text["status"]:
        try:
            status = parse_bounded_int(text["status"], low=100, high=599)
        except InputError:
            raise InvalidRequest(
                f"status must be one of {', '.join(OUTCOMES)} or an HTTP status (100-599).",
                param="status") from None
    if text["error_type"] and text["error_type"] not in ERROR_TYPES:
        raise InvalidRequest(f"error_type must be one of {', '.join(ERROR_TYPES)}.",
                             param="error_type")
    if text["task"] and not _TASK.fullmatch(text["task"]):
        raise InvalidRequest("task must be a task label such as coding or chat.", param="task")
    return LogFilters(since=since, until=until, key_id=key_id, model=text["model"],
                      provider=text["provider"], outcome=outcome, status=status,
                      error_type=text["error_type"], task=text["task"])


def parse_limit(raw: Any) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        return parse_bounded_int(raw, low=1, high=MAX_LIMIT)
    except InputError as error:
        raise InvalidRequest(f"limit: {error.message}", param="limit") from None


def encode_cursor(row: RequestRecord) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cursor(raw: Any) -> Cursor | None:
    """The cursor a previous page answered; anything else is an InvalidRequest (a 400)."""
    if raw is None or raw == "":
        return None
    bad = InvalidRequest("cursor is not one this API gave out.", param="cursor")
    if not isinstance(raw, str) or len(raw) > _CURSOR_MAX:
        raise bad
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        moment_text, row_id = json.loads(decoded)
        moment = parse_datetime(moment_text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise bad from None
    if (moment is None or moment.tzinfo is None or isinstance(row_id, bool)
            or not isinstance(row_id, int) or not 0 < row_id < 2**63):
        raise bad
    return Cursor(created_at=moment, id=row_id)


# --- reads ---------------------------------------------------------------------------------

def _filtered(org_id: int, filters: LogFilters) -> QuerySet[RequestRecord]:
    rows = RequestRecord.objects.filter(org_id=org_id)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(created_at__lt=filters.until)
    if filters.key_id is not None:
        rows = rows.filter(key_id=filters.key_id)
    if filters.model:
        rows = rows.filter(Q(model_requested=filters.model) | Q(model_served=filters.model))
    if filters.provider:
        rows = rows.filter(provider=filters.provider)
    if filters.outcome:
        rows = rows.filter(outcome=filters.outcome)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    if filters.error_type:
        rows = rows.filter(error_type=filters.error_type)
    if filters.task:
        rows = rows.filter(task=filters.task)
    return rows


def _after(rows: QuerySet[RequestRecord], cursor: Cursor | None) -> QuerySet[RequestRecord]:
    if cursor is None:
        return rows
    # (created_at, id) < (cursor): the bound on created_at alone keeps the index range tight.
    return rows.filter(created_at__lte=cursor.created_at).filter(
        Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.id))


def list_requests(org_id: int, filters: LogFilters | None = None, *,
                  cursor: Cursor | None = None, limit: int = DEFAULT_LIMIT) -> LogPage:
    """One page of the org's records, newest first, after `cursor`: one query."""
    rows = _after(_filtered(org_id, filters or LogFilters()), cursor)
    page = list(rows.select_related("key").order_by("-created_at", "-id")[:limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return LogPage(rows=page, next_cursor=encode_cursor(page[-1]) if more else None)


def iter_requests(org_id: int, filters: LogFilters | None = None, *,
                  page_size: int = EXPORT_PAGE) -> Iterator[RequestRecord]:
    """Every matching record, newest first, a keyset page at a time (bounded memory)."""
    cursor: Cursor | None = None
    while True:
        page = list_requests(org_id, filters, cursor=cursor, limit=page_size)
        yield from page.rows
        if page.next_cursor is None:
            return
        last = page.rows[-1]
        cursor = Cursor(created_at=last.created_at, id=last.pk)


def access_request(org_id: int, request_id: str) -> RequestRecord:
    """One of the org's records by its request id ("gen-..."); another org's is NotFound
    exactly as a missing one."""
    record = (RequestRecord.objects.filter(org_id=org_id, request_id=str(request_id)[:64])
              .select_related("key").order_by("-created_at", "-id").first())
    if record is None:
        raise NotFound("No request with this id.")
    return record


def stored_content(org_id: int, request_id: str, role: str) -> RequestContent | None:
    """The request's and answer's content for the detail view, or None.

    Only while the org has content logging on and the content is still retained
    (`compliance.content_log.access_content`), and only for the roles compliance lets read it
    (the owners and admins who set the policy that keeps it).
    """
    if role not in SETTINGS_EDITORS:
        return None
    policy = current_org_policy(org_id)
    if policy is None or not policy.content_retention_days:
        return None
    try:
        return access_content(org_id, request_id)
    except NotFound:
        return None


def key_name(record: RequestRecord) -> str:
    return record.key.name if record.key is not None else ""


# --- CSV export ------------------------------------------------------------------------------

CSV_COLUMNS = [
    "created_at", "request_id", "key_id", "key_name", "app", "model_requested", "model_served",
    "provider", "endpoint_id", "status", "outcome", "error_type", "error_message",
    "finish_reason", "prompt_tokens", "completion_tokens", "cost_usd", "cost_nanos",
    "latency_ms", "ttft_ms", "streamed", "is_fallback", "is_byok", "is_cached", "task", "count",
    "attempts",
]
# A cell starting with one of these is a formula to a spreadsheet: app names are caller-typed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_rows(records: Iterator[RequestRecord]) -> Iterator[list[Any]]:
    """The header, then one row per record; attempts as JSON."""
    yield CSV_COLUMNS
    for r in records:
        yield [_cell(value) for value in (
            r.created_at.isoformat(), r.request_id, r.key_id or "", key_name(r), r.app,
            r.model_requested, r.model_served, r.provider,
            "" if r.endpoint_id is None else r.endpoint_id, r.status, r.outcome, r.error_type,
            r.error_message, r.finish_reason, r.prompt_tokens, r.completion_tokens,
            api_usd(r.cost_nanos), r.cost_nanos, r.latency_ms,
            "" if r.ttft_ms is None else r.ttft_ms, r.streamed, r.is_fallback, r.is_byok,
            r.is_cached, r.task, r.count, json.dumps(r.attempts, sort_keys=True),
        )]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(org_id: int, org_slug: str, filters: LogFilters) -> StreamingHttpResponse:
    """The filtered log as a streamed CSV download, read a keyset page at a time."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(iter_requests(org_id, filters))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="requests-{org_slug}.csv"'
    return response
