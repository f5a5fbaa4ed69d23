"""Billing's models, one module per noun group; import them from here."""

from .usage import Hold, HoldStatus, UsageRecord, Wallet

__all__ = ["Hold", "HoldStatus", "UsageRecord", "Wallet"]
