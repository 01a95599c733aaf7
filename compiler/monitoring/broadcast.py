"""Fan-out of live events (new alerts, deployment progress) to WebSocket subscribers.

Input: publish(topic, message) from any thread (ingest runs in a worker thread). Output: each
subscriber's own bounded queue on the event loop. A subscriber that falls `max_queue` messages
behind is cut off with an overflow marker instead of slowing the publisher or other subscribers;
a coalescing subscriber (a wake-up: "something new, go and read it") keeps only the newest one.
Knows nothing of WebSockets or HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

Message = dict[str, Any]


class Overflowed(Exception):
    """This subscriber fell too far behind; what it missed is still in the store."""

    def __init__(self, dropped: int) -> None:
        super().__init__(f"{dropped} messages could not be queued")
        self.dropped = dropped


class Subscription:
    def __init__(self, hub: Hub, topic: str, max_queue: int, coalesce: bool = False) -> None:
        self.hub = hub
        self.topic = topic
        self.coalesce = coalesce
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1 if coalesce else max_queue)
        self.dropped = 0

    def offer(self, message: Message) -> None:
        if self.dropped:
            self.dropped += 1
            return
        if self.coalesce and self._queue.full():
            self._queue.get_nowait()  # a wake-up still pending: the newer one replaces it
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped = 1

    async def get(self) -> Message:
        """The next message; raises Overflowed once the queue has overflowed."""
        if self.dropped:
            raise Overflowed(self.dropped)
        # Overflow happens only while the queue is full, i.e. never while this waits on it.
        return await self._queue.get()

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """Topics to subscriptions; all bookkeeping happens on the event loop's thread."""

    def __init__(self, max_queue: int = 256) -> None:
        self.max_queue = max_queue
        self._topics: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def subscribe(self, topic: str, *, coalesce: bool = False) -> Subscription:
        """Call on the event loop (a WebSocket handler). `coalesce`: keep only the newest
        message (never overflows), for subscribers that re-read the store when woken."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop = loop
            subscription = Subscription(self, topic, self.max_queue, coalesce)
            self._topics.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            subscribers = self._topics.get(subscription.topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._topics[subscription.topic]

    def subscribers(self, topic: str) -> int:
        with self._lock:
            return len(self._topics.get(topic, ()))

    def publish(self, topic: str, message: Message) -> None:
        """Thread-safe and never blocks: delivery happens on the loop."""
        with self._lock:
            loop = self._loop
            if loop is None or topic not in self._topics:
                return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(topic, message)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, topic, message)

    def _deliver(self, topic: str, message: Message) -> None:
        with self._lock:
            targets = list(self._topics.get(topic, ()))
        for subscription in targets:
            subscription.offer(message)
