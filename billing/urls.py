"""Billing's dashboard URLs, mounted at `/billing/`."""

from django.urls import path

from billing.views import details, invoices, spend_limits, usage, wallet, webhook

app_name = "billing"

urlpatterns = [
    path("wallet/", wallet.wallet, name="wallet"),
    path("wallet/card-setup/", wallet.card_setup, name="card-setup"),
    path("wallet/top-up/", wallet.create_top_up, name="top-up"),
    path("wallet/top-ups/<int:top_up_id>/status/", wallet.top_up_status, name="top-up-status"),
    path("wallet/top-ups/<int:top_up_id>/receipt/", wallet.receipt, name="receipt"),
    path("wallet/auto-top-up/", wallet.auto_top_up, name="auto-top-up"),
    path("stripe/webhook/", webhook.stripe_webhook, name="stripe-webhook"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf, name="invoice-pdf"),
    path("invoices/<int:invoice_id>/lines.csv", invoices.invoice_lines_csv, name="invoice-csv"),
    path("invoices/<int:invoice_id>/usage.csv", invoices.invoice_usage_csv, name="invoice-usage"),
    path("usage/", usage.usage, name="usage"),
    path("details/", details.billing_details, name="details"),
    path("keys/<int:key_id>/spend-limit/", spend_limits.key_spend_limit, name="key-spend-limit"),
]
