"""The classic voice pipeline behind the realtime protocol: STT → chat → TTS per turn.

The voice chat tab's "chained pipeline" mode puts ``ChainedPipeline`` where the SDK's
realtime connection would be (``send`` a client event, ``recv_bytes`` the next server
event), so the page, its event log and its latency table stay the same while each turn
goes through three ordinary REST calls to the active provider, made with the official
SDK: ``audio.transcriptions`` on the turn's audio, ``chat.completions`` streamed, and
``audio.speech`` (raw PCM) for each sentence as soon as the chat model has finished it,
while it goes on writing the next. That makes the two architectures comparable on one
conversation: same turns, same events, different machinery.

Turns are found here, with the local Silero VAD (on a worker thread) and the embedded
backend's pure turn detector; session and response settings are checked by the backend's
pure config functions, so both refuse the same things with the same messages.

Client events handled: ``session.update``, ``input_audio_buffer.append`` / ``commit`` /
``clear``, ``conversation.item.create`` / ``delete`` / ``truncate``, ``response.create``
/ ``cancel``. Any other event is answered with an ``error`` (code
``unsupported_in_chained_mode``) naming it, never dropped silently.

Where the chained pipeline differs from a speech-to-speech session, on purpose:

* ``semantic_vad`` is treated as ``server_vad`` whose silence is the catalog's *medium*
  semantic wait for a finished thought (600 ms), whatever the eagerness: a classic
  pipeline has no model that judges whether the user has finished.
* The user's speech is always transcribed (``audio.input.transcription.model``, or
  the catalog's file model, gpt-transcribe, when the session sets none or names a
  realtime-only one such as gpt-live-transcribe), since the chat model reads text;
  the transcription starts when the turn ends (no speculation while the silence runs),
  which is the classic pipeline's cost. ``noise_reduction`` filters the turn's audio
  (its ``strength`` scaling the reduction) before it is sent; ``keywords`` and
  ``languages`` go with the transcription request.
* The voice may change at any time (each sentence is a separate speech request).
* Remote MCP tools cannot be called by a chat completion: they are left out of the
  session with an ``error`` naming them. Function tools go to the chat endpoint as
  ``tools``; a provider whose chat endpoint ignores them (the embedded backend's does)
  answers without calling them.
* ``response.create`` with ``input`` (out-of-band context) is refused; out-of-band
  responses (``conversation: "none"``) work. ``output_audio_buffer.clear`` and
  ``conversation.item.retrieve`` are refused (no WebRTC buffer, no audio kept).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, ClassVar

import websockets
from openai import AsyncOpenAI

from playground.backend.realtime import config as cfg
from playground.backend.realtime.conversation import Entry
from playground.backend.realtime.core import Handler, Outbox, SessionCore, commit_too_small, session_field
from playground.backend.realtime.items import ITEM_HANDLERS, ItemEvents
from playground.backend.realtime.protocol import RealtimeError, message_item, new_id, server_event, shown, snapshot
from playground.backend.realtime.turns import Started, Stopped, TurnEvent
from playground.core.catalog import get_catalog
from playground.relay.chained_input import InputBuffer, vad_engine
from playground.relay.chained_response import ChainedResponse
from playground.relay.chat_shape import (
    PROVIDER_ERRORS,
    UNSUPPORTED,
    file_model,
    provider_error,
    refuse_media,
    require_pcm,
    samples_ms,
    turn_wav,
    without_mcp,
)

__all__ = ["SUPPORTED_EVENTS", "ChainedPipeline", "vad_engine"]

log = logging.getLogger(__name__)

#: per-response timings kept in ``ChainedPipeline.timings``
TIMINGS_MAX = 256


class ChainedPipeline(ItemEvents, SessionCore):
    """Looks like ``client.realtime.connect(...)`` to the relay: ``send`` a client event,
    ``recv_bytes`` the next server event (UTF-8 JSON); closing cancels everything it
    started, and ``recv_bytes`` then raises ``ConnectionClosedOK`` as a closed socket does.

    ``timings`` keeps, per response (newest last), milliseconds: ``transcribe_ms`` (the
    transcription request of the user's turn; None for a typed turn), ``heard_ms`` (start
    → transcript in hand), ``chat_first_token_ms`` (chat request → first delta),
    ``chat_done_ms``, ``tts_first_byte_ms`` (first speech request → its first byte),
    ``first_audio_ms`` (start → first audio delta) and ``done_ms``. The start is the end
    of the user's speech for a turn the VAD found, else the ``response.create``.
    """

    def __init__(self, client: AsyncOpenAI, *, chat_model: str, speech_model: str | None = None) -> None:
        super().__init__()
        cat = get_catalog()
        self.client = client
        self.chat_model = chat_model
        self.speech_model = speech_model or get_catalog().realtime.chained.speech_model
        self.session: dict[str, Any] = cfg.default_session(cat.realtime.default_model)
        self.timings: list[dict[str, Any]] = []
        self._input = InputBuffer(cat.limits.realtime_buffer_max_seconds)
        self._input.configure(self._turn_detection())
        self._outbox: Outbox[bytes] = Outbox(cat.limits.realtime_outbox_max_events)
        self._lock = asyncio.Lock()  # client events are handled one at a time, in order
        self._turn_item: str | None = None
        self._turn_start_ms = 0
        self._new_turns: list[Entry] = []  # spoken turns no response has started from yet
        self._closer: asyncio.Task[None] | None = None
        self._closed = False
        self._ended = False

    # -- the connection surface -----------------------------------------------------

    async def __aenter__(self) -> ChainedPipeline:
        self.emit(server_event("session.created", session=snapshot(self.session)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.cancel_tasks()
        self._outbox.end()

    async def recv_bytes(self) -> bytes:
        if not self._ended:
            data = await self._outbox.get()
            if data is not None:
                return data
            self._ended = True
        raise websockets.exceptions.ConnectionClosedOK(None, None)

    async def send(self, event: dict[str, Any]) -> None:
        if self._closed:
            raise websockets.exceptions.ConnectionClosedOK(None, None)
        async with self._lock:
            await self.dispatch(event)

    def unknown(self, kind: Any) -> RealtimeError:
        message = (
            f"{shown(kind)} is not supported in the chained pipeline mode (transcription → chat → speech over "
            "REST, with no audio kept and no WebRTC buffer); use the speech-to-speech mode for it."
        )
        return RealtimeError(message, param="type", code=UNSUPPORTED)

    def check_item(self, raw: Any) -> None:
        refuse_media(raw)

    # -- plumbing -------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:  # type: ignore[override]
        if self._closed:
            return
        if not self._outbox.put(json.dumps(event).encode()) and self._closer is None:
            log.warning("chained pipeline: %d events wait for a reader that stopped; closing", self._outbox.limit)
            self._closer = asyncio.get_running_loop().create_task(self.close())

    async def audio_room(self) -> None:
        await self._outbox.room()

    def record(self, timing: dict[str, Any]) -> None:
        self.timings.append(timing)
        del self.timings[:-TIMINGS_MAX]

    def _turn_detection(self) -> dict[str, Any] | None:
        return self.session["audio"]["input"]["turn_detection"]

    # -- session.update ---------------------------------------------------------------

    async def _session_update(self, event: dict[str, Any]) -> None:
        update, dropped = without_mcp(session_field(event))
        new = cfg.update_session(self.session, update, voice_locked=False)
        require_pcm(new["audio"]["input"]["format"], "session.audio.input.format")
        require_pcm(new["audio"]["output"]["format"], "session.audio.output.format")
        if (new["audio"]["input"]["turn_detection"] or {}).get("idle_timeout_ms") is not None:
            raise RealtimeError(
                "Invalid 'session.audio.input.turn_detection.idle_timeout_ms': the chained pipeline has no idle "
                "timeout; leave it out (or null).",
                param="session.audio.input.turn_detection.idle_timeout_ms",
                code=UNSUPPORTED,
            )
        changed = new["audio"]["input"]["turn_detection"] != self._turn_detection()
        self.session = new
        self.conversation.truncation(new.get("truncation"))
        if changed:
            self._input.configure(self._turn_detection())
            self._turn_item = None
        self.emit(server_event("session.updated", session=snapshot(new)))
        for i in dropped:
            message = (
                f"Invalid 'session.tools[{i}]': a chat completion cannot call remote MCP tools, so the chained "
                "pipeline leaves this one out; function tools work."
            )
            self.report(RealtimeError(message, param=f"session.tools[{i}]", code=UNSUPPORTED))

    # -- input audio and turns ----------------------------------------------------------

    async def _append(self, event: dict[str, Any]) -> None:
        for turn in await asyncio.to_thread(self._input.take, event.get("audio")):
            await self._on_turn(turn)

    async def _on_turn(self, turn: TurnEvent) -> None:
        td = self._turn_detection()
        if td is None:
            return
        if isinstance(turn, Started):
            self._turn_start_ms = turn.audio_start_ms
            self._turn_item = await self.speech_began(turn.audio_start_ms, td)
        elif isinstance(turn, Stopped):
            started = time.perf_counter()
            item_id, self._turn_item = self.speech_ended(turn.audio_end_ms, self._turn_item), None
            pcm = self._input.slice(self._turn_start_ms, turn.audio_end_ms)
            self._input.drop_before(turn.audio_end_ms)
            self._commit(item_id, pcm)
            if td["create_response"]:
                self._start_response(cfg.response_params(self.session, None), started=started, trigger="speech")

    async def _commit_event(self, _: dict[str, Any]) -> None:
        refused = commit_too_small(self._input.buffered_ms)
        if refused is not None:
            raise refused
        item_id, self._turn_item = self._turn_item or new_id("item"), None
        self._commit(item_id, self._input.take_all())

    async def _clear(self, _: dict[str, Any]) -> None:
        self._input.clear()
        self._turn_item = None
        self.emit(server_event("input_audio_buffer.cleared"))

    def _commit(self, item_id: str, pcm: bytes) -> None:
        """The user's turn as an item, whose transcription starts now."""
        item = message_item("user", [{"type": "input_audio", "transcript": None}], item_id=item_id)
        entry = Entry(item, sent_ms=samples_ms(len(pcm) // 2), transcript=asyncio.get_running_loop().create_future())
        self.add_committed(entry)
        self._new_turns = [*self._new_turns[-7:], entry]
        self.spawn(self._transcribe(entry, pcm))

    async def _transcribe(self, entry: Entry, pcm: bytes) -> None:
        assert entry.transcript is not None
        a_in = self.session["audio"]["input"]
        tr = a_in["transcription"] or {}
        noise = (a_in["noise_reduction"] or {}).get("type")
        strength = float((a_in["noise_reduction"] or {}).get("strength") or 1.0)
        model = file_model(tr.get("model"))
        options = {k: tr[k] for k in ("language", "prompt", "keywords", "languages") if tr.get(k)}
        try:
            wav = await asyncio.to_thread(turn_wav, pcm, noise, strength)
            asked = time.perf_counter()
            result = await self.client.audio.transcriptions.create(
                model=model, file=("turn.wav", wav, "audio/wav"), **options
            )
            entry.transcribe_ms = round((time.perf_counter() - asked) * 1000, 1)
        except asyncio.CancelledError:
            entry.transcript.cancel()
            raise
        except Exception as e:
            if not isinstance(e, PROVIDER_ERRORS):
                log.exception("chained transcription failed")
            err = provider_error("transcription", e, self.client.api_key)
            self._transcription_failed(entry, err)
            return
        text = result.text.strip()
        entry.item["content"][0]["transcript"] = text
        self._transcribed(entry, text, getattr(result, "usage", None))

    def _transcribed(self, entry: Entry, text: str, usage: Any) -> None:
        ids = {"item_id": entry.id, "content_index": 0}
        if text:
            self.emit(server_event("conversation.item.input_audio_transcription.delta", delta=text, **ids))
        kind = getattr(usage, "type", None)
        used = usage.model_dump(exclude_none=True) if kind in ("tokens", "duration") else None
        used = used or {"type": "duration", "seconds": round(entry.audio_ms / 1000, 3)}
        self.emit(
            server_event("conversation.item.input_audio_transcription.completed", transcript=text, usage=used, **ids)
        )
        assert entry.transcript is not None
        entry.transcript.set_result(text)

    def _transcription_failed(self, entry: Entry, err: RealtimeError) -> None:
        error = {"type": err.type, "code": err.code, "message": err.message, "param": None}
        self.emit(
            server_event(
                "conversation.item.input_audio_transcription.failed",
                item_id=entry.id,
                content_index=0,
                error=error,
            )
        )
        self.report(err)
        assert entry.transcript is not None
        entry.transcript.set_result(None)

    # -- responses ----------------------------------------------------------------------

    async def _response_create(self, event: dict[str, Any]) -> None:
        params = cfg.response_params(self.session, event.get("response"))
        if params["input"] is not None:
            raise RealtimeError(
                "Invalid 'response.input': the chained pipeline answers from the conversation only.",
                param="response.input",
                code=UNSUPPORTED,
            )
        require_pcm(params["format"], "response.audio.output.format")
        self._start_response(params, started=time.perf_counter(), trigger="response.create")

    def _start_response(self, params: dict[str, Any], *, started: float, trigger: str) -> None:
        self.ensure_idle()
        turns, self._new_turns = self._new_turns, []
        response = ChainedResponse(self, params, started=started, trigger=trigger, turns=turns)
        self.launch(response, response.run())

    NAME = "The chained pipeline"
    HANDLERS: ClassVar[dict[str, Handler]] = {
        "session.update": _session_update,
        "input_audio_buffer.append": _append,
        "input_audio_buffer.commit": _commit_event,
        "input_audio_buffer.clear": _clear,
        **{k: v for k, v in ITEM_HANDLERS.items() if k != "conversation.item.retrieve"},
        "response.create": _response_create,
        "response.cancel": SessionCore._response_cancel,
    }


#: the client events the chained pipeline answers; every other one gets an ``error``
SUPPORTED_EVENTS = frozenset(ChainedPipeline.HANDLERS)
