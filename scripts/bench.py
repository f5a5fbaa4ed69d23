#!/usr/bin/env python3
"""`make bench`: our gateway beside LiteLLM and Portkey in one run of the shared harness.

Starts the gateway as in production (PostgreSQL, Redis, authentication, limits, holds and usage
records on; one uvicorn process pinned to GW_CPU, default 1) with catalog endpoints whose
upstream is the harness's mocks (:18080 JSON, :18081 SSE, :18090 50 ms), an org, a key and
credit. Pins our Redis and our database's backends to UP_CPU (default 0), where the harness
places wrk, the mocks and Postgres. Runs `$BENCH_HARNESS/run_peers.sh` (default
../shared/bench) with our targets `switchyard` and `switchyard-delay`, honouring its knobs
(DURATION, REPEATS, CONC, BENCH_RESULTS, ...); samples the CPU PostgreSQL (our database's
backends) and Redis (our own instance) spend during our targets' runs; writes
`switchyard-bench.json` into $BENCH_RESULTS and a table into README.md between the bench
markers; stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = Path(os.environ.get("BENCH_HARNESS", ROOT.parent / "shared" / "bench")).resolve()
WORK = Path(os.environ.get("BENCH_WORK", Path.home() / ".cache" / "switchyard-bench"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", WORK / "results"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgres://postgres@127.0.0.1:5432/switchyard_bench")
GW_CPU = os.environ.get("GW_CPU", "1")
# Also run the nginx suite against more gateways, each with one feature off, on the same core in
# the same run: what it costs. BENCH_VARIANTS="name:VAR=value,VAR=value;..." (empty: none);
# by default the metrics (switchyard-metrics-off) and the request records' task labels
# (switchyard-labels-off).
VARIANTS = [
    (name.strip(), dict(pair.split("=", 1) for pair in settings.split(",") if pair.strip()))
    for name, _, settings in (v.partition(":") for v in os.environ.get(
        "BENCH_VARIANTS", "metrics-off:METRICS_ENABLED=0;labels-off:TASK_LABELS_ENABLED=0",
    ).split(";") if v.strip())
]
MOCKS = {"json": 18080, "sse": 18081, "delay": 18090}
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"
# Far above what one core can serve in a minute: the benchmark measures the limiter's cost,
# not its refusals.
BENCH_LIMITS = {"GATEWAY_KEY_RPM": "100000000", "GATEWAY_ORG_RPM": "100000000",
                "GATEWAY_KEY_TPM": "100000000000", "GATEWAY_ORG_TPM": "100000000000"}


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def ensure_postgres() -> str:
    """Start the local cluster if it is down; create the bench database; return its name."""
    import psycopg

    dbname = DATABASE_URL.rsplit("/", 1)[1]
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    for attempt in range(2):
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                      (dbname,)).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{dbname}"')
            return dbname
        except psycopg.OperationalError:
            if attempt:
                raise
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            log(f"starting PostgreSQL {version}")
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                            "start"], check=False)
            time.sleep(2)
    raise RuntimeError("unreachable")


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    """Our own redis-server on a unix socket, so its CPU is ours alone."""
    sock = tmp / "redis.sock"
    # Pinned where the harness puts wrk, the mocks and Postgres (UP_CPU), off the gateway's core.
    pin = ["taskset", "-c", os.environ.get("UP_CPU", "0")] if shutil.which("taskset") else []
    process = subprocess.Popen(
        [*pin, "redis-server", "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if sock.exists():
            return process, f"unix://{sock}?db=0"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def prepare(env: dict[str, str]) -> str:
    """Migrate, then create the mock providers/models, an org, a key and credit; return the key.

    Runs in a child process so Django is configured with the bench environment only.
    """
    code = (
        "import json, scripts.bench_setup as s; print(json.dumps(s.setup()))"
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gateway(env: dict[str, str], pid_file: Path) -> tuple[subprocess.Popen, str]:
    # --port, not --fd: uvicorn treats an inherited fd as a unix socket, so accepted TCP
    # connections would keep Nagle's algorithm on and stall ~40 ms on delayed ACKs.
    port = _free_port()
    cmd = [sys.executable, "-m", "marketplace.serve", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log", "--log-level", "warning"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", GW_CPU, *cmd]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env)
    pid_file.write_text(str(process.pid))
    return process, f"http://127.0.0.1:{port}"


def wait_ready(url: str, key: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the gateway exited during start-up")
        try:
            request = urllib.request.Request(  # noqa: S310  (our own http:// URL)
                f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the gateway did not become ready")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def summarise(results: dict, shim_log: Path, warmup: str, duration: str) -> list[dict]:
    """Per our target, mode and concurrency: gateway, database and total CPU ms per request."""
    runs = [json.loads(line) for line in shim_log.read_text().splitlines() if line.strip()]
    if warmup != duration:  # drop the harness's unmeasured warm-up runs
        runs = [r for r in runs if r["duration"] != f"{warmup}s"]
    rows = []
    for row in results["summary"]:
        if not row["target"].startswith("switchyard"):
            continue
        mine = [r for r in runs if (r["target"], r["mode"], r["conc"]) ==
                (row["target"], row["mode"], row["conc"]) and r.get("requests")]
        pg = [r["pg_cpu_ms"] / r["requests"] for r in mine]
        redis = [r["redis_cpu_ms"] / r["requests"] for r in mine]
        gateway = row.get("gw_cpu_ms_per_req")
        pg_ms = statistics.median(pg) if pg else None
        redis_ms = statistics.median(redis) if redis else None
        db = pg_ms + redis_ms if pg_ms is not None and redis_ms is not None else None
        rows.append({
            "target": row["target"], "suite": row["suite"], "mode": row["mode"],
            "conc": row["conc"], "rps": row.get("rps"), "rps_ratio": row.get("rps_ratio"),
            "added_p50_ms": row.get("added_p50_ms"), "added_p99_ms": row.get("added_p99_ms"),
            "errors": row.get("errors"), "gateway_cpu_ms_per_req": gateway,
            "postgres_cpu_ms_per_req": pg_ms, "redis_cpu_ms_per_req": redis_ms,
            "db_cpu_ms_per_req": db,
            "total_cpu_ms_per_req": gateway + db if gateway is not None and db is not None
            else None,
        })
    return rows


def _f(value, digits=2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(rows: list[dict], peers: list[dict], meta: dict) -> str:
    args = meta.get("args", {})
    lines = [
        f"Measured by `make bench` on {meta.get('started_utc', '?')} "
        f"({meta.get('env', {}).get('nproc', '?')} CPUs, gateway pinned to CPU {GW_CPU}, "
        f"our PostgreSQL backends and Redis to CPU {os.environ.get('UP_CPU', '0')}, "
        f"{args.get('duration', '?')} s x {args.get('repeats', '?')} runs, load average "
        f"{(meta.get('env', {}).get('loadavg_at_start') or [0.0])[0]:.2f} at start). CPU is ms per "
        "request (PG + Redis: our database's backends and our own Redis during our runs); "
        "+p50/+p99 are added latency over the direct call in the same run.",
        "",
        "| target | mode | conc | rps | +p50 ms | +p99 ms | gateway CPU | PG + Redis CPU | total |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['mode']} | {r['conc']} | {_f(r['rps'], 0)} | "
            f"{_f(r['added_p50_ms'])} | {_f(r['added_p99_ms'])} | "
            f"{_f(r['gateway_cpu_ms_per_req'], 3)} | {_f(r['db_cpu_ms_per_req'], 3)} | "
            f"{_f(r['total_cpu_ms_per_req'], 3)} |")
    for p in peers:
        lines.append(
            f"| {p['target']} | {p['mode']} | {p['conc']} | {_f(p.get('rps'), 0)} | "
            f"{_f(p.get('added_p50_ms'))} | {_f(p.get('added_p99_ms'))} | "
            f"{_f(p.get('gw_cpu_ms_per_req'), 3)} | – | – |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = ROOT / "README.md"
    current = readme.read_text() if readme.exists() else ""
    block = f"{MARK_START}\n{text}\n{MARK_END}"
    if MARK_START in current and MARK_END in current:
        head, rest = current.split(MARK_START, 1)
        tail = rest.split(MARK_END, 1)[1]
        readme.write_text(head + block + tail)
    else:
        readme.write_text(current.rstrip("\n") + "\n\n## Benchmark\n\n" + block + "\n")


def main() -> int:
    real_wrk = shutil.which("wrk")
    if real_wrk is None or not (HARNESS / "run_peers.sh").exists():
        log(f"run {HARNESS}/setup_peers.sh first (needs wrk, nginx, LiteLLM, Portkey)")
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    redis = gateway = None
    extra: list[subprocess.Popen] = []  # the variants' gateways
    try:
        dbname = ensure_postgres()
        redis, redis_url = start_redis(tmp)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings",
               "DATABASE_URL": DATABASE_URL, "REDIS_URL": redis_url, "SANDBOX": "0",
               "PROVIDER_KEYS": "bench-json=bench,bench-sse=bench,bench-delay=bench",
               # The mock providers listen on loopback, which production refuses.
               "UPSTREAM_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
               "LOG_LEVEL": "WARNING", "DB_POOL_MAX": "2", **BENCH_LIMITS}
        env.pop("CELERY_BROKER_URL", None)
        setup = prepare(env)
        pid_file = tmp / "switchyard.pid"
        gateway, url = start_gateway(env, pid_file)
        wait_ready(url, setup["key"], gateway)
        log(f"gateway pid {gateway.pid} on {url} (CPU {GW_CPU}); redis pid {redis.pid}")
        gateways = {url: str(gateway.pid)}
        variants = []
        for name, overrides in VARIANTS:
            # The same gateway with one feature off, on the same core, to price that feature.
            variant_pid_file = tmp / f"switchyard-{name}.pid"
            variant, variant_url = start_gateway({**env, **overrides}, variant_pid_file)
            extra.append(variant)
            wait_ready(variant_url, setup["key"], variant)
            gateways[variant_url] = str(variant.pid)
            variants.append((name, variant_url, variant_pid_file))
            log(f"{name} gateway pid {variant.pid} on {variant_url} ({overrides})")
        headers = {"Authorization": f"Bearer {setup['key']}"}
        targets = [
            {"name": "switchyard", "suite": "nginx", "url": f"{url}/v1/chat/completions",
             "headers": headers, "model": setup["models"]["json"],
             "stream": {"model": setup["models"]["sse"]}, "pid_file": str(pid_file)},
            {"name": "switchyard-delay", "suite": "delay50ms", "concs": [16, 64],
             "url": f"{url}/v1/chat/completions", "headers": headers,
             "model": setup["models"]["delay"], "pid_file": str(pid_file)},
        ]
        for name, variant_url, variant_pid_file in variants:
            targets.append(
                {"name": f"switchyard-{name}", "suite": "nginx",
                 "url": f"{variant_url}/v1/chat/completions", "headers": headers,
                 "model": setup["models"]["json"], "stream": {"model": setup["models"]["sse"]},
                 "pid_file": str(variant_pid_file)})
        if os.environ.get("DELAY_MS", "50") != "50":
            targets[1]["suite"] = f"delay{os.environ['DELAY_MS']}ms"
        targets_file = tmp / "switchyard-targets.json"
        targets_file.write_text(json.dumps(targets))
        shim_dir = tmp / "bin"
        shim_dir.mkdir()
        shim = shim_dir / "wrk"
        shim.write_text(f'#!/bin/sh\nexec python3 {ROOT / "scripts" / "bench_wrk_shim.py"} "$@"\n')
        shim.chmod(0o700)
        shim_log = tmp / "shim.jsonl"
        shim_log.touch()
        run_env = {**os.environ, "EXTRA_TARGETS": str(targets_file),
                   "BENCH_RESULTS": str(RESULTS), "PATH": f"{shim_dir}:{os.environ['PATH']}",
                   "SY_REAL_WRK": real_wrk, "SY_SHIM_LOG": str(shim_log),
                   "SY_GATEWAY_URL": url, "SY_GATEWAY_PID": str(gateway.pid),
                   "SY_GATEWAYS": json.dumps(gateways),
                   "SY_PG_DBNAME": dbname, "SY_REDIS_PID": str(redis.pid)}
        log("running the harness (run_peers.sh)")
        rc = subprocess.call([str(HARNESS / "run_peers.sh")], env=run_env)
        if rc != 0:
            log(f"run_peers.sh exited with {rc}")
            return rc
        tag = os.environ.get("TAG", "peers")
        results = json.loads((RESULTS / f"{tag}-latest.json").read_text())
        rows = summarise(results, shim_log, os.environ.get("WARMUP", "3"),
                         os.environ.get("DURATION", "10"))
        peers = [r for r in results["summary"] if not r["target"].startswith("switchyard")
                 and not r["target"].startswith("direct")]
        out = {"meta": {"started_utc": results["meta"].get("started_utc"),
                        "gateway_cpu": GW_CPU, "harness": str(HARNESS),
                        "database": dbname, "redis": "own instance (unix socket)",
                        "args": results["meta"].get("args"), "env": results["meta"].get("env")},
               "rows": rows, "peers": peers}
        (RESULTS / "switchyard-bench.json").write_text(json.dumps(out, indent=2))
        text = table(rows, peers, results["meta"])
        write_readme(text)
        print(text)
        log(f"wrote {RESULTS / 'switchyard-bench.json'} and the README table")
        return 0
    finally:
        stop(gateway)
        for process in extra:
            stop(process)
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
