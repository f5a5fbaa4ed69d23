"""Billing's models, one module per noun group; import them from here."""

from .invoices import (
    Invoice,
    InvoiceCounter,
    InvoicedUsage,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from .ledger import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TransactionKind
from .limits import KeySpendLimit, LimitPeriod
from .margins import MarginRule
from .stripe import AutoTopUp, StripeCustomer, TopUp, TopUpStatus
from .usage import Hold, HoldStatus, UsageRecord, Wallet

__all__ = [
    "AccountKind",
    "AutoTopUp",
    "Hold",
    "HoldStatus",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "InvoicedUsage",
    "KeySpendLimit",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LimitPeriod",
    "LineKind",
    "MarginRule",
    "StripeCustomer",
    "TopUp",
    "TopUpStatus",
    "TransactionKind",
    "UsageRecord",
    "Wallet",
]
