"""The gateway charges the platform default margin staff set in the database (the rule with no
org, model or provider; MARGIN_DEFAULT_BPS only seeds it), picked up on its next poll."""

import time

import httpx
import openai

from billing.models import MarginRule
from billing.services.margins import save_margin_rule
from core.money import apply_bps
from tests.gateway.helpers import wait_usage_record


def _prompt_price(gateway, key: str) -> str:
    models = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {key}"},
                       timeout=10).json()["data"]
    return next(m for m in models if m["id"] == "openai/gpt-4o-mini")["pricing"]["prompt"]


def test_the_default_margin_edited_in_the_database_is_what_the_gateway_charges(
        sandbox_catalog, funded_key, gateway, sandbox):
    default = MarginRule.objects.filter(org=None, model_slug="", provider_slug="").first()
    default = default or MarginRule(org=None, model_slug="", provider_slug="")
    default.bps = 1_000
    save_margin_rule(default, actor=None)

    # $0.15/M plus 10%: $0.165/M, i.e. 0.000000165 per token, once the gateway polls.
    deadline = time.monotonic() + 15
    while _prompt_price(gateway, funded_key.plaintext) != "0.000000165":
        assert time.monotonic() < deadline, "the gateway never priced the new default margin"
        time.sleep(0.2)

    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                           max_retries=0, timeout=30)
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}],
        extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}})
    record = wait_usage_record(completion.id)
    assert record.margin_nanos == apply_bps(record.upstream_cost_nanos, 1_000)
    assert record.charge_nanos == record.upstream_cost_nanos + record.margin_nanos
