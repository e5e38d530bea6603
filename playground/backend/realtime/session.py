"""One realtime session: configuration, input audio, turns, items and responses.

The session is transport-free: ``handle()`` takes each client event's text and
``emit`` (given by the WebSocket route) queues server events without ever waiting on
the client. Appended audio is decoded on a worker thread and queued for the session's
audio task, which runs voice activity detection frame by frame and turns it into
``speech_started`` / ``speech_stopped`` and committed user items. While the silence
timer runs after the user pauses, the speech so far is already being transcribed
(speculatively: the result is dropped if they go on), so the reply can start the
moment the turn ends.

A transcription session (``?intent=transcription``) is the same machinery with the
replies taken out: turns are committed and transcribed, nothing answers them. Its text
grows while the user speaks: with a gpt-4o transcribe model the turn so far is
transcribed again every ``live_interim_ms`` of speech, and the words two decodes agree
on go out as ``conversation.item.input_audio_transcription.delta`` at once
(``live.LiveText``); the final decode adds the rest before ``completed``. Without
interim text (conversations, short turns) deltas still stream segment by segment as
Whisper decodes them (``Hearing``; a new segment comes with each 30 s window).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soxr
from starlette.concurrency import run_in_threadpool

from playground.backend.dsp import denoise
from playground.backend.engines.base import STTOptions
from playground.backend.engines.manager import EngineManager
from playground.backend.localmap import stt_model_for
from playground.backend.realtime import config as cfg
from playground.backend.realtime.codecs import RATE, InputDecoder
from playground.backend.realtime.conversation import Conversation, Entry, cut_transcript, parse_item, public
from playground.backend.realtime.live import LiveText
from playground.backend.realtime.protocol import RealtimeError, error_event, message_item, new_id, server_event
from playground.backend.realtime.response import Response
from playground.backend.realtime.turns import Paused, Resumed, Started, Stopped, TurnDetector, finished_thought
from playground.core.catalog import get_catalog

__all__ = ["KINDS", "Hearing", "Piece", "RealtimeHub", "RealtimeSession"]

log = logging.getLogger(__name__)

#: Silero's frame: 512 samples at 16 kHz
VAD_FRAME_MS = 32
#: below this much audio a commit is refused, as OpenAI's is
MIN_COMMIT_MS = 100
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


class Track:
    """Mono float32 audio with absolute positions: sample 0 is the session's first sample."""

    def __init__(self, rate: int):
        self.rate = rate
        self._chunks: list[np.ndarray] = []
        self.base = 0  # absolute index of the first kept sample
        self.end = 0  # absolute index after the last sample

    def append(self, x: np.ndarray) -> None:
        if len(x):
            self._chunks.append(x)
            self.end += len(x)

    def ms(self, index: int) -> int:
        return index * 1000 // self.rate

    @property
    def end_ms(self) -> int:
        return self.ms(self.end)

    @property
    def kept_ms(self) -> int:
        return self.ms(self.end - self.base)

    def _index(self, ms: int) -> int:
        return min(max(ms * self.rate // 1000, self.base), self.end)

    def slice_ms(self, start_ms: int, end_ms: int) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        if not self._chunks:
            return np.zeros(0, np.float32)
        a, b = self._index(start_ms) - self.base, self._index(end_ms) - self.base
        return self._chunks[0][a:b].copy()

    def drop_before(self, ms: int) -> None:
        cut = self._index(ms)
        if cut <= self.base:
            return
        whole = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        self._chunks = [whole[cut - self.base :]]
        self.base = cut

    def clear(self) -> None:
        self._chunks = []
        self.base = self.end


@dataclass(frozen=True, slots=True)
class Piece:
    """One decoded segment of a transcription, with its words' log-probabilities when asked for."""

    text: str
    logprobs: list[dict[str, Any]] | None = None


@dataclass
class Hearing:
    """A transcription in progress: the pieces decoded so far, filled from the worker thread.

    The worker calls ``add_threadsafe`` after each segment; whoever reports the item waits
    on ``changed`` and sends the new pieces as deltas. The finished task's own result is
    the authority on the whole text, so no piece is lost whatever order callbacks run in.
    """

    loop: asyncio.AbstractEventLoop
    pieces: list[Piece] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add_threadsafe(self, piece: Piece) -> None:
        self.loop.call_soon_threadsafe(self._add, piece)

    def _add(self, piece: Piece) -> None:
        self.pieces.append(piece)
        self.changed.set()


@dataclass
class _Speculation:
    """A transcription started while the silence timer runs."""

    at_ms: int
    task: asyncio.Task[list[Piece]]
    hearing: Hearing


class RealtimeHub:
    """Every open session of one backend: the cap on how many, and recent turn timings."""

    def __init__(self) -> None:
        self.sessions: set[RealtimeSession] = set()
        #: per-response timings (perf_counter stamps), newest last, for ``bench/realtime.py``
        self.timings: deque[dict[str, float]] = deque(maxlen=256)

    @property
    def full(self) -> bool:
        return len(self.sessions) >= get_catalog().limits.realtime_sessions_max


class RealtimeSession:
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
        self.engines = engines
        self.emit = emit
        self.hub = hub
        #: a transcription session: turns are transcribed and never answered
        self.transcribe_only = kind == "transcription"
        default = cfg.default_transcription_session if self.transcribe_only else cfg.default_session
        self.config = config if config is not None else default(model)
        self.conversation = Conversation()
        self.conversation.truncation(self.config.get("truncation"))
        self.conversation_id = new_id("conv")
        self._voice_locked = False
        self._decoder = InputDecoder(self.config["audio"]["input"]["format"]["type"])
        self.track24 = Track(RATE)
        self.track16 = Track(16000)
        self._down = soxr.ResampleStream(RATE, 16000, 1, dtype="float32")
        self._vad_stream: Any = None
        self._detector: TurnDetector | None = None
        self._frames = 0  # VAD frames seen (absolute)
        self._audio_q: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self._queued_samples = 0
        self._turn_item: str | None = None
        self._turn_start = 0
        #: the open turn's text so far (transcription sessions with a streaming model)
        self._live: LiveText | None = None
        #: audio position the latest interim decode reached
        self._live_mark = 0
        self._interim: asyncio.Task[None] | None = None
        #: how long the latest transcription took (for the turn timings)
        self.last_stt_seconds = 0.0
        self._spec: _Speculation | None = None
        self.response: Response | None = None
        self._response_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle: asyncio.Task[None] | None = None
        self._timing: dict[str, float] = {}
        self._audio_task = self._spawn(self._audio_loop())
        self._apply_turn_detection()

    # -- plumbing -------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def report(self, err: RealtimeError, client_event_id: str | None = None) -> None:
        self.emit(error_event(err, client_event_id))

    def voice_used(self) -> None:
        self._voice_locked = True

    def start(self) -> None:
        self.emit(server_event("session.created", session=self._public_session()))

    def _public_session(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.config))

    async def close(self) -> None:
        """Stop everything this session started: responses, turns, timers."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- dispatch -------------------------------------------------------------------

    async def handle(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError as e:
            self.report(RealtimeError(f"The event is not valid JSON: {e}.", code="invalid_json"))
            return
        if not isinstance(event, dict):
            self.report(RealtimeError("An event must be a JSON object with a 'type'.", code="invalid_event"))
            return
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is not None and self.transcribe_only and kind in _CONVERSATION_ONLY:
            self.report(
                RealtimeError(
                    f"{kind} is not available in a transcription session: it transcribes the input audio and "
                    "never responds. For a conversation, connect with ?model=<realtime model>.",
                    param="type",
                    code="invalid_value",
                ),
                event_id,
            )
            return
        if handler is None:
            self.report(
                RealtimeError(
                    f"Invalid value: {kind!r}. Supported values are: {', '.join(sorted(_HANDLERS))}.",
                    param="type",
                    code="invalid_value",
                ),
                event_id,
            )
            return
        try:
            await handler(self, event)
        except RealtimeError as e:
            self.report(e, event_id)

    # -- session.update ---------------------------------------------------------------

    async def _session_update(self, event: dict[str, Any]) -> None:
        if "session" not in event:
            raise RealtimeError(
                "Missing required parameter: 'session'.", param="session", code="missing_required_parameter"
            )
        before = self.config
        if self.transcribe_only:
            self.config = cfg.update_transcription_session(before, event["session"])
        else:
            self.config = cfg.update_session(before, event["session"], voice_locked=self._voice_locked)
        self.conversation.truncation(self.config.get("truncation"))
        fmt_in = self.config["audio"]["input"]["format"]["type"]
        if fmt_in != before["audio"]["input"]["format"]["type"]:
            self._decoder = InputDecoder(fmt_in)
        if self.config["audio"]["input"]["turn_detection"] != before["audio"]["input"]["turn_detection"]:
            self._apply_turn_detection()
        self.emit(server_event("session.updated", session=self._public_session()))

    def _turn(self) -> dict[str, Any] | None:
        return self.config["audio"]["input"]["turn_detection"]

    def _apply_turn_detection(self) -> None:
        td = self._turn()
        self._spec = None
        if td is None:
            self._detector = None
            return
        if self._vad_stream is None:
            self._vad_stream = self.engines.vad().stream()
        if td["type"] == "server_vad":
            self._detector = TurnDetector(
                threshold=td["threshold"],
                prefix_padding_ms=td["prefix_padding_ms"],
                silence_ms=td["silence_duration_ms"],
            )
        else:
            d = get_catalog().realtime.server_vad_defaults
            self._detector = TurnDetector(threshold=d.threshold, prefix_padding_ms=d.prefix_padding_ms, silence_ms=None)
        self._detector.floor_ms = self.track24.end_ms

    # -- input audio ----------------------------------------------------------------

    async def _append(self, event: dict[str, Any]) -> None:
        data = event.get("audio")
        if not isinstance(data, str):
            raise RealtimeError("Invalid 'audio': expected a base64 string.", param="audio", code="invalid_type")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise RealtimeError(
                "Invalid 'audio': the string is not valid base64.", param="audio", code="invalid_base64"
            ) from None
        samples = await run_in_threadpool(self._decoder.decode, raw)
        limit = get_catalog().limits.realtime_buffer_max_seconds * RATE
        if self.track24.end - self.track24.base + self._queued_samples + len(samples) > limit:
            raise RealtimeError(
                f"The input audio buffer is full ({limit // RATE} s of uncommitted audio); commit or clear it, "
                "or turn on turn detection.",
                param="audio",
                code="input_audio_buffer_full",
            )
        self._queued_samples += len(samples)
        self._audio_q.put_nowait(samples)

    async def _drain(self) -> None:
        """Wait until every appended chunk went through the audio task (for commit/clear)."""
        while self._queued_samples:
            await asyncio.sleep(0.002)

    async def _audio_loop(self) -> None:
        while True:
            chunks = [await self._audio_q.get()]
            while not self._audio_q.empty():
                chunks.append(self._audio_q.get_nowait())
            x = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
            try:
                await self._take_audio(x)
            except RealtimeError as e:  # a protocol answer (e.g. a reply still in progress): said as it is
                self.report(e)
            except Exception:
                log.exception("realtime audio processing failed")
                self.report(
                    RealtimeError(
                        "The server could not process this audio; the server log has the details.",
                        code="audio_processing_failed",
                        type="server_error",
                    )
                )
            finally:
                self._queued_samples -= len(x)

    async def _take_audio(self, x: np.ndarray) -> None:
        """Buffer appended audio and run it through the VAD and the turn detector."""
        x16 = await run_in_threadpool(self._down.resample_chunk, x)
        self.track24.append(x)
        self.track16.append(x16)
        detector, stream = self._detector, self._vad_stream
        if detector is None or stream is None:
            return
        probs = await run_in_threadpool(stream.feed, x16)
        for p in probs:
            start = self._frames * VAD_FRAME_MS
            self._frames += 1
            for turn in detector.feed(start, start + VAD_FRAME_MS, float(p)):
                await self._on_turn(turn)
        self._maybe_interim()
        if not detector.in_speech and self.track24.kept_ms > 5000:
            keep = self.track24.end_ms - detector.prefix_padding_ms - 100  # the next turn's padding
            self.track24.drop_before(keep)
            self.track16.drop_before(keep)

    def _streams(self) -> bool:
        tr = self.config["audio"]["input"]["transcription"]
        return tr is not None and tr["model"] != "whisper-1"

    def _maybe_interim(self) -> None:
        """Transcribe the open turn again once enough new speech has come in, one decode at a time."""
        live, detector = self._live, self._detector
        if live is None or detector is None or not detector.in_speech or detector.paused:
            return  # no open turn, or a pause: the speculative decode is already running
        if self._interim is not None and not self._interim.done():
            return
        end = self.track16.end_ms
        if end - self._live_mark < cfg.interim_ms(self.config["audio"]["input"]["transcription"]):
            return
        self._live_mark = end
        self._interim = self._spawn(self._interim_decode(live, self.track16.slice_ms(self._turn_start, end)))

    async def _interim_decode(self, live: LiveText, samples16: np.ndarray) -> None:
        try:
            pieces = await self._transcribe(samples16)
        except Exception:  # the final decode reports failures; an interim one only skips a beat
            log.exception("an interim transcription failed")
            return
        if self._live is not live:
            return  # the turn ended while this decode ran: the final decode has the say
        delta = live.interim(" ".join(p.text for p in pieces))
        if delta:
            self.emit(
                server_event(
                    "conversation.item.input_audio_transcription.delta",
                    item_id=live.item_id,
                    content_index=0,
                    delta=delta,
                )
            )

    async def _on_turn(self, turn: Any) -> None:
        td = self._turn()
        if td is None:
            return
        if isinstance(turn, Started):
            self._turn_item = new_id("item")
            self._turn_start = turn.audio_start_ms
            self._live = LiveText(self._turn_item) if self.transcribe_only and self._streams() else None
            self._live_mark = turn.audio_start_ms
            self._cancel_idle()
            self.emit(
                server_event(
                    "input_audio_buffer.speech_started", audio_start_ms=turn.audio_start_ms, item_id=self._turn_item
                )
            )
            if td.get("interrupt_response") and self._response_task is not None and not self._response_task.done():
                await self._cancel_response("turn_detected")
        elif isinstance(turn, Paused):
            spec_end = turn.at_ms + 96  # a few frames past the drop: word endings are soft
            hearing = Hearing(asyncio.get_running_loop())
            task = self._spawn(self._transcribe(self.track16.slice_ms(self._turn_start, spec_end), hearing))
            self._spec = _Speculation(turn.at_ms, task, hearing)
            if td["type"] == "semantic_vad" and self._detector is not None:
                pieces = await asyncio.shield(task)
                waits = get_catalog().realtime.semantic_vad_wait_ms
                eagerness = "medium" if td["eagerness"] == "auto" else td["eagerness"]
                verdict = "complete" if finished_thought(" ".join(p.text for p in pieces)) else "incomplete"
                self._detector.set_silence(getattr(waits[eagerness], verdict))
        elif isinstance(turn, Resumed):
            self._spec = None
            if td["type"] == "semantic_vad" and self._detector is not None:
                self._detector.set_silence(None)  # type: ignore[arg-type]
        elif isinstance(turn, Stopped):
            self._timing = {"speech_stopped": time.perf_counter()}
            item_id = self._turn_item or new_id("item")
            self.emit(
                server_event("input_audio_buffer.speech_stopped", audio_end_ms=turn.audio_end_ms, item_id=item_id)
            )
            spec, self._spec = self._spec, None
            audio = self.track24.slice_ms(self._turn_start, turn.audio_end_ms)
            self._timing["speculative"] = 1.0 if spec is not None else 0.0
            if spec is not None:
                transcript, hearing = spec.task, spec.hearing
            else:
                hearing = Hearing(asyncio.get_running_loop())
                transcript = self._spawn(
                    self._transcribe(self.track16.slice_ms(self._turn_start, turn.audio_end_ms), hearing)
                )
            self.track24.drop_before(turn.audio_end_ms)
            self.track16.drop_before(turn.audio_end_ms)
            live, self._live = self._live, None
            self._commit(item_id, audio, transcript, hearing, live)
            if td.get("create_response") and not self.transcribe_only:
                await self._start_response(cfg.response_params(self.config, None), timing=self._timing)

    # -- transcription ----------------------------------------------------------------

    async def _transcribe(self, samples16: np.ndarray, hearing: Hearing | None = None) -> list[Piece]:
        """The user's speech as text pieces (Whisper segments), with the session's settings.

        Each piece also goes to ``hearing`` the moment the engine has decoded it, so the
        item's deltas can be sent while later segments are still being decoded.
        """
        started = time.perf_counter()
        a_in = self.config["audio"]["input"]
        tr = a_in["transcription"] or {}
        # a conversation's local voices and LLM are English; a transcription session detects the language
        languages = tuple(tr.get("languages") or ())
        if len(languages) == 1:
            language = tr.get("language") or languages[0]
        else:  # several candidates: detection picks among them (STTOptions.languages)
            language = tr.get("language") or (None if self.transcribe_only or languages else "en")
        default = get_catalog().local.realtime.hearing
        engine = self.engines.stt(stt_model_for(tr.get("model") or default, language))
        logprobs = cfg.LOGPROBS in (self.config.get("include") or ())
        options = STTOptions(
            language=language,
            prompt=tr.get("prompt") or None,
            word_timestamps=logprobs,
            keywords=tuple(tr.get("keywords") or ()),
            languages=languages,
        )
        noise = (a_in["noise_reduction"] or {}).get("type")
        strength = float((a_in["noise_reduction"] or {}).get("strength") or 1.0)

        def run() -> list[Piece]:
            x = denoise(samples16, 16000, noise, strength) if noise else samples16
            if len(x) < 1600:
                return []
            pieces = []
            for segment in engine.transcribe(x, options).segments:  # lazy: decoded as it is read
                text = segment.text.strip()
                if not text:
                    continue
                piece = Piece(text, _word_logprobs(segment.words) if logprobs else None)
                pieces.append(piece)
                if hearing is not None:
                    hearing.add_threadsafe(piece)
            return pieces

        pieces = await run_in_threadpool(run)
        self.last_stt_seconds = time.perf_counter() - started
        return pieces

    def _commit(
        self,
        item_id: str,
        audio24: np.ndarray,
        transcript: asyncio.Future[list[Piece]],
        hearing: Hearing | None = None,
        live: LiveText | None = None,
    ) -> Entry:
        item = message_item("user", [{"type": "input_audio", "transcript": None}], item_id=item_id)
        pcm = (np.clip(audio24, -1.0, 1.0) * 32767.0).astype(np.int16)
        entry = Entry(item=item, audio=pcm)
        before = self.conversation.add(entry)
        self.emit(server_event("input_audio_buffer.committed", previous_item_id=before, item_id=item_id))
        self.emit(server_event("conversation.item.added", previous_item_id=before, item=public(entry)))
        self.emit(server_event("conversation.item.done", previous_item_id=before, item=public(entry)))
        loop = asyncio.get_running_loop()
        entry.transcript = loop.create_future()
        self._spawn(self._hear(entry, transcript, hearing, live))
        return entry

    def _delta(self, entry: Entry, text: str, logprobs: list[dict[str, Any]] | None) -> None:
        fields: dict[str, Any] = {"item_id": entry.id, "content_index": 0, "delta": text}
        if logprobs is not None:
            fields["logprobs"] = logprobs
        self.emit(server_event("conversation.item.input_audio_transcription.delta", **fields))

    async def _hear(
        self,
        entry: Entry,
        pending: asyncio.Future[list[Piece]],
        hearing: Hearing | None = None,
        live: LiveText | None = None,
    ) -> None:
        """Resolve the item's transcript and, when transcription is on, report it.

        gpt-4o transcribe models stream: words already sent while the user spoke
        (``live``) stay, and the final decode adds the rest; otherwise each piece becomes
        a delta as soon as Whisper has decoded it (``hearing``). whisper-1 sends the whole
        text as one delta, as OpenAI's does. ``completed`` always comes last.
        """
        assert entry.transcript is not None
        tr = self.config["audio"]["input"]["transcription"]
        streams = tr is not None and tr["model"] != "whisper-1"
        grown = streams and live is not None and bool(live.sent)
        sent = 0
        try:
            if streams and not grown and hearing is not None:
                while not pending.done():
                    hearing.changed.clear()
                    for piece in hearing.pieces[sent:]:
                        self._delta(entry, piece.text if sent == 0 else " " + piece.text, piece.logprobs)
                        sent += 1
                    waiter = asyncio.ensure_future(hearing.changed.wait())
                    try:
                        await asyncio.wait({pending, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        waiter.cancel()
            pieces = await pending
        except asyncio.CancelledError:
            entry.transcript.cancel()
            raise
        except Exception as e:
            log.exception("transcribing the user's speech failed")
            entry.transcript.set_result("")
            if tr is not None:
                self.emit(
                    server_event(
                        "conversation.item.input_audio_transcription.failed",
                        item_id=entry.id,
                        content_index=0,
                        error={"type": "server_error", "code": "transcription_failed", "message": str(e)[:200]},
                    )
                )
            return
        text = " ".join(p.text for p in pieces).strip()
        tail = None
        if grown:
            assert live is not None
            tail, text = live.final(text)
        entry.item["content"][0]["transcript"] = text
        if tr is not None:
            words = [w for p in pieces for w in p.logprobs or ()] if pieces and pieces[0].logprobs is not None else None
            if grown:
                if tail:
                    self._delta(entry, tail, None)
            elif streams:
                for piece in pieces[sent:]:
                    self._delta(entry, piece.text if sent == 0 else " " + piece.text, piece.logprobs)
                    sent += 1
            elif text:
                self._delta(entry, text, words)
            done: dict[str, Any] = {
                "item_id": entry.id,
                "content_index": 0,
                "transcript": text,
                "usage": {"type": "duration", "seconds": round(entry.audio_ms / 1000, 3)},
            }
            if words is not None:
                done["logprobs"] = words
            self.emit(server_event("conversation.item.input_audio_transcription.completed", **done))
        entry.transcript.set_result(text)

    async def _commit_event(self, _: dict[str, Any]) -> None:
        await self._drain()
        if self.track24.kept_ms < MIN_COMMIT_MS:
            raise RealtimeError(
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms of "
                f"audio, but buffer only has {self.track24.kept_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        start = self.track24.ms(self.track24.base)
        audio = self.track24.slice_ms(start, self.track24.end_ms)
        hearing = Hearing(asyncio.get_running_loop())
        transcript = self._spawn(self._transcribe(self.track16.slice_ms(start, self.track16.end_ms), hearing))
        self.track24.clear()
        self.track16.clear()
        self._spec = None
        if self._detector is not None:
            self._detector.reset(self.track24.end_ms)
        item_id = self._turn_item if self._detector and self._turn_item else new_id("item")
        live, self._live = self._live, None
        self._commit(item_id, audio, transcript, hearing, live if live and live.item_id == item_id else None)
        self._turn_item = None

    async def _clear(self, _: dict[str, Any]) -> None:
        await self._drain()
        self.track24.clear()
        self.track16.clear()
        self._spec = None
        self._live = None
        if self._detector is not None:
            self._detector.reset(self.track24.end_ms)
        self.emit(server_event("input_audio_buffer.cleared"))

    # -- conversation items -------------------------------------------------------------

    async def _item_create(self, event: dict[str, Any]) -> None:
        item, audio_parts = parse_item(event.get("item"))
        previous = event.get("previous_item_id")
        if previous is not None and not isinstance(previous, str):
            raise RealtimeError("Invalid 'previous_item_id': expected a string.", param="previous_item_id")
        entry = Entry(item=item)
        if item["type"] == "function_call_output" and not any(
            e.item.get("call_id") == item["call_id"] and e.item["type"] == "function_call"
            for e in self.conversation.entries()
        ):
            raise RealtimeError(
                f"No function_call with call_id {item['call_id']!r} in this conversation.",
                param="item.call_id",
                code="invalid_value",
            )
        for _, data in audio_parts:
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise RealtimeError(
                    "Invalid 'item.content.audio': the string is not valid base64.",
                    param="item.content.audio",
                    code="invalid_base64",
                ) from None
            decoder = InputDecoder(self.config["audio"]["input"]["format"]["type"])
            x24 = await run_in_threadpool(decoder.decode, raw)
            if len(x24) > get_catalog().limits.realtime_buffer_max_seconds * RATE:
                raise RealtimeError("Invalid 'item.content.audio': the audio is too long.", param="item.content.audio")
            entry.audio = (np.clip(x24, -1.0, 1.0) * 32767.0).astype(np.int16)
            x16 = await run_in_threadpool(soxr.resample, x24, RATE, 16000)
            entry.transcript = asyncio.get_running_loop().create_future()
            before = self.conversation.add(entry, previous)
            hearing = Hearing(asyncio.get_running_loop())
            self._spawn(self._hear(entry, self._spawn(self._transcribe(x16, hearing)), hearing))
            break
        else:
            before = self.conversation.add(entry, previous)
        self.emit(server_event("conversation.item.added", previous_item_id=before, item=public(entry)))
        self.emit(server_event("conversation.item.done", previous_item_id=before, item=public(entry)))

    async def _item_retrieve(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        fmt = self.config["audio"]["output" if entry.item.get("role") == "assistant" else "input"]["format"]["type"]
        self.emit(server_event("conversation.item.retrieved", item=public(entry, with_audio=True, fmt=fmt)))

    async def _item_delete(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        if self.response is not None and entry is self.response.current and not self._response_done():
            raise RealtimeError(
                "Cannot delete an item while its response is in progress; cancel it first.",
                param="item_id",
                code="item_in_progress",
            )
        self.conversation.delete(entry.id)
        self.emit(server_event("conversation.item.deleted", item_id=entry.id))

    async def _item_truncate(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        item = entry.item
        if item["type"] != "message" or item.get("role") != "assistant":
            raise RealtimeError("Only assistant messages can be truncated.", param="item_id", code="invalid_value")
        index = event.get("content_index")
        parts = item.get("content", [])
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < max(1, len(parts)):
            raise RealtimeError(
                f"Invalid 'content_index': the item has {len(parts)} content part(s).", param="content_index"
            )
        end = event.get("audio_end_ms")
        if isinstance(end, bool) or not isinstance(end, int) or end < 0:
            raise RealtimeError("Invalid 'audio_end_ms': expected a non-negative integer.", param="audio_end_ms")
        if parts and parts[index]["type"] != "output_audio":
            raise RealtimeError("Invalid 'content_index': that part has no audio.", param="content_index")
        if self.response is not None and entry is self.response.current and not self._response_done():
            await self._cancel_response("client_cancelled")  # stop producing what is being cut
        if end > entry.audio_ms:
            raise RealtimeError(
                f"Audio content of {entry.audio_ms}ms is already shorter than {end}ms.",
                param="audio_end_ms",
                code="invalid_value",
            )
        if entry.audio is not None:
            entry.audio = entry.audio[: end * RATE // 1000]
        if parts:
            parts[index]["transcript"] = cut_transcript(entry.spans, end)
        entry.spans = [s for s in entry.spans if s[0] < end]
        self.emit(server_event("conversation.item.truncated", item_id=entry.id, content_index=index, audio_end_ms=end))

    # -- responses ----------------------------------------------------------------------

    def _response_done(self) -> bool:
        return self._response_task is None or self._response_task.done()

    async def _response_create(self, event: dict[str, Any]) -> None:
        params = cfg.response_params(self.config, event.get("response"))
        await self._start_response(params, timing={"requested": time.perf_counter()})

    async def _start_response(
        self, params: dict[str, Any], *, timing: dict[str, float], note: str | None = None
    ) -> None:
        if not self._response_done():
            raise RealtimeError(
                "Conversation already has an active response in progress; wait for response.done or cancel it.",
                code="conversation_already_has_active_response",
            )
        if params["input"] is not None:
            context = []
            for i, raw in enumerate(params["input"]):
                if isinstance(raw, dict) and raw.get("type") == "item_reference":
                    context.append(self.conversation.get(raw.get("id"), f"response.input[{i}].id"))
                else:
                    item, audio = parse_item(raw, f"response.input[{i}]")
                    if audio:
                        raise RealtimeError(
                            "Audio in response.input is not supported locally; add it as an item.",
                            param=f"response.input[{i}]",
                            code="unsupported_content",
                        )
                    context.append(Entry(item=item))
        else:
            context = self.conversation.entries()
        self._cancel_idle()
        response = Response(self, params, context=context, note=note, timing=timing)
        self.response = response
        self._response_task = self._spawn(self._run_response(response))

    async def _run_response(self, response: Response) -> None:
        await response.run()
        self.hub.timings.append(dict(response.timing))
        td = self._turn()
        if (
            td is not None
            and td["type"] == "server_vad"
            and td.get("idle_timeout_ms")
            and response.cancel_reason != "turn_detected"
        ):
            wait = response.audio_seconds + td["idle_timeout_ms"] / 1000
            self._idle = self._spawn(self._idle_timer(wait))

    async def _cancel_response(self, reason: str) -> None:
        task, response = self._response_task, self.response
        if task is None or task.done() or response is None:
            return
        response.cancel_reason = reason
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        rid = event.get("response_id")
        if self._response_done() or (rid is not None and self.response is not None and rid != self.response.id):
            raise RealtimeError("Cancellation failed: no active response found.", code="response_cancel_not_active")
        await self._cancel_response("client_cancelled")

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


def _word_logprobs(words: list[Any]) -> list[dict[str, Any]]:
    """Per-word log-probabilities in OpenAI's shape (Whisper gives word probabilities)."""
    return [
        {"token": w.word, "logprob": math.log(max(w.probability, 1e-9)), "bytes": list(w.word.encode())} for w in words
    ]


_HANDLERS: dict[str, Callable[[RealtimeSession, dict[str, Any]], Any]] = {
    "session.update": RealtimeSession._session_update,
    "input_audio_buffer.append": RealtimeSession._append,
    "input_audio_buffer.commit": RealtimeSession._commit_event,
    "input_audio_buffer.clear": RealtimeSession._clear,
    "conversation.item.create": RealtimeSession._item_create,
    "conversation.item.retrieve": RealtimeSession._item_retrieve,
    "conversation.item.delete": RealtimeSession._item_delete,
    "conversation.item.truncate": RealtimeSession._item_truncate,
    "response.create": RealtimeSession._response_create,
    "response.cancel": RealtimeSession._response_cancel,
    "output_audio_buffer.clear": RealtimeSession._output_clear,
}
