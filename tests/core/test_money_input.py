"""The one parser per kind: dollars to nanos and bounded integers, hostile inputs refused."""

from decimal import Decimal

import pytest

from core.money_input import InputError, parse_bounded_int, parse_usd_nanos


@pytest.mark.parametrize(("raw", "nanos"), [
    ("25", 25_000_000_000), ("$25.00", 25_000_000_000), (" 0.1 ", 100_000_000), (3, 3 * 10**9),
    (0.25, 250_000_000), (Decimal("1.5e-9"), 2), ("0.0000000014", 1), ("1e3", 10**12),
    ("1000000", 10**15), (0, 0), ("$1,234.50", 1_234_500_000_000), ("1,000,000", 10**15),
])
def test_dollars_become_exact_nanos_rounded_half_up(raw, nanos):
    assert parse_usd_nanos(raw, max_usd=1_000_000) == nanos


@pytest.mark.parametrize("raw", [
    "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", 1e308, float("inf"), float("nan"),
    "1e30", 10**30, 2**63, "1000000.000000001", -1, "-0.01", "", "$", "abc", "1,5", "1,0000",
    ",100", True, False, None, [], {}, "٣", "1" * 65, "1e999999999999999999",
])
def test_hostile_amounts_are_refused(raw):
    with pytest.raises(InputError) as caught:
        parse_usd_nanos(raw, max_usd=1_000_000)
    assert caught.value.message


def test_cents_only_amounts_refuse_finer_digits():
    assert parse_usd_nanos("12.34", max_usd=100, places=2) == 12_340_000_000
    with pytest.raises(InputError, match="whole cents"):
        parse_usd_nanos("12.345", max_usd=100, places=2)


def test_bounds_are_inclusive_and_named():
    assert parse_usd_nanos("5", min_usd=5, max_usd=10) == 5 * 10**9
    with pytest.raises(InputError, match=r"must be at least \$5\.00\."):
        parse_usd_nanos("4.99", min_usd=5, max_usd=10)


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("42", 42), (" 7 ", 7), (100, 100)])
def test_bounded_integers(raw, value):
    assert parse_bounded_int(raw, low=0, high=100) == value


@pytest.mark.parametrize("raw", [
    "101", "-1", str(10**30), "1e3", "²", "١", "", "x", True, 1.0, None, "9" * 5000,
])
def test_bounded_integers_refuse_the_rest(raw):
    with pytest.raises(InputError):
        parse_bounded_int(raw, low=0, high=100)


def test_messages_name_the_thing_and_the_bound():
    with pytest.raises(InputError, match=r"^The limit must be at most \$1,000\.00\.$"):
        parse_usd_nanos("1000.01", max_usd=1000, noun="limit")
    with pytest.raises(InputError, match=r"^The limit must be zero or more dollars\.$"):
        parse_usd_nanos("-1", max_usd=1000, noun="limit")
    with pytest.raises(InputError, match=r"^Enter an amount in dollars, like 25\.00\.$"):
        parse_usd_nanos("Infinity", max_usd=1000)


def test_json_money_is_plain_decimal_text():
    for raw in ("$5", "1,000"):
        with pytest.raises(InputError):
            parse_usd_nanos(raw, max_usd=10_000, typed=False)
