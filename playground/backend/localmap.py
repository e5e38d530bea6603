"""API names to local models, from the catalog's ``local`` section.

Voices map to an engine, a speaker and optional pitch/pace so each of the 13 names
sounds distinct; transcription models map to a local Whisper size; chat model names
all reach the one local LLM (or the configured remote one).
"""

from __future__ import annotations

import functools

from playground.backend.synthesis import LocalVoice
from playground.core.catalog import get_catalog

__all__ = ["chat_models", "local_voice", "local_voices", "stt_model_for"]


@functools.cache
def local_voices() -> dict[str, LocalVoice]:
    table = get_catalog().raw["local"]["voices"]
    return {
        name: LocalVoice(
            name=name,
            engine=str(v["engine"]),
            speaker=str(v["speaker"]),
            pitch=float(v.get("pitch", 0.0)),
            pace=float(v.get("pace", 1.0)),
        )
        for name, v in table.items()
    }


def local_voice(name: str) -> LocalVoice:
    return local_voices()[name]


def stt_model_for(model: str, language: str | None, *, translate: bool = False) -> str:
    """Local Whisper size for an API model; English-only models only for known-English audio."""
    cat = get_catalog()
    canonical = cat.transcription_model(model)
    entry = cat.raw["local"]["transcription"][canonical.id if canonical else model]
    fast = entry.get("english")
    if fast and language == "en" and not translate:
        return str(fast)
    return str(entry["model"])


def chat_models() -> list[str]:
    return list(get_catalog().raw["local"]["chat_models"])
