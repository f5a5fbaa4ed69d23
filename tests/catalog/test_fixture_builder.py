"""scripts/build_catalog_fixture.py on a small in-test table (the shared data is not needed)."""

import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_catalog_fixture.py"
spec = importlib.util.spec_from_file_location("build_catalog_fixture", SCRIPT)
builder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(builder)

AS_OF = dt.date(2026, 11, 26)
TABLE = """{
 "gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 128000,
   "max_output_tokens": 16384, "input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7,
   "supports_function_calling": true, "supports_vision": true},
 "gpt-4o-mini-2024-07-18": {"litellm_provider": "openai", "mode": "chat",
   "max_input_tokens": 128000, "input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7},
 "gpt-old": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 8000,
   "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "deprecation_date": "2026-01-01"},
 "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct": {
   "litellm_provider": "fireworks_ai", "mode": "chat", "max_input_tokens": 131072,
   "input_cost_per_token": 9e-7, "output_cost_per_token": 9e-7, "source": "https://fw.test"},
 "novita/meta-llama/llama-3.3-70b-instruct": {"litellm_provider": "novita", "mode": "chat",
   "max_input_tokens": 131072, "input_cost_per_token": 1.3500000000000002E-7,
   "output_cost_per_token": 4e-7},
 "cerebras/llama-3.3-70b": {"litellm_provider": "cerebras", "mode": "chat",
   "max_input_tokens": 65536, "input_cost_per_token": 8.5e-7, "output_cost_per_token": 1.2e-6},
 "claude-sonnet-4-5": {"litellm_provider": "anthropic", "mode": "chat",
   "max_input_tokens": 200000, "input_cost_per_token": 0.000003,
   "output_cost_per_token": 0.000015, "cache_creation_input_token_cost": 0.00000375}
}"""


def _collect():
    return builder.collect(json.loads(TABLE, parse_float=Decimal), AS_OF)


def test_hosts_spellings_map_to_one_canonical_model():
    offers, _, _ = _collect()

    assert set(offers) == {"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct",
                           "anthropic/claude-sonnet-4.5"}
    llama = offers["meta-llama/llama-3.3-70b-instruct"]
    assert set(llama) == {"fireworks", "novita", "cerebras"}
    assert llama["fireworks"]["upstream_model_id"] == "llama-v3p3-70b-instruct"


def test_prices_are_exact_and_only_float_noise_is_rounded_and_listed():
    offers, dated, rounded = _collect()

    mini = offers["openai/gpt-4o-mini"]["openai"]["price"]
    assert (mini["input_nanos_per_m"], mini["output_nanos_per_m"]) == (150_000_000,
                                                                       600_000_000)
    sonnet = offers["anthropic/claude-sonnet-4.5"]["anthropic"]["price"]
    assert sonnet["cache_write_nanos_per_m"] == 3_750_000_000
    novita = offers["meta-llama/llama-3.3-70b-instruct"]["novita"]["price"]
    assert novita["input_nanos_per_m"] == 135_000_000
    assert rounded == [{"entry": "novita/meta-llama/llama-3.3-70b-instruct:input_cost_per_token",
                        "source_value": "1.3500000000000002E-7", "nanos": 135_000_000}]
    # The dated snapshot is folded into its undated model (its date is the release date).
    assert sorted(dated["gpt-4o-mini"]) == ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]
    assert builder.release_date(dated["gpt-4o-mini"]) == "2024-07-18"


def test_a_non_integer_price_without_float_noise_stops_the_build():
    with pytest.raises(ValueError, match="carries no float noise"):
        builder.to_nanos(Decimal("1.2345E-16"), builder.PER_M, "x:input", [])
    with pytest.raises(TypeError):
        builder.to_nanos(0.1, builder.PER_M, "x:input", [])
