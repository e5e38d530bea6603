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

A *long* step (a Whisper window: up to a second or more, never preempted) may hold at
most all slots but one, so whenever there are two or more slots, one is always left for
the short steps (a sentence of speech) that a listener is waiting on.

Work that cannot queue, the LLM's worker generating the first words of a reply someone
is waiting to hear, *claims* a slot instead: at once, ahead of every waiter, even when
none is free (the steps running finish; nothing new starts until a slot is). While a
claim is held no new long step starts in the slot it took. Claims and long steps
together never hold the last slot: with one slot, or while a Whisper window holds the
other, the claimed work runs beside the slots (its first words must not wait, and a
sentence of speech must not wait for them either).

Work nobody hears as it happens (a file's transcription) need not queue at all: it can
run on threads the kernel itself puts last (``start_in_background``), which then take
whatever CPU the slots leave idle and yield the core at once, mid-window, when a
sentence of speech wants it. A slot cannot do that: a window holding one is never
preempted.

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
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = [
    "BACKGROUND_NICE",
    "GIL_SWITCH_INTERVAL_S",
    "PRIORITY_HEADER",
    "CpuSlots",
    "Priority",
    "PriorityHeader",
    "can_run_in_background",
    "current_priority",
    "hand_over_the_gil_sooner",
    "priority_from_header",
    "start_in_background",
    "use_priority",
]

PRIORITY_HEADER = "x-playground-priority"

#: How long a thread may keep the GIL while another waits for it (CPython's default is 5
#: ms). The LLM's worker takes the GIL back several times a step, between C calls; on a
#: busy server each hand-over cost up to the whole interval, and its steps took 3.4 times
#: as long (measured: 16 → 55 ms a token beside three busy Python threads, 29 ms with 1 ms).
GIL_SWITCH_INTERVAL_S = 0.001


def hand_over_the_gil_sooner() -> None:
    """Shorten the interpreter's switch interval (process-wide) to ``GIL_SWITCH_INTERVAL_S``,
    never lengthening one already shorter."""
    if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


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
    long: bool = field(default=False, compare=False)
    granted: bool = field(default=False, compare=False)
    gone: bool = field(default=False, compare=False)


class CpuSlots:
    """A counting semaphore that hands free slots to the most urgent waiter."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.slots = slots
        #: slots long steps may hold at once: all but one, when there are two or more
        self.long_max = max(1, slots - 1)
        self._free = slots
        self._long = 0
        self._claims = 0
        self._heap: list[_Waiter] = []
        self._lock = threading.Lock()
        self._seq = itertools.count()

    # -- the queue -------------------------------------------------------------------
    def _key(self, deadline: float | None, priority: Priority | None) -> tuple[int, float, int]:
        p = current_priority() if priority is None else priority
        return (int(p), time.monotonic() if deadline is None else deadline, next(self._seq))

    def _enter(self, key: tuple[int, float, int], wake: Callable[[], None], long: bool) -> _Waiter | None:
        """Take a slot now (None) or join the queue (the waiter to wait on)."""
        with self._lock:
            waiter = _Waiter(key, wake, long)
            heapq.heappush(self._heap, waiter)
            self._dispatch()
            return None if waiter.granted else waiter

    def _dispatch(self) -> None:
        """Under the lock: give free slots to the most urgent waiters that may take one."""
        held_back: list[_Waiter] = []
        while self._free > 0 and self._heap:
            waiter = heapq.heappop(self._heap)
            if waiter.gone:
                continue
            if waiter.long and self._long >= self.long_max - self._claims:
                held_back.append(waiter)
                continue
            self._free -= 1
            self._long += waiter.long
            waiter.granted = True
            waiter.wake()
        for waiter in held_back:
            heapq.heappush(self._heap, waiter)

    def _release(self, long: bool) -> None:
        with self._lock:
            self._free += 1
            self._long -= long
            self._dispatch()

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gave up (cancelled): pass on a slot it was granted meanwhile."""
        with self._lock:
            waiter.gone = True
            granted = waiter.granted
        if granted:
            self._release(waiter.long)

    def take_spare(self) -> bool:
        """Take a slot only if one is free and nobody waits for it (a core that would
        otherwise idle); give it back with ``give_back``."""
        with self._lock:
            if self._free <= 0 or any(not w.gone for w in self._heap):
                return False
            self._free -= 1
            return True

    def give_back(self) -> None:
        """Return a slot taken with ``take_spare``."""
        self._release(False)

    def claim(self) -> bool:
        """Take a slot at once, ahead of the queue, unless that would leave none for short
        steps (see the module docstring); whether one was taken, for ``unclaim``."""
        with self._lock:
            if self._claims + self._long >= self.slots - 1:
                return False
            self._free -= 1
            self._claims += 1
            return True

    def unclaim(self) -> None:
        """Give back a slot ``claim`` took (only call it when ``claim`` said True)."""
        with self._lock:
            self._free += 1
            self._claims -= 1
            self._dispatch()

    @property
    def claimed(self) -> int:
        """Slots held by ``claim`` now."""
        with self._lock:
            return self._claims

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(1 for w in self._heap if not w.gone)

    # -- async and sync holders ----------------------------------------------------
    @contextlib.asynccontextmanager
    async def slot(
        self, deadline: float | None = None, priority: Priority | None = None, *, long: bool = False
    ) -> AsyncIterator[None]:
        """Hold a slot for the block; ``deadline`` is a ``time.monotonic()`` instant;
        ``long``: a step that may take a second or more (see the module docstring)."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: ready.done() or ready.set_result(None))

        waiter = self._enter(self._key(deadline, priority), wake, long)
        if waiter is not None:
            try:
                await ready
            except BaseException:
                self._abandon(waiter)
                raise
        try:
            yield
        finally:
            self._release(long)

    @contextlib.contextmanager
    def hold(
        self,
        deadline: float | None = None,
        priority: Priority | None = None,
        *,
        long: bool = False,
        timeout: float | None = None,
    ) -> Iterator[None]:
        """The same from a worker thread (blocks it while waiting); ``timeout``: give up
        the place in the queue after that many seconds and raise ``TimeoutError``."""
        event = threading.Event()
        waiter = self._enter(self._key(deadline, priority), event.set, long)
        if waiter is not None and not event.wait(timeout):
            self._abandon(waiter)
            raise TimeoutError("no CPU slot came free in time")
        try:
            yield
        finally:
            self._release(long)


#: how much lower than the server's own the kernel ranks background threads (``nice``
#: +10: about a tenth of a core's time while a normal thread wants that core, all of it
#: while nobody does)
BACKGROUND_NICE = 10


def can_run_in_background() -> bool:
    """Whether one thread's priority can be lowered alone: on Linux, where a thread id
    names one thread to ``setpriority``; elsewhere it would lower the whole process."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def start_in_background(build: Callable[[], Any]) -> Any:
    """Call ``build`` on a new thread that first lowers its own priority by
    ``BACKGROUND_NICE``, and return what it returned (or raise what it raised).

    Threads inherit their creator's priority, so an engine whose compute threads are
    made in ``build`` (CTranslate2 starts its workers when a model loads) runs all its
    work at that priority. Only for ``can_run_in_background()`` platforms.
    """

    def run() -> Any:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        return build()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-load") as pool:
        return pool.submit(run).result()


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
