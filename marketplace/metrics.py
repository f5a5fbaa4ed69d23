"""`/metrics`: Prometheus text for the gateway and the Django app, outside Django's request cycle.

marketplace/asgi.py hands this small ASGI app `/metrics` before Django sees it, so a scrape
costs the exposition and nothing else. Who may read it: with METRICS_TOKEN set, a request
carrying `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time; 401 otherwise);
without it, loopback peers only (403 otherwise). uvicorn has already replaced a trusted proxy's
address with its client's (TRUSTED_PROXIES, marketplace/serve.py), and a request that still
carries X-Forwarded-For, Forwarded or X-Real-IP counts as loopback only when every address it
names is: a proxy on this host forwarding an outside client is not a local reader.

What it shows: the gateway's per-request metrics (routing/gateway/metrics.py), the Django
app's (`DJANGO_REQUESTS`, `DJANGO_LATENCY`, observed by marketplace.request_ids), state read
at scrape time (the gateway's holds, queues and breakers, a collector passed in), the Celery
queues' lengths (read from the broker when scraped, with a timeout, at most every few
seconds), and in a single process prometheus_client's process and GC metrics. Under several
workers (PROMETHEUS_MULTIPROC_DIR set) every worker writes its samples into that directory and
a scrape, whichever worker answers it, sums them (prometheus_client's multiprocess collector).
"""

from __future__ import annotations

import asyncio
import glob
import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector, CollectorRegistry

logger = logging.getLogger(__name__)

DJANGO_REQUESTS = Counter("switchyard_http_requests",
                          "Requests the Django app answered (everything but /v1), by status.",
                          ["method", "status"])
DJANGO_LATENCY = Histogram("switchyard_http_request_duration_seconds",
                           "Time the Django app took per request.",
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0))

_FORWARD_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip().strip('"[]')).is_loopback
    except ValueError:
        return False


def _forwarded_for(name: bytes, value: bytes) -> list[str]:
    text = value.decode("latin-1")
    if name != b"forwarded":
        return [hop.strip() for hop in text.split(",")]
    hops = []
    for element in text.split(","):
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            if key.lower() == "for":
                host = val.strip('"')
                # [v6]:port or v4:port: the address only
                host = host[1:host.index("]")] if host.startswith("[") and "]" in host else \
                    host.rsplit(":", 1)[0] if host.count(":") == 1 else host
                hops.append(host)
    return hops or [text]


def is_local_reader(scope: dict[str, Any]) -> bool:
    """The peer is loopback and, if the request was forwarded, so is every address it names."""
    client = scope.get("client")
    if not client or not _is_loopback(str(client[0])):
        return False
    for name, value in scope.get("headers", ()):
        if name in _FORWARD_HEADERS and not all(
                _is_loopback(hop) for hop in _forwarded_for(name, value)):
            return False
    return True


def token_ok(scope: dict[str, Any], token: str) -> bool:
    supplied = b""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            supplied = value
            break
    return hmac.compare_digest(supplied, b"Bearer " + token.encode())


