"""Backend configuration, read once from the environment (``PLAYGROUND_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BackendSettings"]


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYGROUND_", extra="ignore")

    #: when set, every /v1 request must carry ``Authorization: Bearer <this>``
    api_key: str | None = Field(default=None, repr=False)
    #: send chat to this OpenAI-compatible server (Ollama, vLLM) instead of the bundled LLM
    llm_base_url: str | None = None
    llm_model: str = "smollm2"
    llm_api_key: str | None = Field(default=None, repr=False)
    #: CPU threads of one Whisper window or one ONNX voice's chunk; default the cores
    #: divided among the ``cpu_slots``
    threads: int | None = Field(default=None, ge=1)
    #: CPU threads of the bundled LLM. One, by measurement (docs/performance.md): SmolLM2 is
    #: memory-bound, and llama.cpp's threads spin-wait for each other, so with another busy
    #: process on a 2-core machine 2 threads gave 15–37 tokens/s where 1 thread gave 45–117
    llm_threads: int = Field(default=1, ge=1)
    #: seconds a reply may wait for a reader that took nothing before it is cancelled;
    #: default the catalog's ``llm_stall_seconds``
    llm_stall_s: float | None = Field(default=None, gt=0)
    #: TTS chunks and Whisper windows computed at once (``scheduling.CpuSlots``); the rest
    #: wait in priority and deadline order, and Whisper windows hold all slots but one.
    #: Default: one per two cores, each step on two threads. A shared 2-core server under
    #: mixed load does far better with 2 (docs/performance.md, "Mixed load"), but then one
    #: person's live turn and Piper sentence run on one thread, about 1.7x slower (engine
    #: threads are fixed when they load; files are not affected: ``background_files``), so
    #: the default favours the single user of a small laptop
    cpu_slots: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 1) // 2), ge=1)
    #: transcribe uploaded files on a second copy of the Whisper model whose threads (all
    #: the cores) the kernel ranks below the rest (Linux), instead of in the CPU slots: a
    #: file then never holds a core that a sentence of speech or a live turn wants
    background_files: bool = True

    @property
    def step_threads(self) -> int:
        """Threads of one scheduled step: ``threads``, or the cores shared by the slots."""
        return self.threads or max(1, (os.cpu_count() or 1) // self.cpu_slots)

    #: opt-in Kokoro engine: a Kokoro v1.0 voices file (.npz / voices-v1.0.bin) with English styles
    kokoro_voices: Path | None = None
    #: realtime session lifetime in seconds; default the catalog's (60 minutes, as OpenAI's)
    realtime_session_seconds: float | None = None
    #: load the TTS engines in the background at start, so the first Play is as fast as the next
    warm_start: bool = True
