"""One realtime session of the embedded backend: configuration, then the event families.

The session is transport-free: ``handle()`` takes each client event's text and ``emit``
(given by the WebSocket route) queues server events without ever waiting on the client.
It is the protocol core (``core.SessionCore``: dispatch with per-event error isolation,
one response at a time) with the event families mixed in: input audio and turns
(``input_audio``), conversation items (``items``, shared with the chained pipeline), and
here ``session.update`` and the responses, answered by the local models (``response``).

A transcription session (``?intent=transcription``) is the same machinery with the
replies taken out: turns are committed and transcribed, nothing answers them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import soxr
from starlette.concurrency import run_in_threadpool

from playground.backend.engines.manager import EngineManager
from playground.backend.realtime import config as cfg
from playground.backend.realtime.codecs import RATE, InputDecoder
from playground.backend.realtime.conversation import Entry, parse_item
from playground.backend.realtime.core import Handler, SessionCore, audio_bytes, session_field
from playground.backend.realtime.input_audio import INPUT_HANDLERS, Hearing, InputAudio
from playground.backend.realtime.items import ITEM_HANDLERS, ItemEvents
from playground.backend.realtime.protocol import RealtimeError, new_id, server_event, snapshot
from playground.backend.realtime.response import Response
from playground.core.catalog import get_catalog

log = logging.getLogger(__name__)

__all__ = ["KINDS", "RealtimeHub", "RealtimeSession"]

#: what the model is told when the user has been silent past ``idle_timeout_ms``
IDLE_NOTE = "The user has been quiet for a while. Briefly and kindly check whether they are still there."
#: "realtime": a conversation (``?model=``); "transcription": audio in, text out (``?intent=transcription``)
KINDS = ("realtime", "transcription")
#: client events that only make sense where there are responses
_CONVERSATION_ONLY = frozenset(
    {
        "conversation.item.create",
        "conversation.item.truncate",
        "response.create",
        "response.cancel",
        "output_audio_buffer.clear",
    }
)


class RealtimeHub:
    """Every open session of one backend: the cap on how many, and recent turn timings."""

    def __init__(self) -> None:
        #: conversations, transcription and translation sessions alike
        self.sessions: set[Any] = set()
        #: per-response timings (perf_counter stamps), newest last, for ``bench/realtime.py``
        self.timings: deque[dict[str, float]] = deque(maxlen=256)

    @property
    def full(self) -> bool:
        return len(self.sessions) >= get_catalog().limits.realtime_sessions_max


class RealtimeSession(InputAudio, ItemEvents, SessionCore):
    def __init__(
        self,
        engines: EngineManager,
        model: str,
        emit: Callable[[dict[str, Any]], None],
        hub: RealtimeHub,
        *,
        kind: str = "realtime",
        config: dict[str, Any] | None = None,
    ):
        """``config``: a session already checked (a client secret's), used instead of the defaults."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        super().__init__()
        self.engines = engines
        self.emit = emit  # type: ignore[method-assign]
        self.hub = hub
        #: a transcription session: turns are transcribed and never answered
        self.transcribe_only = kind == "transcription"
        default = cfg.default_transcription_session if self.transcribe_only else cfg.default_session
        self.config = config if config is not None else default(model)
        self.conversation.truncation(self.config.get("truncation"))
        self._voice_locked = False
        self._idle: asyncio.Task[None] | None = None
        self.init_input()

    # -- the connection ---------------------------------------------------------------

    def start(self) -> None:
        self.emit(server_event("session.created", session=snapshot(self.config)))

    async def close(self) -> None:
        """Stop everything this session started: responses, turns, timers."""
        await self.cancel_tasks()

    def refusal(self, kind: str) -> RealtimeError | None:
        if not (self.transcribe_only and kind in _CONVERSATION_ONLY):
            return None
        return RealtimeError(
            f"{kind} is not available in a transcription session: it transcribes the input audio and "
            "never responds. For a conversation, connect with ?model=<realtime model>.",
            param="type",
            code="invalid_value",
        )

    def voice_used(self) -> None:
        self._voice_locked = True

    # -- session.update ---------------------------------------------------------------

    async def _session_update(self, event: dict[str, Any]) -> None:
        update = session_field(event)
        before = self.config
        if self.transcribe_only:
            self.config = cfg.update_transcription_session(before, update)
        else:
            self.config = cfg.update_session(before, update, voice_locked=self._voice_locked)
        self.conversation.truncation(self.config.get("truncation"))
        if self.config["audio"]["input"]["format"]["type"] != before["audio"]["input"]["format"]["type"]:
            self.input_format_changed()
        if self.config["audio"]["input"]["turn_detection"] != before["audio"]["input"]["turn_detection"]:
            self._apply_turn_detection()
        self.emit(server_event("session.updated", session=snapshot(self.config)))

    # -- items: audio in an item is decoded and transcribed like a turn ----------------

    async def item_audio(self, entry: Entry, audio: list[tuple[int, str]]) -> Callable[[], None] | None:
        if not audio:
            return None
        raw = audio_bytes(audio[0][1], "item.content.audio")
        decoder = InputDecoder(self.config["audio"]["input"]["format"]["type"])
        x24 = await run_in_threadpool(decoder.decode, raw)
        if len(x24) > get_catalog().limits.realtime_buffer_max_seconds * RATE:
            raise RealtimeError("Invalid 'item.content.audio': the audio is too long.", param="item.content.audio")
        entry.audio = (np.clip(x24, -1.0, 1.0) * 32767.0).astype(np.int16)
        x16 = await run_in_threadpool(soxr.resample, x24, RATE, 16000)
        entry.transcript = asyncio.get_running_loop().create_future()

        def hear() -> None:
            hearing = Hearing(asyncio.get_running_loop())
            self.spawn(self._hear(entry, self.spawn(self._transcribe(x16, hearing)), hearing))

        return hear

    def audio_format(self, entry: Entry) -> str:
        return self.config["audio"]["output" if entry.item.get("role") == "assistant" else "input"]["format"]["type"]

    # -- responses ----------------------------------------------------------------------

    def speech_started(self) -> None:
        self._cancel_idle()

    async def turn_ended(self, td: dict[str, Any], timing: dict[str, float]) -> None:
        if td.get("create_response") and not self.transcribe_only:
            await self._start_response(cfg.response_params(self.config, None), timing=timing)

    async def _response_create(self, event: dict[str, Any]) -> None:
        params = cfg.response_params(self.config, event.get("response"))
        await self._start_response(params, timing={"requested": time.perf_counter()})

    async def _start_response(
        self, params: dict[str, Any], *, timing: dict[str, float], note: str | None = None
    ) -> None:
        self.ensure_idle()
        context = self._context(params["input"]) if params["input"] is not None else self.conversation.entries()
        self._cancel_idle()
        model = self.config.get("model")
        response = Response(self, params, context=context, model=model, note=note, timing=timing)
        self.launch(response, self._run_response(response))

    def _context(self, given: list[Any]) -> list[Entry]:
        """``response.input``: what an out-of-band response reads instead of the conversation."""
        context = []
        for i, raw in enumerate(given):
            if isinstance(raw, dict) and raw.get("type") == "item_reference":
                context.append(self.conversation.get(raw.get("id"), f"response.input[{i}].id"))
                continue
            item, audio = parse_item(raw, f"response.input[{i}]")
            if audio:
                raise RealtimeError(
                    "Audio in response.input is not supported locally; add it as an item.",
                    param=f"response.input[{i}]",
                    code="unsupported_content",
                )
            context.append(Entry(item=item))
        return context

    async def _run_response(self, response: Response) -> None:
        await response.run()
        self.hub.timings.append(dict(response.timing))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("response timing (ms after the request): %s", _timeline(response.timing))
        td = self._turn()
        if (
            td is not None
            and td["type"] == "server_vad"
            and td.get("idle_timeout_ms")
            and response.cancel_reason != "turn_detected"
        ):
            wait = response.audio_seconds + td["idle_timeout_ms"] / 1000
            self._idle = self.spawn(self._idle_timer(wait))

    # -- idle timeout --------------------------------------------------------------------

    def _cancel_idle(self) -> None:
        if self._idle is not None and not self._idle.done() and self._idle is not asyncio.current_task():
            self._idle.cancel()
        self._idle = None

    async def _idle_timer(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self._detector is not None and self._detector.in_speech:
            return
        end = self.track24.end_ms
        item_id = new_id("item")
        start = max(0, end - int(seconds * 1000))
        self.emit(
            server_event(
                "input_audio_buffer.timeout_triggered", audio_start_ms=start, audio_end_ms=end, item_id=item_id
            )
        )
        self._idle = None
        params = cfg.response_params(self.config, None)
        await self._start_response(params, timing={"requested": time.perf_counter()}, note=IDLE_NOTE)

    async def _output_clear(self, _: dict[str, Any]) -> None:
        raise RealtimeError(
            "output_audio_buffer.clear is for WebRTC and SIP connections; over WebSocket, stop playback in the "
            "client and send conversation.item.truncate.",
            code="invalid_value",
        )

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "session.update": _session_update,
        **INPUT_HANDLERS,
        **ITEM_HANDLERS,
        "response.create": _response_create,
        "response.cancel": SessionCore._response_cancel,
        "output_audio_buffer.clear": _output_clear,
    }


def _timeline(timing: dict[str, float]) -> str:
    """``heard +12 llm_first_token +340 ...``: each stamp's offset from the first one."""
    stamps = sorted((v, k) for k, v in timing.items() if k not in ("stt_seconds", "speculative"))
    if not stamps:
        return "none"
    t0 = stamps[0][0]
    return " ".join(f"{k} +{(v - t0) * 1000:.0f}" for v, k in stamps)
