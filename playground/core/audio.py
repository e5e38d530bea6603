"""Decode, resample and measure audio, in memory, with pip-only codecs.

soundfile (libsndfile) handles wav/flac/ogg-vorbis; PyAV (FFmpeg libraries in the
wheel) handles everything else (mp3, opus, aac, m4a, webm), so no system ffmpeg is
needed. Samples are float32 in [-1, 1], shape (n,) for mono or (n, channels).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from playground.core.errors import PlaygroundError

__all__ = [
    "AudioDecodeError",
    "DecodedAudio",
    "decode",
    "duration_seconds",
    "float_to_pcm16",
    "pcm16_to_float",
    "resample",
    "rms_dbfs",
    "to_mono",
]

PCM_RATE = 24_000


class AudioDecodeError(PlaygroundError, ValueError):
    """The bytes are not audio we can decode (corrupt, empty or unknown format)."""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def pcm16_to_float(data: bytes) -> np.ndarray:
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def decode(data: bytes, fmt: str | None = None, *, pcm_rate: int = PCM_RATE) -> DecodedAudio:
    """Decode a whole file held in memory.

    ``fmt`` "pcm" (or "pcm16") means raw s16le mono at ``pcm_rate``; anything else is
    sniffed from the bytes, so the hint is optional.
    """
    if not data:
        raise AudioDecodeError("audio is empty")
    if fmt in ("pcm", "pcm16"):
        return DecodedAudio(pcm16_to_float(data), pcm_rate)
    try:
        import soundfile as sf

        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        if len(samples):
            return DecodedAudio(samples, int(rate))
    except Exception:  # noqa: BLE001 - libsndfile does not know this container; try FFmpeg
        pass
    return _decode_av(data)


def _decode_av(data: bytes) -> DecodedAudio:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioDecodeError("no audio stream found")
            stream = container.streams.audio[0]
            chunks: list[np.ndarray] = []
            rate = 0
            for frame in container.decode(stream):
                rate = frame.sample_rate
                arr = frame.to_ndarray()
                if arr.dtype.kind == "i":
                    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                if frame.format.is_planar:
                    arr = arr.T  # (channels, n) -> (n, channels)
                else:
                    arr = arr.reshape(-1, len(frame.layout.channels))
                chunks.append(arr.astype(np.float32, copy=False))
    except AudioDecodeError:
        raise
    except Exception as e:
        raise AudioDecodeError(f"could not decode audio: {e}") from e
    if not chunks or not rate:
        raise AudioDecodeError("audio has no samples")
    samples = np.concatenate(chunks)
    if samples.shape[1] == 1:
        samples = samples[:, 0]
    return DecodedAudio(samples, rate)


def to_mono(samples: np.ndarray) -> np.ndarray:
    return samples if samples.ndim == 1 else samples.mean(axis=1).astype(np.float32)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited enough for speech: linear interpolation after a light low-pass."""
    if rate_in == rate_out or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    mono = to_mono(samples)
    if rate_out < rate_in:
        # moving-average low-pass, width ~ the decimation ratio, to limit aliasing
        width = max(1, round(rate_in / rate_out))
        if width > 1:
            kernel = np.ones(width, dtype=np.float32) / width
            mono = np.convolve(mono, kernel, mode="same")
    n_out = round(len(mono) * rate_out / rate_in)
    x_old = np.arange(len(mono), dtype=np.float64) / rate_in
    x_new = np.arange(n_out, dtype=np.float64) / rate_out
    return np.interp(x_new, x_old, mono).astype(np.float32)


def duration_seconds(data: bytes, fmt: str | None = None) -> float:
    return decode(data, fmt).duration


def rms_dbfs(samples: np.ndarray) -> float:
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
