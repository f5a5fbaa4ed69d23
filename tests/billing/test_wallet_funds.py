"""available_by_org: what several wallets can still pay, in one query."""

from billing.models import Wallet
from billing.selectors.wallet_funds import available_by_org
from marketplace.tenancy.models import Organization


def test_balance_less_holds_plus_credit_and_zero_without_a_wallet(make_org,
                                                                  django_assert_num_queries):
    rich, poor = make_org("Rich"), make_org("Poor")
    Wallet.objects.filter(org=rich).update(balance_nanos=1_000, held_nanos=300,
                                           credit_limit_nanos=50)
    Wallet.objects.filter(org=poor).update(balance_nanos=-20, credit_limit_nanos=20)
    bare = Organization.objects.create(name="No wallet", slug="no-wallet")
    with django_assert_num_queries(1):
        funds = available_by_org([rich.pk, poor.pk, bare.pk, rich.pk])
    assert funds == {rich.pk: 750, poor.pk: 0, bare.pk: 0}
    assert available_by_org([]) == {}
