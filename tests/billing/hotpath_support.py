"""Builders for the charging and hot-path tests: admissions, settlements, funded wallets."""

from __future__ import annotations

import itertools

from billing.hotpath import Admission, Settlement
from billing.models import Hold, KeySpendLimit, UsageRecord, Wallet
from billing.pricing import compute_charge
from billing.services.ledger import grant_promotional_credit

_ids = itertools.count(1)


def fund(org, nanos: int) -> None:
    grant_promotional_credit(org, nanos, memo="test credit", idempotency_key=f"fund-{next(_ids)}")


def admission(org, key, *, want: int, minimum: int | None = None, request_id: str | None = None,
              **overrides) -> Admission:
    fields = dict(
        request_id=request_id or f"req-{next(_ids)}",
        org_id=org.pk,
        key_id=key.pk,
        want_nanos=want,
        min_nanos=want if minimum is None else minimum,
        model_slug="openai/gpt-4o-mini",
        endpoint_id=7,
        price_id=None,
        prompt_upper_bytes=1_200,
        output_allowance_tokens=4_096,
        deadline_s=120.0,
        provider_slug="sandbox-openai",
        input_nanos_per_m=150_000_000,
    )
    fields.update(overrides)
    return Admission(**fields)


def settlement(adm: Admission, granted: int, *, upstream: int, bps: int = 550,
               byok: bool = False, waived: bool = False, **overrides) -> Settlement:
    split = compute_charge(upstream, bps=bps, is_byok=byok, byok_fee_bps=500, waived=waived)
    fields = dict(
        request_id=adm.request_id, org_id=adm.org_id, key_id=adm.key_id, hold_nanos=granted,
        requested_model=adm.model_slug, served_model=adm.model_slug,
        endpoint_id=adm.endpoint_id, provider_slug=adm.provider_slug, price_id=adm.price_id,
        prompt_tokens=300, completion_tokens=0 if waived else 120, cache_read_tokens=10,
        cache_write_tokens=0, reasoning_tokens=5,
        upstream_cost_nanos=split.upstream_cost_nanos, margin_nanos=split.margin_nanos,
        byok_fee_nanos=split.byok_fee_nanos, charge_nanos=split.charge_nanos,
        write_off_nanos=split.write_off_nanos, latency_ms=321, ttft_ms=45,
        finish_reason="error" if waived else "stop", streamed=True, cancelled=False,
        is_byok=byok, estimated=False,
        attempts=[{"endpoint_id": adm.endpoint_id, "provider": adm.provider_slug,
                   "status": 200, "latency_ms": 300}],
        # Quotes, a backslash and non-ASCII: the batch travels as one JSON document.
        app_referer="https://app.example/?q=\"x\"", app_title="Ex\\ample über ☃",
        created_at_epoch_ms=1_790_000_000_123,
        policy_version=3, region="eu", zdr=True, request_sha256="ab" * 32,
    )
    fields.update(overrides)
    return Settlement(**fields)


_HOLD_FIELDS = ("amount_nanos", "endpoint_id", "price_id", "model_slug", "prompt_upper_bytes",
                "output_allowance_tokens", "is_byok", "key_held_nanos", "provider_slug",
                "input_nanos_per_m", "status")
_USAGE_SKIP = {"id", "org", "api_key", "posted_at"}


def money_rows(org, key, *, prefix: str) -> dict:
    """Everything the hot path writes for one org, minus ids, org/key and timestamps' noise.

    Request ids are compared without their per-org `prefix` so two orgs can run one scenario.
    """
    wallet = Wallet.objects.get(org=org)
    limit = KeySpendLimit.objects.filter(api_key=key).first()
    holds = {
        h.request_id.removeprefix(prefix): (
            tuple(getattr(h, f) for f in _HOLD_FIELDS),
            round((h.deadline_at - h.created_at).total_seconds()),
            h.closed_at is not None,
        )
        for h in Hold.objects.filter(org=org)
    }
    usage = {}
    for record in UsageRecord.objects.filter(org=org):
        assert record.api_key_id == key.pk
        row = {f.attname: getattr(record, f.attname) for f in UsageRecord._meta.concrete_fields
               if f.name not in _USAGE_SKIP}
        row["request_id"] = row["request_id"].removeprefix(prefix)
        usage[row["request_id"]] = row
    return {
        "wallet": (wallet.balance_nanos, wallet.held_nanos, wallet.credit_limit_nanos),
        "limit": (limit.spent_nanos, limit.held_nanos, limit.period_start) if limit else None,
        "holds": holds,
        "usage": usage,
    }
