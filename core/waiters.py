"""Waking one of the tasks queued for a pooled resource, as the asyncio pools here queue them."""

from __future__ import annotations

import asyncio
from collections import deque


def wake_one(waiters: deque[asyncio.Future[None]]) -> None:
    """Wake the longest-queued waiter still waiting; cancelled ones are dropped on the way."""
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return
