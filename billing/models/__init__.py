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
from .promotions import SignupCredit
from .sponsored import SponsoredCharge
from .stripe import AutoTopUp, DisputeStatus, StripeCustomer, TopUp, TopUpDispute, TopUpStatus
from .usage import Hold, HoldStatus, UsageRecord, Wallet

__all__ = [
    "AccountKind",
    "AutoTopUp",
    "DisputeStatus",
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
    "SignupCredit",
    "SponsoredCharge",
    "StripeCustomer",
    "TopUp",
    "TopUpDispute",
    "TopUpStatus",
    "TransactionKind",
    "UsageRecord",
    "Wallet",
]
