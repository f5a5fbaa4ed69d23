"""/metrics and the JSON logs of a real gateway process, after real requests to the sandbox."""

import json

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.helpers import wait_usage_record

TOKEN = "metrics-test-token-5f1c"
SECRET = "sk-or-v1-0123456789abcdef0123456789abcdef"
pytestmark = pytest.mark.gateway_env(METRICS_TOKEN=TOKEN, LOG_FORMAT="json",
                                     GATEWAY_ATTEMPT_TIMEOUT_S="2")
MODEL = "openai/gpt-4o-mini"
PINNED = {"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}}


def scrape(gateway) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}; the text must parse."""
    response = httpx.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                         timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(sandbox_catalog, funded_key, gateway, sandbox):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                         max_retries=0, timeout=30)


def test_a_completion_moves_requests_latency_tokens_and_spend(client, gateway):
    before = scrape(gateway)
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], extra_body=PINNED)
    record = wait_usage_record(completion.id)
    after = scrape(gateway)

    pm = {"provider": "sandbox-openai", "model": MODEL}
    assert value(after, "switchyard_requests_total", **pm, status="200") \
        - value(before, "switchyard_requests_total", **pm, status="200") == 1
    assert value(after, "switchyard_request_latency_seconds_count", **pm) \
        - value(before, "switchyard_request_latency_seconds_count", **pm) == 1
    assert value(after, "switchyard_tokens_total", **pm, kind="prompt") \
        - value(before, "switchyard_tokens_total", **pm, kind="prompt") \
        == completion.usage.prompt_tokens
    assert value(after, "switchyard_tokens_total", **pm, kind="completion") \
        - value(before, "switchyard_tokens_total", **pm, kind="completion") \
        == completion.usage.completion_tokens
    assert value(after, "switchyard_spend_nanos_usd_total", **pm) \
        - value(before, "switchyard_spend_nanos_usd_total", **pm) == record.charge_nanos
    assert value(after, "switchyard_gateway_overhead_seconds_count") \
        - value(before, "switchyard_gateway_overhead_seconds_count") >= 1
    # State read at scrape time: holds, the writer's and content queues, the breaker it used.
    assert ("switchyard_open_holds", ()) in after
    assert ("switchyard_queue_length", (("queue", "settlements"),)) in after
    breaker = [labels for (name, labels), v in after.items()
               if name == "switchyard_breaker_state" and dict(labels)["provider"]
               == "sandbox-openai" and dict(labels)["model"] == MODEL]
    assert breaker and value(after, "switchyard_breaker_state", **dict(breaker[0])) == 0
    # The Django app's own metrics are there too.
    assert any(name == "switchyard_http_request_duration_seconds_count" for name, _ in after)


def test_an_upstream_error_moves_the_errors_counter_and_its_log_line_has_the_request_id(
        client, gateway, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=500,
                              error_body=f'{{"error": "bad key {SECRET}, Bearer {SECRET}"}}')
    before = scrape(gateway)
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Say hello"}], extra_body=PINNED)
    after = scrape(gateway)

    error = raised.value
    error_type = "upstream_5xx"  # the request records' (and analytics') error type
    pm = {"provider": "sandbox-openai", "model": MODEL}
    assert value(after, "switchyard_errors_total", **pm, error_type=error_type) \
        - value(before, "switchyard_errors_total", **pm, error_type=error_type) == 1
    status = str(error.status_code)
    assert value(after, "switchyard_requests_total", **pm, status=status) \
        - value(before, "switchyard_requests_total", **pm, status=status) == 1

    # The provider's failure was logged while serving the request: one JSON object with the
    # request's id, its secret redacted.
    request_id = error.response.headers["x-request-id"]
    lines = [json.loads(line) for line in gateway.log_text().splitlines()
             if line.startswith("{") and request_id in line]
    assert lines, gateway.log_text()[-3000:]
    failure = next(line for line in lines if "sandbox-openai failed" in line["event"])
    assert failure["request_id"] == request_id
    assert {"timestamp", "level", "logger", "event"} <= failure.keys()
    assert failure["level"] == "warning"
    assert SECRET not in gateway.log_text()
    assert "[redacted]" in failure["event"]


def test_metrics_need_the_token_when_one_is_set(gateway):
    url = f"{gateway.url}/metrics"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert httpx.get(url, headers={"Authorization": TOKEN}, timeout=10).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"},
                     timeout=10).status_code == 200


def test_a_streamed_completion_moves_the_ttft_histogram(client, gateway):
    before = scrape(gateway)
    chunks = list(client.chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "Count to five"}],
        extra_body=PINNED))
    assert chunks[-1].usage.completion_tokens > 0
    wait_usage_record(chunks[0].id)
    after = scrape(gateway)

    pm = {"provider": "sandbox-openai", "model": MODEL}
    assert value(after, "switchyard_ttft_seconds_count", **pm) \
        - value(before, "switchyard_ttft_seconds_count", **pm) == 1
    assert value(after, "switchyard_tokens_total", **pm, kind="completion") \
        - value(before, "switchyard_tokens_total", **pm, kind="completion") \
        == chunks[-1].usage.completion_tokens
