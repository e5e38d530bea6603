"""Real-model tests for the TTS engines: hibari, Piper, Pico, and the opt-in Kokoro (no mocks).

Pitch and timbre are measured with Praat (parselmouth), not taken on trust: a shape
that says "+3 semitones" must move the measured median pitch by about that much.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bench.voiceprint import measure
from playground.backend.assets import AssetMissingError
from playground.backend.engines.base import TTSEngine, VoiceShape
from playground.backend.engines.manager import EngineManager, tts_class
from playground.backend.settings import BackendSettings

pytestmark = pytest.mark.models

TWO_SENTENCES = "The weather is lovely today. Let's take a walk by the river."
RMS_MIN = 0.01
ENGINES = ["hibari", "piper", "pico"]
DEFAULT_SPEAKER = {"hibari": "heart", "piper": "joe", "pico": "en-US"}


@pytest.fixture(scope="module")
def engines() -> dict[str, TTSEngine]:
    from playground.backend.engines.hibari_tts import HibariTTS
    from playground.backend.engines.pico_tts import PicoTTS
    from playground.backend.engines.piper_tts import PiperTTS

    # fixed noise: output lengths are reproducible, so runs can be compared
    return {"hibari": HibariTTS(seed=0), "piper": PiperTTS(noise_w_scale=0.0), "pico": PicoTTS()}


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
def test_two_sentences(engines: dict[str, TTSEngine], name: str) -> None:
    engine = engines[name]
    assert DEFAULT_SPEAKER[name] in engine.speakers()
    assert type(engine) is tts_class(name)
    audio = engine.synthesize(TWO_SENTENCES, speaker=DEFAULT_SPEAKER[name])
    seconds = _check_audio(audio, engine.sample_rate)
    assert seconds > 2.0, "two sentences should take more than two seconds"


@pytest.mark.parametrize("name", ENGINES)
def test_length_scale_changes_pace(engines: dict[str, TTSEngine], name: str) -> None:
    engine = engines[name]
    text = "Please read this sentence at a different pace."
    slow = engine.synthesize(text, speaker=DEFAULT_SPEAKER[name], length_scale=1.9)
    fast = engine.synthesize(text, speaker=DEFAULT_SPEAKER[name], length_scale=0.55)
    _check_audio(slow, engine.sample_rate)
    _check_audio(fast, engine.sample_rate, lo=0.3)
    assert len(slow) > 2.0 * len(fast)


@pytest.mark.parametrize("name", ENGINES)
def test_rejects_unknown_speaker_and_bad_scale(engines: dict[str, TTSEngine], name: str) -> None:
    engine = engines[name]
    with pytest.raises(ValueError, match="speaker"):
        engine.synthesize("Hello.", speaker="nobody")
    with pytest.raises(ValueError, match="length_scale"):
        engine.synthesize("Hello.", speaker=DEFAULT_SPEAKER[name], length_scale=0.0)


@pytest.mark.parametrize("name", ENGINES)
def test_nothing_to_say_is_empty(engines: dict[str, TTSEngine], name: str) -> None:
    audio = engines[name].synthesize("   ", speaker=DEFAULT_SPEAKER[name])
    assert audio.dtype == np.float32 and audio.size == 0


@pytest.mark.parametrize("name", ENGINES)
def test_concurrent_matches_sequential(engines: dict[str, TTSEngine], name: str) -> None:
    engine = engines[name]
    texts = [
        "One small step.",
        "The cat sat quietly on the warm windowsill.",
        "Numbers like forty two are spoken too.",
        "Good evening, and welcome to the show.",
    ]
    speaker = DEFAULT_SPEAKER[name]
    if name == "pico":
        # Pico's output varies with its call history: up to ~15% in total length (the pause it
        # ends on) and ~5% in the voiced stretch, measured over random histories. Concurrent
        # calls must still each give that sentence's speech (nothing mixed, cut or empty).
        sequential = [_voiced(engine.synthesize(t, speaker=speaker)) for t in texts]
        with ThreadPoolExecutor(max_workers=4) as pool:
            concurrent = list(pool.map(lambda t: _voiced(engine.synthesize(t, speaker=speaker)), texts))
        assert all(abs(c - s) / s < 0.10 for c, s in zip(concurrent, sequential, strict=True)), (concurrent, sequential)
        return
    sequential = [len(engine.synthesize(t, speaker=speaker)) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda t: len(engine.synthesize(t, speaker=speaker)), texts))
    assert concurrent == sequential


def _voiced(audio: np.ndarray) -> int:
    """Samples from the first to the last above -40 dBFS: the speech without its edges."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return int(loud[-1] - loud[0]) if loud.size else 0


