"""hibari: a natural US English voice ("heart", distilled from Kokoro's af_heart) in 7.9 MB.

The model ships inside the ``hibari-tts`` wheel and is loaded by path; hibari's other
voices are downloads, so this engine never names them. hibari's network predicts, per
12.5 ms frame, a spectral envelope, noise and phase terms and an F0 curve; its own DSP
turns them into a waveform. Because F0 and the envelope are separate, this engine
shapes voices where it is cleanest, before the waveform exists:

* ``pitch`` scales F0 while the envelope stays: formant-preserving pitch;
* ``formant`` warps every spectral term along frequency: a larger or smaller vocal tract;
* ``intonation`` widens or flattens F0 movement around each sentence's median;
* ``breath`` raises the noise component.

One sentence costs about 10 ms on one core, so first audio is dominated by the request.
"""

from __future__ import annotations

import functools
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..assets import AssetMissingError
from .base import TTSEngine, VoiceShape

if TYPE_CHECKING:
    from hibari import Hibari

__all__ = ["HIBARI_RUNTIME", "SPEAKER", "HibariTTS", "find_model"]

#: pip requirement; the engine relies on this release's model outputs, so it is pinned
HIBARI_RUNTIME = "hibari-tts==0.2.1"
#: the one voice inside the wheel
SPEAKER = "heart"
#: hibari's duration predictor accepts speeds in this range
SPEED_RANGE = (0.5, 2.0)
#: frames below this F0 (Hz) are unvoiced in hibari's pulse generator
_VOICED_HZ = 40.0
_DB_TO_LOG = math.log(10) / 20


def find_model() -> Path:
    """The bundled "heart" model, found without any download path being reachable."""
    try:
        from hibari.voices import voice_path
    except ImportError as e:
        raise AssetMissingError(f"TTS runtime not installed (pip install {HIBARI_RUNTIME})") from e
    path = Path(voice_path(SPEAKER, download_missing=False))
    if not path.is_file():
        raise AssetMissingError(f"hibari model missing at {path}; reinstall: pip install --force-reinstall hibari-tts")
    return path


@functools.lru_cache(maxsize=32)
def _warp_table(bins: int, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices and weights that read bin ``k`` of the output from frequency ``k / ratio``."""
    src = np.minimum(np.arange(bins, dtype=np.float32) / ratio, bins - 1)
    lo = np.minimum(np.floor(src).astype(np.int64), bins - 2)
    return lo, (src - lo).astype(np.float32)[:, None]


def warp(spectrum: np.ndarray, ratio: float) -> np.ndarray:
    """Scale a (bins, frames) spectral term along frequency by ``ratio`` (>1 moves formants up)."""
    if abs(ratio - 1.0) < 1e-4:
        return spectrum
    lo, w = _warp_table(spectrum.shape[0], round(ratio, 5))
    return spectrum[lo] * (1 - w) + spectrum[lo + 1] * w


def shape_f0(f0: np.ndarray, *, pitch: float, intonation: float) -> np.ndarray:
    """Scale F0 by ``pitch`` semitones and its movement around the median by ``intonation``."""
    out = np.array(f0, dtype=np.float32, copy=True)
    voiced = out > _VOICED_HZ
    if not voiced.any():
        return out
    log_f0 = np.log(out[voiced])
    centre = float(np.median(log_f0))
    out[voiced] = np.exp(centre + intonation * (log_f0 - centre) + pitch * math.log(2) / 12)
    # never let a shifted frame fall into the unvoiced range (it would turn to noise)
    out[voiced] = np.maximum(out[voiced], _VOICED_HZ + 1)
    return out


class HibariTTS(TTSEngine):
    """The "heart" voice with pitch, formant, intonation and breath shaping.

    Thread-safe: the onnxruntime session runs concurrently and G2P calls are serialised
    (a few milliseconds each). The model and G2P load on the first call (about 0.5 s).
    """

    sample_rate = 24_000
    length_scale_range = (1 / SPEED_RANGE[1], 1 / SPEED_RANGE[0])
    shapes = frozenset({"pitch", "formant", "intonation", "breath"})

    def __init__(self, *, threads: int = 1, seed: int | None = None) -> None:
        """``threads``: onnxruntime threads (one is plenty: ~100x real time); ``seed`` fixes
        the noise component so repeated calls are identical (None: fresh noise each call)."""
        self._threads = threads
        self._seed = seed
        self._tts: Hibari | None = None
        self._load_lock = threading.Lock()
        self._g2p_lock = threading.Lock()

    def speakers(self) -> list[str]:
        return [SPEAKER]

    def _load(self) -> Hibari:
        if self._tts is None:
            with self._load_lock:
                if self._tts is None:
                    try:
                        from hibari import Hibari
                    except ImportError as e:
                        raise AssetMissingError(f"TTS runtime not installed (pip install {HIBARI_RUNTIME})") from e
                    self._tts = Hibari(voice=SPEAKER, model=str(find_model()), threads=self._threads)
        return self._tts

    def synthesize(
        self, text: str, *, speaker: str, length_scale: float = 1.0, shape: VoiceShape | None = None
    ) -> np.ndarray:
        if speaker != SPEAKER:
            raise ValueError(f"unknown hibari speaker {speaker!r}; this engine has only {SPEAKER!r}")
        if not math.isfinite(length_scale) or length_scale <= 0:
            raise ValueError(f"length_scale must be a positive number, got {length_scale!r}")
        tts = self._load()
        lo, hi = SPEED_RANGE
        speed = min(max(1.0 / length_scale, lo), hi)
        with self._g2p_lock:
            phonemes = tts.phonemize(text)
        rng = np.random.default_rng(self._seed)
        parts = [self._render(tts, tts.ids(p), speed, shape or VoiceShape(), rng) for p in phonemes]
        parts = [p for p in parts if len(p)]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.clip(np.concatenate(parts), -1.0, 1.0).astype(np.float32, copy=False)

    @staticmethod
    def _render(tts: Any, ids: list[int], speed: float, shape: VoiceShape, rng: np.random.Generator) -> np.ndarray:
        from hibari import dsp

        if len(ids) < 3:  # only the padding: nothing to say
            return np.zeros(0, dtype=np.float32)
        feed = {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
        lh, th, ln, lr, phi, f0 = (o[0] for o in tts.sess.run(None, feed))
        if shape.pitch or shape.intonation != 1.0:
            f0 = shape_f0(f0, pitch=shape.pitch, intonation=shape.intonation)
        if shape.formant:
            ratio = 2 ** (shape.formant / 12)
            lh, th, ln, lr, phi = (warp(term, ratio) for term in (lh, th, ln, lr, phi))
        if shape.breath:
            ln = ln + np.float32(shape.breath * _DB_TO_LOG)
        return dsp.synth(lh, th, ln, lr, phi, f0, rng)
