from django.urls import path

from billing.api.spend_limits import KeySpendLimitApi

urlpatterns: list = [
    path(
        "keys/<int:key_id>/spend-limit",
        KeySpendLimitApi.as_view(),
        name="billing-key-spend-limit",
    ),
]
