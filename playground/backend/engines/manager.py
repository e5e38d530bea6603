"""Owns engine lifetimes: one instance per model, created on first use, shared after.

Routes ask the manager (``request.app.state.engines``) and never construct engines, so
a better model drops in here without touching them. Creation is guarded by a lock so
two first requests do not load the same model twice.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from playground.backend.assets import AssetMissingError
from playground.backend.engines import shutdown as _shutdown  # noqa: F401 -- registers the exit wait
from playground.backend.engines.base import LLMEngine, STTEngine, TTSEngine, VADEngine
from playground.backend.scheduling import CpuSlots, can_run_in_background
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog

__all__ = ["TTS_ENGINES", "EngineManager", "stt_models", "tts_class"]

log = logging.getLogger(__name__)

#: engine name -> "module:Class"; modules import their runtimes only when a model loads
TTS_ENGINES: dict[str, str] = {
    "hibari": "playground.backend.engines.hibari_tts:HibariTTS",
    "piper": "playground.backend.engines.piper_tts:PiperTTS",
    "pico": "playground.backend.engines.pico_tts:PicoTTS",
    "kokoro": "playground.backend.engines.kokoro_tts:KokoroTTS",
}


def stt_models() -> tuple[str, ...]:
    """The local Whisper sizes (the names ``local.transcription`` in the catalog maps to)."""
    from playground.backend.engines.whisper_stt import MODELS

    return tuple(MODELS)


def tts_class(engine: str) -> type[TTSEngine]:
    """The engine's class, for its capabilities (``shapes``, rates) without loading a model."""
    if engine not in TTS_ENGINES:
        raise KeyError(f"unknown TTS engine {engine!r}; known: {', '.join(TTS_ENGINES)}")
    module, _, name = TTS_ENGINES[engine].partition(":")
    return getattr(importlib.import_module(module), name)


def _build_tts(engine: str, settings: BackendSettings) -> TTSEngine:
    cls = tts_class(engine)
    if engine == "kokoro":
        if settings.kokoro_voices is None:
            raise AssetMissingError(
                "Kokoro is an opt-in engine: pip install 'audio-playground[kokoro]' and set "
                "PLAYGROUND_KOKORO_VOICES to a Kokoro v1.0 voices file with English styles"
            )
        return cls(voices_path=settings.kokoro_voices, threads=settings.step_threads)  # type: ignore[call-arg]
    if engine == "piper":
        return cls(threads=settings.step_threads)  # type: ignore[call-arg]
    return cls()


def _warm_codecs() -> None:
    """Open each encoder once: the first MP3 encoder alone costs ~50 ms (library setup)."""
    import numpy as np

    from playground.core.encode import encode_all

    silence = np.zeros(get_catalog().pcm_sample_rate // 10, np.float32)
    for fmt in get_catalog().speech_formats:
        try:
            encode_all(silence, fmt, get_catalog().pcm_sample_rate)
        except Exception:
            log.warning("could not warm the %s encoder", fmt, exc_info=True)


def _warm_stt(engine: STTEngine) -> None:
    """One short transcription: loads the weights and the decoder's first-call setup."""
    from playground.backend.engines.base import STTOptions

    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(engine.sample_rate) * 0.01).astype(np.float32)
    list(engine.transcribe(noise, STTOptions(language="en")).segments)


