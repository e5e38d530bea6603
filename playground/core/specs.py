"""One request spec per API call.

The UI builds a spec from widgets, the runner executes it, the snippet renderer prints
it and history stores it, so the exported code matches the run by construction. Each
spec checks itself against the catalog (``problems()`` lists every issue; ``validate()``
raises ``SpecError``) and converts to the SDK's keyword arguments (``to_kwargs()``),
which are also exactly the fields sent on the wire.

This module is where callers import them from: each API family's spec lives in its own
module (``spec_speech``, ``spec_transcription``, ``spec_realtime``, ``spec_translation``,
``spec_chat_audio``,
with what they share in ``spec_base``); ``Spec`` and ``spec_from_dict`` span them all.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from playground.core.errors import Problem, SpecError
from playground.core.spec_base import (
    DELAYS,
    EFFORTS,
    KEYWORD_MAX_CHARS,
    KEYWORDS_MAX,
    KNOWN_SPEAKERS_MAX,
    TRUNCATIONS,
    split_list,
)
from playground.core.spec_chat_audio import ChatAudioSpec, chat_output_problems
from playground.core.spec_realtime import RealtimeSessionSpec, RealtimeTranscriptionSpec
from playground.core.spec_speech import RealtimeSpeechSpec, SpeechSpec, read_aloud_instructions
from playground.core.spec_transcription import TranscriptionSpec
from playground.core.spec_translation import RealtimeTranslationSpec

__all__ = [
    "DELAYS",
    "EFFORTS",
    "KEYWORDS_MAX",
    "KEYWORD_MAX_CHARS",
    "KNOWN_SPEAKERS_MAX",
    "TRUNCATIONS",
    "ChatAudioSpec",
    "RealtimeSessionSpec",
    "RealtimeSpeechSpec",
    "RealtimeTranscriptionSpec",
    "RealtimeTranslationSpec",
    "Spec",
    "SpeechSpec",
    "TranscriptionSpec",
    "chat_output_problems",
    "read_aloud_instructions",
    "spec_from_dict",
    "split_list",
]

Spec = (
    SpeechSpec
    | TranscriptionSpec
    | RealtimeSessionSpec
    | ChatAudioSpec
    | RealtimeTranscriptionSpec
    | RealtimeSpeechSpec
    | RealtimeTranslationSpec
)

_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (
        SpeechSpec,
        TranscriptionSpec,
        RealtimeSessionSpec,
        ChatAudioSpec,
        RealtimeTranscriptionSpec,
        RealtimeSpeechSpec,
        RealtimeTranslationSpec,
    )
}


def spec_from_dict(data: dict[str, Any]) -> Spec:
    """Rebuild a spec saved with ``to_dict()`` (history, presets); unknown keys are an error."""
    data = dict(data)
    kind = data.pop("kind", None)
    cls = _KINDS.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise SpecError([Problem("kind", kind, f"must be one of: {', '.join(_KINDS)}")])
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise SpecError([Problem(k, data[k], f"unknown field for {kind}") for k in unknown])
    lists = ("timestamp_granularities", "output_modalities", "modalities", "tools", "history")
    lists += ("keywords", "languages", "known_speaker_names", "known_speaker_references")
    lists += ("transcription_keywords", "transcription_languages")
    for key in lists:
        if key in data and isinstance(data[key], list):
            data[key] = tuple(data[key])
    return cls(**data)
