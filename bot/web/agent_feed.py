"""The agent consoles' live feed: one poller per gateway process for what changed in their stores.

Changes made in this process (an agent's reply, a claim) are published at once; those made by
other processes (the action server's escalations, the worker's messages, another gateway) are
found by polling the database, so every open console hears of them within about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from bot.core.clock import utc_now
from bot.support.console_queue import Change, ConsoleQueue

log = logging.getLogger(__name__)

#: How often the feed looks in the database for changes made by other
#: processes (the action server's escalations, the worker's messages).
FEED_INTERVAL = 1.0
#: …looking back this far, since a row's time is set before its transaction commits.
FEED_OVERLAP = dt.timedelta(seconds=5)


class AgentFeed:
    """One poller per gateway process, fanning changes out to the consoles of the stores concerned."""

    def __init__(self, queue: ConsoleQueue, interval: float = FEED_INTERVAL) -> None:
        self._queue = queue
        self._interval = interval
        self._subscribers: dict[asyncio.Queue[Change], frozenset[str]] = {}
        self._sent: dict[tuple[str, str], dt.datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, store_ids: frozenset[str]) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(200)
        self._subscribers[queue] = store_ids
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._subscribers.pop(queue, None)

    def publish(self, change: Change) -> None:
        key = (change.kind, change.conversation_id)
        if self._sent.get(key, dt.datetime.min.replace(tzinfo=dt.UTC)) >= change.at:
            return
        self._sent[key] = change.at
        for queue, stores in self._subscribers.items():
            if change.store_id in stores and not queue.full():
                queue.put_nowait(change)

    async def _poll(self) -> None:
        since = utc_now() - FEED_OVERLAP
        while self._subscribers:
            await asyncio.sleep(self._interval)
            started = utc_now()
            stores = frozenset().union(*self._subscribers.values())
            try:
                changes = await self._queue.changes_since(stores, since)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the feed
                log.exception("agent feed poll failed")
                continue
            for change in changes:
                self.publish(change)
            since = started - FEED_OVERLAP
            self._sent = {k: at for k, at in self._sent.items() if at > since}

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
