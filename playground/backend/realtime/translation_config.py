"""A translation session's configuration: its defaults, and ``session.update`` checked by typed models.

Only three things may change after creation, as OpenAI's translation endpoint allows:
``audio.output.language``, ``audio.input.transcription`` and ``audio.input.noise_reduction``;
anything else is an unknown parameter, named. The models mirror the SDK's
``RealtimeTranslationSessionUpdateRequestParam`` (checked when the classes are made). A
language must be one of the catalog's output languages; the embedded backend then says,
naming ``session.audio.output.language``, that it translates into English only.
"""

from __future__ import annotations

import copy
import time
from typing import Annotated, Any

from openai.types.realtime import realtime_translation_session_update_request_param as sdk
from pydantic import AfterValidator, ConfigDict, Field, StrictFloat

from playground.backend.realtime.config_audio import strength_value, transcription_model_name
from playground.backend.realtime.config_types import UNSET, Choice, Text, TypedModel, problem, rt, validate
from playground.backend.realtime.protocol import RealtimeError, new_id
from playground.core.catalog import get_catalog

__all__ = ["LOCAL_LANGUAGE", "default_translation_session", "local_refusal", "update_translation_session"]

#: the one language the local Whisper translates into
LOCAL_LANGUAGE = "en"


def _output_language(value: str) -> str:
    languages = get_catalog().translation.output_languages
    if value not in languages:
        raise problem(f"must be one of the output languages: {', '.join(languages)}; got {value!r}.")
    return value


class NoiseReduction(TypedModel):
    sdk = sdk.AudioInputNoiseReduction
    type: Choice(lambda: rt().noise_reduction) = Field(None, validate_default=True)
    strength: Annotated[StrictFloat, AfterValidator(strength_value)] | None = None


class Transcription(TypedModel):
    sdk = sdk.AudioInputTranscription
    model: Annotated[Any, AfterValidator(transcription_model_name)]


class AudioInput(TypedModel):
    sdk = sdk.AudioInput
    noise_reduction: NoiseReduction | None = UNSET
    transcription: Transcription | None = UNSET


class AudioOutput(TypedModel):
    sdk = sdk.AudioOutput
    language: Annotated[Text, AfterValidator(_output_language)] = UNSET


class Audio(TypedModel):
    sdk = sdk.Audio
    input: AudioInput = UNSET
    output: AudioOutput = UNSET


class TranslationUpdate(TypedModel):
    sdk = sdk.RealtimeTranslationSessionUpdateRequestParam
    model_config = ConfigDict(validate_default=False)
    audio: Audio = UNSET


def default_translation_session(model: str) -> dict[str, Any]:
    """A new local session as ``session.created`` shows it: into English, the one language it speaks."""
    return {
        "id": new_id("sess"),
        "type": "translation",
        "expires_at": int(time.time()) + get_catalog().limits.realtime_session_minutes * 60,
        "model": model,
        "audio": {
            "input": {"transcription": None, "noise_reduction": None},
            "output": {"language": LOCAL_LANGUAGE},
        },
    }


def update_translation_session(current: dict[str, Any], update: Any, root: str = "session") -> dict[str, Any]:
    """``current`` with ``update`` applied; raises the ``RealtimeError`` naming the first bad field."""
    sent = validate(TranslationUpdate, update, root)
    new = copy.deepcopy(current)
    if "audio" not in sent.model_fields_set:
        return new
    audio = sent.audio
    if "input" in audio.model_fields_set:
        a_in, now = audio.input, new["audio"]["input"]
        if "transcription" in a_in.model_fields_set:
            now["transcription"] = None if a_in.transcription is None else {"model": a_in.transcription.model}
        if "noise_reduction" in a_in.model_fields_set:
            nr = a_in.noise_reduction
            if nr is None:
                now["noise_reduction"] = None
            else:
                before = now["noise_reduction"] or {}
                strength = nr.strength if nr.strength is not None else before.get("strength") or 1.0
                now["noise_reduction"] = {"type": nr.type, "strength": float(strength)}
    if "output" in audio.model_fields_set and "language" in audio.output.model_fields_set:
        new["audio"]["output"]["language"] = audio.output.language
    return new


def local_refusal(config: dict[str, Any], root: str = "session") -> RealtimeError | None:
    """The embedded backend's refusal of a session it cannot serve: any output language but English."""
    language = config["audio"]["output"]["language"]
    if language == LOCAL_LANGUAGE:
        return None
    name = get_catalog().translation.output_languages.get(language, language)
    param = f"{root}.audio.output.language"
    return RealtimeError(
        f"Invalid '{param}': the local backend translates into English only ('en'); got {language!r} ({name}). "
        "Set it to 'en', or connect to OpenAI for the other output languages.",
        param=param,
        code="unsupported_language",
    )
