"""The input audio events of the embedded backend's sessions, and the turns found in that audio.

Appended audio is decoded on a worker thread and queued for the session's audio task,
which runs voice activity detection frame by frame and turns it into ``speech_started``
/ ``speech_stopped`` and committed user items. While the silence timer runs after the
user pauses, the speech so far is already being transcribed (speculatively: the result
is dropped if they go on), so the reply can start the moment the turn ends.

A transcription session's text grows while the user speaks: with a gpt-4o transcribe
model the turn so far is transcribed again every ``live_interim_ms`` of speech, and the
words two decodes agree on go out as ``conversation.item.input_audio_transcription.delta``
at once (``live.LiveText``); the final decode adds the rest before ``completed``. Without
interim text (conversations, short turns) deltas still stream segment by segment as
Whisper decodes them (``Hearing``; a new segment comes with each 30 s window).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
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
from playground.backend.realtime.conversation import Entry
from playground.backend.realtime.core import (
    VAD_FRAME_MS,
    SessionCore,
    audio_bytes,
    audio_failed,
    buffer_full,
    commit_too_small,
)
from playground.backend.realtime.live import LiveText
from playground.backend.realtime.protocol import RealtimeError, message_item, new_id, server_event
from playground.backend.realtime.turns import Paused, Resumed, Started, Stopped, TurnDetector, finished_thought
from playground.core.catalog import get_catalog

__all__ = ["INPUT_HANDLERS", "Hearing", "InputAudio", "Piece", "Track"]

log = logging.getLogger(__name__)


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
    #: set when the speaker talks on: the decode is then skipped or stopped, not queued for nothing
    cancel: threading.Event


class InputAudio(SessionCore):
    """``input_audio_buffer.append`` / ``commit`` / ``clear``, turn detection and the user's transcripts.

    The session provides its settings (``config``, ``engines``, ``transcribe_only``) and two
    hooks: ``speech_started`` (the user began talking) and ``turn_ended`` (a turn the
    detector found was committed).
    """

    config: dict[str, Any]
    engines: EngineManager
    transcribe_only: bool

    def init_input(self) -> None:
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
        self._timing: dict[str, float] = {}
        self._audio_task = self.spawn(self._audio_loop())
        self._apply_turn_detection()

    def speech_started(self) -> None:
        """The user began talking (hook)."""

    async def turn_ended(self, td: dict[str, Any], timing: dict[str, float]) -> None:
        """The detector ended and committed a turn (hook)."""

    def input_format_changed(self) -> None:
        self._decoder = InputDecoder(self.config["audio"]["input"]["format"]["type"])

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
        raw = audio_bytes(event.get("audio"))
        samples = await run_in_threadpool(self._decoder.decode, raw)
        seconds = get_catalog().limits.realtime_buffer_max_seconds
        if self.track24.end - self.track24.base + self._queued_samples + len(samples) > seconds * RATE:
            raise buffer_full(seconds)
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
                self.report(audio_failed())
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
        self._interim = self.spawn(self._interim_decode(live, self.track16.slice_ms(self._turn_start, end)))

    async def _interim_decode(self, live: LiveText, samples16: np.ndarray) -> None:
        # due within the session's delay: a "minimal" transcript's decodes go before an "xhigh" one's
        due_s = cfg.interim_ms(self.config["audio"]["input"]["transcription"]) / 1000
        try:
            pieces = await self._transcribe(samples16, due_s=due_s)
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
            self.speech_started()
            self._turn_start = self._live_mark = turn.audio_start_ms
            self._turn_item = await self.speech_began(turn.audio_start_ms, td)
            tr = self.config["audio"]["input"]["transcription"]
            live = self.transcribe_only and self._streams()
            self._live = LiveText(self._turn_item, agree=cfg.agreement(tr)) if live else None
        elif isinstance(turn, Paused):
            spec_end = turn.at_ms + 96  # a few frames past the drop: word endings are soft
            hearing = Hearing(asyncio.get_running_loop())
            cancel = threading.Event()
            samples = self.track16.slice_ms(self._turn_start, spec_end)
            task = self.spawn(self._transcribe(samples, hearing, cancel=cancel))
            self._drop_speculation()
            self._spec = _Speculation(turn.at_ms, task, hearing, cancel)
            if td["type"] == "semantic_vad" and self._detector is not None:
                pieces = await asyncio.shield(task)
                waits = get_catalog().realtime.semantic_vad_wait_ms
                eagerness = "medium" if td["eagerness"] == "auto" else td["eagerness"]
                verdict = "complete" if finished_thought(" ".join(p.text for p in pieces)) else "incomplete"
                self._detector.set_silence(getattr(waits[eagerness], verdict))
        elif isinstance(turn, Resumed):
            self._drop_speculation()
            if td["type"] == "semantic_vad" and self._detector is not None:
                self._detector.set_silence(None)  # type: ignore[arg-type]
        elif isinstance(turn, Stopped):
            self._timing = {"speech_stopped": time.perf_counter()}
            item_id = self.speech_ended(turn.audio_end_ms, self._turn_item)
            spec, self._spec = self._spec, None
            audio = self.track24.slice_ms(self._turn_start, turn.audio_end_ms)
            self._timing["speculative"] = 1.0 if spec is not None else 0.0
            if spec is not None:
                transcript, hearing = spec.task, spec.hearing
            else:
                hearing = Hearing(asyncio.get_running_loop())
                transcript = self.spawn(
                    self._transcribe(self.track16.slice_ms(self._turn_start, turn.audio_end_ms), hearing)
                )
            self.track24.drop_before(turn.audio_end_ms)
            self.track16.drop_before(turn.audio_end_ms)
            live, self._live = self._live, None
            self._commit(item_id, audio, transcript, hearing, live)
            await self.turn_ended(td, self._timing)

    # -- transcription ----------------------------------------------------------------

    def _drop_speculation(self) -> None:
        """The speaker went on (or the buffer went): a decode of the turn so far is no use."""
        spec, self._spec = self._spec, None
        if spec is not None:
            spec.cancel.set()

    async def _transcribe(
        self,
        samples16: np.ndarray,
        hearing: Hearing | None = None,
        *,
        cancel: threading.Event | None = None,
        due_s: float | None = None,
    ) -> list[Piece]:
        """The user's speech as text pieces (Whisper segments), with the session's settings.

        Each piece also goes to ``hearing`` the moment the engine has decoded it, so the
        item's deltas can be sent while later segments are still being decoded.
        ``due_s``: how soon the decode is due when it waits for the CPU. By default a
        conversation's turn is due now (the reply waits for it), and a transcription
        session that set a ``delay`` is due within it: that is the wait its client
        accepted, so a "minimal" session's turns go before an "xhigh" one's.
        """
        started = time.perf_counter()
        a_in = self.config["audio"]["input"]
        tr = a_in["transcription"] or {}
        if due_s is None:
            due_s = cfg.interim_ms(tr) / 1000 if self.transcribe_only and tr.get("delay") else 0.0
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
            cancel=cancel,
            due_s=due_s,
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
        self.add_committed(entry)
        entry.transcript = asyncio.get_running_loop().create_future()
        self.spawn(self._hear(entry, transcript, hearing, live))
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
        refused = commit_too_small(self.track24.kept_ms)
        if refused is not None:
            raise refused
        start = self.track24.ms(self.track24.base)
        audio = self.track24.slice_ms(start, self.track24.end_ms)
        hearing = Hearing(asyncio.get_running_loop())
        transcript = self.spawn(self._transcribe(self.track16.slice_ms(start, self.track16.end_ms), hearing))
        self.track24.clear()
        self.track16.clear()
        self._drop_speculation()
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
        self._drop_speculation()
        self._live = None
        if self._detector is not None:
            self._detector.reset(self.track24.end_ms)
        self.emit(server_event("input_audio_buffer.cleared"))


def _word_logprobs(words: list[Any]) -> list[dict[str, Any]]:
    """Per-word log-probabilities in OpenAI's shape (Whisper gives word probabilities)."""
    return [
        {"token": w.word, "logprob": math.log(max(w.probability, 1e-9)), "bytes": list(w.word.encode())} for w in words
    ]


INPUT_HANDLERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "input_audio_buffer.append": InputAudio._append,
    "input_audio_buffer.commit": InputAudio._commit_event,
    "input_audio_buffer.clear": InputAudio._clear,
}
