"""API names to local models, from the catalog's ``local`` section.

Voices map to an engine, a speaker and a shape (pitch, formant, intonation, breath,
pace) so each of the 13 names sounds distinct; transcription models map to a local
Whisper size; chat model names all reach the one local LLM (or the configured remote
one). A voice may only ask its engine for shape fields the engine renders, which is
checked when the table is first read.
"""

from __future__ import annotations

import functools

from playground.backend.engines.base import VoiceShape
from playground.backend.engines.manager import tts_class
from playground.backend.synthesis import LocalVoice
from playground.core.catalog import get_catalog
from playground.core.errors import CatalogError

__all__ = ["chat_models", "local_voice", "local_voices", "stt_model_for", "warm_order"]


@functools.cache
def local_voices() -> dict[str, LocalVoice]:
    """Every API voice name's local voice; raises ``CatalogError`` for a shape the engine cannot do."""
    table = get_catalog().raw["local"]["voices"]
    out = {}
    for name, v in table.items():
        shape = VoiceShape(
            pitch=float(v.get("pitch", 0.0)),
            formant=float(v.get("formant", 0.0)),
            intonation=float(v.get("intonation", 1.0)),
            breath=float(v.get("breath", 0.0)),
        )
        engine = str(v["engine"])
        try:
            renders = tts_class(engine).shapes
        except KeyError as e:
            raise CatalogError(f"catalog local.voices.{name}.engine: {e.args[0]}") from None
        # pitch is always possible (the synthesizer resamples); the rest only where rendered
        wanted = {f for f in ("formant", "intonation", "breath") if getattr(shape, f) != getattr(VoiceShape(), f)}
        if wanted - renders:
            raise CatalogError(
                f"catalog local.voices.{name}: engine {engine!r} cannot render {sorted(wanted - renders)}"
            )
        out[name] = LocalVoice(
            name=name, engine=engine, speaker=str(v["speaker"]), pace=float(v.get("pace", 1.0)), shape=shape
        )
    return out


def local_voice(name: str) -> LocalVoice:
    return local_voices()[name]


def warm_order() -> list[str]:
    """TTS engines to load at start: the default voice's first, then the rest the voices use."""
    voices = local_voices()
    first = voices[get_catalog().speech_defaults["voice"]].engine
    rest = sorted({v.engine for v in voices.values()} - {first})
    return [first, *rest]


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
