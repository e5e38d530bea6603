"""What every realtime session kind shares: dispatch, the outbox, errors, responses' lifecycle.

The embedded backend's session (``session.RealtimeSession``: local VAD, Whisper, LLM and
voices) and the app's chained pipeline (``playground.voicechat.chained``: REST calls to a
provider) speak the same GA protocol. They share this core and ``items.ItemEvents``, and
differ only in how a turn is heard, answered and spoken:

* ``SessionCore.dispatch`` looks each client event up in the subclass's ``HANDLERS`` and
  isolates it: a ``RealtimeError`` becomes an ``error`` event naming the client event; any
  other exception is logged and becomes a ``server_error``, and the session goes on.
* ``Outbox`` queues server events for the transport without ever waiting; reply audio
  waits for room while it is half full (backpressure), and a reader that stopped
  altogether fills it, which ends the session.
* One response at a time: ``launch`` runs it as a task, ``cancel_response`` stops it and
  waits for its ``response.done``, ``response.cancel`` is answered here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar

from playground.backend.realtime.conversation import Conversation, Entry, public
from playground.backend.realtime.protocol import RealtimeError, error_event, new_id, server_event, shown
from playground.core import jsonsafe

__all__ = [
    "MIN_COMMIT_MS",
    "VAD_FRAME_MS",
    "Outbox",
    "SessionCore",
    "audio_bytes",
    "audio_failed",
    "buffer_full",
    "commit_too_small",
    "parse_event",
    "session_field",
]

log = logging.getLogger(__name__)

#: Silero's frame: 512 samples at 16 kHz
VAD_FRAME_MS = 32
#: below this much audio a commit is refused, as OpenAI's is
MIN_COMMIT_MS = 100

T = TypeVar("T")
Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


class Outbox(Generic[T]):
    """Server events waiting for the reader, at most ``limit`` of them.

    ``put`` never waits, so answering a client event never blocks on the reader. Reply
    audio, the bulk of the traffic, waits in ``room()`` while the queue is half full: a
    slow reader slows the speech down instead of growing the queue. Only a reader that
    stopped altogether fills the other half; then ``put`` says no and the session ends.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self._items: deque[T | None] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> bool:
        if len(self._items) >= self.limit:
            return False
        self._items.append(item)
        self._readable.set()
        if len(self._items) >= self.limit // 2:
            self._writable.clear()
        return True

    def end(self) -> None:
        """The end marker, after whatever is still queued (may go one over the limit)."""
        self._items.append(None)
        self._readable.set()

    async def get(self) -> T | None:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        item = self._items.popleft()
        if len(self._items) < self.limit // 2:
            self._writable.set()
        return item

    async def room(self) -> None:
        await self._writable.wait()


def parse_event(text: str) -> dict[str, Any]:
    """A client event's JSON, or the ``error`` that says why it is not one.

    Nesting deep enough to exhaust the parser's recursion is answered like any other
    malformed JSON; it must not reach the session as an unexpected exception.
    """
    try:
        event = jsonsafe.loads(text)
    except ValueError as e:
        raise RealtimeError(f"The event is not valid JSON: {e}.", code="invalid_json") from None
    if not isinstance(event, dict):
        raise RealtimeError("An event must be a JSON object with a 'type'.", code="invalid_event")
    return event


def audio_bytes(data: Any, param: str = "audio") -> bytes:
    """The bytes of a base64 audio field, or the error naming ``param``."""
    if not isinstance(data, str):
        raise RealtimeError(f"Invalid '{param}': expected a base64 string.", param=param, code="invalid_type")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RealtimeError(
            f"Invalid '{param}': the string is not valid base64.", param=param, code="invalid_base64"
        ) from None


def buffer_full(seconds: int) -> RealtimeError:
    return RealtimeError(
        f"The input audio buffer is full ({seconds} s of uncommitted audio); commit or clear it, "
        "or turn on turn detection.",
        param="audio",
        code="input_audio_buffer_full",
    )


def commit_too_small(held_ms: float) -> RealtimeError | None:
    """The refusal of a commit with less than ``MIN_COMMIT_MS`` buffered, as OpenAI words it."""
    if held_ms >= MIN_COMMIT_MS:
        return None
    return RealtimeError(
        f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms of "
        f"audio, but buffer only has {held_ms:.2f}ms of audio.",
        code="input_audio_buffer_commit_empty",
    )


def audio_failed() -> RealtimeError:
    """What a session says when its own audio processing broke (the log has the details)."""
    return RealtimeError(
        "The server could not process this audio; the server log has the details.",
        code="audio_processing_failed",
        type="server_error",
    )


def session_field(event: dict[str, Any]) -> Any:
    """``session.update``'s ``session``, which must be there."""
    if "session" not in event:
        raise RealtimeError(
            "Missing required parameter: 'session'.", param="session", code="missing_required_parameter"
        )
    return event["session"]


