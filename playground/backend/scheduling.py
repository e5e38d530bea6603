"""Who gets the CPU next: interactive work before bulk, earliest deadline first.

The engines share a few cores. Left to the OS, sixteen speech streams, a long
transcription and a realtime turn all run at once and every one of them is late. Here
each heavy step (one TTS chunk, one Whisper window) first takes one of ``CpuSlots``'
slots; waiting steps are served by

1. **priority**: ``INTERACTIVE`` (a realtime turn, a Play click, a short transcription)
   before ``BULK`` (a compare batch, a long transcription, a client that stopped reading);
2. **deadline**: when the listener will need it. A stream's first chunk is due now; its
   later chunks are due when the audio already sent runs out, so a new stream's first
   chunk overtakes the tenth chunk of one that is playing comfortably ahead;
3. arrival, among equals.

A request's priority is a context variable, set from the ``X-Playground-Priority``
header by ``PriorityHeader`` (an ASGI middleware), so it follows the request into
worker threads (``run_in_threadpool`` copies the context). Async callers wait without
holding a thread (``async with slots.slot(deadline)``); sync code in a worker thread
uses ``with slots.hold(deadline)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = [
    "PRIORITY_HEADER",
    "CpuSlots",
    "Priority",
    "PriorityHeader",
    "current_priority",
    "priority_from_header",
    "use_priority",
]

PRIORITY_HEADER = "x-playground-priority"


class Priority(IntEnum):
    INTERACTIVE = 0
    BULK = 1


_priority: ContextVar[Priority] = ContextVar("playground_priority", default=Priority.INTERACTIVE)


def current_priority() -> Priority:
    """The priority of the request this code runs for (``INTERACTIVE`` unless told)."""
    return _priority.get()


@contextlib.contextmanager
def use_priority(priority: Priority) -> Iterator[None]:
    """Run a block (and the threads it starts with the context) at ``priority``."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def priority_from_header(value: str | None) -> Priority:
    """``bulk`` (any case) means bulk; anything else, or nothing, is interactive."""
    return Priority.BULK if (value or "").strip().lower() == "bulk" else Priority.INTERACTIVE


@dataclass(order=True)
class _Waiter:
    key: tuple[int, float, int]
    wake: Callable[[], None] = field(compare=False)
    granted: bool = field(default=False, compare=False)
    gone: bool = field(default=False, compare=False)


class CpuSlots:
    """A counting semaphore that hands free slots to the most urgent waiter."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.slots = slots
        self._free = slots
        self._heap: list[_Waiter] = []
        self._lock = threading.Lock()
        self._seq = itertools.count()

    # -- the queue -------------------------------------------------------------------
    def _key(self, deadline: float | None, priority: Priority | None) -> tuple[int, float, int]:
        p = current_priority() if priority is None else priority
        return (int(p), time.monotonic() if deadline is None else deadline, next(self._seq))

    def _enter(self, key: tuple[int, float, int], wake: Callable[[], None]) -> _Waiter | None:
        """Take a slot now (None) or join the queue (the waiter to wait on)."""
        with self._lock:
            if self._free > 0 and not self._heap:
                self._free -= 1
                return None
            waiter = _Waiter(key, wake)
            heapq.heappush(self._heap, waiter)
            return waiter

    def _release(self) -> None:
        with self._lock:
            while self._heap:
                waiter = heapq.heappop(self._heap)
                if waiter.gone:
                    continue
                waiter.granted = True
                waiter.wake()
                return
            self._free += 1

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gave up (cancelled): pass on a slot it was granted meanwhile."""
        with self._lock:
            waiter.gone = True
            granted = waiter.granted
        if granted:
            self._release()

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(1 for w in self._heap if not w.gone)

    # -- async and sync holders ----------------------------------------------------
    @contextlib.asynccontextmanager
    async def slot(self, deadline: float | None = None, priority: Priority | None = None) -> AsyncIterator[None]:
        """Hold a slot for the block; ``deadline`` is a ``time.monotonic()`` instant."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: ready.done() or ready.set_result(None))

        waiter = self._enter(self._key(deadline, priority), wake)
        if waiter is not None:
            try:
                await ready
            except BaseException:
                self._abandon(waiter)
                raise
        try:
            yield
        finally:
            self._release()

    @contextlib.contextmanager
    def hold(self, deadline: float | None = None, priority: Priority | None = None) -> Iterator[None]:
        """The same from a worker thread (blocks it while waiting)."""
        event = threading.Event()
        waiter = self._enter(self._key(deadline, priority), event.set)
        if waiter is not None:
            event.wait()
        try:
            yield
        finally:
            self._release()


Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class PriorityHeader:
    """ASGI middleware: the request's ``X-Playground-Priority`` becomes its priority."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or ()).get(PRIORITY_HEADER.encode())
        with use_priority(priority_from_header(raw.decode("latin-1") if raw else None)):
            await self.app(scope, receive, send)
