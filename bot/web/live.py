"""Live updates for open websockets, inside one gateway process.

Publishing only wakes the subscribers; they read new messages from the
store database. Messages written by other processes (the worker, agents
on another gateway, the action server's escalations) wake them through one
watcher per process (:meth:`ConversationService.watch_new_messages`:
PostgreSQL LISTEN/NOTIFY, or on SQLite one shared query a second): an idle
socket never queries the database.

The hub also caps the sockets it serves, per conversation and per client
address. The caps are per gateway process: behind N gateways a client can
hold at most N times as many (each is still bounded, and idle sockets cost
no queries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

#: The websocket close code for "too many open connections" (an application code, like HTTP 429).
TOO_MANY_SOCKETS = 4429

#: ``watch(on_new, on_missed, active)``: runs until cancelled, calling ``on_new(conversation_id)``
#: for every conversation with new messages, ``on_missed()`` when it may have missed some, and
#: asking ``active()`` whether anyone listens at all.
Watcher = Callable[[Callable[[str], None], Callable[[], None], Callable[[], bool]], Awaitable[None]]


class TooManySockets(Exception):
    """Over a cap; the message is the reason given with the close code."""


class LiveHub:
    def __init__(
        self, queue_size: int = 100, *, per_conversation: int = 0, per_address: int = 0, watch: Watcher | None = None
    ) -> None:
        self._queue_size = queue_size
        self._per_conversation = per_conversation
        self._per_address = per_address
        self._watch = watch
        self._watcher: asyncio.Task[None] | None = None
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._addresses: Counter[str] = Counter()

    def subscribe(self, conversation_id: str, client_key: str | None = None) -> asyncio.Queue[dict[str, Any]]:
        """A queue of wake-ups for a new socket; :class:`TooManySockets` over a cap (0: no cap)."""
        if self._per_conversation and len(self._subscribers.get(conversation_id, ())) >= self._per_conversation:
            raise TooManySockets("too many open connections to this conversation; close another tab first")
        if client_key and self._per_address and self._addresses[client_key] >= self._per_address:
            raise TooManySockets("too many open connections from your address")
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers[conversation_id].add(queue)
        if client_key:
            self._addresses[client_key] += 1
        if self._watch is not None and (self._watcher is None or self._watcher.done()):
            self._watcher = asyncio.create_task(self._watch_forever(self._watch))
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]], client_key: str | None = None) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None and queue in subscribers:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[conversation_id]
            if client_key:
                self._addresses[client_key] -= 1
                if self._addresses[client_key] <= 0:
                    del self._addresses[client_key]

    def open_sockets(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in self._subscribers.get(conversation_id, ()):
            if queue.full():
                # A slow client loses wake-ups, not messages: it re-reads the database.
                continue
            queue.put_nowait(event)

    def new_messages(self, conversation_id: str) -> None:
        self.publish(conversation_id, {"type": "wake"})

    def wake_all(self) -> None:
        """Every socket re-reads (the watcher may have missed notifications: a reconnect)."""
        for conversation_id in list(self._subscribers):
            self.new_messages(conversation_id)

    def typing(self, conversation_id: str, on: bool) -> None:
        self.publish(conversation_id, {"type": "typing", "on": on})

    async def _watch_forever(self, watch: Watcher) -> None:
        while True:
            try:
                await watch(self.new_messages, self.wake_all, lambda: bool(self._subscribers))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the watcher must outlive a database hiccup
                log.exception("the new-messages watcher failed; restarting")
            self.wake_all()
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