class EngineManager:
    def __init__(self, settings: BackendSettings):
        self.settings = settings
        self._engines: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: the bundled LLM, kept while chat goes to a server (``switch_llm``)
        self._local_llm: LLMEngine | None = None
        #: the slots every TTS chunk and Whisper window takes, most urgent first
        self.cpu = CpuSlots(settings.cpu_slots)

    def _get(self, key: str, build: Callable[[], Any]) -> Any:
        engine = self._engines.get(key)
        if engine is None:
            with self._lock:
                engine = self._engines.get(key)
                if engine is None:
                    log.info("creating engine %s", key)
                    engine = build()
                    self._engines[key] = engine
        return engine

    def tts(self, engine: str) -> TTSEngine:
        if engine not in TTS_ENGINES:
            raise KeyError(f"unknown TTS engine {engine!r}; known: {', '.join(TTS_ENGINES)}")
        return self._get(f"tts:{engine}", lambda: _build_tts(engine, self.settings))

    def stt(self, model: str, *, background: bool = False) -> STTEngine:
        """The model for a live turn (its windows take CPU slots), or with ``background``
        for a file nobody hears as it is transcribed: a second copy of the model whose
        threads, every core's worth, the kernel ranks below everything else, so it fills
        idle CPU and never holds a core a sentence of speech wants (see ``scheduling``).
        Where threads cannot be ranked alone (not Linux), both are the same."""
        if model not in stt_models():
            raise KeyError(f"unknown local STT model {model!r}; known: {', '.join(stt_models())}")
        background = background and self.settings.background_files and can_run_in_background()

        def build() -> STTEngine:
            from playground.backend.engines.whisper_stt import WhisperSTT

            if background:
                return WhisperSTT(model=model, cpu_threads=os.cpu_count() or 1, background=True)
            return WhisperSTT(model=model, cpu_threads=self.settings.step_threads, cpu=self.cpu)

        return self._get(f"stt:{model}" + (":background" if background else ""), build)

    def llm(self) -> LLMEngine:
        def build() -> LLMEngine:
            s = self.settings
            if s.llm_base_url:
                from playground.backend.engines.remote_llm import RemoteLLM

                return RemoteLLM(base_url=s.llm_base_url, model=s.llm_model, api_key=s.llm_api_key)
            from playground.backend.engines.llama_llm import LlamaLLM

            lim = get_catalog().limits
            return LlamaLLM(
                n_threads=s.llm_threads,
                max_waiting=lim.llm_queue_max,
                n_seq_max=lim.llm_parallel,
                stall_s=s.llm_stall_s or lim.llm_stall_seconds,
                cpu=self.cpu,
                spare_threads=s.step_threads,
            )

        return self._get("llm", build)

    def chat_target(self) -> tuple[str | None, str | None]:
        """(base URL, model) of the chat server in use; (None, None) for the bundled LLM. No key."""
        s = self.settings
        return (s.llm_base_url, s.llm_model) if s.llm_base_url else (None, None)

    def switch_llm(self, base_url: str | None, model: str | None = None, api_key: str | None = None) -> None:
        """Point chat at an OpenAI-compatible server from now on; ``base_url=None``: back to the
        bundled LLM. Replies already streaming finish on the engine they started with; the
        bundled LLM stays loaded while away, so going back is instant."""
        s = self.settings
        with self._lock:
            old = self._engines.pop("llm", None)
            if old is not None and not s.llm_base_url:  # the engine in use was the bundled one
                self._local_llm = old
            s.llm_base_url = base_url or None
            s.llm_model = (base_url and model) or BackendSettings.model_fields["llm_model"].default
            s.llm_api_key = (base_url and api_key) or None
            if not base_url and self._local_llm is not None:
                self._engines["llm"] = self._local_llm
        log.info("chat LLM: %s", f"{s.llm_model} at {s.llm_base_url}" if s.llm_base_url else "bundled")

    def vad(self) -> VADEngine:
        def build() -> VADEngine:
            from playground.backend.engines.silero_vad import SileroVAD

            return SileroVAD()

        return self._get("vad", build)

    def loaded(self) -> list[str]:
        return sorted(self._engines)

    def warm(
        self, tts_engines: list[str], *, stt_model: str | None = None, file_model: str | None = None
    ) -> threading.Thread:
        """Load and exercise these TTS engines, in order, on a background thread; then
        the codecs, the models a realtime turn needs (VAD, ``stt_model``, the LLM), and the
        background copy of ``file_model`` (by default ``stt_model``), the one files use.

        Models load lazily; doing it right after start means the first Play (or the first
        spoken turn) is as fast as the next. Failures are logged, never raised: a request
        will report them.
        """

        def run() -> None:
            for name in tts_engines:
                try:
                    self.tts(name).warm()
                    log.info("warmed TTS engine %s", name)
                except Exception:
                    log.warning("could not warm TTS engine %s", name, exc_info=True)
            _warm_codecs()
            if stt_model is None:
                return
            files = file_model or stt_model
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("VAD", lambda: self.vad().stream().feed(np.zeros(512, np.float32))),
                (f"STT {stt_model}", lambda: _warm_stt(self.stt(stt_model))),
                ("LLM", lambda: getattr(self.llm(), "load", lambda: None)()),
                # last: a file can wait a second more than a live turn's reply
                (f"STT {files} for files", lambda: _warm_stt(self.stt(files, background=True))),
            ]
            for what, step in steps:
                try:
                    step()
                    log.info("warmed %s", what)
                except Exception:
                    log.warning("could not warm %s", what, exc_info=True)

        thread = threading.Thread(target=run, name="warm-engines", daemon=True)
        thread.start()
        return thread