@pytest.mark.parametrize("name", ["hibari", "pico"])
def test_native_pitch_moves_the_measured_median(engines: dict[str, TTSEngine], name: str) -> None:
    engine = engines[name]
    assert "pitch" in engine.shapes
    plain = engine.synthesize(TWO_SENTENCES, speaker=DEFAULT_SPEAKER[name])
    higher = engine.synthesize(TWO_SENTENCES, speaker=DEFAULT_SPEAKER[name], shape=VoiceShape(pitch=4.0))
    gap = measure("up", higher, engine.sample_rate).median_st - measure("plain", plain, engine.sample_rate).median_st
    assert 3.0 <= gap <= 5.0, f"asked for +4 semitones, measured {gap:+.2f}"
    # formant-preserving: the duration does not change with pitch
    assert abs(len(higher) - len(plain)) / len(plain) < 0.02


def test_hibari_shapes_timbre_and_intonation(engines: dict[str, TTSEngine]) -> None:
    engine = engines["hibari"]
    plain = measure("plain", engine.synthesize(TWO_SENTENCES, speaker="heart"), engine.sample_rate)
    larger = measure(
        "larger", engine.synthesize(TWO_SENTENCES, speaker="heart", shape=VoiceShape(formant=-3.0)), engine.sample_rate
    )
    livelier = measure(
        "livelier",
        engine.synthesize(TWO_SENTENCES, speaker="heart", shape=VoiceShape(intonation=1.6)),
        engine.sample_rate,
    )
    assert plain.timbre_gap(larger) > 20, "a formant shift must change the timbre measure"
    assert plain.pitch_gap(larger) < 1.0, "a formant shift must leave the pitch alone"
    assert livelier.movement_st > plain.movement_st * 1.3


def test_hibari_never_downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the voice inside the wheel is used: no cache, no network path is taken."""
    import hibari.voices

    monkeypatch.setenv("HIBARI_HOME", str(tmp_path))
    monkeypatch.setattr(hibari.voices, "download", lambda *a, **k: pytest.fail("hibari tried to download"))
    from playground.backend.engines.hibari_tts import HibariTTS, find_model

    assert find_model().is_file() and find_model().stat().st_size > 7_000_000
    _check_audio(HibariTTS().synthesize("A local voice.", speaker="heart"), 24_000)
    assert list(tmp_path.iterdir()) == []


def test_engine_declares_what_it_renders() -> None:
    assert tts_class("hibari").shapes == {"pitch", "formant", "intonation", "breath"}
    assert tts_class("pico").shapes == {"pitch"}
    assert tts_class("piper").shapes == frozenset()
    with pytest.raises(KeyError, match="known: hibari"):
        tts_class("festival")


def test_kokoro_is_opt_in() -> None:
    manager = EngineManager(BackendSettings(kokoro_voices=None))
    with pytest.raises(AssetMissingError, match="PLAYGROUND_KOKORO_VOICES"):
        manager.tts("kokoro")


def test_kokoro_runs_with_a_voices_file(tmp_path: Path) -> None:
    """The opt-in path, exercised with the only Kokoro styles on PyPI (Japanese speakers)."""
    from playground.backend.engines.kokoro_tts import find_voices

    manager = EngineManager(BackendSettings(kokoro_voices=find_voices()))
    engine = manager.tts("kokoro")
    _check_audio(engine.synthesize("Hello from an opt-in engine.", speaker="jf_alpha"), engine.sample_rate)


def test_kokoro_blend_between_voices() -> None:
    from playground.backend.engines.kokoro_tts import KokoroTTS, find_voices

    kokoro = KokoroTTS(voices_path=find_voices())
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
