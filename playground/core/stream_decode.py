"""Encoded audio in, raw PCM16 out, while the bytes are still arriving.

The browser plays speech through Web Audio as soon as the first sentence arrives,
whatever format the user chose, so the page is sent PCM decoded from the exact bytes
the API returned (lossy artefacts included). PCM passes through; WAV's header is read
and its samples pass through when they already are mono 16-bit at the wanted rate;
everything else (mp3, aac, opus, flac, other WAVs) is decoded by FFmpeg through PyAV on
a worker thread that reads from a pipe fed chunk by chunk, with probing kept minimal
so the first frames come out as soon as they are complete.
"""

from __future__ import annotations

import io
import logging
import struct
import threading
from collections.abc import Callable

__all__ = ["PcmStreamDecoder", "SessionAudioDecoder"]

log = logging.getLogger(__name__)

#: PyAV demuxer for each speech format
_CONTAINERS = {"mp3": "mp3", "aac": "aac", "opus": "ogg", "flac": "flac", "wav": "wav"}
_WAV_HEADER_MAX = 4096


class _Pipe(io.RawIOBase):
    """A blocking byte pipe: ``push`` from one thread, ``readinto`` (FFmpeg) from another."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._ended = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def push(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        with self._cond:
            while not self._buf and not self._ended:
                self._cond.wait()
            n = min(len(target), len(self._buf))
            target[:n] = self._buf[:n]
            del self._buf[:n]
            return n


class PcmStreamDecoder:
    """Feed encoded chunks with ``feed``, call ``end``; ``on_pcm`` receives s16le mono bytes.

    ``on_pcm(b"")`` is called once at the very end (also after a decoding error, which
    is logged: the page then simply stops, and the full file is still offered).
    """

    def __init__(self, fmt: str, rate: int, on_pcm: Callable[[bytes], None]) -> None:
        self.fmt, self.rate = fmt, rate
        self._emit = on_pcm
        self._pipe: _Pipe | None = None
        self._thread: threading.Thread | None = None
        self._wav_head = b""
        self._passthrough = fmt == "pcm"
        self._odd = b""  # a PCM byte waiting for its pair
        if fmt not in ("pcm", "wav"):
            self._start_ffmpeg(_CONTAINERS.get(fmt, fmt))

    # -- input -----------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._pipe is not None:
            self._pipe.push(data)
        elif self._passthrough:
            self._pcm(data)
        else:
            self._wav(data)

    def end(self) -> None:
        if self._pipe is not None:
            self._pipe.end()
            return
        if not self._passthrough and self._wav_head:  # a WAV too short to have a data chunk
            log.warning("WAV stream ended before its data chunk")
        self._emit(b"")

    # -- the direct paths --------------------------------------------------------------
    def _pcm(self, data: bytes) -> None:
        data = self._odd + data
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        if cut:
            self._emit(data[:cut])

    def _wav(self, data: bytes) -> None:
        self._wav_head += data
        parsed = _wav_layout(self._wav_head)
        if parsed is None:
            if len(self._wav_head) > _WAV_HEADER_MAX:  # not a header we understand: let FFmpeg try
                head, self._wav_head = self._wav_head, b""
                self._start_ffmpeg("wav")
                assert self._pipe is not None
                self._pipe.push(head)
            return
        (channels, rate, bits), data_at = parsed
        head, self._wav_head = self._wav_head, b""
        if (channels, rate, bits) == (1, self.rate, 16):
            self._passthrough = True
            self._pcm(head[data_at:])
        else:
            self._start_ffmpeg("wav")
            assert self._pipe is not None
            self._pipe.push(head)

    # -- FFmpeg ------------------------------------------------------------------------
    def _start_ffmpeg(self, container: str) -> None:
        self._pipe = _Pipe()
        self._thread = threading.Thread(target=self._decode, args=(container,), name="pcm-decode", daemon=True)
        self._thread.start()

    def _decode(self, container: str) -> None:
        import av

        assert self._pipe is not None
        try:
            options = {"probesize": "32", "analyzeduration": "0"}
            with av.open(self._pipe, mode="r", format=container, options=options) as source:
                resampler = av.AudioResampler(format="s16", layout="mono", rate=self.rate)
                for frame in source.decode(audio=0):
                    for out in resampler.resample(frame):
                        self._emit(bytes(out.planes[0])[: out.samples * 2])
                for out in resampler.resample(None):
                    self._emit(bytes(out.planes[0])[: out.samples * 2])
        except Exception:
            log.warning("streaming decode of %s failed", self.fmt, exc_info=True)
        finally:
            self._emit(b"")


class SessionAudioDecoder:
    """A realtime session's output deltas (PCM16 at 24 kHz, or G.711 at 8 kHz) as PCM16 at
    ``rate``, with the same ``feed`` / ``end`` contract as ``PcmStreamDecoder``. G.711 is
    expanded per chunk and resampled by one soxr stream, so chunk edges leave no seams."""

    def __init__(self, fmt: str, rate: int, on_pcm: Callable[[bytes], None]) -> None:
        import numpy as np
        import soxr

        from playground.core.audio import session_audio_to_pcm16

        self.fmt, self.rate = fmt, rate
        self._np, self._expand = np, session_audio_to_pcm16
        self._emit = on_pcm
        self._odd = b""
        native = 24000 if fmt == "audio/pcm" else 8000
        self._resample = soxr.ResampleStream(native, rate, 1, dtype="int16") if native != rate else None

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self.fmt == "audio/pcm":
            data = self._odd + data
            cut = len(data) - len(data) % 2
            data, self._odd = data[:cut], data[cut:]
        pcm, _ = self._expand(data, self.fmt)
        self._out(pcm, last=False)

    def end(self) -> None:
        if self._resample is not None:
            self._out(b"", last=True)
        self._emit(b"")

    def _out(self, pcm: bytes, *, last: bool) -> None:
        if self._resample is not None:
            samples = self._np.frombuffer(pcm, dtype="<i2")
            pcm = self._resample.resample_chunk(samples, last=last).astype("<i2").tobytes()
        if pcm:
            self._emit(pcm)


def _wav_layout(head: bytes) -> tuple[tuple[int, int, int], int] | None:
    """((channels, rate, bits), offset of the samples) once the header is complete, else None."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        kind, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if kind == b"fmt " and pos + 8 + 16 <= len(head):
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", head[pos + 8 : pos + 24])
            fmt = (channels, rate, bits)
        elif kind == b"data":
            return (fmt, pos + 8) if fmt is not None else None
        pos += 8 + size + (size & 1)
    return None
