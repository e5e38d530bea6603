"""Incremental encoders for the six speech formats.

``StreamEncoder.encode(samples)`` returns whatever bytes the format can emit so far,
so audio leaves the server sentence by sentence instead of after the whole text. mp3,
aac (ADTS) and opus (Ogg, pages flushed every 20 ms) come from PyAV's bundled FFmpeg;
wav is a header with "unknown length" sizes (as streamed WAV is served) and raw s16le;
pcm is raw s16le with no header.

FLAC is the exception (``WHOLE_FILE_FORMATS``): its STREAMINFO header carries the total
sample count, which a stream cannot know up front, and libsndfile refuses a FLAC whose
count is "unknown" (it reports 2^63 frames). So FLAC is encoded once the audio is
complete (``encode_all``, into a seekable buffer so the muxer writes the real header).
"""

from __future__ import annotations

import io
import struct

import numpy as np

from playground.core.audio import float_to_pcm16

__all__ = ["WHOLE_FILE_FORMATS", "StreamEncoder", "encode_all", "encode_with_ffmpeg", "wav_stream_header"]

#: formats whose header needs the total length: encode them whole, never as a stream
WHOLE_FILE_FORMATS = frozenset({"flac"})

_AV_FORMATS = {
    # format: (container, codec, codec sample rate or None = input rate, container options)
    "mp3": ("mp3", "libmp3lame", None, {}),
    "aac": ("adts", "aac", None, {}),
    "flac": ("flac", "flac", None, {}),
    "opus": ("ogg", "libopus", 48_000, {"page_duration": "20000"}),
}


def wav_stream_header(sample_rate: int, channels: int = 1) -> bytes:
    """RIFF/WAVE header for 16-bit PCM whose length is not known yet (0xFFFFFFFF sizes)."""
    block = channels * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block, block, 16)
    return b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF)


class _Sink(io.RawIOBase):
    """Write-only, non-seekable byte collector that PyAV muxes into."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._buf += data
        return len(data)

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


class StreamEncoder:
    """Encode mono float32 audio at ``sample_rate`` into ``fmt``, piece by piece.

    Not thread-safe; one encoder per response.
    """

    def __init__(self, fmt: str, sample_rate: int):
        self.fmt, self.sample_rate = fmt, sample_rate
        self._started = False
        self._container = None
        if fmt in _AV_FORMATS:
            import av

            container_fmt, codec, codec_rate, options = _AV_FORMATS[fmt]
            self._sink = _Sink()
            self._container = av.open(self._sink, "w", format=container_fmt, options=options)
            self._stream = self._container.add_stream(codec, rate=codec_rate or sample_rate)
            self._stream.layout = "mono"
        elif fmt not in ("wav", "pcm"):
            raise ValueError(f"format must be one of: mp3, opus, aac, flac, wav, pcm (got {fmt!r})")

    def encode(self, samples: np.ndarray) -> bytes:
        if self._container is None:
            head = b""
            if self.fmt == "wav" and not self._started:
                head = wav_stream_header(self.sample_rate)
            self._started = True
            return head + float_to_pcm16(samples)
        import av

        self._started = True
        if len(samples) == 0:
            return b""
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.sample_rate
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        return self._sink.take()

    def finish(self) -> bytes:
        """Flush the codec and close the container; returns the last bytes."""
        if self._container is None:
            return wav_stream_header(self.sample_rate) if self.fmt == "wav" and not self._started else b""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._sink.take()


def encode_all(samples: np.ndarray, fmt: str, sample_rate: int) -> bytes:
    """A complete file. Written to a seekable buffer, so headers carry the real length
    (FLAC's STREAMINFO, WAV's sizes, MP3's Xing/LAME frame)."""
    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if fmt == "pcm":
        return float_to_pcm16(samples)
    if fmt == "wav":
        buf = io.BytesIO()
        import soundfile as sf

        sf.write(buf, samples, sample_rate, format="WAV", subtype="PCM_16")
        return buf.getvalue()
    if fmt not in _AV_FORMATS:
        raise ValueError(f"format must be one of: mp3, opus, aac, flac, wav, pcm (got {fmt!r})")
    container, codec, codec_rate, options = _AV_FORMATS[fmt]
    return encode_with_ffmpeg(
        samples, sample_rate, container=container, codec=codec, codec_rate=codec_rate, options=options
    )


def encode_with_ffmpeg(
    samples: np.ndarray,
    sample_rate: int,
    *,
    container: str,
    codec: str,
    codec_rate: int | None = None,
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    """Mono float32 audio as a complete file in any container/codec FFmpeg (PyAV) writes."""
    import av

    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container, options=options or {}) as out:
        stream = out.add_stream(codec, rate=codec_rate or sample_rate)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        if len(samples):
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = sample_rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
