"""A long, real recording for the long-upload bench and tests, built from ../shared's clips.

The speech clips in ``shared/testdata/speech`` are joined (with short pauses) and
repeated to the wanted length, then encoded as 16 kHz Opus at 12 kb/s: about 0.9 MiB
for ten minutes, the kind of compact file that decodes to far more than it weighs.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from playground.core.audio import decode_mono

__all__ = ["CLIPS", "long_recording"]

CLIPS = ("jfk.flac", "hotwords.mp3", "stereo_diarization.wav")
RATE = 16_000


def long_recording(speech_dir: Path, seconds: float = 600.0) -> bytes:
    """Ogg/Opus bytes of ``seconds`` of real speech."""
    import av

    pause = np.zeros(RATE // 2, np.float32)
    parts = []
    for name in CLIPS:
        parts += [decode_mono((speech_dir / name).read_bytes(), RATE), pause]
    one = np.concatenate(parts)
    total = int(seconds * RATE)
    samples = np.tile(one, total // len(one) + 1)[:total]
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=RATE)
        stream.layout = "mono"
        stream.bit_rate = 12_000
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()
