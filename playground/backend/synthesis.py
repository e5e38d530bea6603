"""Text to speech at the API's PCM rate with a local voice: chunking, shaping, resampling.

Shared by ``/audio/speech``, chat completions with audio and (later) realtime. Each
chunk (a sentence, the first kept short) is synthesised by the voice's engine with the
voice's shape (pitch, formant, intonation, breath) where the engine renders it. For an
engine that cannot shift pitch itself, the shift is made by declaring its output at
``rate × 2^(st/12)`` while resampling (one soxr pass; the engine is asked for
proportionally longer speech so the pace is unchanged). Speed beyond the engine's range
is made up by a pitch-preserving time-stretch, gain is applied with a peak guard, and
the pause cue adds silence after the sentence.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from starlette.concurrency import run_in_threadpool

from playground.backend.dsp import time_stretch
from playground.backend.engines.base import VoiceShape
from playground.backend.engines.manager import EngineManager
from playground.backend.style import Prosody
from playground.backend.text import split_for_speech
from playground.core.audio import resample
from playground.core.catalog import get_catalog

__all__ = ["AUDIO_TOKENS_PER_SECOND", "LocalVoice", "Synthesizer", "audio_tokens", "output_rate"]

#: OpenAI bills TTS audio at ~1,250 tokens a minute
AUDIO_TOKENS_PER_SECOND = 1250 / 60
#: a breath of silence for chunks with nothing pronounceable ("...", emoji): never empty audio
_SILENT_CHUNK_S = 0.1
#: a later chunk is due this long before the audio ahead of it runs out (network, decoding)
_DEADLINE_MARGIN_S = 0.5


def output_rate() -> int:
    """The rate every local voice is delivered at: the API's raw PCM rate (24 kHz)."""
    return get_catalog().pcm_sample_rate


def audio_tokens(seconds: float) -> int:
    return max(1, round(seconds * AUDIO_TOKENS_PER_SECOND)) if seconds > 0 else 0


@dataclass(frozen=True, slots=True)
class LocalVoice:
    """Where an API voice name lands locally (from the catalog's ``local.voices``)."""

    name: str
    engine: str
    speaker: str
    #: default pace multiplier of this voice
    pace: float = 1.0
    shape: VoiceShape = field(default_factory=VoiceShape)

    @property
    def label(self) -> str:
        s = self.shape
        extras = [
            f"{s.pitch:+g}st" if s.pitch else "",
            f"formant{s.formant:+g}st" if s.formant else "",
            f"intonation×{s.intonation:g}" if s.intonation != 1.0 else "",
            f"breath{s.breath:+g}dB" if s.breath else "",
            f"pace×{self.pace:g}" if self.pace != 1.0 else "",
        ]
        return " ".join([f"{self.engine}:{self.speaker}", *[e for e in extras if e]])


class Synthesizer:
    """One utterance: ``async for`` its chunks (or ``render_all()`` in a worker thread)."""

    def __init__(
        self,
        engines: EngineManager,
        voice: LocalVoice,
        text: str,
        *,
        speed: float,
        prosody: Prosody,
        heard_from: float | None = None,
        ahead_s: float = 0.0,
    ):
        """``heard_from`` / ``ahead_s``: this utterance continues a reply (a realtime turn's
        next sentence) whose playback began at that ``time.monotonic()`` instant with that
        many seconds already sent, so even its first chunk is due only when those run out."""
        self.voice = voice
        self.engine = engines.tts(voice.engine)
        self._cpu = engines.cpu
        #: when the listener started hearing this utterance (its first chunk was ready)
        self._heard_from = heard_from
        self._ahead_s = ahead_s
        self.prosody = prosody
        self.chunks = split_for_speech(text)
        self.rate = output_rate()
        pitch = voice.shape.pitch + prosody.pitch
        native_pitch = "pitch" in self.engine.shapes
        self.shape = replace(voice.shape, pitch=pitch if native_pitch else 0.0)
        #: the engine's rate is declared this much higher to shift pitch by resampling
        self._pitch_factor = 1.0 if native_pitch else 2 ** (pitch / 12)
        pace = speed * voice.pace * prosody.rate
        # longer synthesis by the pitch factor; resampling then shortens it back
        wanted = self._pitch_factor / pace
        lo, hi = self.engine.length_scale_range
        self.length_scale = min(max(wanted, lo), hi)
        #: what the engine cannot do itself, done by time-stretching its output
        self.stretch = wanted / self.length_scale
        self._gain = 10 ** (prosody.gain_db / 20)
        #: seconds of audio produced so far
        self.seconds = 0.0

    def _render(self, text: str, last: bool) -> np.ndarray:
        engine = self.engine
        raw = engine.synthesize(text, speaker=self.voice.speaker, length_scale=self.length_scale, shape=self.shape)
        if len(raw) == 0:
            raw = np.zeros(int(engine.sample_rate * _SILENT_CHUNK_S), np.float32)
        if abs(self.stretch - 1.0) > 1e-3:
            raw = time_stretch(raw, self.stretch, engine.sample_rate)
        declared = round(engine.sample_rate * self._pitch_factor)
        out = resample(np.asarray(raw, dtype=np.float32), declared, self.rate)
        if self._gain != 1.0:
            out = out * self._gain
            peak = float(np.max(np.abs(out))) if len(out) else 0.0
            if peak > 0.98:
                out = out * (0.98 / peak)
        if self.prosody.pause_ms and not last:
            out = np.concatenate([out, np.zeros(self.rate * self.prosody.pause_ms // 1000, np.float32)])
        self.seconds += len(out) / self.rate
        return out.astype(np.float32, copy=False)

    def iter_chunks(self) -> Iterator[np.ndarray]:
        """Every chunk in order, synchronously (call from a worker thread); nothing is heard
        before the last, so every chunk is due when the request came."""
        last = len(self.chunks) - 1
        due = time.monotonic()
        for i, chunk in enumerate(self.chunks):
            with self._cpu.hold(deadline=due):
                out = self._render(chunk, i == last)
            yield out

    def _due(self) -> float:
        """When the next chunk must be ready: now for a new utterance's first; later, when
        the audio before it has played (less a margin), playback having begun with the first."""
        if self._heard_from is None:
            return time.monotonic()
        return self._heard_from + max(0.0, self._ahead_s + self.seconds - _DEADLINE_MARGIN_S)

    def render_all(self) -> np.ndarray:
        """The whole utterance at once (blocking), for non-streamed replies."""
        parts = list(self.iter_chunks())
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    async def render(self, index: int) -> np.ndarray:
        async with self._cpu.slot(deadline=self._due()):
            out = await run_in_threadpool(self._render, self.chunks[index], index == len(self.chunks) - 1)
        if self._heard_from is None:
            self._heard_from = time.monotonic()
        return out

    async def stream(self) -> AsyncIterator[np.ndarray]:
        """All chunks in order, synthesising the next while the current one is sent.

        Except after the first: the second chunk starts only once the first has been
        handed on (encoded, sent), so on a busy machine nothing competes with the one
        chunk that decides time to first audio.
        """
        if not self.chunks:
            return
        pending: asyncio.Future[np.ndarray] | None = asyncio.ensure_future(self.render(0))
        try:
            for i in range(len(self.chunks)):
                current = await (pending if pending is not None else self.render(i))
                pending = None
                if i > 0 and i + 1 < len(self.chunks):
                    pending = asyncio.ensure_future(self.render(i + 1))
                yield current
        finally:
            if pending is not None and not pending.done():
                pending.cancel()

    @staticmethod
    def input_tokens(*texts: str) -> int:
        return sum(math.ceil(len(t) / 4) for t in texts if t)
