"""Charging a request the slow, obvious way: place, settle and release holds with the ORM.

These are the reference semantics of the gateway's hot-path writer (billing/hotpath): the writer
does the same in one SQL statement each (and batches settlements), and a test holds the two to
the same rows for the same inputs. The embedded SQLite writer runs these very functions in its
one thread. Each verb is one transaction, locking rows in one order: holds, then wallets, then
key limits, each by id (the SQL statements take the same order, so they never deadlock with
one another or with these).

Money moves here as the hot path defines it: settlement debits `Wallet.balance_nanos` and
releases the hold from `held_nanos` in the same transaction as the usage record; the ledger
posting for that record comes later (billing/tasks/posting.py) and never touches the balance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.hotpath import Admission, Settlement
from billing.hotpath.rules import current_period_start, effective_spent, insufficient
from billing.models import Hold, HoldStatus, KeySpendLimit, UsageRecord, Wallet
from billing.pricing import MarginTable, cap_to_hold, compute_charge
from billing.selectors.spend import get_margin_table
from catalog.selectors import get_price
from core.errors import Conflict, NotFound
from core.money import usage_cost_nanos

logger = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def place_hold(admission: Admission, *, now: datetime | None = None) -> int:
    """Reserve up to `want_nanos` against the wallet and the key's limit; return the grant.

    Raises InsufficientCredits (402) when less than `min_nanos` is affordable.
    """
    now = now or timezone.now()
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().filter(org_id=admission.org_id).first()
        limit = (
            KeySpendLimit.objects.select_for_update().filter(api_key_id=admission.key_id).first()
        )
        wallet_available = (
            wallet.balance_nanos + wallet.credit_limit_nanos - wallet.held_nanos if wallet else None
        )
        key_available = spent = period_start = None
        if limit is not None:
            period_start = current_period_start(limit.period, now, limit.period_start)
            spent = effective_spent(limit.spent_nanos, limit.period_start, period_start)
            key_available = limit.limit_nanos - limit.held_nanos - spent
        granted = min(
            v for v in (admission.want_nanos, wallet_available, key_available) if v is not None
        )
        if wallet is None or granted < admission.min_nanos or granted < 0:
            raise insufficient(
                wallet_available=wallet_available,
                key_available=key_available,
                required=admission.min_nanos,
            )
        Wallet.objects.filter(pk=wallet.pk).update(
            held_nanos=F("held_nanos") + granted, updated_at=now
        )
        if limit is not None:
            KeySpendLimit.objects.filter(pk=limit.pk).update(
                held_nanos=F("held_nanos") + granted,
                spent_nanos=spent,
                period_start=period_start,
                updated_at=now,
            )
        if Hold.objects.filter(request_id=admission.request_id).exists():
            raise Conflict("A hold for this request id already exists.")
        Hold.objects.create(
            request_id=admission.request_id,
            org_id=admission.org_id,
            api_key_id=admission.key_id,
            amount_nanos=granted,
            endpoint_id=admission.endpoint_id,
            price_id=admission.price_id,
            model_slug=admission.model_slug,
            prompt_upper_bytes=admission.prompt_upper_bytes,
            output_allowance_tokens=admission.output_allowance_tokens,
            is_byok=admission.is_byok,
            key_held_nanos=granted if limit is not None else 0,
            provider_slug=admission.provider_slug,
            input_nanos_per_m=admission.input_nanos_per_m,
            status=HoldStatus.OPEN,
            created_at=now,
            deadline_at=now + timedelta(seconds=admission.deadline_s),
        )
    return granted


def settle_hold(settlement: Settlement, *, now: datetime | None = None) -> UsageRecord | None:
    """Charge one request, release the rest of its hold and write its usage record.

    Returns None (and changes nothing) when the hold is not open: already settled, released or
    swept. That is what makes settlement idempotent and race-free against the sweep.
    """
    now = now or timezone.now()
    with transaction.atomic():
        return _settle_locked(settlement, now)


def settle_holds(settlements: Iterable[Settlement], *, now: datetime | None = None) -> list[str]:
    """Settle a batch in one transaction (the embedded writer's flush); return settled ids."""
    now = now or timezone.now()
    unique = {s.request_id: s for s in reversed(list(settlements))}  # the first of a repeat
    settled = []
    with transaction.atomic():
        # Lock every open hold of the batch, then all their wallets, then all their key limits,
        # each by id: locking per settlement would interleave orgs and could meet a cycle.
        holds = list(
            Hold.objects.select_for_update()
            .filter(request_id__in=list(unique), status=HoldStatus.OPEN)
            .order_by("id")
        )
        _lock_accounts(holds)
        for hold in holds:
            close_hold_with_usage(
                hold, status=HoldStatus.SETTLED, now=now,
                usage=usage_fields(unique[hold.request_id], now),
            )
            settled.append(hold.request_id)
    for request_id in unique.keys() - set(settled):
        logger.warning("settle: no open hold for request %s", request_id)
    return settled


def release_hold(request_id: str, *, now: datetime | None = None) -> bool:
    """Drop the hold of a request that never reached a provider; False if it was not open."""
    now = now or timezone.now()
    with transaction.atomic():
        hold = _lock_open_hold(request_id)
        if hold is None:
            return False
        _close_hold(hold, charge_nanos=0, status=HoldStatus.RELEASED, now=now)
        return True


def close_hold_with_usage(
    hold: Hold, *, status: str, now: datetime, usage: dict
) -> UsageRecord:
    """Close a locked open hold, charging `usage["charge_nanos"]` (capped at the hold).

    For the sweep too: callers lock the hold row and have checked it is open.
    """
    charge, write_off = cap_to_hold(usage["charge_nanos"], usage["write_off_nanos"],
                                    hold.amount_nanos)
    _close_hold(hold, charge_nanos=charge, status=status, now=now)
    return UsageRecord.objects.create(
        **{**usage, "charge_nanos": charge, "write_off_nanos": write_off},
        request_id=hold.request_id,
        org_id=hold.org_id,
        api_key_id=hold.api_key_id,
    )


def _settle_locked(settlement: Settlement, now: datetime) -> UsageRecord | None:
    hold = _lock_open_hold(settlement.request_id)
    if hold is None:
        logger.warning("settle: no open hold for request %s", settlement.request_id)
        return None
    return close_hold_with_usage(
        hold, status=HoldStatus.SETTLED, now=now, usage=usage_fields(settlement, now)
    )


def usage_fields(s: Settlement, now: datetime) -> dict:
    """The usage record's columns from a settlement (org and key come from the hold)."""
    created_at = (
        _EPOCH + timedelta(milliseconds=s.created_at_epoch_ms) if s.created_at_epoch_ms else now
    )
    return {
        "created_at": created_at,
        "requested_model": s.requested_model,
        "served_model": s.served_model,
        "endpoint_id": s.endpoint_id,
        "provider_slug": s.provider_slug,
        "price_id": s.price_id,
        "attempts": list(s.attempts),
        "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens,
        "cache_read_tokens": s.cache_read_tokens,
        "cache_write_tokens": s.cache_write_tokens,
        "reasoning_tokens": s.reasoning_tokens,
        "upstream_cost_nanos": s.upstream_cost_nanos,
        "margin_nanos": s.margin_nanos,
        "byok_fee_nanos": s.byok_fee_nanos,
        "charge_nanos": s.charge_nanos,
        "write_off_nanos": s.write_off_nanos,
        "latency_ms": s.latency_ms,
        "ttft_ms": s.ttft_ms,
        "finish_reason": s.finish_reason,
        "streamed": s.streamed,
        "cancelled": s.cancelled,
        "is_byok": s.is_byok,
        "estimated": s.estimated,
        "app_referer": s.app_referer,
        "app_title": s.app_title,
        "policy_version": s.policy_version,
        "region": s.region,
        "zdr": s.zdr,
        "request_sha256": s.request_sha256,
    }


def _lock_open_hold(request_id: str) -> Hold | None:
    # Lock order everywhere (SQL statements too): holds, then wallets, then key limits.
    hold = (
        Hold.objects.select_for_update()
        .filter(request_id=request_id, status=HoldStatus.OPEN)
        .first()
    )
    if hold is not None:
        _lock_accounts([hold])
    return hold


def _lock_accounts(holds: list[Hold]) -> None:
    """Lock the holds' wallets, then their key limits, each in id order."""
    org_ids = {hold.org_id for hold in holds}
    key_ids = {hold.api_key_id for hold in holds if hold.api_key_id is not None}
    list(
        Wallet.objects.select_for_update().filter(org_id__in=org_ids).order_by("id")
        .values_list("pk")
    )
    if key_ids:
        list(
            KeySpendLimit.objects.select_for_update().filter(api_key_id__in=key_ids)
            .order_by("id").values_list("pk")
        )


def _close_hold(hold: Hold, *, charge_nanos: int, status: str, now: datetime) -> None:
    Hold.objects.filter(pk=hold.pk).update(status=status, closed_at=now)
    Wallet.objects.filter(org_id=hold.org_id).update(
        balance_nanos=F("balance_nanos") - charge_nanos,
        held_nanos=F("held_nanos") - hold.amount_nanos,
        updated_at=now,
    )
    if hold.api_key_id is None:
        return
    limit = KeySpendLimit.objects.filter(api_key_id=hold.api_key_id).first()
    if limit is None:
        return
    period_start = current_period_start(limit.period, now, limit.period_start)
    KeySpendLimit.objects.filter(pk=limit.pk).update(
        spent_nanos=effective_spent(limit.spent_nanos, limit.period_start, period_start)
        + charge_nanos,
        period_start=period_start,
        # Never below zero: a limit re-created while this hold was open never counted it.
        held_nanos=Greatest(F("held_nanos") - hold.key_held_nanos, 0),
        updated_at=now,
    )


def sweep_stale_hold(
    hold_id: int, *, now: datetime | None = None, margins: MarginTable | None = None
) -> UsageRecord | None:
    """Settle one orphaned hold (its gateway died) at the prompt estimate, flagged estimated.

    The prompt upper bound (bytes, never fewer than tokens) is priced at the hold's input
    price, with no output. Idempotent and safe to run concurrently: the hold row is claimed with
    SKIP LOCKED and must still be open and past its deadline, so a racing settle or a second
    sweep finds nothing to do. Returns the usage record, or None when there was nothing to do.
    """
    now = now or timezone.now()
    margins = margins or get_margin_table()
    with transaction.atomic():
        hold = (
            Hold.objects.select_for_update(skip_locked=True)
            .filter(pk=hold_id, status=HoldStatus.OPEN, deadline_at__lt=now)
            .first()
        )
        if hold is None:
            return None
        _lock_accounts([hold])
        upstream = usage_cost_nanos(
            prompt_tokens=hold.prompt_upper_bytes,
            input_nanos_per_m=_input_price(hold),
            output_nanos_per_m=0,
        )
        breakdown = compute_charge(
            upstream,
            bps=margins.bps(hold.org_id, hold.model_slug, hold.provider_slug),
            is_byok=hold.is_byok,
            byok_fee_bps=settings.BYOK_FEE_BPS,
        )
        return close_hold_with_usage(hold, status=HoldStatus.SWEPT, now=now, usage={
            "created_at": hold.created_at,
            "requested_model": hold.model_slug,
            "served_model": hold.model_slug,
            "endpoint_id": hold.endpoint_id,
            "provider_slug": hold.provider_slug,
            "price_id": hold.price_id,
            "prompt_tokens": hold.prompt_upper_bytes,
            "upstream_cost_nanos": breakdown.upstream_cost_nanos,
            "margin_nanos": breakdown.margin_nanos,
            "byok_fee_nanos": breakdown.byok_fee_nanos,
            "charge_nanos": breakdown.charge_nanos,
            "write_off_nanos": breakdown.write_off_nanos,
            "latency_ms": max(int((now - hold.created_at).total_seconds() * 1000), 0),
            "finish_reason": "unknown",
            "is_byok": hold.is_byok,
            "estimated": True,
        })


def _input_price(hold: Hold) -> int:
    """The input price of the hold's price version: the catalog's row, else the hold's copy."""
    if hold.price_id is not None:
        try:
            return get_price(hold.price_id).input_nanos_per_m
        except NotFound:
            pass
    if hold.input_nanos_per_m is not None:
        return hold.input_nanos_per_m
    logger.error("sweep: hold %s has no price; settling its prompt at zero", hold.request_id)
    return 0
