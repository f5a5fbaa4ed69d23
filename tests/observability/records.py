"""Request records for tests, stored through the gateway's own batch insert."""

from __future__ import annotations

import datetime as dt
import itertools

from observability.recording import RequestRow, store_request_records

_ids = itertools.count(1)


def row(org, *, at: dt.datetime, key=None, **fields) -> RequestRow:
    values = {"model_requested": "openai/gpt-4o-mini", "model_served": "openai/gpt-4o-mini",
              "provider": "sandbox-openai", "status": 200, "outcome": "success",
              "prompt_tokens": 12, "completion_tokens": 5, "cost_nanos": 4_321,
              "latency_ms": 250, "ttft_ms": 90, "task": "chat",
              "attempts": [{"endpoint_id": 1, "provider": "sandbox-openai", "status": 200,
                            "latency_ms": 240, "error": ""}]}
    values.update(fields)
    return RequestRow(request_id=values.pop("request_id", f"gen-test-{next(_ids)}"),
                      created_at=at, org_id=org.pk, key_id=key.pk if key else None, **values)


def store(*rows: RequestRow) -> list[RequestRow]:
    assert store_request_records(list(rows)) == len(rows)
    return list(rows)
