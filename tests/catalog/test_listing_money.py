"""Catalog price filters go through the one parser: half up at the half nano, like the ledger."""

import pytest

from catalog.listing import parse_catalog_filters
from core.errors import InvalidRequest


@pytest.mark.parametrize(("raw", "nanos"), [
    ("0.0000000025", 3),  # half-even rounding gave 2
    ("0.0000000015", 2),
    ("2.50", 2_500_000_000),
    ("", None),
])
def test_price_filters_round_half_up_to_the_nano(raw, nanos):
    filters = parse_catalog_filters({"min_price": raw, "max_price": raw})
    assert filters.min_price_nanos_per_m == nanos
    assert filters.max_price_nanos_per_m == nanos


def test_a_malformed_price_filter_is_a_400_naming_it():
    with pytest.raises(InvalidRequest) as refused:
        parse_catalog_filters({"max_price": "NaN"})
    assert refused.value.metadata["param"] == "max_price"
