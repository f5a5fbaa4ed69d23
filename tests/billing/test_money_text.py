"""Dollar text that leaves the system (CSV exports, the management API) is exact decimal text.

`str(Decimal(nanos) / NANOS_PER_USD)` wrote small amounts in scientific notation ("1.23E-7"),
which spreadsheets and JSON clients read as a different kind of value; `core.money.api_usd`
never does.
"""

import datetime as dt
from types import SimpleNamespace

import pytest

from billing.views.invoices import USAGE_COLUMNS, usage_row
from marketplace.fields import UsdSerializerField


@pytest.mark.parametrize(("nanos", "text"), [
    (1, "0.000000001"), (123, "0.000000123"), (100 * 10**9, "100"), (0, "0"),
])
def test_the_api_money_field_renders_plain_decimal_text(nanos, text):
    assert UsdSerializerField(max_usd=1_000).to_representation(nanos) == text


def test_the_usage_csv_writes_small_charges_without_an_exponent():
    record = SimpleNamespace(
        request_id="r1", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), api_key_id=1,
        requested_model="m", served_model="m", provider_slug="p", prompt_tokens=1,
        completion_tokens=1, cache_read_tokens=0, cache_write_tokens=0, reasoning_tokens=0,
        upstream_cost_nanos=100, margin_nanos=23, byok_fee_nanos=0, write_off_nanos=0,
        charge_nanos=123, is_byok=False, estimated=False, finish_reason="stop")
    row = dict(zip(USAGE_COLUMNS, usage_row(record), strict=True))
    assert row["charge_usd"] == "0.000000123"
