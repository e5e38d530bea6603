"""The catalog file's schema: one strict pydantic model per section of ``presets/catalog.yaml``.

Strict types and unknown keys refused, so a typo in the data fails with the path of the bad
key. Kept apart from ``catalog``, which loads the file, checks what spans sections and
answers lookups; import these names from ``playground.core.catalog``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


#: YAML lists become tuples (strict mode alone would refuse a list for a tuple)
Names = Annotated[tuple[str, ...], Field(strict=False)]


class Range(_Strict):
    min: float
    max: float
    default: float | None = None

    @model_validator(mode="after")
    def _default_inside(self) -> Range:
        if self.default is None:
            object.__setattr__(self, "default", self.min)
        if not self.min <= self.default <= self.max:
            raise ValueError(f"default {self.default:g} outside {self.min:g}..{self.max:g}")
        return self

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.min <= value <= self.max

    def __str__(self) -> str:
        return f"{self.min:g} and {self.max:g}"


class Alias(_Strict):
    """A dated snapshot; ``shutdown`` is set when it differs from its model's."""

    id: str
    shutdown: dt.date | None = None
    own_date: bool = False


class ModelEntry(_Strict):
    """Fields every model carries: its id, label, snapshots and lifecycle."""

    id: str = ""
    label: str
    aliases: Annotated[tuple[Alias, ...], Field(strict=False)] = ()
    shutdown: dt.date | None = None
    replacement: str | None = None
    offer: bool = True

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, str):
                out.append({"id": item})
            elif isinstance(item, dict):
                out.append({**item, "own_date": "shutdown" in item})
            else:
                out.append(item)
        return out

    @property
    def alias_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.aliases)

    def names(self) -> tuple[str, ...]:
        return (self.id, *self.alias_ids)

    def shutdown_of(self, name: str) -> dt.date | None:
        """The shutdown date of the model or one of its snapshots."""
        for a in self.aliases:
            if a.id == name and a.own_date:
                return a.shutdown
        return self.shutdown


class Voice(_Strict):
    id: str
    character: str
    expressive: bool = False


class SpeechModel(ModelEntry):
    instructions: bool
    stream_formats: Names = Field(min_length=1, strict=False)


class TranscriptionModel(ModelEntry):
    response_formats: Names = Field(min_length=1, strict=False)
    stream: bool
    logprobs: bool
    timestamp_granularities: bool = False
    translation: bool = False
    keywords: bool = False
    languages: bool = False
    known_speakers: bool = False
    delay: bool = False
    #: served on /v1/audio/transcriptions (false: realtime transcription only)
    file: bool = True


class RealtimeModel(ModelEntry):
    #: takes ``reasoning.effort`` and ``parallel_tool_calls``
    reasoning: bool = False


class ChatModel(ModelEntry):
    pass


class AudioFormat(_Strict):
    id: str = ""
    mime: str
    ext: str
    label: str = ""


class Limits(_Strict):
    speech_input_max_chars: int
    instructions_max_chars: int
    speed: Range
    realtime_speed: Range
    transcription_temperature: Range
    upload_max_bytes: int
    realtime_max_output_tokens: int
    realtime_session_minutes: int
    audio_max_seconds: int
    bulk_audio_seconds: int
    json_body_max_bytes: int
    chat_body_max_bytes: int
    chat_max_tokens: int
    llm_queue_max: int
    llm_parallel: int
    llm_stall_seconds: float
    realtime_sessions_max: int
    realtime_event_max_bytes: int
    realtime_buffer_max_seconds: int
    realtime_items_max: int
    realtime_kept_audio_seconds: int
    realtime_outbox_max_events: int
    recent_runs_max: int
    tab_runs_max: int
    browser_sessions_max: int
    live_recording_max_seconds: int
    live_recordings_max: int
    chat_audio_replies_kept: int
    chat_audio_reply_ttl_seconds: int
    audio_chat_turns_max: int
    audio_chat_input_max_seconds: int
    chat_heard_kept: int
    history_max_bytes: int
    history_max_runs: int
    login_max_age_seconds: int
    eval_file_max_bytes: int


class PcmFormat(_Strict):
    sample_rate: int
    channels: int
    sample_width: int


class SpeechSection(_Strict):
    default_model: str
    default_voice: str
    default_format: str
    models: dict[str, SpeechModel]
    voices: Annotated[tuple[Voice, ...], Field(strict=False)]
    formats: dict[str, AudioFormat]
    pcm: PcmFormat


class TranscriptionSection(_Strict):
    default_model: str
    round_trip_model: str
    input_formats: Names = Field(min_length=1, strict=False)
    response_formats: Names = Field(min_length=1, strict=False)
    languages: Names
    models: dict[str, TranscriptionModel]


class VadDefaults(_Strict):
    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int


class SemanticWait(_Strict):
    complete: int
    incomplete: int