class CeleryQueueCollector(Collector):
    """Messages waiting in each Celery queue, read from the broker when scraped.

    Bounded: the broker is asked at most every `every_s`, one probe at a time, and a scrape
    waits at most `timeout_s` for it (then shows the last known lengths, or none).
    """

    def __init__(self, broker_url: str, queues: Iterable[str], *, timeout_s: float = 1.0,
                 every_s: float = 5.0):
        self._url = broker_url
        self._queues = tuple(queues)
        self._timeout_s = timeout_s
        self._every_s = every_s
        self._lengths: dict[str, int] = {}
        self._at = 0.0
        self._probe: Future[dict[str, int]] | None = None
        self._lock = threading.Lock()

    def _read(self) -> dict[str, int]:
        from kombu import Connection

        lengths = {}
        with Connection(self._url, connect_timeout=self._timeout_s) as connection:
            channel = connection.channel()
            try:
                for queue in self._queues:
                    try:
                        _name, count, _consumers = channel.queue_declare(queue=queue,
                                                                         passive=True)
                    except Exception:  # noqa: BLE001 - a queue not declared yet is empty
                        count = 0
                        channel = connection.channel()
                    lengths[queue] = int(count)
            finally:
                channel.close()
        return lengths

    def _run(self, future: Future[dict[str, int]]) -> None:
        try:
            future.set_result(self._read())
        except Exception as exc:  # noqa: BLE001 - the broker being down is not a scrape error
            future.set_exception(exc)

    def lengths(self) -> dict[str, int]:
        with self._lock:
            if self._probe is None and time.monotonic() - self._at >= self._every_s:
                self._probe = Future()
                threading.Thread(target=self._run, args=(self._probe,), daemon=True,
                                 name="metrics-celery-queues").start()
            probe = self._probe
        if probe is not None:
            try:
                lengths = probe.result(timeout=self._timeout_s)
            except TimeoutError:
                return self._lengths
            except Exception as exc:  # noqa: BLE001
                logger.warning("could not read the Celery queue lengths: %s", exc)
                lengths = {}
            with self._lock:
                if self._probe is probe:
                    self._probe = None
                    self._at = time.monotonic()
                    self._lengths = lengths
        return self._lengths

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("switchyard_celery_queue_length",
                                   "Messages waiting in each Celery queue (from the broker).",
                                   labels=["queue"])
        for queue, length in self.lengths().items():
            family.add_metric([queue], length)
        yield family


def _prune_dead_workers(directory: str) -> None:
    """Forget the live gauges of workers that exited (uvicorn restarts a dead one)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        try:
            pid = int(path.rsplit("_", 1)[1][:-3])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            mark_process_dead(pid, directory)
        except PermissionError:
            continue


class _Several:
    def __init__(self, collectors: list[Any]):
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


class MetricsApp:
    """The ASGI app behind `/metrics`. `local` collectors read this process's state; under
    several workers each worker copies that state into the shared directory instead (see
    routing/gateway/metrics.py), so they are left out there."""

    def __init__(self, local: Iterable[Collector] = ()):
        self._local = list(local)
        self._celery = (CeleryQueueCollector(settings.CELERY_BROKER_URL,
                                             [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE",
                                                      "celery")])
                        if settings.CELERY_BROKER_URL else None)

    def _registry(self) -> _Several:
        shared: list[Any] = [self._celery] if self._celery is not None else []
        directory = settings.PROMETHEUS_MULTIPROC_DIR
        if directory:
            _prune_dead_workers(directory)
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            return _Several([registry, *shared])
        return _Several([REGISTRY, *self._local, *shared])

    def render(self) -> bytes:
        return generate_latest(self._registry())  # type: ignore[arg-type]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not settings.METRICS_ENABLED:
            await _answer(send, 404, b"Metrics are off (METRICS_ENABLED).\n")
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, b"Method not allowed.\n", [(b"allow", b"GET, HEAD")])
            return
        token = settings.METRICS_TOKEN
        if token:
            if not token_ok(scope, token):
                await _answer(send, 401, b"A bearer token is required.\n",
                              [(b"www-authenticate", b'Bearer realm="metrics"')])
                return
        elif not is_local_reader(scope):
            await _answer(send, 403, b"Set METRICS_TOKEN to read metrics from elsewhere.\n")
            return
        # Collecting reads files (several workers) or the broker: never on the event loop.
        body = await asyncio.get_running_loop().run_in_executor(None, self.render)
        await _answer(send, 200, b"" if scope["method"] == "HEAD" else body,
                      [(b"cache-control", b"no-store")], CONTENT_TYPE_LATEST.encode())


async def _answer(send: Any, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]] | None = None,
                  content_type: bytes = b"text/plain; charset=utf-8") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
