"""What answers an OpenAI model name locally: the embedded backend's stand-ins, in words.

Pure functions over the catalog's ``local`` section, shared by the backend's ``/v1/models``
(its ``local_engine`` field) and the UI's "Offline: … is answered by …" notes, so both
say the same thing. Nothing here imports the backend or loads a model.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.catalog import LocalWhisper, get_catalog

__all__ = [
    "LOCAL_LLM",
    "LOCAL_LLM_SHORT",
    "SPEECH_ENGINE",
    "ChatTarget",
    "same_text_models",
    "transcription_engine",
    "voice_engine",
    "voices_by_engine",
    "whisper_label",
]

#: the bundled chat model (``/v1/models`` spells it in full)
LOCAL_LLM = "SmolLM2-135M-Instruct"
LOCAL_LLM_SHORT = "SmolLM2-135M"
#: what speaks every speech model's voices
SPEECH_ENGINE = "hibari / Piper / Pico voices"
_ENGINE_NAMES = {"hibari": "hibari", "piper": "Piper", "pico": "Pico", "kokoro": "Kokoro"}


@dataclass(frozen=True)
class ChatTarget:
    """What answers chat in the embedded backend: the bundled LLM, or a configured server.
    Holds no key: it is shown on pages."""

    base_url: str | None = None
    model: str | None = None

    @property
    def local(self) -> bool:
        return not self.base_url

    @property
    def name(self) -> str:
        return LOCAL_LLM_SHORT if self.local else f"{self.model} at {self.base_url}"


def whisper_label(size: str, english: str | None = None) -> str:
    """``Whisper base`` or ``Whisper base (tiny.en for English)``."""
    return f"Whisper {size}" + (f" ({english} for English)" if english else "")


def _whisper_entry(model: str) -> LocalWhisper | None:
    cat = get_catalog()
    canonical = cat.transcription_model(model)
    return cat.local.transcription.get(canonical.id if canonical else model)


def transcription_engine(model: str) -> str | None:
    """The local Whisper that answers a transcription model name; None for an unknown name."""
    entry = _whisper_entry(model)
    return whisper_label(entry.model, entry.english) if entry else None


def same_text_models(model: str, models: list[str] | None = None) -> list[str]:
    """The other file transcription models answered by the same local Whisper (same text here)."""
    mine = _whisper_entry(model)
    if mine is None:
        return []
    cat = get_catalog()
    names = list(cat.file_transcription_models) if models is None else models
    return [m for m in names if m != model and (e := _whisper_entry(m)) is not None and e == mine]


def voice_engine(voice: str) -> str | None:
    """``Piper (joe)``: the local engine and speaker behind an API voice name; None if unknown."""
    v = get_catalog().local.voices.get(voice)
    if v is None:
        return None
    return f"{_ENGINE_NAMES.get(v.engine, v.engine)} ({v.speaker})"


def voices_by_engine() -> dict[str, list[str]]:
    """Engine name -> the API voices it speaks, in catalog order."""
    out: dict[str, list[str]] = {}
    for name, v in get_catalog().local.voices.items():
        out.setdefault(_ENGINE_NAMES.get(v.engine, v.engine), []).append(name)
    return out
