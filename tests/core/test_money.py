"""core.money: the one conversion (half up at the half nano) and one formatter per presentation."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    NANOS_PER_USD,
    api_usd,
    api_usd_per_token,
    cents_to_nanos,
    dashboard_usd,
    dashboard_usd_exact,
    dashboard_usd_per_m,
    nanos_to_cents,
    nanos_to_usd,
    request_cost_usd,
    usd_to_nanos,
)

MINUS = "\u2212"


@pytest.mark.parametrize(("usd", "nanos"), [
    ("0.0000000015", 2),  # the half nano rounds up (truncation gave 1)
    ("0.0000000025", 3),  # and up again (half-even gave 2)
    ("0.0000000014999", 1),
    ("-0.0000000015", -2),  # half up means away from zero
    ("2.50", 2_500_000_000),
    (Decimal("1e-9"), 1),
    (7, 7 * NANOS_PER_USD),
])
def test_usd_to_nanos_rounds_half_up_once(usd, nanos):
    assert usd_to_nanos(usd) == nanos


def test_usd_to_nanos_refuses_a_float():
    with pytest.raises(TypeError):
        usd_to_nanos(0.1)


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_conversion_round_trips_every_nano(nanos):
    assert usd_to_nanos(nanos_to_usd(nanos)) == nanos
    assert Decimal(api_usd(nanos)) == nanos_to_usd(nanos)


@pytest.mark.parametrize(("nanos", "text"), [
    (0, "0"), (1, "0.000000001"), (5_000_000, "0.005"), (1_500_000_000, "1.5"),
    (2_000_000_000, "2"), (10 * NANOS_PER_USD, "10"), (-1_500_000_000, "-1.5"),
    (1_234_567_000_000_000, "1234567"),
])
def test_api_usd_is_exact_json_number_text(nanos, text):
    assert api_usd(nanos) == text


@pytest.mark.parametrize(("nanos_per_m", "text"), [
    (150_000_000, "0.00000015"), (2_500_000_000, "0.0000025"), (0, "0"),
    (1, "0.000000000000001"), (1_000_000 * NANOS_PER_USD, "1"),
])
def test_api_usd_per_token(nanos_per_m, text):
    assert api_usd_per_token(nanos_per_m) == text


@pytest.mark.parametrize(("nanos", "text"), [
    (0, "$0.00"), (1_234_567_891_000, "$1,234.57"), (4_999_999, "$0.00"), (5_000_000, "$0.01"),
    (-1_230_000_000, f"{MINUS}$1.23"), (-4_999_999, "$0.00"), (-5_000_000, f"{MINUS}$0.01"),
])
def test_dashboard_usd_rounds_to_the_cent_half_up_with_a_true_minus(nanos, text):
    assert dashboard_usd(nanos) == text


def test_cents_round_half_up_away_from_zero():
    assert nanos_to_cents(5_000_000) == 1
    assert nanos_to_cents(-5_000_000) == -1
    assert nanos_to_cents(4_999_999) == 0
    assert cents_to_nanos(2_500) == 25 * NANOS_PER_USD


@pytest.mark.parametrize(("nanos", "text"), [
    (1_234, "$0.000001234"), (0, "$0.000000000"), (-1_500_000_000, f"{MINUS}$1.500000000"),
    (1_234_000_000_001, "$1,234.000000001"),
])
def test_dashboard_usd_exact_shows_every_nano(nanos, text):
    assert dashboard_usd_exact(nanos) == text


@pytest.mark.parametrize(("nanos_per_m", "text"), [
    (2_500_000_000, "$2.50"), (75_000_000, "$0.075"), (0, "$0.00"), (15 * NANOS_PER_USD, "$15.00"),
    (1, "$0.000000001"),
])
def test_dashboard_price_per_million_is_exact_with_at_least_cents(nanos_per_m, text):
    assert dashboard_usd_per_m(nanos_per_m) == text


@pytest.mark.parametrize(("nanos", "text"), [
    (1_234_567_891, "$1.23457"),  # six significant digits, half up
    (1_234_565_000, "$1.23457"),  # exactly half: up
    (1_234_564_999, "$1.23456"),
    (1_500, "$0.0000015"),  # trailing zeros dropped
    (1, "$0.000000001"),
    (500_000_000, "$0.5"),
    (25 * NANOS_PER_USD, "$25"),
    (999_999_500, "$1"),  # the carry reaches a new digit
    (1_234_567_890_000_000, "$1,234,568"),  # whole dollars are never rounded away
    (-1_500_000, f"{MINUS}$0.0015"),
    (0, "$0"),
])
def test_request_cost_has_at_most_six_significant_digits(nanos, text):
    assert request_cost_usd(nanos) == text


@given(st.integers(min_value=1, max_value=10**15))
def test_request_cost_is_within_half_a_unit_of_the_sixth_digit(nanos):
    shown = Decimal(request_cost_usd(nanos).lstrip("$").replace(",", ""))
    digits = shown.normalize().as_tuple().digits
    exact = nanos_to_usd(nanos)
    if exact < 10**5:  # below $100,000 the sixth significant digit is after the point
        assert len(digits) <= 6
    unit = Decimal(10) ** (exact.adjusted() - 5)
    assert abs(shown - exact) <= max(unit, Decimal(1)) / 2
