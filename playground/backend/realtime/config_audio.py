"""Typed models of a session's ``audio``: formats, transcription, noise reduction, turn
detection and the voice (see ``session_models`` for the requests that hold them).

Each mirrors the SDK's TypedDict of the same object; catalog-bound values (voices,
formats, transcription models and what each takes) are checked against the catalog.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from openai.types.realtime import audio_transcription_param as transcription_param
from openai.types.realtime import realtime_audio_config_input_param as input_param
from openai.types.realtime import realtime_audio_formats_param as formats_param
from openai.types.realtime import realtime_audio_input_turn_detection_param as vad_param
from openai.types.realtime import realtime_response_create_audio_output_param as response_audio_param
from openai.types.realtime.realtime_audio_config_output_param import RealtimeAudioConfigOutputParam
from openai.types.realtime.realtime_audio_config_param import RealtimeAudioConfigParam
from openai.types.realtime.realtime_transcription_session_audio_param import RealtimeTranscriptionSessionAudioParam
from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    Tag,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)

from playground.backend.errors import custom_voice_message
from playground.backend.models_gate import realtime_refusal
from playground.backend.realtime.config_types import (
    EFFORTS,
    PARAM,
    UNSET,
    VAD_KINDS,
    Choice,
    Flag,
    Integer,
    Number,
    Text,
    TypedModel,
    problem,
    refuse,
    rt,
    unsupported,
)
from playground.core.catalog import get_catalog

ISO_639_1 = re.compile(r"^[a-z]{2}$")
#: the most keywords one transcription takes (Whisper's prompt holds ~224 tokens)
KEYWORDS_MAX = 100
#: the strongest ``noise_reduction.strength`` taken (the denoiser's reduction saturates past it)
NOISE_STRENGTH_MAX = 4.0
#: OpenAI's documented range for server_vad's idle timeout
IDLE_TIMEOUT_MS = (5000, 30000)


class AudioFormat(TypedModel):
    sdk = formats_param.AudioPCM
    model_config = ConfigDict(validate_default=True)
    type: Choice(lambda: rt().audio_formats) = None
    rate: Any = UNSET

    @model_validator(mode="after")
    def _rate(self) -> AudioFormat:
        pcm = rt().pcm_rate
        if self.type == "audio/pcm":
            rate = self.rate if "rate" in self.model_fields_set else pcm
            if rate != pcm:
                raise problem(f"audio/pcm is {pcm} Hz only; got {rate!r}.", at="rate")
        elif "rate" in self.model_fields_set:
            raise problem(f"{self.type} has a fixed rate (8000 Hz); leave 'rate' out.", at="rate")
        return self

    def plain(self) -> dict[str, Any]:
        return {"type": "audio/pcm", "rate": int(rt().pcm_rate)} if self.type == "audio/pcm" else {"type": self.type}


def transcription_model_name(value: Any) -> str:
    """A realtime transcription model (or a dated snapshot of one), not retired."""
    entry = get_catalog().transcription_model(value) if isinstance(value, str) else None
    if entry is None or entry.id not in rt().transcription_models:
        raise problem(f"must be one of: {', '.join(rt().transcription_models)}; got {value!r}.")
    refusal = realtime_refusal(value, PARAM)
    if refusal is not None:
        raise refuse(refusal)
    return str(value)


def _language(value: str) -> str:
    if not ISO_639_1.match(value):
        raise problem(f"must be an ISO-639-1 code such as 'en'; got {value!r}.")
    return value


def _words(codes: bool) -> Any:
    """``keywords`` (at most ``KEYWORDS_MAX``) or ``languages`` (ISO-639-1 codes), trimmed."""

    def check(value: Any) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise problem("expected an array of strings.", "invalid_type")
        out = []
        for i, v in enumerate(value):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise problem("contains invalid Unicode (an unpaired surrogate).", at=f"[{i}]") from None
            v = v.strip()
            if not v:
                raise problem("an entry must not be empty.")
            if codes and not ISO_639_1.match(v):
                raise problem(f"must hold ISO-639-1 codes such as 'en'; got {v!r}.")
            out.append(v)
        if not codes and len(out) > KEYWORDS_MAX:
            raise problem(f"at most {KEYWORDS_MAX} keywords; got {len(out)}.")
        return out

    return Annotated[Any, AfterValidator(check)]


class Transcription(TypedModel):
    """``audio.input.transcription``; the 2026 fields ``keywords``, ``languages`` (gpt-transcribe,
    gpt-live-transcribe) and ``delay`` (gpt-realtime-whisper) are refused, by name, for a
    model whose catalog entry does not take them."""

    sdk = transcription_param.AudioTranscriptionParam
    model_config = ConfigDict(validate_default=True)
    model: Annotated[Any, AfterValidator(transcription_model_name)] = None
    language: Annotated[Text, AfterValidator(_language)] | None = None
    prompt: Text | None = None
    keywords: _words(codes=False) = None
    languages: _words(codes=True) = None
    delay: Choice(EFFORTS) | None = None

    @field_validator("keywords", "languages", "delay", mode="before")
    @classmethod
    def _taken(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or "model" not in info.data:
            return value  # left out, or the model was refused first
        cat, model, key = get_catalog(), info.data["model"], info.field_name
        if not getattr(cat.transcription_model(model), key):
            takes = [cat.transcription_models[m] for m in rt().transcription_models]
            raise unsupported(model, [m.id for m in takes if getattr(m, key)])
        return value

    def plain(self) -> dict[str, Any]:
        fields = ("language", "prompt", "keywords", "languages", "delay")
        return {"model": self.model} | {k: getattr(self, k) for k in fields if getattr(self, k) is not None}


def strength_value(value: float) -> float:
    if value != value:
        raise problem("expected a number.", "invalid_type")
    if not 0 < value <= NOISE_STRENGTH_MAX:
        raise problem(f"must be greater than 0 and at most {NOISE_STRENGTH_MAX:g}; got {value:g}.")
    return value


class NoiseReduction(TypedModel):
    """``noise_reduction``: a type and a ``strength`` (> 0; 1 when first enabled, kept when left out)."""

    sdk = input_param.NoiseReduction
    type: Choice(lambda: rt().noise_reduction) = Field(None, validate_default=True)
    strength: Annotated[StrictFloat, AfterValidator(strength_value)] | None = None

    def plain(self, current: dict[str, Any] | None) -> dict[str, Any]:
        strength = self.strength if self.strength is not None else (current or {}).get("strength") or 1.0
        return {"type": self.type, "strength": float(strength)}


class ServerVad(TypedModel):
    sdk = vad_param.ServerVad
    type: Any = UNSET
    threshold: Number((0.0, 1.0)) = UNSET
    prefix_padding_ms: Integer((0, 10_000)) = UNSET
    silence_duration_ms: Integer((0, 10_000)) = UNSET
    idle_timeout_ms: Integer(IDLE_TIMEOUT_MS) | None = None
    create_response: Flag = UNSET
    interrupt_response: Flag = UNSET


class SemanticVad(TypedModel):
    sdk = vad_param.SemanticVad
    type: Any = UNSET
    eagerness: Choice(lambda: rt().semantic_eagerness) = UNSET
    create_response: Flag = UNSET
    interrupt_response: Flag = UNSET


def _vad_kind(value: Any, handler: Any) -> Any:
    """The ``type`` is checked first: it says which fields the object may have."""
    if value is not None and not isinstance(value, dict):
        raise problem("expected an object.", "invalid_type")
    if value is not None and value.get("type") not in VAD_KINDS:
        raise problem(f"must be one of: {', '.join(VAD_KINDS)}; got {value.get('type')!r}.", at="type")
    return handler(value)


_Vad = Annotated[ServerVad, Tag("server_vad")] | Annotated[SemanticVad, Tag("semantic_vad")]
TurnDetection = Annotated[
    Annotated[_Vad, Discriminator(lambda v: v.get("type") if isinstance(v, dict) else v.type)] | None,
    WrapValidator(_vad_kind),
]


def _only_transcribing(value: Any, info: ValidationInfo) -> Any:
    if value is None and (info.context or {}).get("transcribe_only"):
        raise problem("a transcription session needs a transcription model; close the session to stop transcribing.")
    return value


class AudioInput(TypedModel):
    sdk = input_param.RealtimeAudioConfigInputParam
    format: AudioFormat = UNSET
    transcription: Annotated[Transcription | None, AfterValidator(_only_transcribing)] = UNSET
    noise_reduction: NoiseReduction | None = UNSET
    turn_detection: TurnDetection = UNSET


def _custom_voice(value: Any, handler: Any) -> Any:
    custom = custom_voice_message(value, PARAM, len(rt().voices))
    if custom is not None:
        raise problem(f"{custom} Use one of: {', '.join(rt().voices)}.", "unsupported_value", full=True)
    return handler(value)


def _voice_lock(value: str, info: ValidationInfo) -> str:
    """Once audio was produced, the voice may no longer change."""
    ctx = info.context or {}
    if ctx.get("voice_locked") and value != ctx["voice"]:
        why = "Cannot update a conversation's voice if assistant audio is present."
        raise problem(why, "cannot_update_voice", full=True)
    return value


Voice = Annotated[Choice(lambda: rt().voices), WrapValidator(_custom_voice), AfterValidator(_voice_lock)]


def _speed() -> tuple[float, float]:
    rng = get_catalog().limits.realtime_speed
    return rng.min, rng.max


class AudioOutput(TypedModel):
    sdk = RealtimeAudioConfigOutputParam
    format: AudioFormat = UNSET
    voice: Voice = UNSET
    speed: Number(_speed) = UNSET


class SessionAudio(TypedModel):
    sdk = RealtimeAudioConfigParam
    input: AudioInput = UNSET
    output: AudioOutput = UNSET


class TranscriptionAudio(TypedModel):
    sdk = RealtimeTranscriptionSessionAudioParam
    input: AudioInput = UNSET


class ResponseAudioOutput(TypedModel):
    sdk = response_audio_param.Output
    format: AudioFormat = UNSET
    voice: Voice = UNSET


class ResponseAudio(TypedModel):
    sdk = response_audio_param.RealtimeResponseCreateAudioOutputParam
    output: ResponseAudioOutput = UNSET
