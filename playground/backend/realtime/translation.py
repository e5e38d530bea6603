"""A live translation session of the embedded backend: an interpreter, phrase by phrase.

The third session kind on the protocol core (``core.SessionCore``), beside conversations
and transcription sessions. It has no conversation and no responses: audio goes in
without pause (``session.input_audio_buffer.append``, 24 kHz PCM16, consumed in 200 ms
frames), and out come ``session.input_transcript.delta`` (the source, when
``audio.input.transcription`` is set), ``session.output_transcript.delta`` and
``session.output_audio.delta`` (the translation, spoken), each with ``elapsed_ms``: the
input position of the frame the phrase ended in.

Locally a phrase is what the Silero VAD hears between pauses (``local.translation``:
the silence that ends one, the longest one, and how long an open phrase waits for a
client that stopped sending audio). While the silence runs, the phrase is already being
decoded (speculatively, as in conversations), so the translation can be spoken the moment
the phrase ends. The multilingual Whisper translates any language it hears into English,
the only language it translates into (``translation_config.local_refusal``), and the
session's voice speaks it; phrases are spoken in order, one at a time. ``session.close``
stops taking audio, translates what is still open, speaks it, and answers
``session.closed``; the route then closes the socket.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import soxr
from starlette.concurrency import run_in_threadpool

from playground.backend.dsp import denoise
from playground.backend.engines.base import STTOptions
from playground.backend.engines.manager import EngineManager
from playground.backend.localmap import local_voice, stt_model_for
from playground.backend.realtime.codecs import RATE
from playground.backend.realtime.core import (
    VAD_FRAME_MS,
    Handler,
    SessionCore,
    audio_bytes,
    audio_failed,
    buffer_full,
    session_field,
)
from playground.backend.realtime.input_audio import Track
from playground.backend.realtime.protocol import RealtimeError, server_event, snapshot
from playground.backend.realtime.translation_config import local_refusal, update_translation_session
from playground.backend.realtime.turns import Paused, Resumed, Started, Stopped, TurnDetector
from playground.backend.style import Prosody
from playground.backend.synthesis import Synthesizer
from playground.core.catalog import get_catalog

__all__ = ["Decoded", "Phrase", "TranslationSession"]

log = logging.getLogger(__name__)

#: a phrase shorter than this (at 16 kHz) is a click or a breath, not speech to translate
MIN_PHRASE_SAMPLES = 16000 // 5
#: a few VAD frames past the drop: word endings are soft
TAIL_MS = 96
#: a pause must last this long before its phrase is decoded speculatively: a reader's
#: breath between words would otherwise start a decode that is thrown away a moment later
SPECULATE_AFTER_MS = 192


@dataclass
class Decoded:
    """A phrase's decode: the English translation first (it is spoken), then the source text."""

    translation: asyncio.Future[str]
    #: the source-language transcript (None: not asked for)
    source: asyncio.Future[str | None]


@dataclass
class Phrase:
    """One phrase on its way out: its decode, and where it ended in the input."""

    end_ms: int
    elapsed_ms: int
    decoded: Decoded
    #: perf_counter when the phrase was found to have ended (for the session's timings)
    ended_at: float


