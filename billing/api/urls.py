from django.urls import path

from billing.api.invoices import InvoiceDetailApi, InvoiceListApi
from billing.api.spend_limits import KeySpendLimitApi
from billing.api.usage import UsageListApi
from billing.api.wallet import WalletApi, WalletTransactionListApi

urlpatterns: list = [
    path(
        "keys/<int:key_id>/spend-limit",
        KeySpendLimitApi.as_view(),
        name="billing-key-spend-limit",
    ),
    path("invoices/", InvoiceListApi.as_view(), name="billing-invoice-list"),
    path("invoices/<int:invoice_id>/", InvoiceDetailApi.as_view(), name="billing-invoice"),
    path("wallet/", WalletApi.as_view(), name="billing-wallet"),
    path(
        "wallet/transactions/",
        WalletTransactionListApi.as_view(),
        name="billing-wallet-transactions",
    ),
    path("usage/", UsageListApi.as_view(), name="billing-usage"),
]
