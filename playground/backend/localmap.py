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
    table = get_catalog().local.voices
    out = {}
    for name, v in table.items():
        shape = VoiceShape(
            pitch=v.pitch,
            formant=v.formant,
            intonation=v.intonation,
            breath=v.breath,
        )
        engine = v.engine
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
        out[name] = LocalVoice(name=name, engine=engine, speaker=v.speaker, pace=v.pace, shape=shape)
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
    entry = cat.local.transcription[canonical.id if canonical else model]
    if entry.english and language == "en" and not translate:
        return entry.english
    return entry.model


def chat_models() -> list[str]:
    """Every chat name the local LLM answers: the catalog's chat and audio chat models, snapshots
    included, and the extra local names (``local.chat_models``)."""
    cat = get_catalog()
    names = list(cat.local.chat_models)
    for table in (cat.chat_models, cat.chat_audio_models):
        for entry in table.values():
            names.extend(n for n in entry.names() if n not in names)
    return names
