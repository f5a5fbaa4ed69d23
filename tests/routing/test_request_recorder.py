"""The gateway's request recorder loses no row when it stops in the middle of labelling."""

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from observability.recording import RequestRow
from routing.gateway.labels import TaskLabeller
from routing.gateway.records import RequestRecorder

BODY = b'{"messages": [{"role": "user", "content": "Translate into German: good morning"}]}'


def _row(n: int) -> RequestRow:
    return RequestRow(request_id=f"gen-{n}", created_at=dt.datetime.now(dt.UTC), org_id=1,
                      key_id=1, model_requested="openai/gpt-4o-mini", status=200,
                      outcome="success")


def test_rows_being_labelled_at_shutdown_are_labelled_and_stored():
    stored: list[RequestRow] = []
    labeller = TaskLabeller(enabled=True)

    async def scenario() -> None:
        recorder = RequestRecorder(stored.extend, ThreadPoolExecutor(1), labeller,
                                   max_labelling=1000)
        for n in range(200):
            recorder.record(_row(n), BODY)
        labelling = asyncio.create_task(recorder.run_labels())
        while not recorder._labelling:  # the batch is with the labelling thread now
            await asyncio.sleep(0.001)
        labelling.cancel()  # as Gateway.close does
        await asyncio.gather(labelling, return_exceptions=True)
        await recorder.close()

    try:
        asyncio.run(scenario())
    finally:
        labeller.close()
    assert sorted(row.request_id for row in stored) == sorted(f"gen-{n}" for n in range(200))
    assert {row.task for row in stored} == {"translation"}
