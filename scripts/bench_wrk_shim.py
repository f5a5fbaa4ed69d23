#!/usr/bin/env python3
"""Stands in for `wrk` on the harness's PATH during `make bench`: runs the real wrk unchanged
and, for runs against our gateway, records the CPU that PostgreSQL (our database's backends)
and our Redis spent during exactly that run, as one JSON line in $SY_SHIM_LOG.

Only the standard library: it runs under the harness's python3, pinned beside wrk.
"""

import contextlib
import json
import os
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def _postgres_backends(dbname: str) -> dict[int, int]:
    """pid -> ticks of every PostgreSQL backend connected to our database (its process title
    reads `postgres: ...: USER DBNAME HOST(PORT) STATE`)."""
    needle = f" {dbname} ".encode()
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and needle in cmdline:
            out[int(entry)] = _ticks(int(entry))
    return out


def _pin(pids, cpus: str) -> None:
    """Pin our database's backends where the harness puts Postgres (UP_CPU, beside wrk and the
    mocks), off the gateway's core: there they would evict its caches and steal its time,
    which a gateway without a database never suffers. Their CPU is still measured."""
    wanted = {int(c) for c in cpus.split(",") if c.strip().isdigit()}
    for pid in pids:
        # A backend that is gone, or not ours to move, is measured where it runs.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, wanted)


def main() -> int:
    real = os.environ["SY_REAL_WRK"]
    args = sys.argv[1:]
    url = args[-1] if args else ""
    # Our gateways by URL (bench.py may start a second one, with metrics off, to compare).
    gateways = json.loads(os.environ.get("SY_GATEWAYS") or "{}") or {
        os.environ.get("SY_GATEWAY_URL", "\0"): os.environ.get("SY_GATEWAY_PID", "0")}
    ours = next((pid for base, pid in gateways.items() if url.startswith(f"{base}/")), None)
    if ours is None:
        os.execv(real, [real, *args])  # noqa: S606  (the harness's own wrk command line)
    dbname = os.environ["SY_PG_DBNAME"]
    redis_pid = int(os.environ["SY_REDIS_PID"])
    gateway_pid = int(ours)
    backends = _postgres_backends(dbname)
    _pin(backends, os.environ.get("UP_CPU", "0"))
    t0, pg0 = time.time(), _postgres_backends(dbname)
    r0, g0 = _ticks(redis_pid), _ticks(gateway_pid)
    rc = subprocess.call([real, *args])
    t1, pg1 = time.time(), _postgres_backends(dbname)
    r1, g1 = _ticks(redis_pid), _ticks(gateway_pid)
    pg_ticks = sum(t - pg0.get(pid, 0) for pid, t in pg1.items())
    body = os.path.basename(os.environ.get("WRK_BODY_FILE", ""))  # body-<target>-<mode>.json
    name, _, mode = body[len("body-"):-len(".json")].rpartition("-")
    conc = next((int(a[2:]) for a in args if a.startswith("-c") and a[2:].isdigit()), None)
    duration = next((a[2:] for a in args if a.startswith("-d")), "")
    requests = None
    try:
        with open(os.environ["WRK_OUT"]) as f:
            requests = json.load(f)["requests"]
    except (OSError, KeyError, ValueError):
        pass
    record = {"target": name, "mode": mode, "conc": conc, "duration": duration, "rc": rc,
              "wall_s": round(t1 - t0, 3), "requests": requests,
              "pg_cpu_ms": (pg_ticks) * 1000 / HZ, "redis_cpu_ms": (r1 - r0) * 1000 / HZ,
              "gateway_cpu_ms": (g1 - g0) * 1000 / HZ, "pg_backends": len(pg1)}
    with open(os.environ["SY_SHIM_LOG"], "a") as f:
        f.write(json.dumps(record) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
