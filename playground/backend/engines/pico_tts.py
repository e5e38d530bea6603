"""SVOX Pico through ``py-nanotts``: US and British English, robotic but instant.

It is the only British English voice that ships inside a package, so it gives the
catalog's British voice its accent. The language files are inside the wheel; output
is 16 kHz mono. Pitch is Pico's own (a multiplier of its F0, so formants stay).

Pico ends each utterance with a trailing silence whose length depends on earlier calls
(0.3 to 0.6 s); it is trimmed to a fixed ``TAIL_S`` so sentences stream with even gaps
and equal text gives equal audio.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..assets import AssetMissingError
from .base import TTSEngine, VoiceShape

__all__ = ["PICO_RUNTIME", "PicoTTS"]

PICO_RUNTIME = "py-nanotts==0.1.1"
SPEAKERS = ("en-US", "en-GB")
#: Pico's speed (1 = normal) and pitch multiplier limits
SPEED_RANGE = (0.2, 5.0)
PITCH_RANGE = (0.5, 2.0)
#: silence kept after the last audible sample (seconds)
TAIL_S = 0.12
#: "audible" for the trim: about -50 dBFS
_AUDIBLE = 100

#: the C library keeps global state, so every instance shares one lock
_LIBRARY_LOCK = threading.Lock()


class PicoTTS(TTSEngine):
    """Pico voices; calls are serialised (process-wide) because the C library keeps global state."""

    sample_rate = 16_000
    length_scale_range = (1 / SPEED_RANGE[1], 1 / SPEED_RANGE[0])
    shapes = frozenset({"pitch"})

    def __init__(self) -> None:
        self._tts = None

    def speakers(self) -> list[str]:
        return list(SPEAKERS)

    def _load(self):
        if self._tts is None:
            try:
                from py_nanotts import NanoTTS
            except ImportError as e:
                raise AssetMissingError(f"TTS runtime not installed (pip install {PICO_RUNTIME})") from e
            self._tts = NanoTTS()
        return self._tts

    def synthesize(
        self, text: str, *, speaker: str, length_scale: float = 1.0, shape: VoiceShape | None = None
    ) -> np.ndarray:
        if speaker not in SPEAKERS:
            raise ValueError(f"unknown Pico speaker {speaker!r}; choose from {list(SPEAKERS)}")
        if not math.isfinite(length_scale) or length_scale <= 0:
            raise ValueError(f"length_scale must be a positive number, got {length_scale!r}")
        if not any(ch.isalnum() for ch in text):
            return np.zeros(0, dtype=np.float32)
        speed = min(max(1.0 / length_scale, SPEED_RANGE[0]), SPEED_RANGE[1])
        pitch = 2 ** ((shape.pitch if shape else 0.0) / 12)
        pitch = min(max(pitch, PITCH_RANGE[0]), PITCH_RANGE[1])
        with _LIBRARY_LOCK:
            pcm = self._load().speak(text, voice=speaker, speed=speed, pitch=pitch)
        samples = np.frombuffer(pcm, dtype="<i2")
        audible = np.flatnonzero(np.abs(samples) > _AUDIBLE)
        if len(audible) == 0:
            return np.zeros(0, dtype=np.float32)
        end = min(len(samples), int(audible[-1]) + 1 + int(TAIL_S * self.sample_rate))
        return samples[:end].astype(np.float32) / 32768.0
