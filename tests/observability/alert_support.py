"""Real data for the alert tests, made through the apps' own services: credit and charges
through billing (hold, then settle, as the gateway's writer does), request records through
`store_request_records`."""

from __future__ import annotations

import datetime as dt
import itertools

from billing.hotpath import Admission, Settlement
from billing.services.holds import place_hold, settle_hold
from billing.services.ledger import grant_promotional_credit
from observability.recording import RequestRow, store_request_records

USD = 1_000_000_000
_seq = itertools.count(1)


def credit(org, nanos: int) -> None:
    n = next(_seq)
    grant_promotional_credit(org, nanos, memo="test", idempotency_key=f"alerts-{org.pk}-{n}")


def charge(org, key, nanos: int, *, model: str = "openai/gpt-4o-mini"):
    """One request admitted and settled at `nanos` (the usage record and the wallet debit)."""
    n = next(_seq)
    request_id = f"alerts-req-{org.pk}-{n}"
    granted = place_hold(Admission(
        request_id=request_id, org_id=org.pk, key_id=key.pk, want_nanos=nanos, min_nanos=nanos,
        model_slug=model, endpoint_id=None, price_id=None, prompt_upper_bytes=400,
        output_allowance_tokens=1000, deadline_s=60.0, is_byok=False,
        provider_slug="sandbox-openai"))
    return settle_hold(Settlement(
        request_id=request_id, org_id=org.pk, key_id=key.pk, hold_nanos=granted,
        requested_model=model, served_model=model, endpoint_id=None,
        provider_slug="sandbox-openai", price_id=None, prompt_tokens=100, completion_tokens=50,
        cache_read_tokens=0, cache_write_tokens=0, reasoning_tokens=0,
        upstream_cost_nanos=nanos, margin_nanos=0, byok_fee_nanos=0, charge_nanos=nanos,
        write_off_nanos=0, latency_ms=10, ttft_ms=5, finish_reason="stop", streamed=False,
        cancelled=False, is_byok=False, estimated=False))


def records(org, *, ok: int = 0, failed: int = 0, refused: int = 0, refused_count: int = 1,
            at: dt.datetime | None = None) -> None:
    """Request records of the org: `ok` successes, `failed` upstream failures, and `refused`
    rate-limit rows each standing for `refused_count` requests (the aggregated flood)."""
    at = at or dt.datetime.now(dt.UTC)
    rows = []
    for outcome, status, error, n, count in (("success", 200, "", ok, 1),
                                             ("failed", 502, "upstream_5xx", failed, 1),
                                             ("refused", 429, "rate_limit", refused,
                                              refused_count)):
        for _ in range(n):
            rows.append(RequestRow(
                request_id=f"gen-alerts-{org.pk}-{next(_seq)}", created_at=at, org_id=org.pk,
                key_id=None, model_requested="openai/gpt-4o-mini", status=status,
                outcome=outcome, error_type=error, count=count))
    assert store_request_records(rows) == len(rows)
