"""A child process of test_budget_concurrency.py: fire sponsored impressions from threads.

Usage: python impression_storm.py TICKETS.json THREADS. It sets Django up (DATABASE_URL from
the environment: the test's database), prints "ready", waits for a line on stdin so that both
processes start together, then has THREADS threads (behind a barrier) call record_event for
its tickets, each on its own database connection, and prints one JSON list of the outcomes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from marketplace.listings.charging import record_event  # noqa: E402
from marketplace.listings.tickets import SlotTicket  # noqa: E402

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0"


def main() -> None:
    tickets = [SlotTicket(**row) for row in json.loads(Path(sys.argv[1]).read_text())]
    threads = int(sys.argv[2])
    shares = [tickets[i::threads] for i in range(threads)]
    outcomes: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def fire(share: list[SlotTicket]) -> None:
        try:
            barrier.wait(timeout=30)
            for t in share:
                outcome = record_event(t, "impression", viewer=t.viewer, user_agent=BROWSER)
                with lock:
                    outcomes.append(asdict(outcome))
        except Exception as exc:  # reported to the test
            with lock:
                errors.append(repr(exc))
        finally:
            connection.close()

    print("ready", flush=True)
    sys.stdin.readline()
    workers = [threading.Thread(target=fire, args=(share,)) for share in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"outcomes": outcomes, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
