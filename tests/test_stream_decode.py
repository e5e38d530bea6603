"""Streaming decode for the page's player: every format in, PCM out, early."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from playground.core.audio import pcm16_to_float
from playground.core.encode import StreamEncoder, encode_all
from playground.core.stream_decode import PcmStreamDecoder

RATE = 24_000


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)


class _Sink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.ended = threading.Event()

    def __call__(self, data: bytes) -> None:
        if data:
            self.chunks.append(data)
        else:
            self.ended.set()

    @property
    def seconds(self) -> float:
        return sum(len(c) for c in self.chunks) / 2 / RATE


@pytest.mark.parametrize("fmt", ["mp3", "aac", "opus", "wav", "pcm"])
def test_first_sentence_plays_before_the_rest_arrives(fmt):
    """After the first encoded chunk, most of its audio is already PCM; the rest follows."""
    sink = _Sink()
    decoder = PcmStreamDecoder(fmt, RATE, sink)
    encoder = StreamEncoder(fmt, RATE)
    decoder.feed(encoder.encode(_tone(1.0)))
    # the worker thread decodes on its own time (later on a busy machine); nothing more is fed
    # until then, so a decoder that waited for the rest would never get there
    deadline = time.monotonic() + 30
    while sink.seconds < 0.6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.seconds >= 0.6, f"{fmt}: only {sink.seconds:.2f} s decoded before the rest arrived"
    decoder.feed(encoder.encode(_tone(1.0)) + encoder.finish())
    decoder.end()
    assert sink.ended.wait(5)
    assert 1.95 <= sink.seconds <= 2.1
    samples = pcm16_to_float(b"".join(sink.chunks))
    rms = float(np.sqrt(np.mean(samples[RATE // 4 : -RATE // 4] ** 2)))
    assert abs(rms - 0.3 / np.sqrt(2)) < 0.03  # the tone, not noise or silence


@pytest.mark.parametrize("fmt", ["flac", "wav"])
def test_whole_files_decode_too(fmt):
    sink = _Sink()
    decoder = PcmStreamDecoder(fmt, RATE, sink)
    data = encode_all(_tone(1.5), fmt, RATE)
    for i in range(0, len(data), 1000):
        decoder.feed(data[i : i + 1000])
    decoder.end()
    assert sink.ended.wait(5) and abs(sink.seconds - 1.5) < 0.02


def test_other_wav_layouts_are_converted():
    """A 48 kHz stereo WAV (another provider, say) still comes out as 24 kHz mono."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    stereo = np.stack([np.repeat(_tone(1.0), 2)] * 2, axis=1)
    sf.write(buf, stereo, 48_000, format="WAV", subtype="PCM_16")
    sink = _Sink()
    decoder = PcmStreamDecoder("wav", RATE, sink)
    decoder.feed(buf.getvalue())
    decoder.end()
    assert sink.ended.wait(5) and abs(sink.seconds - 1.0) < 0.02


def test_garbage_ends_the_stream_instead_of_hanging():
    sink = _Sink()
    decoder = PcmStreamDecoder("mp3", RATE, sink)
    decoder.feed(b"this is not an mp3 file at all" * 50)
    decoder.end()
    assert sink.ended.wait(5)
