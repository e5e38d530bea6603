"""The chained pipeline's uncommitted input audio, and the turns the local VAD finds in it.

``InputBuffer.take`` is CPU work (base64, resampling, Silero): the pipeline runs it on a
worker thread, one append at a time. ``semantic_vad`` is ``server_vad`` here, with the
catalog's *medium* semantic wait as its silence: a classic pipeline has no model that
judges whether the user has finished.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import soxr

from playground.backend.engines.silero_vad import SileroVAD
from playground.backend.realtime.core import VAD_FRAME_MS, audio_bytes, buffer_full
from playground.backend.realtime.turns import TurnDetector, TurnEvent
from playground.core.catalog import get_catalog
from playground.relay.chat_shape import RATE, samples_ms

__all__ = ["InputBuffer", "vad_engine"]

VAD_RATE = 16000
#: while nobody speaks, audio older than this is dropped (beyond the next turn's padding)
IDLE_KEEP_MS = 5000

_VAD_LOCK = threading.Lock()
_VAD: SileroVAD | None = None


def vad_engine() -> SileroVAD:
    """One Silero model for every session (loading it is file I/O: call on a thread)."""
    global _VAD
    with _VAD_LOCK:
        if _VAD is None:
            engine = SileroVAD()
            engine.load()
            _VAD = engine
        return _VAD


class InputBuffer:
    """The uncommitted input audio (PCM16, 24 kHz) on the session's input clock, and the
    turn detector that watches it. ``take`` is CPU work (base64, resampling, VAD): the
    pipeline runs it on a worker thread, one append at a time."""

    def __init__(self, max_seconds: int) -> None:
        self.max_bytes = max_seconds * RATE * 2
        self.buffer = bytearray()
        #: absolute sample index (since the session began) of ``buffer[0]``
        self.base = 0
        self.detector: TurnDetector | None = None
        self._stream: Any = None
        self._resampler: Any = None
        self._origin_ms = 0  # input clock where the current detector started
        self._frames = 0

    @property
    def end_ms(self) -> int:
        return samples_ms(self.base + len(self.buffer) // 2)

    @property
    def buffered_ms(self) -> int:
        return samples_ms(len(self.buffer) // 2)

    def configure(self, turn_detection: dict[str, Any] | None) -> None:
        """A fresh detector (and VAD state) from here on; None for manual turns."""
        self.detector = _detector(turn_detection)
        if self.detector is not None:
            self.detector.floor_ms = self.end_ms
        self._stream = None
        self._origin_ms, self._frames = self.end_ms, 0

    def take(self, data: Any) -> list[TurnEvent]:
        raw = audio_bytes(data)
        pcm = raw[: len(raw) // 2 * 2]
        if len(self.buffer) + len(pcm) > self.max_bytes:
            raise buffer_full(self.max_bytes // (RATE * 2))
        self.buffer += pcm
        if self.detector is None:
            return []
        events = self._detect(pcm)
        if not events and not self.detector.in_speech and self.buffered_ms > IDLE_KEEP_MS:
            self.drop_before(self.end_ms - self.detector.prefix_padding_ms - 500)
        return events

    def _detect(self, pcm: bytes) -> list[TurnEvent]:
        assert self.detector is not None
        if self._stream is None:
            self._stream = vad_engine().stream()
            self._resampler = soxr.ResampleStream(RATE, VAD_RATE, 1, dtype="float32")
        samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
        probs = self._stream.feed(self._resampler.resample_chunk(samples))
        events: list[TurnEvent] = []
        for prob in probs:
            start = self._origin_ms + self._frames * VAD_FRAME_MS
            self._frames += 1
            events += self.detector.feed(start, start + VAD_FRAME_MS, float(prob))
        return events

    def slice(self, start_ms: int, end_ms: int) -> bytes:
        a = max(0, start_ms * RATE // 1000 - self.base) * 2
        b = max(0, end_ms * RATE // 1000 - self.base) * 2
        return bytes(self.buffer[a:b])

    def drop_before(self, ms: int) -> None:
        cut = min(max(0, ms * RATE // 1000 - self.base), len(self.buffer) // 2)
        del self.buffer[: cut * 2]
        self.base += cut

    def take_all(self) -> bytes:
        pcm = bytes(self.buffer)
        self.clear()
        return pcm

    def clear(self) -> None:
        self.base += len(self.buffer) // 2
        self.buffer.clear()
        if self.detector is not None:
            self.detector.reset(self.end_ms)


def _detector(td: dict[str, Any] | None) -> TurnDetector | None:
    """server_vad as configured; semantic_vad as server_vad with the medium semantic wait."""
    if td is None:
        return None
    rt = get_catalog().realtime
    if td["type"] == "semantic_vad":
        d = rt.server_vad_defaults
        silence = int(rt.semantic_vad_wait_ms["medium"].complete)
        return TurnDetector(threshold=d.threshold, prefix_padding_ms=d.prefix_padding_ms, silence_ms=silence)
    return TurnDetector(
        threshold=td["threshold"], prefix_padding_ms=td["prefix_padding_ms"], silence_ms=td["silence_duration_ms"]
    )
