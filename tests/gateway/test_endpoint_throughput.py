"""`throughput_last_30m` in /v1/models/{id}/endpoints comes from the health rollup when measured."""

import httpx

from billing.models import UsageRecord
from routing.tasks import rollup_endpoint_health
from tests.gateway.helpers import wait_usage_record
from tests.openrouter_schema import validate


def _nearest_rank(values: list[int], pct: int) -> int:
    values = sorted(values)
    return values[max(1, -(-pct * len(values) // 100)) - 1]


def test_measured_throughput_is_listed_and_validates(sandbox_catalog, funded_key, gateway,
                                                     sandbox):
    http = httpx.Client(base_url=gateway.url, timeout=30,
                        headers={"Authorization": f"Bearer {funded_key.plaintext}"})
    listing = http.get("/v1/models/openai/gpt-4o-mini/endpoints").json()
    assert {e["throughput_last_30m"] for e in listing["data"]["endpoints"]} == {None}

    ids = []
    for i in range(4):
        answer = http.post("/v1/chat/completions", json={
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": f"Describe lighthouse number {i}"}]}).json()
        ids.append(answer["id"])
    records = [wait_usage_record(i) for i in ids]
    assert rollup_endpoint_health() > 0

    listing = http.get("/v1/models/openai/gpt-4o-mini/endpoints").json()
    http.close()
    validate(listing["data"], "ListEndpointsResponse")
    by_tag = {e["tag"]: e["throughput_last_30m"] for e in listing["data"]["endpoints"]}
    served = {r.provider_slug: r.endpoint_id for r in records}
    assert {tag for tag, tp in by_tag.items() if tp is not None} == set(served)
    for tag, endpoint_id in served.items():
        # Direct computation over the raw usage rows: output tokens per second of generation.
        speeds = [r.completion_tokens * 1000 // _generating_ms(r)
                  for r in UsageRecord.objects.filter(endpoint_id=endpoint_id)]
        assert by_tag[tag] == {"p50": _nearest_rank(speeds, 50), "p75": _nearest_rank(speeds, 25),
                               "p90": _nearest_rank(speeds, 10), "p99": _nearest_rank(speeds, 1)}
        assert by_tag[tag]["p99"] > 0


def _generating_ms(record: UsageRecord) -> int:
    ttft = record.ttft_ms
    return record.latency_ms - ttft if ttft is not None and record.latency_ms > ttft \
        else record.latency_ms
