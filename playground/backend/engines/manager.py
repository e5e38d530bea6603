"""Owns engine lifetimes: one instance per model, created on first use, shared after.

Routes ask the manager (``request.app.state.engines``) and never construct engines, so
a better model drops in here without touching them. Creation is guarded by a lock so
two first requests do not load the same model twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from playground.backend.engines.base import LLMEngine, STTEngine, TTSEngine
from playground.backend.settings import BackendSettings

__all__ = ["EngineManager"]

log = logging.getLogger(__name__)


def _piper(settings: BackendSettings) -> TTSEngine:
    from playground.backend.engines.piper_tts import PiperTTS

    return PiperTTS(threads=settings.threads)


def _kokoro(settings: BackendSettings) -> TTSEngine:
    from playground.backend.engines.kokoro_tts import KokoroTTS

    return KokoroTTS(threads=settings.threads)


TTS_FACTORIES: dict[str, Callable[[BackendSettings], TTSEngine]] = {"piper": _piper, "kokoro": _kokoro}
STT_MODELS = ("base", "tiny.en")


class EngineManager:
    def __init__(self, settings: BackendSettings):
        self.settings = settings
        self._engines: dict[str, Any] = {}
        self._lock = threading.Lock()

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
        if engine not in TTS_FACTORIES:
            raise KeyError(f"unknown TTS engine {engine!r}; known: {', '.join(TTS_FACTORIES)}")
        return self._get(f"tts:{engine}", lambda: TTS_FACTORIES[engine](self.settings))

    def stt(self, model: str) -> STTEngine:
        if model not in STT_MODELS:
            raise KeyError(f"unknown local STT model {model!r}; known: {', '.join(STT_MODELS)}")

        def build() -> STTEngine:
            from playground.backend.engines.whisper_stt import WhisperSTT

            return WhisperSTT(model=model, cpu_threads=self.settings.threads)

        return self._get(f"stt:{model}", build)

    def llm(self) -> LLMEngine:
        def build() -> LLMEngine:
            s = self.settings
            if s.llm_base_url:
                from playground.backend.engines.remote_llm import RemoteLLM

                return RemoteLLM(base_url=s.llm_base_url, model=s.llm_model, api_key=s.llm_api_key)
            from playground.backend.engines.llama_llm import LlamaLLM

            return LlamaLLM(n_threads=s.threads)

        return self._get("llm", build)

    def loaded(self) -> list[str]:
        return sorted(self._engines)
