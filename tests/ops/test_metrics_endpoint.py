"""/metrics as an ASGI app: who may read it, and several processes' samples summed."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from marketplace.metrics import MetricsApp
from marketplace.serve import prepare_metrics_dir, worker_count

REPO_ROOT = Path(__file__).resolve().parents[2]


def call(app, *, client=("127.0.0.1", 50000), headers=(), method="GET"):
    """Run one request through the ASGI app; (status, headers, body)."""
    scope = {"type": "http", "method": method, "path": "/metrics", "client": client,
             "headers": [(k.encode(), v.encode()) for k, v in headers]}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def families(body: bytes) -> dict:
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


@override_settings(METRICS_TOKEN="", METRICS_ENABLED=True, PROMETHEUS_MULTIPROC_DIR="")
@pytest.mark.parametrize(("client", "headers", "status"), [
    (("127.0.0.1", 50000), (), 200),
    (("::1", 50000), (), 200),
    (("203.0.113.7", 50000), (), 403),
    (("10.0.0.5", 50000), (), 403),
    # A proxy on this host forwarding an outside client: not a local reader.
    (("127.0.0.1", 50000), (("x-forwarded-for", "203.0.113.7"),), 403),
    (("127.0.0.1", 50000), (("x-forwarded-for", "127.0.0.1, 203.0.113.7"),), 403),
    (("127.0.0.1", 50000), (("forwarded", 'for="[2001:db8::1]:443"'),), 403),
    (("127.0.0.1", 50000), (("x-real-ip", "198.51.100.2"),), 403),
    (("127.0.0.1", 50000), (("x-forwarded-for", "127.0.0.1"),), 200),
])
def test_without_a_token_only_loopback_readers_get_metrics(client, headers, status):
    got, response_headers, body = call(MetricsApp(), client=client, headers=headers)
    assert got == status
    if status == 200:
        assert response_headers[b"content-type"].startswith(b"text/plain")
        assert "switchyard_http_requests" in families(body)


@override_settings(METRICS_TOKEN="s3cret-metrics-token", PROMETHEUS_MULTIPROC_DIR="")
def test_with_a_token_every_reader_needs_it_loopback_included():
    app = MetricsApp()
    assert call(app)[0] == 401
    assert call(app, headers=[("authorization", "Bearer wrong")])[0] == 401
    assert call(app, headers=[("authorization", "s3cret-metrics-token")])[0] == 401
    status, _, body = call(app, client=("203.0.113.7", 1),
                           headers=[("authorization", "Bearer s3cret-metrics-token")])
    assert status == 200
    assert families(body)


@override_settings(METRICS_ENABLED=False)
def test_metrics_off_answers_404():
    assert call(MetricsApp())[0] == 404


_INCREMENT = """
from routing.gateway import metrics
metrics.observe(provider="p-mp", model="m/mp", status=200, prompt_tokens=7,
                completion_tokens=3, cost_nanos=1_000_000_007, latency_s=0.2, overhead_s=0.001)
"""


def test_several_processes_samples_are_summed(tmp_path):
    directory = tmp_path / "prom"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _INCREMENT], cwd=REPO_ROOT, env=env, check=True,
                       timeout=60)

    with override_settings(METRICS_TOKEN="", PROMETHEUS_MULTIPROC_DIR=str(directory)):
        status, _, body = call(MetricsApp())
    assert status == 200
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in families(body).values() for s in family.samples}
    pm = (("model", "m/mp"), ("provider", "p-mp"))
    assert samples[("switchyard_requests_total", (*pm, ("status", "200")))] == 2
    assert samples[("switchyard_tokens_total", (("kind", "prompt"), *pm))] == 14
    assert samples[("switchyard_spend_nanos_usd_total", pm)] == 2_000_000_014
    assert samples[("switchyard_request_latency_seconds_count", pm)] == 2


def test_several_workers_get_a_fresh_multiprocess_directory(tmp_path):
    assert worker_count(["--workers", "4"], {}) == 4
    assert worker_count(["--workers=3"], {}) == 3
    assert worker_count([], {"WEB_CONCURRENCY": "2"}) == 2
    assert worker_count([], {}) == 1

    environ: dict[str, str] = {}
    assert prepare_metrics_dir(1, environ) is None and environ == {}
    made = prepare_metrics_dir(2, environ)
    assert made and environ["PROMETHEUS_MULTIPROC_DIR"] == made and os.path.isdir(made)
    os.rmdir(made)

    named = tmp_path / "named"
    named.mkdir()
    (named / "counter_123.db").write_bytes(b"stale")
    (named / "keep.txt").write_text("not ours")
    assert prepare_metrics_dir(4, {"PROMETHEUS_MULTIPROC_DIR": str(named)}) == str(named)
    assert sorted(p.name for p in named.iterdir()) == ["keep.txt"]
