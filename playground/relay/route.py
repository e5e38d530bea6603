"""``WS /relay/realtime``: the browser's realtime channel, relayed to the active provider.

The browser never holds a key and never talks to the provider itself. A UI handler
mints a one-time ticket (provider + session settings) for the browser session that
asked; the page opens ``/relay/realtime?ticket=...``, and the relay opens the upstream
connection with the official SDK (``client.realtime.connect``), applies the session
settings, and forwards GA events both ways. What the browser sends is checked first:
JSON, a known client event type, within the size limit; anything else is answered by
the relay with an ``error`` event and never reaches the provider. Either side closing
closes the other, and every forwarded event is logged with its direction and time for
the trace view.

The relay also runs the tools: when a response ends with ``function_call`` items it
answers each with the browser session's ``ToolRunner`` (demo tools, custom tools with a
canned result), sends ``function_call_output`` items and a ``response.create``
upstream, and tells the page what it sent with a ``relay.sent`` event, so the transcript
and the event log show the round trip. In "chained" mode the upstream is not a realtime
model but ``ChainedPipeline`` (speech to text, chat, text to speech over REST), which
speaks the same events. In "transcription" mode (the Transcribe tab's Live mode) the
upstream is a realtime transcription session (``intent=transcription``), and the relay
keeps the microphone audio the page sends (bounded by the catalog), so the finished
recording can go through file transcription afterwards without the page uploading it.
In "translation" mode (the Translate tab) the upstream is a live translation session
(``client.realtime.translations.connect``): the page may send only the three translation
client events (``TRANSLATION_EVENTS``), and the relay keeps the source audio it forwards,
bounded the same way, so the page can export it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import threading
import time
import typing
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import websockets
from fastapi import APIRouter, WebSocket
from openai.types.realtime.realtime_client_event import RealtimeClientEvent
from starlette.websockets import WebSocketDisconnect, WebSocketState

from playground.backend.realtime.protocol import shown
from playground.client.providers import Provider
from playground.core import jsonsafe
from playground.core.catalog import get_catalog
from playground.gate import origin_matches_host, person_of_scope
from playground.relay.tools import ToolRunner

__all__ = [
    "CLIENT_EVENTS",
    "MODES",
    "TRANSLATION_EVENTS",
    "EventLog",
    "RelayTicket",
    "RelayTickets",
    "create_relay_router",
]

#: "realtime": a speech-to-speech model over the Realtime API; "chained": STT → chat → TTS;
#: "transcription": a realtime transcription session (audio in, text out, no replies);
#: "translation": a live translation session (``/realtime/translations``)
MODES = ("realtime", "chained", "transcription", "translation")
#: the only format a kept recording is in (what the page's capture worklet sends)
_PCM_RATE = 24000

#: tickets are for the page that just asked: unused ones expire quickly
TICKET_SECONDS = 60.0
#: the close code for a ticket presented by someone else, or by a page on another site
CLOSE_NOT_YOURS = 4403
#: events kept per relayed session for the trace view
LOG_MAX = 2000
#: tool rounds the relay answers on its own before the user speaks or types again
TOOL_ROUNDS_MAX = 5


def _client_event_types() -> frozenset[str]:
    union = typing.get_args(typing.get_args(RealtimeClientEvent)[0])
    return frozenset(typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union)


#: every client event type of the GA protocol, from the SDK's own models
CLIENT_EVENTS = _client_event_types()
#: the only client events of a live translation session
TRANSLATION_EVENTS = frozenset({"session.update", "session.input_audio_buffer.append", "session.close"})


@dataclass(frozen=True)
class LogEntry:
    #: seconds since the relay opened
    t: float
    #: "sent" (browser → provider) or "received" (provider → browser)
    direction: str
    type: str
    size: int


@dataclass
class EventLog:
    started: float = field(default_factory=time.perf_counter)
    entries: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=LOG_MAX))

    def add(self, direction: str, type_: str, size: int) -> None:
        self.entries.append(LogEntry(time.perf_counter() - self.started, direction, type_, size))


@dataclass
class RelayTicket:
    provider: Provider
    model: str
    #: the GA ``session`` object applied with ``session.update`` on connect
    session: dict[str, Any]
    mode: str = "realtime"
    #: chained mode: the chat model between transcription and speech
    chat_model: str = field(default_factory=lambda: get_catalog().chat.default_model)
    tools: ToolRunner = field(default_factory=ToolRunner)
    created: float = field(default_factory=time.monotonic)
    log: EventLog = field(default_factory=EventLog)
    #: the browser session the ticket is for (its live recording is kept under this name)
    owner: str | None = None
    #: the person (``gate.person_of``) who asked for it: only they may use it
    person: str | None = None
    #: the page's Origin when it asked: a socket from any other origin is refused
    origin: str | None = None


class RelayTickets:
    """One-time tickets, bounded in number and life; and each browser session's tool
    runner (its notes survive a reconnect), bounded like the sessions."""

    def __init__(self, limit: int | None = None) -> None:
        self._tickets: dict[str, RelayTicket] = {}
        self._runners: OrderedDict[str, ToolRunner] = OrderedDict()
        #: each browser session's latest live transcription audio (PCM16, 24 kHz, mono)
        self._recordings: OrderedDict[str, bytearray] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit or get_catalog().limits.browser_sessions_max

    def mint(
        self,
        provider: Provider,
        model: str,
        session: dict[str, Any],
        *,
        owner: str | None = None,
        mode: str = "realtime",
        chat_model: str | None = None,
        person: str | None = None,
        origin: str | None = None,
    ) -> str:
        """``owner``: the browser session (Gradio's session hash) the ticket is for;
        ``person``: who asked (the relay then refuses anyone else); ``origin``: the asking
        page's ``Origin`` (the relay then refuses a socket opened from another one)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        token = secrets.token_urlsafe(24)
        tools = self.runner(owner) if owner else ToolRunner()
        with self._lock:
            self._prune()
            while len(self._tickets) >= self.limit:
                self._tickets.pop(next(iter(self._tickets)))
            self._tickets[token] = RelayTicket(
                provider,
                model,
                session,
                mode=mode,
                chat_model=chat_model or get_catalog().chat.default_model,
                tools=tools,
                owner=owner,
                person=person,
                origin=origin,
            )
        return token

    def start_recording(self, owner: str | None) -> bytearray:
        """A fresh recording for ``owner``'s live session; it replaces their previous one."""
        buffer = bytearray()
        if owner:
            limits = get_catalog().limits
            with self._lock:
                self._recordings.pop(owner, None)
                self._recordings[owner] = buffer
                while len(self._recordings) > limits.live_recordings_max:
                    self._recordings.popitem(last=False)
        return buffer

    def recording(self, owner: str | None) -> bytes | None:
        """``owner``'s latest live recording (PCM16 at 24 kHz, mono), or None."""
        with self._lock:
            buffer = self._recordings.get(owner) if owner else None
            return bytes(buffer) if buffer else None

    def runner(self, owner: str) -> ToolRunner:
        with self._lock:
            runner = self._runners.get(owner)
            if runner is None:
                runner = self._runners[owner] = ToolRunner()
            self._runners.move_to_end(owner)
            while len(self._runners) > self.limit:
                self._runners.popitem(last=False)
            return runner

    def forget(self, owner: str) -> None:
        """The browser session closed: its unused tickets (and the keys they hold), tool
        memory and recording go now rather than when newer sessions push them out."""
        with self._lock:
            for token in [t for t, ticket in self._tickets.items() if ticket.owner == owner]:
                del self._tickets[token]
            self._runners.pop(owner, None)
            self._recordings.pop(owner, None)

    def take(self, token: str | None) -> RelayTicket | None:
        with self._lock:
            self._prune()
            return self._tickets.pop(token, None) if token else None

    @staticmethod
    def refusal(ticket: RelayTicket, scope: typing.Mapping[str, Any], headers: typing.Mapping[str, str]) -> str | None:
        """Why this socket may not use ``ticket`` (another person's, or opened from another
        origin than the page it was minted for); None when it may."""
        if ticket.person is not None and person_of_scope(scope) != ticket.person:
            return "This relay ticket was issued to someone else; press Connect again."
        origin = headers.get("origin")
        if ticket.origin and origin and origin.lower() != ticket.origin.lower():
            return "This relay ticket was issued to a page on another origin; press Connect again."
        return None

    def _prune(self) -> None:
        cutoff = time.monotonic() - TICKET_SECONDS
        for token in [t for t, ticket in self._tickets.items() if ticket.created < cutoff]:
            del self._tickets[token]


def _error(message: str, code: str, param: str | None = None) -> str:
    return json.dumps(
        {
            "type": "error",
            "event_id": f"event_relay_{secrets.token_hex(8)}",
            "error": {"type": "invalid_request_error", "code": code, "message": message, "param": param},
        }
    )


def check_browser_event(
    text: str, limit: int, allowed: frozenset[str] = CLIENT_EVENTS
) -> tuple[dict[str, Any] | None, str | None]:
    """The event to forward, or the relay's own error answer for it (``allowed``: the
    client event types of the session's kind)."""
    if len(text) > limit:
        return None, _error(
            f"The event is {len(text)} bytes; the most one event may carry is {limit}.", "event_too_large"
        )
    try:
        event = jsonsafe.loads(text)
    except ValueError as e:
        return None, _error(f"The event is not valid JSON: {e}.", "invalid_json")
    if not isinstance(event, dict) or event.get("type") not in allowed:
        kind = event.get("type") if isinstance(event, dict) else None
        return None, _error(f"Unknown client event type {shown(kind)}.", "invalid_event", "type")
    return event, None


def create_relay_router(tickets: RelayTickets) -> APIRouter:
    router = APIRouter()

    @router.websocket("/relay/realtime")
    async def relay(ws: WebSocket) -> None:
        await ws.accept()
        if not origin_matches_host(ws.headers):  # a page on another site: its tickets are not asked about
            await ws.send_text(_error("The relay takes connections from this app's own pages only.", "wrong_origin"))
            await ws.close(code=CLOSE_NOT_YOURS)
            return
        ticket = tickets.take(ws.query_params.get("ticket"))
        if ticket is None:
            await ws.send_text(
                _error("This relay ticket is unknown or expired; press Connect again.", "invalid_ticket")
            )
            await ws.close(code=1008)
            return
        refused = tickets.refusal(ticket, ws.scope, ws.headers)
        if refused is not None:
            await ws.send_text(_error(refused, "ticket_not_yours"))
            await ws.close(code=CLOSE_NOT_YOURS)
            return
        limit = get_catalog().limits.realtime_event_max_bytes
        keep = tickets.start_recording(ticket.owner) if _keeps_audio(ticket) else None
        try:
            async with _upstream(ticket) as upstream:
                await upstream.send({"type": "session.update", "session": ticket.session})
                ticket.log.add("sent", "session.update", len(json.dumps(ticket.session)))
                await _pump(ws, upstream, ticket, limit, keep)
        except Exception as e:  # noqa: BLE001 - any upstream failure is told to the page, key redacted
            if ws.client_state == WebSocketState.CONNECTED:
                message = ticket.provider.redact(f"Could not reach the realtime provider: {e}")
                with contextlib.suppress(Exception):
                    await ws.send_text(_error(message, "upstream_unavailable"))
        finally:
            if ws.client_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close()

    return router


def _keeps_audio(ticket: RelayTicket) -> bool:
    """Whether the relay keeps what the page sends: 24 kHz PCM16 of a transcription session,
    or a translation session's source (always that format)."""
    if ticket.mode == "translation":
        return True
    fmt = ticket.session.get("audio", {}).get("input", {}).get("format", {}).get("type")
    return ticket.mode == "transcription" and fmt == "audio/pcm"


def _upstream(ticket: RelayTicket) -> Any:
    """The provider side: an SDK realtime connection (a translation one in "translation"
    mode), or the chained REST pipeline."""
    client = ticket.provider.async_client()
    if ticket.mode == "translation":
        return client.realtime.translations.connect(model=ticket.model)
    if ticket.mode == "transcription":
        return client.realtime.connect(extra_query={"intent": "transcription"})
    if ticket.mode == "chained":
        from playground.relay.chained import ChainedPipeline

        speech_model = get_catalog().realtime.chained.speech_model
        return ChainedPipeline(client, chat_model=ticket.chat_model, speech_model=speech_model)
    return client.realtime.connect(model=ticket.model)


def tool_calls(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The function calls a finished response asks the relay to run."""
    if event.get("type") != "response.done":
        return []
    response = event.get("response") or {}
    if response.get("status") != "completed":
        return []
    return [
        item
        for item in response.get("output") or []
        if isinstance(item, dict) and item.get("type") == "function_call" and item.get("call_id")
    ]


def _keep_audio(keep: bytearray, event: dict[str, Any]) -> None:
    """Add an append's audio to the kept recording, up to the catalog's length."""
    room = int(get_catalog().limits.live_recording_max_seconds) * _PCM_RATE * 2 - len(keep)
    data = event.get("audio")
    if room <= 0 or not isinstance(data, str):
        return
    with contextlib.suppress(binascii.Error, ValueError):  # the provider will say what is wrong with it
        keep.extend(base64.b64decode(data, validate=True)[:room])


async def _pump(ws: WebSocket, upstream: Any, ticket: RelayTicket, limit: int, keep: bytearray | None = None) -> None:
    log = ticket.log
    rounds = 0  # automatic tool rounds since the browser last asked for something
    allowed = TRANSLATION_EVENTS if ticket.mode == "translation" else CLIENT_EVENTS

    async def relay_send(event: dict[str, Any]) -> None:
        """An event the relay itself sends upstream, shown to the page as ``relay.sent``."""
        text = json.dumps(event)
        log.add("sent", event["type"], len(text))
        await upstream.send(event)
        await ws.send_text(json.dumps({"type": "relay.sent", "event": event}))

    async def run_tools(calls: list[dict[str, Any]]) -> None:
        nonlocal rounds
        rounds += 1
        if rounds > TOOL_ROUNDS_MAX:
            message = f"Stopped after {TOOL_ROUNDS_MAX} tool rounds in a row; say or type something to go on."
            await ws.send_text(_error(message, "tool_loop"))
            return
        for call in calls:
            output = ticket.tools.run(str(call.get("name", "")), str(call.get("arguments") or "{}"))
            item = {"type": "function_call_output", "call_id": call["call_id"], "output": output}
            await relay_send({"type": "conversation.item.create", "item": item})
        await relay_send({"type": "response.create"})

    async def browser_to_upstream() -> None:
        nonlocal rounds
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            event, error = check_browser_event(text, limit, allowed)
            if error is not None:
                await ws.send_text(error)
                continue
            assert event is not None
            if not event["type"].endswith("input_audio_buffer.append"):
                rounds = 0
            elif keep is not None:
                _keep_audio(keep, event)
            log.add("sent", event["type"], len(text))
            try:
                await upstream.send(event)
            except websockets.exceptions.ConnectionClosed:
                return  # the provider ended the session while the page spoke: not a failure to reach it

    async def upstream_to_browser() -> None:
        while True:
            try:
                data = await upstream.recv_bytes()
            except websockets.exceptions.ConnectionClosed:
                return  # the provider ended the session (its last event, if any, was forwarded)
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            event: Any = None
            with contextlib.suppress(ValueError):
                event = jsonsafe.loads(text)
            if isinstance(event, dict):
                log.add("received", str(event.get("type")), len(text))
            await ws.send_text(text)
            calls = tool_calls(event) if isinstance(event, dict) else []
            if calls:
                await run_tools(calls)

    tasks = [asyncio.create_task(browser_to_upstream()), asyncio.create_task(upstream_to_browser())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                raise exc
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
