"""Decode, resample and measure audio, in memory, with pip-only libraries.

soundfile (libsndfile) handles wav/flac/ogg/mp3; PyAV (FFmpeg libraries in the wheel)
handles everything else (aac, m4a, webm, mp4), so no system ffmpeg is needed. Rate
changes go through soxr (a band-limited, polyphase resampler), never interpolation.
Samples are float32 in [-1, 1], shape (n,) for mono or (n, channels).
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import soundfile as sf

from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError

__all__ = [
    "AudioDecodeError",
    "AudioTooLongError",
    "DecodedAudio",
    "decode",
    "decode_mono",
    "duration_seconds",
    "float_to_pcm16",
    "pcm16_to_float",
    "resample",
    "rms_dbfs",
    "to_mono",
]


class AudioDecodeError(PlaygroundError, ValueError):
    """The bytes are not audio we can decode (corrupt, empty or unknown format)."""


class AudioTooLongError(AudioDecodeError):
    """The audio runs past the allowed duration; decoding stopped there."""

    def __init__(self, max_seconds: float):
        super().__init__(f"audio is longer than the limit of {max_seconds:g} seconds")
        self.max_seconds = max_seconds


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


def session_audio_to_pcm16(data: bytes, fmt: str) -> tuple[bytes, int]:
    """A realtime session's output bytes as 16-bit PCM and its rate: ``audio/pcm`` is
    24 kHz PCM16 already, G.711 (``audio/pcmu`` µ-law, ``audio/pcma`` A-law) is 8 kHz."""
    if fmt == "audio/pcm":
        return data[: len(data) - len(data) % 2], 24000
    if fmt not in ("audio/pcmu", "audio/pcma"):
        raise AudioDecodeError(f"not a realtime audio format: {fmt!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # stdlib audioop on 3.11/3.12
        import audioop
    return (audioop.ulaw2lin(data, 2) if fmt == "audio/pcmu" else audioop.alaw2lin(data, 2)), 8000


def pcm16_wav(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM as a WAV file in memory."""
    buf = io.BytesIO()
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def decode(data: bytes, fmt: str | None = None, *, pcm_rate: int | None = None) -> DecodedAudio:
    """Decode a whole file held in memory, keeping its rate and channels.

    ``fmt`` "pcm" (or "pcm16") means raw s16le mono at ``pcm_rate`` (the catalog's PCM
    rate by default); anything else is sniffed from the bytes, so the hint is optional.
    """
    if not data:
        raise AudioDecodeError("audio is empty")
    if fmt in ("pcm", "pcm16"):
        return DecodedAudio(pcm16_to_float(data), pcm_rate or get_catalog().pcm_sample_rate)
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


def decode_mono(
    source: bytes | BinaryIO | str | os.PathLike[str], rate: int, *, max_seconds: float | None = None
) -> np.ndarray:
    """Decode any container straight to mono float32 at ``rate``, frame by frame.

    FFmpeg's resampler (through PyAV) downmixes and converts each decoded frame, so the
    full-rate, multi-channel signal never sits in memory: a 10-minute upload costs its
    16 kHz mono samples and little more. Decoding stops with ``AudioTooLongError`` as
    soon as the output passes ``max_seconds``, so an hours-long file is never decoded whole.
    """
    import av

    if isinstance(source, bytes | bytearray):
        if not source:
            raise AudioDecodeError("audio is empty")
        source = io.BytesIO(source)
    limit = None if max_seconds is None else int(max_seconds * rate)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioDecodeError("no audio stream found")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    total += _take(out, chunks)
                if limit is not None and total > limit:
                    raise AudioTooLongError(float(max_seconds or 0))
            for out in resampler.resample(None):
                total += _take(out, chunks)
    except AudioDecodeError:
        raise
    except Exception as e:
        raise AudioDecodeError(f"could not decode audio: {e}") from e
    if limit is not None and total > limit:
        raise AudioTooLongError(float(max_seconds or 0))
    if not total:
        raise AudioDecodeError("audio has no samples")
    return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]


def _take(frame: object, chunks: list[np.ndarray]) -> int:
    arr = frame.to_ndarray().reshape(-1)  # type: ignore[attr-defined]
    if len(arr):
        chunks.append(arr.astype(np.float32, copy=True))
    return len(arr)


def to_mono(samples: np.ndarray) -> np.ndarray:
    return samples if samples.ndim == 1 else samples.mean(axis=1).astype(np.float32)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Change the sample rate with soxr (high quality: about 120 dB of image rejection).

    Channels are kept: (n,) stays (n,), (n, c) stays (n, c).
    """
    if rate_in == rate_out or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), rate_in, rate_out, quality="HQ")


def duration_seconds(data: bytes, fmt: str | None = None) -> float:
    return decode(data, fmt).duration


def rms_dbfs(samples: np.ndarray) -> float:
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
