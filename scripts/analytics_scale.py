"""Analytics at scale: one million request records over 90 days for one org, rolled up, then
the analytics API and the request log's first page timed (`make analytics-scale`).

Runs on the configured database (DATABASE_URL), which must be PostgreSQL: the records are
generated server-side in one `INSERT ... SELECT ... FROM generate_series` (about a minute), into
the monthly partitions. On SQLite it refuses (a million rows there proves nothing about the
deployed database). The org (`analytics-scale`) is reused when it already holds `--records`
records; `--fresh` deletes its records and rollups first.

Then: the rollup from scratch (its time), and the medians of `--repeat` runs of
- the analytics selector and the whole API (`GET /api/v1/analytics/`, in-process through
  Django's test client as the org's owner) for 90 days with bucket=day, for each group_by;
  target under 300 ms (issue 13);
- the request log's first page: `RequestRecord.objects.filter(org=...).order_by("-created_at",
  "-id")[:50]`, materialised; target under 50 ms. The log view pages with the same ordering on
  the same index (`reqrec_org_time`: org, -created_at, -id), so this is its first page's query.

    .venv/bin/python scripts/analytics_scale.py [--records 1000000] [--days 90] [--repeat 7]
                                                [--fresh] [--check] [--no-rollup]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from marketplace.tenancy import key_services  # noqa: E402
from marketplace.tenancy.models import Membership, Organization, Role  # noqa: E402
from marketplace.tenancy.roles import Actor  # noqa: E402
from observability import partitions  # noqa: E402
from observability.analytics import GROUP_BYS, get_analytics, list_buckets, parse_query  # noqa: E402
from observability.models import RequestRecord, RequestRollup, RollupState  # noqa: E402
from observability.rollups import EPOCH, STATE_NAME, rollup_requests  # noqa: E402

ORG_SLUG = "analytics-scale"
OWNER_EMAIL = "analytics-scale@switchyard.local"
KEYS = 20
ANALYTICS_TARGET_MS = 300
LOG_TARGET_MS = 50

MODELS = ["openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-sonnet-4",
          "anthropic/claude-haiku-3.5", "google/gemini-2.0-flash", "meta/llama-3.1-70b",
          "mistral/mistral-large", "deepseek/deepseek-chat"]
PROVIDERS = ["openai", "anthropic", "google", "together", "fireworks"]
APPS = ["", "Support bot", "Docs search", "Nightly ETL", "IDE plugin", "Analytics agent"]
TASKS = ["", "coding", "extraction", "summarization", "translation", "classification",
         "question_answering", "chat", "creative_writing", "math_reasoning", "agentic"]
ERRORS = ["rate_limit", "upstream_5xx", "timeout", "no_endpoint", "credit", "policy"]


def log(message: str) -> None:
    print(message, flush=True)


def _array(values: list) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[]"


def prepare_org() -> tuple[Organization, list[int], object]:
    org, _ = Organization.objects.get_or_create(slug=ORG_SLUG,
                                                defaults={"name": "Analytics scale"})
    user, _ = get_user_model().objects.get_or_create(
        username=OWNER_EMAIL, defaults={"email": OWNER_EMAIL})
    Membership.objects.get_or_create(org=org, user=user, defaults={"role": Role.OWNER})
    keys = list(org.api_keys.order_by("pk").values_list("pk", flat=True)[:KEYS])
    for i in range(len(keys), KEYS):
        key, _ = key_services.create_api_key(org=org, name=f"scale key {i}",
                                             actor=Actor(role=Role.OWNER, user=user))
        keys.append(key.pk)
    return org, keys, user


def generate(org: Organization, keys: list[int], records: int, days: int) -> float:
    """Insert `records` records spread over the last `days` days in one statement."""
    now = timezone.now()
    partitions.ensure_months({now - dt.timedelta(days=d) for d in range(days + 1)})
    table = RequestRecord._meta.db_table
    sql = f"""
        INSERT INTO "{table}" (
            created_at, recorded_at, request_id, org_id, key_id, app, model_requested,
            model_served, provider, endpoint_id, status, outcome, error_type, error_message,
            finish_reason, attempts, prompt_tokens, completion_tokens, cost_nanos, latency_ms,
            ttft_ms, streamed, is_fallback, is_byok, is_cached, task, count)
        SELECT
            %(now)s - (r.t * %(days)s * interval '1 day'),
            now(), 'scale-' || g, %(org)s,
            (%(keys)s::bigint[])[1 + floor(r.k * %(nkeys)s)::int],
            ({_array(APPS)})[1 + floor(r.a * {len(APPS)})::int],
            m.model,
            CASE WHEN r.o < 0.05 THEN '' ELSE m.model END,
            CASE WHEN r.o < 0.05 THEN ''
                 ELSE ({_array(PROVIDERS)})[1 + floor(r.p * {len(PROVIDERS)})::int] END,
            NULL,
            CASE WHEN r.o < 0.05 THEN 429 WHEN r.o < 0.07 THEN 502 ELSE 200 END,
            CASE WHEN r.o < 0.05 THEN 'refused' WHEN r.o < 0.07 THEN 'failed' ELSE 'success' END,
            CASE WHEN r.o < 0.07 THEN ({_array(ERRORS)})[1 + floor(r.e * {len(ERRORS)})::int]
                 ELSE '' END,
            '', CASE WHEN r.o < 0.07 THEN '' ELSE 'stop' END, '[]'::jsonb,
            CASE WHEN r.o < 0.05 THEN 0 ELSE 20 + floor(r.x * 4000)::int END,
            CASE WHEN r.o < 0.07 THEN 0 ELSE 5 + floor(r.y * 1200)::int END,
            CASE WHEN r.o < 0.07 THEN 0 ELSE floor(r.x * r.y * 90000000)::bigint END,
            CASE WHEN r.o < 0.05 THEN 1 + floor(r.l * 5)::int
                 ELSE 150 + floor(power(r.l, 3) * 20000)::int END,
            CASE WHEN r.o < 0.07 OR r.s < 0.4 THEN NULL ELSE 50 + floor(r.l * 900)::int END,
            r.s >= 0.4, r.o >= 0.07 AND r.f < 0.05, r.b < 0.1, false,
            ({_array(TASKS)})[1 + floor(r.tk * {len(TASKS)})::int],
            CASE WHEN r.o < 0.05 THEN 1 + floor(r.c * 4)::int ELSE 1 END
        FROM generate_series(1, %(records)s) AS g
        CROSS JOIN LATERAL (SELECT random() AS t, random() AS k, random() AS a, random() AS mm,
                                   random() AS p, random() AS o, random() AS e, random() AS x,
                                   random() AS y, random() AS l, random() AS s, random() AS f,
                                   random() AS b, random() AS tk, random() AS c,
                                   g AS anchor) AS r
        CROSS JOIN LATERAL (
            SELECT ({_array(MODELS)})[1 + floor(power(r.mm, 2) * {len(MODELS)})::int] AS model
        ) AS m
    """  # noqa: S608  (our own constants; the values go as parameters)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(sql, {"now": now, "days": days, "org": org.pk, "keys": keys,
                             "nkeys": len(keys), "records": records})
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    return time.perf_counter() - started


def median_ms(fn, repeat: int) -> float:
    fn()  # warm: connections, caches, the planner
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="Regenerate the org's records.")
    parser.add_argument("--check", action="store_true", help="Exit 1 when over a target.")
    parser.add_argument("--no-rollup", action="store_true",
                        help="Time the queries on the rollups as they are (no rollup run).")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        log("analytics_scale needs PostgreSQL (set DATABASE_URL): a million records in SQLite "
            "say nothing about the deployed database. Nothing was done.")
        return 2

    call_command("migrate", verbosity=0)
    org, keys, user = prepare_org()
    have = RequestRecord.objects.filter(org=org).count()
    if args.fresh or have != args.records:
        log(f"deleting {have:,} records and the rollups of {ORG_SLUG}")
        RequestRollup.objects.filter(org=org).delete()
        RequestRecord.objects.filter(org=org).delete()
        log(f"generating {args.records:,} records over {args.days} days")
        log(f"  inserted in {generate(org, keys, args.records, args.days):.1f} s")
    else:
        log(f"reusing {have:,} records of {ORG_SLUG}")

    # The rollup from scratch: every hour of every org (the scale org is almost all of it).
    rollup_s = float("nan")
    if not args.no_rollup:
        RollupState.objects.filter(name=STATE_NAME).update(watermark=EPOCH)
        started = time.perf_counter()
        result = rollup_requests()
        rollup_s = time.perf_counter() - started
        rows = RequestRollup.objects.filter(org=org).count()
        log(f"rollup: {result.days} days, {result.hours:,} hours, {rows:,} rollup rows of the "
            f"org, in {rollup_s:.1f} s")

    client = Client()
    client.force_login(user)
    until = timezone.now()
    since = until - dt.timedelta(days=args.days)
    params = {"since": since.isoformat(), "until": until.isoformat(), "bucket": "day"}
    table = []
    for group_by in (None, *GROUP_BYS):
        query = parse_query({**params, **({"group_by": group_by} if group_by else {})})
        buckets = len(list_buckets(org, query))
        selector = median_ms(lambda q=query: list_buckets(org, q), args.repeat)
        page = median_ms(lambda q=query: get_analytics(org, q), args.repeat)

        def api(g=group_by):
            response = client.get("/api/v1/analytics/",
                                  {**params, **({"group_by": g} if g else {})})
            assert response.status_code == 200, response.content[:200]

        table.append((group_by or "(all)", buckets, selector, page, median_ms(api, args.repeat)))

    def first_page():
        return list(RequestRecord.objects.filter(org=org).order_by("-created_at", "-id")[:50])

    log_ms = median_ms(first_page, args.repeat)

    log("")
    log(f"{RequestRecord.objects.filter(org=org).count():,} records, {args.days} days, "
        f"bucket=day; medians of {args.repeat} runs")
    log(f"{'group_by':<10} {'buckets':>8} {'selector ms':>12} {'page data ms':>13} "
        f"{'API ms':>8}")
    over = False
    for group_by, buckets, selector, page, api_ms in table:
        flag = "" if api_ms < ANALYTICS_TARGET_MS else "  OVER"
        over = over or bool(flag)
        log(f"{group_by:<10} {buckets:>8} {selector:>12.1f} {page:>13.1f} {api_ms:>8.1f}{flag}")
    log(f"request log first page (50 rows): {log_ms:.1f} ms"
        f"{'' if log_ms < LOG_TARGET_MS else '  OVER'}")
    log(f"targets: analytics API < {ANALYTICS_TARGET_MS} ms, log first page < {LOG_TARGET_MS} ms;"
        f" rollup from scratch {rollup_s:.1f} s")
    over = over or log_ms >= LOG_TARGET_MS
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
