"""Audio plumbing on libraries: soxr resampling, FFmpeg decoding and time-stretching, measured."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from playground.backend.dsp import time_stretch
from playground.core.audio import AudioDecodeError, AudioTooLongError, decode_mono, resample


def _spectrum(y: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    window = np.hanning(len(y))
    return np.fft.rfftfreq(len(y), 1 / rate), np.abs(np.fft.rfft(y * window))


def _sweep(rate: int, f0: float, f1: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t**2))).astype(np.float32)


def test_upsampling_leaves_no_image_above_the_source_band():
    """Piper's 22.05 kHz to the API's 24 kHz: nothing above the source's Nyquist (11.025 kHz)."""
    y = resample(_sweep(22_050, 50, 10_000), 22_050, 24_000)
    freqs, mag = _spectrum(y, 24_000)
    images = 20 * np.log10(mag[freqs > 11_100].max() / mag.max())
    assert images < -100, f"images at {images:.1f} dB"
    assert len(y) == round(2.0 * 24_000)


def test_downsampling_rejects_aliases():
    """48 kHz to 16 kHz: a 12 kHz tone must not fold down to 4 kHz."""
    t = np.arange(96_000) / 48_000
    x = (0.45 * np.sin(2 * np.pi * 12_000 * t) + 0.45 * np.sin(2 * np.pi * 1_000 * t)).astype(np.float32)
    freqs, mag = _spectrum(resample(x, 48_000, 16_000), 16_000)
    alias = mag[np.argmin(abs(freqs - 4_000))] / mag[np.argmin(abs(freqs - 1_000))]
    assert 20 * np.log10(alias) < -100


def test_resample_keeps_channels():
    stereo = np.stack([_sweep(48_000, 100, 2_000), _sweep(48_000, 200, 3_000)], axis=1)
    out = resample(stereo, 48_000, 16_000)
    assert out.shape == (32_000, 2) and out.dtype == np.float32


def _wav(samples: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_decode_mono_downmixes_and_resamples_in_one_pass():
    left = 0.5 * np.sin(2 * np.pi * 440 * np.arange(3 * 44_100) / 44_100)
    stereo = np.stack([left, left], axis=1).astype(np.float32)
    out = decode_mono(_wav(stereo, 44_100), 16_000)
    assert out.ndim == 1 and out.dtype == np.float32
    assert abs(len(out) / 16_000 - 3.0) < 0.01
    freqs, mag = _spectrum(out, 16_000)
    assert abs(freqs[np.argmax(mag)] - 440) < 2


def test_decode_mono_stops_at_the_duration_limit():
    long = np.zeros(10 * 16_000, np.float32)
    with pytest.raises(AudioTooLongError, match="limit of 5 seconds"):
        decode_mono(_wav(long, 16_000), 16_000, max_seconds=5)
    assert len(decode_mono(_wav(long, 16_000), 16_000, max_seconds=10.5)) == 160_000


@pytest.mark.parametrize("junk", [b"", b"not audio at all" * 10, b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_decode_mono_refuses_junk(junk):
    with pytest.raises(AudioDecodeError):
        decode_mono(junk, 16_000)


@pytest.mark.parametrize("factor", [0.3, 0.7, 1.6, 3.5])
def test_time_stretch_changes_duration_not_pitch(factor):
    rate = 24_000
    tone = (0.4 * np.sin(2 * np.pi * 300 * np.arange(rate) / rate)).astype(np.float32)
    out = time_stretch(tone, factor, rate)
    assert abs(len(out) / len(tone) - factor) < 0.03
    freqs, mag = _spectrum(out, rate)
    assert abs(freqs[np.argmax(mag)] - 300) < 5
