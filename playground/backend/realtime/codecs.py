"""The session's audio formats: 24 kHz PCM16, and G.711 µ-law / A-law at 8 kHz (telephony).

G.711 is Python's ``audioop`` (the ``audioop-lts`` backport from 3.13 on); rate changes
are soxr streams, so a session's audio is resampled as one continuous signal however
the client slices its appends.
"""

from __future__ import annotations

import warnings

import numpy as np
import soxr

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # stdlib audioop on 3.11/3.12
    import audioop

__all__ = ["G711_RATE", "RATE", "InputDecoder", "OutputEncoder", "bytes_per_second"]

#: the session's internal rate and audio/pcm's only rate
RATE = 24000
G711_RATE = 8000


def bytes_per_second(fmt: str) -> int:
    return RATE * 2 if fmt == "audio/pcm" else G711_RATE


class InputDecoder:
    """Client audio bytes in one format to float32 mono at 24 kHz, append after append."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self._carry = b""  # an odd trailing byte of PCM16 waits for its partner
        self._up = soxr.ResampleStream(G711_RATE, RATE, 1, dtype="float32") if fmt != "audio/pcm" else None

    def decode(self, data: bytes) -> np.ndarray:
        if self.fmt == "audio/pcm":
            data = self._carry + data
            cut = len(data) - len(data) % 2
            self._carry = data[cut:]
            return np.frombuffer(data[:cut], "<i2").astype(np.float32) / 32768.0
        lin = audioop.ulaw2lin(data, 2) if self.fmt == "audio/pcmu" else audioop.alaw2lin(data, 2)
        x = np.frombuffer(lin, "<i2").astype(np.float32) / 32768.0
        assert self._up is not None
        return self._up.resample_chunk(x)


class OutputEncoder:
    """Float32 mono at 24 kHz to the session's output format, chunk after chunk."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self._down = soxr.ResampleStream(RATE, G711_RATE, 1, dtype="float32") if fmt != "audio/pcm" else None

    @staticmethod
    def _pcm16(x: np.ndarray) -> bytes:
        return (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()

    def encode(self, samples: np.ndarray, *, last: bool = False) -> bytes:
        x = np.asarray(samples, np.float32).reshape(-1)
        if self._down is None:
            return self._pcm16(x)
        lin = self._pcm16(self._down.resample_chunk(x, last=last))
        return audioop.lin2ulaw(lin, 2) if self.fmt == "audio/pcmu" else audioop.lin2alaw(lin, 2)

    def finish(self) -> bytes:
        return self.encode(np.zeros(0, np.float32), last=True) if self._down is not None else b""
