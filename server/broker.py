"""Events from worker threads to every open `/api/events` stream (Server-Sent Events, no polling).

The build worker and publish jobs report through `BrokerReporter` (a `core.events.Reporter`); video state
changes are published as `state` messages. Each subscriber owns a bounded asyncio queue fed thread-safely
through its loop; a client too slow to keep up loses old progress messages, never blocks a build.
"""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass

from core.events import Event

QUEUE_SIZE = 500


@dataclass(frozen=True)
class Message:
    event: str  # SSE event name: "build" (a core Event), "state" (a video's state), "job" (a publish job)
    data: str   # JSON


class Broker:
    def __init__(self) -> None:
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        with self._lock:
            self._subs.add((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        with self._lock:
            self._subs = {s for s in self._subs if s[1] is not q}

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, event: str, payload: dict | str) -> None:
        msg = Message(event, payload if isinstance(payload, str) else json.dumps(payload))
        with self._lock:
            subs = list(self._subs)
        for loop, q in subs:
            try:
                loop.call_soon_threadsafe(_offer, q, msg)
            except RuntimeError:  # the loop is closed: the client went away
                self.unsubscribe(q)

    def close(self) -> None:
        """Ends every stream (app shutdown)."""
        self.closed = True
        with self._lock:
            subs = list(self._subs)
        for loop, q in subs:
            try:
                loop.call_soon_threadsafe(_offer, q, None)
            except RuntimeError:
                pass


def _offer(q: asyncio.Queue, msg: Message | None) -> None:
    if q.full():
        try:
            q.get_nowait()  # drop the oldest
        except asyncio.QueueEmpty:
            pass
    q.put_nowait(msg)


class BrokerReporter:
    """A Reporter that streams every event as a `build` message (publish events as `job`)."""

    def __init__(self, broker: Broker, name: str = "build") -> None:
        self.broker, self.name = broker, name

    def emit(self, event: Event) -> None:
        self.broker.publish(self.name, event.model_dump_json())
