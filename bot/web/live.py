"""Live updates for open websockets, inside one gateway process.

Publishing only wakes the subscribers; they read new messages from the
store database, which also carries messages written by other processes
(agents, the worker), picked up by a periodic re-read.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class LiveHub:
    def __init__(self, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers[conversation_id].add(queue)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[conversation_id]

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in self._subscribers.get(conversation_id, ()):
            if queue.full():
                # A slow client loses wake-ups, not messages: it re-reads the database.
                continue
            queue.put_nowait(event)

    def new_messages(self, conversation_id: str) -> None:
        self.publish(conversation_id, {"type": "wake"})

    def typing(self, conversation_id: str, on: bool) -> None:
        self.publish(conversation_id, {"type": "typing", "on": on})
