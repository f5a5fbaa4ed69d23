"""The rules both halves of the hot path share (SQL writer and ORM services), with no Django.

Period starts are calendar periods in UTC; a key limit whose stored `period_start` is before
the current one has spent nothing this period. The 402 wording lives here too so the writer and
the ORM services refuse in the same words.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.errors import InsufficientCredits
from core.money import request_cost_usd

LIMIT_WALLET = "wallet"
LIMIT_KEY = "key_spend_limit"


def period_starts(now: datetime) -> dict[str, datetime]:
    """The start of the current day, ISO week (Monday) and month, in UTC."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "day": day,
        "week": day - timedelta(days=day.weekday()),
        "month": day.replace(day=1),
    }


def current_period_start(period: str, now: datetime, stored_start: datetime) -> datetime:
    """Where the limit's current period began; a "total" limit never rolls over."""
    if period == "total":
        return stored_start
    return period_starts(now)[period]


def effective_spent(spent_nanos: int, stored_start: datetime, current_start: datetime) -> int:
    return 0 if stored_start < current_start else spent_nanos


def insufficient(
    *, wallet_available: int | None, key_available: int | None, required: int
) -> InsufficientCredits:
    """The 402 for a refused admission, naming which limit refused it."""
    if key_available is not None and key_available < required and (
        wallet_available is None or wallet_available >= required
        or key_available <= wallet_available
    ):
        return InsufficientCredits(
            "This API key's spend limit is reached: it has "
            f"{request_cost_usd(max(key_available, 0))} left and this request needs at least "
            f"{request_cost_usd(required)}. Raise or clear the key's limit.",
            metadata={
                "limit": LIMIT_KEY,
                "available_nanos": max(key_available, 0),
                "required_nanos": required,
            },
        )
    available = max(wallet_available or 0, 0)
    return InsufficientCredits(
        f"Insufficient credits: this request needs at least {request_cost_usd(required)} and the "
        f"wallet has {request_cost_usd(available)} available. Add credits to continue.",
        metadata={"limit": LIMIT_WALLET, "available_nanos": available, "required_nanos": required},
    )
