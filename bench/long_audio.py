"""A long, real recording for the long-upload bench and tests, built from ../shared's clips.

The speech clips in ``shared/testdata/speech`` are joined (with short pauses) and
repeated to the wanted length, then encoded as 16 kHz Opus at 12 kb/s: about 0.9 MiB
for ten minutes, the kind of compact file that decodes to far more than it weighs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.core.audio import decode_mono
from playground.core.encode import encode_with_ffmpeg

__all__ = ["CLIPS", "long_recording"]

CLIPS = ("jfk.flac", "hotwords.mp3", "stereo_diarization.wav")
RATE = 16_000


def long_recording(speech_dir: Path, seconds: float = 600.0) -> bytes:
    """Ogg/Opus bytes of ``seconds`` of real speech."""
    pause = np.zeros(RATE // 2, np.float32)
    parts = []
    for name in CLIPS:
        parts += [decode_mono((speech_dir / name).read_bytes(), RATE), pause]
    one = np.concatenate(parts)
    total = int(seconds * RATE)
    samples = np.tile(one, total // len(one) + 1)[:total]
    return encode_with_ffmpeg(samples, RATE, container="ogg", codec="libopus", bit_rate=12_000)
