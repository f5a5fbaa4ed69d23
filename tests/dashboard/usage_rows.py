"""Usage records for dashboard tests, written as the hot path's settlement leaves them."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

from billing.models import UsageRecord

_ids = itertools.count()


def usage(org, *, key=None, at: dt.datetime, model: str = "openai/gpt-4o-mini",
          charge: int = 1_000_000, prompt: int = 10, completion: int = 5, served: bool = True,
          cancelled: bool = False, finish_reason: str = "stop") -> UsageRecord:
    return UsageRecord.objects.create(
        request_id=f"test-{next(_ids)}-{org.pk}", org=org, api_key=key, created_at=at,
        requested_model=model, served_model=model if served else "",
        provider_slug="sandbox-openai", prompt_tokens=prompt, completion_tokens=completion,
        charge_nanos=charge, upstream_cost_nanos=charge, finish_reason=finish_reason,
        cancelled=cancelled,
    )


def json_script(html: bytes, element_id: str) -> dict:
    """The data a page passed to its script with Django's `json_script`."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>'.encode(), html,
        re.S)
    assert match, f"no json_script {element_id}"
    return json.loads(match.group(1))


def text_of(html: bytes, element_id: str) -> str:
    """The text of the element with `element_id` (no nested tags)."""
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<'.encode(), html)
    assert match, f"no element {element_id}"
    return match.group(1).decode().strip()
