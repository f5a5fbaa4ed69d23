"""Billing's models, one module per noun group; import them from here."""

from .ledger import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TransactionKind
from .limits import KeySpendLimit, LimitPeriod
from .margins import MarginRule
from .usage import Hold, HoldStatus, UsageRecord, Wallet

__all__ = [
    "AccountKind",
    "Hold",
    "HoldStatus",
    "KeySpendLimit",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LimitPeriod",
    "MarginRule",
    "TransactionKind",
    "UsageRecord",
    "Wallet",
]