class SessionCore:
    """The protocol machinery of one session; subclasses add handlers and the hooks below.

    A subclass sets ``HANDLERS`` (event type → coroutine function taking the session and
    the event), provides ``emit`` (queue one server event; never waits) and may override
    ``refusal`` (events it knows but will not take here) and ``unknown`` (the error for an
    event type it does not handle).
    """

    HANDLERS: ClassVar[dict[str, Handler]] = {}
    #: what to call the session in an unexpected failure's message
    NAME: ClassVar[str] = "The server"
    emit: Callable[[dict[str, Any]], None]

    def __init__(self) -> None:
        self.conversation = Conversation()
        self.conversation_id = new_id("conv")
        #: the running (or latest) response, and its task
        self.response: Any = None
        self.response_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- plumbing -------------------------------------------------------------------

    def report(self, err: RealtimeError, client_event_id: str | None = None) -> None:
        self.emit(error_event(err, client_event_id))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """A task the session owns: cancelled when it closes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_tasks(self) -> None:
        """Cancel everything this session started (but the caller) and wait for it."""
        me = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- turns and commits, as both session kinds announce them -----------------------

    async def speech_began(self, audio_start_ms: int, td: dict[str, Any]) -> str:
        """Announce that the user started talking (a new item id), and stop a reply they talk over."""
        item_id = new_id("item")
        self.emit(server_event("input_audio_buffer.speech_started", audio_start_ms=audio_start_ms, item_id=item_id))
        if td.get("interrupt_response") and self.responding():
            await self.cancel_response("turn_detected")
        return item_id

    def speech_ended(self, audio_end_ms: int, item_id: str | None) -> str:
        """Announce the end of the user's speech; returns the turn's item id."""
        item_id = item_id or new_id("item")
        self.emit(server_event("input_audio_buffer.speech_stopped", audio_end_ms=audio_end_ms, item_id=item_id))
        return item_id

    def add_committed(self, entry: Entry) -> None:
        """The committed input audio as a user item, at the end of the conversation."""
        before = self.conversation.add(entry)
        self.emit(server_event("input_audio_buffer.committed", previous_item_id=before, item_id=entry.id))
        self.emit(server_event("conversation.item.added", previous_item_id=before, item=public(entry)))
        self.emit(server_event("conversation.item.done", previous_item_id=before, item=public(entry)))

    # -- dispatch -------------------------------------------------------------------

    async def handle(self, text: str) -> None:
        """One client event as the WebSocket delivered it: parsed, then dispatched."""
        try:
            event = parse_event(text)
        except RealtimeError as e:
            self.report(e)
            return
        await self.dispatch(event)

    def refusal(self, kind: str) -> RealtimeError | None:
        """The error for a known event this session will not take (None: it takes it)."""
        return None

    def unknown(self, kind: Any) -> RealtimeError:
        return RealtimeError(
            f"Invalid value: {shown(kind)}. Supported values are: {', '.join(sorted(self.HANDLERS))}.",
            param="type",
            code="invalid_value",
        )

    async def dispatch(self, event: dict[str, Any]) -> None:
        """Run one client event's handler; whatever goes wrong becomes an ``error`` event."""
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        handler = self.HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            self.report(self.unknown(kind), event_id)
            return
        refused = self.refusal(str(kind))
        if refused is not None:
            self.report(refused, event_id)
            return
        try:
            await handler(self, event)
        except RealtimeError as e:
            self.report(e, event_id)
        except Exception:  # a bug in one event must not end the user's session
            log.exception("realtime: handling %s failed", kind)
            failure = RealtimeError(
                f"{self.NAME} could not handle {kind}; the server log has the details.",
                code="internal_error",
                type="server_error",
            )
            self.report(failure, event_id)

    # -- one response at a time -----------------------------------------------------

    def responding(self) -> bool:
        return self.response_task is not None and not self.response_task.done()

    def in_progress(self, entry: Any) -> bool:
        """Whether ``entry`` is the item the running response is writing."""
        return self.responding() and self.response is not None and entry is self.response.current

    def ensure_idle(self) -> None:
        if self.responding():
            raise RealtimeError(
                "Conversation already has an active response in progress; wait for response.done or cancel it.",
                code="conversation_already_has_active_response",
            )

    def launch(self, response: Any, run: Awaitable[None]) -> None:
        """``response`` becomes the running one; ``run`` is its task."""
        self.response = response
        self.response_task = self.spawn(run)

    async def cancel_response(self, reason: str) -> None:
        """Cancel the running response and wait for its ``response.done``."""
        task, response = self.response_task, self.response
        if task is None or task.done() or response is None:
            return
        response.cancel_reason = reason
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        rid = event.get("response_id")
        if not self.responding() or (rid is not None and self.response is not None and rid != self.response.id):
            raise RealtimeError("Cancellation failed: no active response found.", code="response_cancel_not_active")
        await self.cancel_response("client_cancelled")
