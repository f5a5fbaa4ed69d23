"""Page speed: the median response time and query count of each dashboard page and the catalog
on the demo data with 10,000 usage records (`make page-speed`).

Runs on the configured database (DATABASE_URL, else the embedded SQLite file, as `make run`):
migrates, imports the catalog, seeds the demo org (`seed_demo`) and tops its usage up to
`--usage` records (`seed_demo --usage`; synthetic history that moves no balance), then requests
each page in-process through Django's test client as the demo owner: the time is the server's
whole response (middleware, views, templates, queries), without the network. The budget is
150 ms a page (issue 12); `--check` exits 1 when a page is over it.

    .venv/bin/python scripts/page_speed.py [--usage 10000] [--repeat 20] [--check]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing.hotpath.rules import period_starts  # noqa: E402
from billing.models import UsageRecord  # noqa: E402
from billing.selectors.spend_summary import get_spend_overview, list_top_keys  # noqa: E402
from marketplace.dashboard.demo_usage import add_demo_usage  # noqa: E402
from marketplace.dashboard.management.commands.seed_demo import (  # noqa: E402
    DEMO_EMAIL,
    DEMO_ORG_SLUG,
    seed_demo,
)
from marketplace.tenancy.models import Organization  # noqa: E402

BUDGET_MS = 150


def prepare(usage: int) -> Organization:
    call_command("migrate", verbosity=0)
    call_command("import_catalog", verbosity=0)
    seed_demo()
    org = Organization.objects.get(slug=DEMO_ORG_SLUG)
    missing = usage - UsageRecord.objects.filter(org=org).count()
    if missing > 0:
        add_demo_usage(org, missing)
        # Fresh planner statistics, as autovacuum would leave them: right after a bulk insert
        # the planner still thinks the table is empty.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {UsageRecord._meta.db_table}")
    return org


def pages(org: Organization) -> list[tuple[str, str]]:
    month = period_starts(timezone.now())["month"]
    keys = list_top_keys(org.pk, since=month, limit=1)
    models = get_spend_overview(org.pk).top_models
    result = [
        ("overview", "/dashboard/"),
        ("keys", "/dashboard/keys/"),
    ]
    if keys and keys[0]["api_key_id"]:
        result.append(("key detail", f"/dashboard/keys/{keys[0]['api_key_id']}/"))
    result += [
        ("wallet", "/billing/wallet/"),
        ("invoices", "/billing/invoices/"),
        ("usage", "/billing/usage/"),
        ("settings", "/dashboard/settings/"),
        ("low-balance", "/dashboard/settings/low-balance/"),
        ("members", "/dashboard/members/"),
        ("policy", "/compliance/policy/"),
        ("provider keys", "/compliance/byok/"),
        ("audit log", "/compliance/audit/"),
        ("route explainer", "/routing/explain/"),
        ("catalog", "/models"),
    ]
    if models:
        result.append(("model page", f"/models/{models[0]['model']}"))
    return result


def measure(client: Client, path: str, repeat: int) -> tuple[int, float, int]:
    """(status, median ms, queries of one request) after two warm-up requests."""
    for _ in range(2):
        client.get(path)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return response.status_code, statistics.median(times), len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--usage", type=int, default=10_000,
                        help="usage records the demo org should have (default 10,000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if a page's median is over {BUDGET_MS} ms")
    args = parser.parse_args()

    org = prepare(args.usage)
    client = Client()
    client.force_login(org.memberships.get(user__email__iexact=DEMO_EMAIL).user)
    records = UsageRecord.objects.filter(org=org).count()
    print(f"{connection.vendor}, demo org with {records:,} usage records, "
          f"median of {args.repeat} requests")
    print(f"{'page':<16} {'path':<40} {'status':>6} {'median ms':>10} {'queries':>8}")
    over = []
    for name, path in pages(org):
        status, median_ms, queries = measure(client, path, args.repeat)
        flag = "  over budget" if median_ms > BUDGET_MS else ""
        print(f"{name:<16} {path:<40} {status:>6} {median_ms:>10.1f} {queries:>8}{flag}")
        if median_ms > BUDGET_MS or status != 200:
            over.append(name)
    if over:
        print(f"over {BUDGET_MS} ms or not 200: {', '.join(over)}")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