class Chained(_Strict):
    speech_model: str


class ReadAloud(_Strict):
    """Speech through the Realtime API: the instructions that ask for a text word for word."""

    instructions: str = Field(min_length=1)
    style_prefix: str
    format_labels: dict[str, str]


class RealtimeSection(_Strict):
    default_model: str
    default_voice: str
    models: dict[str, RealtimeModel]
    voices: Names = Field(min_length=1, strict=False)
    audio_formats: Names
    pcm_rate: int
    output_modalities: Names
    turn_detection: Names
    semantic_eagerness: Names
    noise_reduction: Names
    transcription_models: Names = Field(min_length=1, strict=False)
    default_transcription_model: str
    server_vad_defaults: VadDefaults
    semantic_vad_wait_ms: dict[str, SemanticWait]
    chained: Chained
    read_aloud: ReadAloud

    @model_validator(mode="after")
    def _read_aloud_formats_known(self) -> RealtimeSection:
        if set(self.read_aloud.format_labels) != set(self.audio_formats):
            raise ValueError(f"read_aloud.format_labels must label exactly: {', '.join(self.audio_formats)}")
        return self


class TranslationSection(_Strict):
    """Live speech translation sessions (``/v1/realtime/translations``)."""

    default_model: str
    models: dict[str, RealtimeModel]
    #: ISO-639-1 code → name, in picker order
    output_languages: dict[str, str] = Field(min_length=1)
    default_output_language: str
    transcription_model: str
    frame_ms: int = Field(gt=0)

    @model_validator(mode="after")
    def _defaults_known(self) -> TranslationSection:
        if self.default_model not in self.models:
            raise ValueError(f"default_model {self.default_model!r} is not one of models")
        if self.default_output_language not in self.output_languages:
            raise ValueError(f"default_output_language {self.default_output_language!r} is not an output language")
        return self


class ChatSection(_Strict):
    default_model: str
    models: dict[str, ChatModel]


class AudioTokenRates(_Strict):
    user: float
    assistant: float


class ChatAudioSection(_Strict):
    default_model: str
    models: dict[str, ChatModel]
    formats: Names = Field(min_length=1, strict=False)
    input_formats: Names = Field(min_length=1, strict=False)
    voices: Names = Field(min_length=1, strict=False)
    stream_formats: Names = Field(min_length=1, strict=False)
    audio_tokens_per_second: AudioTokenRates
    parameters: dict[str, Range]

    @model_validator(mode="after")
    def _streamed_formats_known(self) -> ChatAudioSection:
        if not set(self.stream_formats) <= set(self.formats):
            raise ValueError("every streamed format must be one of chat_audio.formats")
        return self


class LocalVoice(_Strict):
    engine: str
    speaker: str
    pitch: float = 0.0
    formant: float = 0.0
    intonation: float = Field(1.0, gt=0)
    breath: float = 0.0
    pace: float = Field(1.0, gt=0)


class LocalWhisper(_Strict):
    model: str
    english: str | None = None


class LocalRealtime(_Strict):
    hearing: str
    live_interim_ms: int
    reply_max_tokens: int
    audio_delta_ms: int
    default_instructions: str


class LocalTranslation(_Strict):
    voice: str
    silence_ms: int = Field(gt=0)
    max_phrase_ms: int = Field(gt=0)
    idle_flush_ms: int = Field(gt=0)


class LocalSection(_Strict):
    voices: dict[str, LocalVoice]
    transcription: dict[str, LocalWhisper]
    hearing: str
    realtime: LocalRealtime
    chat_models: Names
    translation: LocalTranslation


Price = dict[str, float]


class CatalogFile(_Strict):
    """The whole YAML file, typed."""

    version: int
    limits: Limits
    speech: SpeechSection
    transcription: TranscriptionSection
    realtime: RealtimeSection
    translation: TranslationSection
    chat: ChatSection
    chat_audio: ChatAudioSection
    prices: dict[str, dict[str, float]]
    local: LocalSection | None = None

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        """Model and format tables are keyed by id; copy each key into its entry."""
        if not isinstance(data, dict):
            return data
        for section, table in (
            ("speech", "models"),
            ("speech", "formats"),
            ("transcription", "models"),
            ("realtime", "models"),
            ("translation", "models"),
            ("chat", "models"),
            ("chat_audio", "models"),
        ):
            entries = data.get(section, {}).get(table) if isinstance(data.get(section), dict) else None
            if isinstance(entries, dict):
                for key, entry in entries.items():
                    if isinstance(entry, dict):
                        entry.setdefault("id", key)
        return data

    @field_validator("prices")
    @classmethod
    def _prices_non_negative(cls, prices: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for model, entry in prices.items():
            for key, value in entry.items():
                if value < 0:
                    raise ValueError(f"prices.{model}.{key}: expected a non-negative number, got {value!r}")
        return prices