class TranslationSession(SessionCore):
    """Build with the engines, ``emit`` (never waits), the hub and a checked config; ``start()``."""

    NAME = "The translation session"

    def __init__(
        self,
        engines: EngineManager,
        emit: Callable[[dict[str, Any]], None],
        hub: Any,
        *,
        config: dict[str, Any],
    ) -> None:
        super().__init__()
        self.engines = engines
        self.emit = emit  # type: ignore[method-assign]
        self.hub = hub
        self.config = config
        cat = get_catalog()
        self.local = cat.local.translation
        self.frame_samples = RATE * cat.translation.frame_ms // 1000
        self.max_samples = cat.limits.realtime_buffer_max_seconds * RATE
        #: set once ``session.closed`` went out: the route closes the socket
        self.finished = asyncio.Event()
        self.closing = False
        self._partial = np.zeros(0, np.float32)  # less than one frame, waiting for the rest
        self._frames: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self._queued = 0
        self._position = 0  # input samples taken into frames so far
        self._down = soxr.ResampleStream(RATE, 16000, 1, dtype="float32")
        self._vad: Any = None
        d = cat.realtime.server_vad_defaults
        self._detector = TurnDetector(
            threshold=d.threshold, prefix_padding_ms=d.prefix_padding_ms, silence_ms=self.local.silence_ms
        )
        self._vad_frames = 0
        self.track16 = Track(16000)
        self._start_ms: int | None = None
        self._spec: tuple[int, Decoded] | None = None
        self._pause_at: int | None = None
        self._phrases: asyncio.Queue[Phrase | None] = asyncio.Queue()
        self._last_append = time.monotonic()
        self._said_any = False
        self._heard_any = False
        #: per phrase: perf_counter stamps of its end and its first translated audio (bench)
        self.timings: deque[dict[str, float]] = deque(maxlen=256)
        self.spawn(self._audio_loop())
        self._speaker = self.spawn(self._speak_loop())
        self.spawn(self._idle_watch())

    # -- the connection ---------------------------------------------------------------

    def start(self) -> None:
        self.emit(server_event("session.created", session=snapshot(self.config)))

    async def close(self) -> None:
        await self.cancel_tasks()

    # -- client events ----------------------------------------------------------------

    async def _session_update(self, event: dict[str, Any]) -> None:
        new = update_translation_session(self.config, session_field(event))
        refused = local_refusal(new)
        if refused is not None:
            raise refused
        self.config = new
        self.emit(server_event("session.updated", session=snapshot(self.config)))

    async def _append(self, event: dict[str, Any]) -> None:
        if self.closing:
            raise RealtimeError(
                "The session is closing (session.close was sent): no more audio is taken. Open a new session "
                "to translate more.",
                param="type",
                code="session_closing",
            )
        raw = audio_bytes(event.get("audio"))
        if len(raw) % 2:
            raise RealtimeError(
                f"Invalid 'audio': 24 kHz PCM16 has two bytes a sample; got {len(raw)} bytes.",
                param="audio",
                code="invalid_value",
            )
        samples = await run_in_threadpool(_pcm16_to_float, raw)
        if self._queued + len(samples) > self.max_samples:
            raise buffer_full(self.max_samples // RATE)
        self._last_append = time.monotonic()
        self._queued += len(samples)
        self._frames.put_nowait(samples)

    async def _close(self, _: dict[str, Any]) -> None:
        if self.closing:
            raise RealtimeError("The session is already closing.", param="type", code="session_closing")
        self.closing = True
        self._frames.put_nowait(None)  # the audio task flushes, ends the open phrase, then stops

    HANDLERS: ClassVar[dict[str, Handler]] = {
        "session.update": _session_update,
        "session.input_audio_buffer.append": _append,
        "session.close": _close,
    }

    # -- audio in: frames, VAD, phrases ------------------------------------------------

    async def _audio_loop(self) -> None:
        while True:
            chunk = await self._frames.get()
            try:
                if chunk is None:
                    await self._flush()
                    return
                await self._take(chunk)
            except Exception:  # one bad chunk must not end the session
                log.exception("translation: processing audio failed")
                self.report(audio_failed())
            finally:
                if chunk is not None:
                    self._queued -= len(chunk)

    async def _take(self, chunk: np.ndarray) -> None:
        """Whole 200 ms frames through the VAD; the rest waits for the next append."""
        data = np.concatenate([self._partial, chunk]) if len(self._partial) else chunk
        whole = len(data) - len(data) % self.frame_samples
        self._partial = data[whole:]
        if whole:
            await self._frames_in(data[:whole])

    async def _frames_in(self, x24: np.ndarray) -> None:
        if self._vad is None:
            self._vad = await run_in_threadpool(lambda: self.engines.vad().stream())
        x16 = await run_in_threadpool(self._down.resample_chunk, x24)
        self._position += len(x24)
        self.track16.append(x16)
        probs = await run_in_threadpool(self._vad.feed, x16)
        for p in probs:
            start = self._vad_frames * VAD_FRAME_MS
            self._vad_frames += 1
            for turn in self._detector.feed(start, start + VAD_FRAME_MS, float(p)):
                self._on_turn(turn)
        if self._start_ms is not None and self.track16.end_ms - self._start_ms >= self.local.max_phrase_ms:
            self._end_phrase(self.track16.end_ms)  # a long phrase is cut, or the listener waits too long
            self._detector.reset(self.track16.end_ms)
        if self._start_ms is None and self.track16.kept_ms > 5000:
            self.track16.drop_before(self.track16.end_ms - 1000)

    def _on_turn(self, turn: Any) -> None:
        if isinstance(turn, Started):
            self._start_ms = turn.audio_start_ms
        elif isinstance(turn, Paused):
            self._pause_at = turn.at_ms
        elif isinstance(turn, Resumed):
            self._pause_at, self._spec = None, None
        elif isinstance(turn, Stopped):
            self._pause_at = None
            self._end_phrase(turn.speech_end_ms + TAIL_MS, turn.speech_end_ms)
        self._maybe_speculate()

    def _maybe_speculate(self) -> None:
        """Decode the phrase once its pause has lasted ``SPECULATE_AFTER_MS``, while the silence runs."""
        at, start = self._pause_at, self._start_ms
        if at is None or start is None or self._spec is not None:
            return
        if self._vad_frames * VAD_FRAME_MS - at >= SPECULATE_AFTER_MS:
            self._spec = (at, self._decode(start, at + TAIL_MS))

    def _end_phrase(self, end_ms: int, speech_end_ms: int | None = None) -> None:
        """Queue the open phrase for speaking: the speculative decode if it covers it, else a new one."""
        start, spec = self._start_ms, self._spec
        self._start_ms, self._spec, self._pause_at = None, None, None
        if start is None:
            return
        decoded = spec[1] if spec is not None and spec[0] == speech_end_ms else self._decode(start, end_ms)
        frame_ms = get_catalog().translation.frame_ms
        elapsed = -(-self._position * 1000 // RATE // frame_ms) * frame_ms
        self._phrases.put_nowait(Phrase(end_ms, elapsed, decoded, time.perf_counter()))
        self.track16.drop_before(end_ms)

    async def _flush(self) -> None:
        """``session.close``: the last partial frame (padded), then whatever phrase is open."""
        if len(self._partial):
            pad = np.zeros(self.frame_samples - len(self._partial), np.float32)
            await self._frames_in(np.concatenate([self._partial, pad]))
            self._partial = np.zeros(0, np.float32)
        self._end_phrase(self.track16.end_ms)
        self._phrases.put_nowait(None)

    async def _idle_watch(self) -> None:
        """An open phrase from a client that stopped sending audio is translated anyway."""
        wait = self.local.idle_flush_ms / 1000
        while not self.closing:
            await asyncio.sleep(min(0.25, wait / 2))
            if (
                self._start_ms is not None
                and self._queued == 0
                and time.monotonic() - self._last_append >= wait
                and not self.closing
            ):
                self._end_phrase(self.track16.end_ms)
                self._detector.reset(self.track16.end_ms)

    # -- decoding ---------------------------------------------------------------------

    def _decode(self, start_ms: int, end_ms: int) -> Decoded:
        """The phrase's English translation, then (when asked for) its source text, on a worker thread.

        The translation is published the moment it is decoded, so speaking it never waits for
        the source transcript; English speech is decoded once (its translation is its text).
        """
        loop = asyncio.get_running_loop()
        samples = self.track16.slice_ms(start_ms, end_ms)
        a_in = self.config["audio"]["input"]
        wants_source = a_in["transcription"] is not None
        noise = a_in["noise_reduction"]
        engine = self.engines.stt(stt_model_for(get_catalog().translation.transcription_model, None, translate=True))
        translation: asyncio.Future[str] = loop.create_future()

        def publish(text: str) -> None:
            if not translation.done():
                translation.set_result(text)

        def run() -> str | None:
            x = denoise(samples, 16000, noise["type"], float(noise.get("strength") or 1.0)) if noise else samples
            if len(x) < MIN_PHRASE_SAMPLES:
                loop.call_soon_threadsafe(publish, "")
                return "" if wants_source else None
            result = engine.transcribe(x, STTOptions(task="translate", fallback=False))
            english = " ".join(s.text.strip() for s in result.segments).strip()
            loop.call_soon_threadsafe(publish, english)
            if not wants_source:
                return None
            if result.language == "en":
                return english  # English already: its translation is its transcript
            heard = engine.transcribe(x, STTOptions(language=result.language, fallback=False))
            return " ".join(s.text.strip() for s in heard.segments).strip()

        source = self.spawn(run_in_threadpool(run))
        source.add_done_callback(lambda t: t.cancelled() or t.exception() is None or publish(""))
        return Decoded(translation, source)

    # -- speech out ----------------------------------------------------------------------

    async def _speak_loop(self) -> None:
        """Phrases in order: the translation spoken as soon as it is decoded, the source text beside it."""
        while (phrase := await self._phrases.get()) is not None:
            try:
                await asyncio.gather(self._speak(phrase), self._show_source(phrase))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("translation: a phrase failed")
                self.report(
                    RealtimeError(
                        "The local models could not translate a phrase; the server log has the details.",
                        code="translation_failed",
                        type="server_error",
                    )
                )
        self.emit(server_event("session.closed"))
        self.finished.set()

    async def _show_source(self, phrase: Phrase) -> None:
        source = await phrase.decoded.source
        if source:
            self._transcript("session.input_transcript.delta", source, phrase, first=not self._heard_any)
            self._heard_any = True

    def _transcript(self, kind: str, text: str, phrase: Phrase, *, first: bool) -> None:
        self.emit(server_event(kind, delta=text if first else " " + text, elapsed_ms=phrase.elapsed_ms))

    async def _speak(self, phrase: Phrase) -> None:
        text = await phrase.decoded.translation
        if not text:
            return
        voice = local_voice(self.local.voice)
        synth = Synthesizer(self.engines, voice, text, speed=1.0, prosody=Prosody())
        said = False
        timing = {"phrase_end": phrase.ended_at}
        async for chunk in synth.stream():
            if not said:
                self._transcript("session.output_transcript.delta", text, phrase, first=not self._said_any)
                self._said_any = said = True
                timing["first_audio"] = time.perf_counter()
            pcm = (np.clip(chunk, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            step = self.frame_samples * 2
            for i in range(0, len(pcm), step):
                self.emit(
                    server_event(
                        "session.output_audio.delta",
                        delta=base64.b64encode(pcm[i : i + step]).decode(),
                        format="pcm16",
                        sample_rate=RATE,
                        channels=1,
                        elapsed_ms=phrase.elapsed_ms,
                    )
                )
        self.timings.append(timing)


def _pcm16_to_float(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
