"""Small helpers shared by the gateway tests."""

import time

from billing.models import UsageRecord


def wait_usage_record(request_id: str, timeout_s: float = 5.0) -> UsageRecord:
    """The usage record of `request_id`, waiting for the writer's batch window to commit."""
    deadline = time.monotonic() + timeout_s
    while True:
        record = UsageRecord.objects.filter(request_id=request_id).first()
        if record is not None:
            return record
        assert time.monotonic() < deadline, f"no usage record for {request_id}"
        time.sleep(0.05)
