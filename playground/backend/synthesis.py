"""Text to 24 kHz speech with a local voice: chunking, prosody, pitch and resampling.

Shared by ``/audio/speech`` and chat completions with audio. Each chunk (a sentence,
the first kept short) is synthesised by the voice's engine, then shaped: the pitch
shift is done by declaring the engine's output at ``rate × 2^(st/12)`` while
resampling to 24 kHz (one pass; the engine is asked for proportionally longer audio
so the pace is unchanged), gain is applied with a peak guard, and the pause cue adds
silence after the sentence.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from starlette.concurrency import run_in_threadpool

from playground.backend.dsp import time_stretch
from playground.backend.engines.manager import EngineManager
from playground.backend.style import Prosody
from playground.backend.text import split_for_speech
from playground.core.audio import resample

__all__ = ["OUTPUT_RATE", "LocalVoice", "Synthesizer", "audio_tokens"]

OUTPUT_RATE = 24_000
#: OpenAI bills TTS audio at ~1,250 tokens a minute
AUDIO_TOKENS_PER_SECOND = 1250 / 60


def audio_tokens(seconds: float) -> int:
    return max(1, round(seconds * AUDIO_TOKENS_PER_SECOND)) if seconds > 0 else 0


@dataclass(frozen=True, slots=True)
class LocalVoice:
    """Where an API voice name lands locally (from the catalog's ``local.voices``)."""

    name: str
    engine: str
    speaker: str
    #: semitones added to every utterance of this voice
    pitch: float = 0.0
    #: default pace multiplier of this voice
    pace: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.speaker}" + (f"{self.pitch:+g}st" if self.pitch else "")


class Synthesizer:
    """One utterance: ``await first()`` then ``async for`` the remaining chunks."""

    def __init__(self, engines: EngineManager, voice: LocalVoice, text: str, *, speed: float, prosody: Prosody):
        self.voice = voice
        self.engine = engines.tts(voice.engine)
        self.prosody = prosody
        self.chunks = split_for_speech(text)
        self.pitch = voice.pitch + prosody.pitch
        self._pitch_factor = 2 ** (self.pitch / 12)
        rate = speed * voice.pace * prosody.rate
        # longer synthesis by the pitch factor; resampling then shortens it back
        wanted = self._pitch_factor / rate
        lo, hi = self.engine.length_scale_range
        self.length_scale = min(max(wanted, lo), hi)
        #: what the engine cannot do itself, done by time-stretching its output
        self.stretch = wanted / self.length_scale
        self._gain = 10 ** (prosody.gain_db / 20)
        self.seconds = 0.0

    def _render(self, text: str, last: bool) -> np.ndarray:
        raw = self.engine.synthesize(text, speaker=self.voice.speaker, length_scale=self.length_scale)
        if len(raw) == 0:  # nothing pronounceable ("...", emoji): a breath of silence, never empty audio
            raw = np.zeros(self.engine.sample_rate // 10, np.float32)
        if abs(self.stretch - 1.0) > 1e-3:
            raw = time_stretch(raw, self.stretch, self.engine.sample_rate)
        declared = round(self.engine.sample_rate * self._pitch_factor)
        out = resample(np.asarray(raw, dtype=np.float32), declared, OUTPUT_RATE)
        if self._gain != 1.0:
            out = out * self._gain
            peak = float(np.max(np.abs(out))) if len(out) else 0.0
            if peak > 0.98:
                out = out * (0.98 / peak)
        if self.prosody.pause_ms and not last:
            out = np.concatenate([out, np.zeros(OUTPUT_RATE * self.prosody.pause_ms // 1000, np.float32)])
        self.seconds += len(out) / OUTPUT_RATE
        return out.astype(np.float32, copy=False)

    def render_all(self) -> np.ndarray:
        """The whole utterance at once (blocking), for non-streamed replies."""
        last = len(self.chunks) - 1
        parts = [self._render(chunk, i == last) for i, chunk in enumerate(self.chunks)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    async def render(self, index: int) -> np.ndarray:
        return await run_in_threadpool(self._render, self.chunks[index], index == len(self.chunks) - 1)

    async def stream(self) -> AsyncIterator[np.ndarray]:
        """All chunks in order, synthesising the next while the current one is sent."""
        import asyncio

        if not self.chunks:
            return
        pending = asyncio.ensure_future(self.render(0))
        try:
            for i in range(len(self.chunks)):
                current = await pending
                if i + 1 < len(self.chunks):
                    pending = asyncio.ensure_future(self.render(i + 1))
                yield current
        finally:
            if not pending.done():
                pending.cancel()

    def input_tokens(self, *texts: str) -> int:
        return sum(math.ceil(len(t) / 4) for t in texts if t)
