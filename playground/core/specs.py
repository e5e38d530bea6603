"""One request spec per API call.

The UI builds a spec from widgets, the runner executes it, the snippet renderer prints
it and history stores it, so the exported code matches the run by construction. Each
spec checks itself against the catalog (``problems()`` lists every issue; ``validate()``
raises ``SpecError``) and converts to the SDK's keyword arguments (``to_kwargs()``),
which are also exactly the fields sent on the wire.
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem, SpecError

__all__ = [
    "ChatAudioSpec",
    "RealtimeSessionSpec",
    "RealtimeSpeechSpec",
    "RealtimeTranscriptionSpec",
    "Spec",
    "SpeechSpec",
    "TranscriptionSpec",
    "chat_output_problems",
    "read_aloud_instructions",
    "spec_from_dict",
    "split_list",
]

_ISO_639_1 = re.compile(r"^[a-z]{2}$")
#: realtime ``reasoning.effort`` and transcription ``delay`` levels
EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
DELAYS = EFFORTS
TRUNCATIONS = ("auto", "disabled", "retention_ratio")
KEYWORDS_MAX = 100
KEYWORD_MAX_CHARS = 100
KNOWN_SPEAKERS_MAX = 4


def _custom_voice(voice: str) -> bool:
    """A custom voice id (``voice_…``), sent as ``{"id": ...}``."""
    return isinstance(voice, str) and voice.startswith("voice_") and len(voice) > len("voice_")


def _voice_value(voice: str) -> str | dict[str, str]:
    return {"id": voice} if _custom_voice(voice) else voice


def _list_problems(name: str, values: Any, *, limit: int, max_chars: int | None = None) -> list[Problem]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        return [Problem(name, values, "must be a list of strings")]
    if len(values) > limit:
        return [Problem(name, len(values), f"at most {limit} entries")]
    for v in values:
        if not v.strip():
            return [Problem(name, list(values), "entries must not be empty")]
        if max_chars is not None and len(v) > max_chars:
            return [Problem(name, v[:40], f"each entry at most {max_chars} characters")]
        if not _is_unicode(v):
            return [Problem(name, v[:40], "contains invalid Unicode")]
    return []


def _transcription_field_problems(
    model: Any, keywords: tuple[str, ...], languages: tuple[str, ...], *, prefix: str = "", file: bool = False
) -> list[Problem]:
    """``keywords`` / ``languages``: only for models whose catalog entry takes them."""
    out: list[Problem] = []
    cat = get_catalog()
    table = cat.file_transcription_models if file else cat.transcription_models
    for name, values, flag in (("keywords", keywords, "keywords"), ("languages", languages, "languages")):
        if not values:
            continue
        if model is not None and not getattr(model, flag):
            takers = [m.id for m in table.values() if getattr(m, flag)]
            out.append(Problem(prefix + name, list(values), f"not supported by {model.id}; use {', '.join(takers)}"))
            continue
        if name == "keywords":
            out.extend(_list_problems(prefix + name, values, limit=KEYWORDS_MAX, max_chars=KEYWORD_MAX_CHARS))
        else:
            found = _list_problems(prefix + name, values, limit=len(cat.transcription.languages) or 100)
            if not found:
                bad = [v for v in values if not _ISO_639_1.match(v)]
                if bad:
                    found = [Problem(prefix + name, bad, "must be ISO-639-1 codes such as en, de, fr")]
            out.extend(found)
    return out


def split_list(text: str | None) -> tuple[str, ...]:
    """A comma- or newline-separated box as a tuple of trimmed, non-empty entries."""
    return tuple(v.strip() for v in re.split(r"[,\n]", text or "") if v.strip())


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _default(section: str, key: str) -> Any:
    return field(default_factory=lambda: getattr(getattr(get_catalog().file, section), key))


def _one_of(name: str, value: Any, allowed: list[str] | tuple[str, ...]) -> Problem | None:
    if value in allowed:
        return None
    return Problem(name, value, f"must be one of: {', '.join(allowed)}")


class _SpecBase:
    """Shared plumbing: validation entry point and (de)serialisation for history."""

    kind: str = ""

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:  # pragma: no cover
        raise NotImplementedError

    def validate(self, catalog: Catalog | None = None) -> _SpecBase:
        found = self.problems(catalog)
        if found:
            raise SpecError(found)
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        data["kind"] = self.kind
        return data


# --------------------------------------------------------------------------- speech


@dataclass(frozen=True)
class SpeechSpec(_SpecBase):
    """``POST /v1/audio/speech``.

    ``speed`` 1.0, no ``instructions`` and ``stream_format`` "audio" are the API's
    defaults and are left out of the request, so snippets stay minimal.
    """

    input: str
    voice: str = _default("speech", "default_voice")
    model: str = _default("speech", "default_model")
    #: style prompt; only for steerable models (not tts-1 / tts-1-hd)
    instructions: str = ""
    #: 0.25–4.0, 1.0 = normal pace
    speed: float = 1.0
    response_format: str = _default("speech", "default_format")
    #: "audio" (chunked bytes) or "sse" (base64 events with usage)
    stream_format: Literal["audio", "sse"] = "audio"

    kind = "speech"
    endpoint = "/audio/speech"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        out: list[Problem] = []
        # NULs are not text: they reached the engines and came back as silence
        out.extend(_text_problems("input", self.input, cat.limits.speech_input_max_chars))
        model = cat.speech_model(self.model)
        if model is None:
            out.append(_one_of("model", self.model, list(cat.speech_models)))
        if not _custom_voice(self.voice) and self.voice not in cat.speech_voices:
            out.append(
                Problem("voice", self.voice, f"must be one of: {', '.join(cat.voice_ids)} (or a custom voice_… id)")
            )
        if self.instructions:
            if model is not None and not model.instructions:
                steerable = [m.id for m in cat.speech_models.values() if m.instructions]
                out.append(
                    Problem(
                        "instructions",
                        self.instructions,
                        f"not supported by {model.id}; use {', '.join(steerable)} or leave it empty",
                    )
                )
            if len(self.instructions) > cat.limits.instructions_max_chars:
                out.append(
                    Problem(
                        "instructions",
                        f"<{len(self.instructions)} chars>",
                        f"at most {cat.limits.instructions_max_chars} characters",
                    )
                )
        if isinstance(self.speed, bool) or self.speed not in cat.limits.speed:
            out.append(Problem("speed", self.speed, f"must be between {cat.limits.speed} (1.0 = normal)"))
        if (p := _one_of("response_format", self.response_format, list(cat.speech_formats))) is not None:
            out.append(p)
        if self.stream_format not in ("audio", "sse"):
            out.append(_one_of("stream_format", self.stream_format, ["audio", "sse"]))  # type: ignore[arg-type]
        elif model is not None and self.stream_format not in model.stream_formats:
            out.append(
                Problem("stream_format", self.stream_format, f"{model.id} supports: {', '.join(model.stream_formats)}")
            )
        return out

    def to_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": self.model,
            "voice": _voice_value(self.voice),
            "input": self.input,
        }
        if self.instructions:
            kw["instructions"] = self.instructions
        if self.speed != 1.0:
            kw["speed"] = self.speed
        kw["response_format"] = self.response_format
        if self.stream_format == "sse":
            kw["stream_format"] = "sse"
        return kw

    @property
    def file_name(self) -> str:
        return f"speech.{get_catalog().speech_formats.get(self.response_format, _FallbackFmt).ext}"


class _FallbackFmt:
    ext = "bin"


# ------------------------------------------------------------------- transcription


@dataclass(frozen=True)
class TranscriptionSpec(_SpecBase):
    """``POST /v1/audio/transcriptions`` (or ``/translations`` with ``task="translate"``).

    ``file`` is a path; the runner and the snippets open it. Arrays travel as repeated
    ``name[]`` form fields, as the SDK sends them.
    """

    file: str
    model: str = _default("transcription", "default_model")
    task: Literal["transcribe", "translate"] = "transcribe"
    #: ISO-639-1 code such as "en"; empty = detect
    language: str = ""
    #: biases vocabulary and spelling, e.g. product names
    prompt: str = ""
    #: 0–1; None leaves the server default
    temperature: float | None = None
    response_format: str = "json"
    #: "word" and/or "segment"; whisper-1 with verbose_json only
    timestamp_granularities: tuple[str, ...] = ()
    #: ask for token log-probabilities (gpt-4o* transcribe models, json only)
    include_logprobs: bool = False
    #: stream text deltas as server-sent events (not whisper-1)
    stream: bool = False
    #: "auto" or {"type": "server_vad", ...}; None = server default
    chunking_strategy: str | dict[str, Any] | None = None
    #: words or phrases to guide the transcript (models with ``keywords: true``)
    keywords: tuple[str, ...] = ()
    #: possible languages, ISO-639-1 (models with ``languages: true``)
    languages: tuple[str, ...] = ()
    #: speaker names and their 2–10 s samples as data URLs (models with ``known_speakers: true``)
    known_speaker_names: tuple[str, ...] = ()
    known_speaker_references: tuple[str, ...] = ()

    kind = "transcription"

    @property
    def endpoint(self) -> str:
        return "/audio/translations" if self.task == "translate" else "/audio/transcriptions"

    def problems(self, catalog: Catalog | None = None, *, check_file: bool = True) -> list[Problem]:
        """``check_file=False`` skips the path checks (a server checks its upload itself)."""
        cat = catalog or get_catalog()
        out: list[Problem] = []
        if check_file:
            out.extend(self._file_problems(cat))
        if self.task not in ("transcribe", "translate"):
            out.append(_one_of("task", self.task, ["transcribe", "translate"]))
            return out
        model = cat.transcription_model(self.model)
        if self.task == "translate":
            allowed = [m.id for m in cat.transcription_models.values() if m.translation]
            if model is None or not model.translation:
                out.append(Problem("model", self.model, f"translation supports: {', '.join(allowed)}"))
            for name in ("language", "stream", "include_logprobs", "timestamp_granularities", "chunking_strategy"):
                if getattr(self, name):
                    out.append(Problem(name, getattr(self, name), "not supported by translations"))
        elif model is None:
            out.append(_one_of("model", self.model, list(cat.transcription_models)))
        if model is not None:
            if self.response_format not in model.response_formats:
                out.append(
                    Problem(
                        "response_format",
                        self.response_format,
                        f"{model.id} supports: {', '.join(model.response_formats)}",
                    )
                )
            if self.stream and not model.stream and self.task == "transcribe":
                streaming = [m.id for m in cat.transcription_models.values() if m.stream]
                out.append(Problem("stream", True, f"not supported by {model.id}; use {', '.join(streaming)}"))
            if self.include_logprobs and self.task == "transcribe":
                if not model.logprobs:
                    out.append(Problem("include_logprobs", True, f"not supported by {model.id}"))
                elif self.response_format != "json":
                    out.append(Problem("include_logprobs", True, "needs response_format json"))
        if self.timestamp_granularities and self.task == "transcribe":
            bad = [g for g in self.timestamp_granularities if g not in ("word", "segment")]
            if bad:
                out.append(Problem("timestamp_granularities", bad, "must be word and/or segment"))
            if self.response_format != "verbose_json":
                out.append(
                    Problem(
                        "timestamp_granularities",
                        list(self.timestamp_granularities),
                        "needs response_format verbose_json",
                    )
                )
        if self.language and not _ISO_639_1.match(self.language):
            out.append(Problem("language", self.language, "must be an ISO-639-1 code such as en, de, fr"))
        if self.temperature is not None and (
            isinstance(self.temperature, bool) or self.temperature not in cat.limits.transcription_temperature
        ):
            out.append(
                Problem("temperature", self.temperature, f"must be between {cat.limits.transcription_temperature}")
            )
        cs = self.chunking_strategy
        if cs is not None and cs != "auto" and not (isinstance(cs, dict) and cs.get("type") == "server_vad"):
            out.append(Problem("chunking_strategy", cs, 'must be "auto" or {"type": "server_vad", ...}'))
        if self.task == "translate":
            for name in ("keywords", "languages", "known_speaker_names", "known_speaker_references"):
                if getattr(self, name):
                    out.append(Problem(name, list(getattr(self, name)), "not supported by translations"))
            return out
        out.extend(_transcription_field_problems(model, self.keywords, self.languages, file=True))
        out.extend(self._known_speaker_problems(cat, model))
        return out

    def _known_speaker_problems(self, cat: Catalog, model: Any) -> list[Problem]:
        names, refs = self.known_speaker_names, self.known_speaker_references
        if not names and not refs:
            return []
        if model is not None and not model.known_speakers:
            takers = [m.id for m in cat.transcription_models.values() if m.known_speakers]
            return [
                Problem("known_speaker_names", list(names), f"not supported by {model.id}; use {', '.join(takers)}")
            ]
        out = _list_problems("known_speaker_names", names, limit=KNOWN_SPEAKERS_MAX, max_chars=64)
        if len(names) != len(refs):
            out.append(
                Problem("known_speaker_references", len(refs), f"give one reference per name ({len(names)} names)")
            )
        for i, ref in enumerate(refs):
            if not isinstance(ref, str) or not ref.startswith("data:"):
                out.append(Problem(f"known_speaker_references[{i}]", str(ref)[:40], "must be a data: URL of audio"))
        return out

    def _file_problems(self, cat: Catalog) -> list[Problem]:
        path = Path(self.file) if self.file else None
        if path is None or not path.is_file():
            return [Problem("file", self.file, "no such file")]
        ext = path.suffix.lower().lstrip(".")
        if ext not in cat.transcription_input_formats:
            return [Problem("file", path.name, f"format must be one of: {', '.join(cat.transcription_input_formats)}")]
        size = path.stat().st_size
        if size == 0:
            return [Problem("file", path.name, "is empty")]
        if size > cat.limits.upload_max_bytes:
            mib = cat.limits.upload_max_bytes / 2**20
            return [Problem("file", path.name, f"is {size / 2**20:.1f} MiB; the limit is {mib:g} MiB")]
        return []

    def to_kwargs(self) -> dict[str, Any]:
        """SDK keyword arguments except ``file`` (the caller opens it)."""
        kw: dict[str, Any] = {"model": self.model}
        if self.language:
            kw["language"] = self.language
        if self.prompt:
            kw["prompt"] = self.prompt
        if self.temperature is not None:
            kw["temperature"] = self.temperature
        kw["response_format"] = self.response_format
        if self.timestamp_granularities:
            kw["timestamp_granularities"] = list(self.timestamp_granularities)
        if self.include_logprobs:
            kw["include"] = ["logprobs"]
        if self.chunking_strategy is not None:
            kw["chunking_strategy"] = self.chunking_strategy
        if self.keywords:
            kw["keywords"] = list(self.keywords)
        if self.languages:
            kw["languages"] = list(self.languages)
        if self.known_speaker_names:
            kw["known_speaker_names"] = list(self.known_speaker_names)
        if self.known_speaker_references:
            kw["known_speaker_references"] = list(self.known_speaker_references)
        if self.stream:
            kw["stream"] = True
        return kw

    @property
    def file_name(self) -> str:
        ext = {"json": "json", "verbose_json": "json", "diarized_json": "json", "text": "txt"}
        return f"transcript.{ext.get(self.response_format, self.response_format)}"


# ------------------------------------------------------------------------ realtime


@dataclass(frozen=True)
class RealtimeSessionSpec(_SpecBase):
    """A GA Realtime session: ``connect(model=...)`` then ``session.update``."""

    model: str = _default("realtime", "default_model")
    instructions: str = ""
    voice: str = _default("realtime", "default_voice")
    #: ("audio",) or ("text",)
    output_modalities: tuple[str, ...] = ("audio",)
    input_format: str = "audio/pcm"
    output_format: str = "audio/pcm"
    #: model that transcribes the user's audio; empty = no input transcription
    transcription_model: str = _default("realtime", "default_transcription_model")
    transcription_language: str = ""
    #: input transcription's keywords / possible languages (models that take them)
    transcription_keywords: tuple[str, ...] = ()
    transcription_languages: tuple[str, ...] = ()
    #: input transcription's delay, minimal..xhigh (models with ``delay: true``); "" = default
    transcription_delay: str = ""
    #: "near_field", "far_field" or "" (off)
    noise_reduction: str = ""
    #: 0–1 noise suppression strength (with noise_reduction on); None = server default
    noise_reduction_strength: float | None = None
    #: "server_vad", "semantic_vad" or "none" (manual commit)
    turn_detection: str = "server_vad"
    vad_threshold: float = field(default_factory=lambda: get_catalog().realtime.server_vad_defaults.threshold)
    prefix_padding_ms: int = field(default_factory=lambda: get_catalog().realtime.server_vad_defaults.prefix_padding_ms)
    silence_duration_ms: int = field(
        default_factory=lambda: get_catalog().realtime.server_vad_defaults.silence_duration_ms
    )
    #: semantic_vad only: low, medium, high, auto
    eagerness: str = "auto"
    create_response: bool = True
    interrupt_response: bool = True
    #: 0.25–1.5
    speed: float = 1.0
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str = "auto"
    #: 1–4096, or "inf"
    max_output_tokens: int | str = "inf"
    #: minimal..xhigh, reasoning models only; "" = the model's default
    reasoning_effort: str = ""
    #: None = server default
    parallel_tool_calls: bool | None = None
    #: "" (server default), "auto", "disabled" or "retention_ratio"
    truncation: str = ""
    #: 0–1, the share of the conversation kept (truncation "retention_ratio")
    retention_ratio: float | None = None

    kind = "realtime"
    endpoint = "/realtime"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        rt = cat.realtime
        out: list[Problem] = []
        if cat.canonical_realtime_model(self.model) is None:
            out.append(_one_of("model", self.model, list(cat.realtime_models)))
        for p in (
            None if _custom_voice(self.voice) else _one_of("voice", self.voice, rt.voices),
            _one_of("input_format", self.input_format, rt.audio_formats),
            _one_of("output_format", self.output_format, rt.audio_formats),
            _one_of("turn_detection", self.turn_detection, rt.turn_detection),
        ):
            if p is not None:
                out.append(p)
        mods = tuple(self.output_modalities)
        if mods not in (("audio",), ("text",)):
            out.append(Problem("output_modalities", list(mods), 'must be ["audio"] or ["text"]'))
        if self.transcription_model and self.transcription_model not in rt.transcription_models:
            out.append(_one_of("transcription_model", self.transcription_model, rt.transcription_models))
        if self.transcription_language and not _ISO_639_1.match(self.transcription_language):
            out.append(Problem("transcription_language", self.transcription_language, "must be an ISO-639-1 code"))
        if self.noise_reduction and self.noise_reduction not in rt.noise_reduction:
            out.append(_one_of("noise_reduction", self.noise_reduction, [*rt.noise_reduction, ""]))
        out.extend(_strength_problems(self.noise_reduction, self.noise_reduction_strength))
        if self.transcription_model:
            out.extend(
                _live_transcription_problems(
                    cat,
                    self.transcription_model,
                    self.transcription_keywords,
                    self.transcription_languages,
                    self.transcription_delay,
                    prefix="transcription_",
                )
            )
        else:
            for name in ("transcription_keywords", "transcription_languages", "transcription_delay"):
                if getattr(self, name):
                    out.append(Problem(name, getattr(self, name), "needs an input transcription model"))
        if self.turn_detection == "server_vad":
            if not 0.0 <= self.vad_threshold <= 1.0:
                out.append(Problem("vad_threshold", self.vad_threshold, "must be between 0 and 1"))
            if not 0 <= self.prefix_padding_ms <= 10_000:
                out.append(Problem("prefix_padding_ms", self.prefix_padding_ms, "must be between 0 and 10000"))
            if not 0 <= self.silence_duration_ms <= 10_000:
                out.append(Problem("silence_duration_ms", self.silence_duration_ms, "must be between 0 and 10000"))
        if self.turn_detection == "semantic_vad" and self.eagerness not in rt.semantic_eagerness:
            out.append(_one_of("eagerness", self.eagerness, rt.semantic_eagerness))
        out.extend(self._reasoning_problems(cat))
        if isinstance(self.speed, bool) or self.speed not in cat.limits.realtime_speed:
            out.append(Problem("speed", self.speed, f"must be between {cat.limits.realtime_speed} for realtime"))
        mot = self.max_output_tokens
        if mot != "inf" and not (isinstance(mot, int) and 1 <= mot <= cat.limits.realtime_max_output_tokens):
            out.append(Problem("max_output_tokens", mot, f'must be 1–{cat.limits.realtime_max_output_tokens} or "inf"'))
        for i, tool in enumerate(self.tools):
            if tool.get("type") == "mcp":
                url = str(tool.get("server_url", ""))
                if not tool.get("server_label") or not url.startswith(("https://", "http://")):
                    out.append(Problem(f"tools[{i}]", tool, "an MCP tool needs a server_label and an http(s) URL"))
            elif tool.get("type") != "function" or not tool.get("name"):
                out.append(Problem(f"tools[{i}]", tool, 'needs type "function" (or "mcp") and a name'))
        if self.tool_choice not in ("auto", "none", "required") and self.tool_choice not in {
            t.get("name") for t in self.tools
        }:
            out.append(Problem("tool_choice", self.tool_choice, "must be auto, none, required or a tool name"))
        return out

    def _reasoning_problems(self, cat: Catalog) -> list[Problem]:
        out: list[Problem] = []
        model = cat.realtime_model(self.model)
        reasoning = [m.id for m in cat.realtime_models.values() if m.reasoning]
        if self.reasoning_effort:
            if self.reasoning_effort not in EFFORTS:
                out.append(_one_of("reasoning_effort", self.reasoning_effort, [*EFFORTS, ""]))
            elif model is not None and not model.reasoning:
                out.append(
                    Problem(
                        "reasoning_effort",
                        self.reasoning_effort,
                        f"not supported by {model.id}; use {', '.join(reasoning)}",
                    )
                )
        if self.parallel_tool_calls is not None:
            if not isinstance(self.parallel_tool_calls, bool):
                out.append(Problem("parallel_tool_calls", self.parallel_tool_calls, "must be true or false"))
            elif model is not None and not model.reasoning:
                out.append(
                    Problem(
                        "parallel_tool_calls",
                        self.parallel_tool_calls,
                        f"not supported by {model.id}; use {', '.join(reasoning)}",
                    )
                )
        if self.truncation and self.truncation not in TRUNCATIONS:
            out.append(_one_of("truncation", self.truncation, [*TRUNCATIONS, ""]))
        elif self.truncation == "retention_ratio":
            r = self.retention_ratio
            if r is None or isinstance(r, bool) or not isinstance(r, int | float) or not 0.0 <= r <= 1.0:
                out.append(Problem("retention_ratio", r, "must be between 0 and 1"))
        elif self.retention_ratio is not None:
            out.append(Problem("retention_ratio", self.retention_ratio, 'needs truncation "retention_ratio"'))
        return out

    def to_kwargs(self) -> dict[str, Any]:
        return {"model": self.model}

    def to_session(self) -> dict[str, Any]:
        """The ``session`` object for ``session.update`` (GA shape)."""
        fmt_in: dict[str, Any] = {"type": self.input_format}
        fmt_out: dict[str, Any] = {"type": self.output_format}
        rate = get_catalog().realtime.pcm_rate
        if self.input_format == "audio/pcm":
            fmt_in["rate"] = rate
        if self.output_format == "audio/pcm":
            fmt_out["rate"] = rate
        audio_in: dict[str, Any] = {"format": fmt_in}
        if self.transcription_model:
            tr: dict[str, Any] = {"model": self.transcription_model}
            if self.transcription_language:
                tr["language"] = self.transcription_language
            tr.update(
                _live_transcription_fields(
                    self.transcription_keywords, self.transcription_languages, self.transcription_delay
                )
            )
            audio_in["transcription"] = tr
        audio_in["noise_reduction"] = _noise_reduction(self.noise_reduction, self.noise_reduction_strength)
        if self.turn_detection == "server_vad":
            audio_in["turn_detection"] = {
                "type": "server_vad",
                "threshold": self.vad_threshold,
                "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response,
            }
        elif self.turn_detection == "semantic_vad":
            audio_in["turn_detection"] = {
                "type": "semantic_vad",
                "eagerness": self.eagerness,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response,
            }
        else:
            audio_in["turn_detection"] = None
        session: dict[str, Any] = {
            "type": "realtime",
            "model": self.model,
            "output_modalities": list(self.output_modalities),
            "audio": {
                "input": audio_in,
                "output": {"format": fmt_out, "voice": _voice_value(self.voice), "speed": self.speed},
            },
        }
        if self.instructions:
            session["instructions"] = self.instructions
        if self.tools:
            session["tools"] = [dict(t) for t in self.tools]
            session["tool_choice"] = self.tool_choice
        if self.max_output_tokens != "inf":
            session["max_output_tokens"] = self.max_output_tokens
        if self.reasoning_effort:
            session["reasoning"] = {"effort": self.reasoning_effort}
        if self.parallel_tool_calls is not None:
            session["parallel_tool_calls"] = self.parallel_tool_calls
        if self.truncation == "retention_ratio":
            session["truncation"] = {"type": "retention_ratio", "retention_ratio": self.retention_ratio}
        elif self.truncation:
            session["truncation"] = self.truncation
        return session


def _noise_reduction(kind: str, strength: float | None) -> dict[str, Any] | None:
    if not kind:
        return None
    out: dict[str, Any] = {"type": kind}
    if strength is not None:
        out["strength"] = strength
    return out


def _strength_problems(kind: str, strength: float | None) -> list[Problem]:
    if strength is None:
        return []
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0.0 <= strength <= 1.0:
        return [Problem("noise_reduction_strength", strength, "must be between 0 and 1")]
    if not kind:
        return [Problem("noise_reduction_strength", strength, "needs noise_reduction near_field or far_field")]
    return []


def _live_transcription_problems(
    cat: Catalog,
    model_id: str,
    keywords: tuple[str, ...],
    languages: tuple[str, ...],
    delay: str,
    *,
    prefix: str = "",
) -> list[Problem]:
    """A realtime transcription's keywords, languages and delay, checked against its model."""
    model = cat.transcription_model(model_id)
    out = _transcription_field_problems(model, keywords, languages, prefix=prefix)
    if delay:
        if delay not in DELAYS:
            out.append(_one_of(prefix + "delay", delay, [*DELAYS, ""]))
        elif model is not None and not model.delay:
            takers = [m.id for m in cat.transcription_models.values() if m.delay]
            out.append(Problem(prefix + "delay", delay, f"not supported by {model.id}; use {', '.join(takers)}"))
    return out


def _live_transcription_fields(keywords: tuple[str, ...], languages: tuple[str, ...], delay: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if keywords:
        out["keywords"] = list(keywords)
    if languages:
        out["languages"] = list(languages)
    if delay:
        out["delay"] = delay
    return out


@dataclass(frozen=True)
class RealtimeTranscriptionSpec(_SpecBase):
    """A realtime transcription session: ``connect(extra_query={"intent": "transcription"})``
    then ``session.update``; audio in, one transcript per VAD turn, no responses."""

    model: str = _default("realtime", "default_transcription_model")
    #: ISO-639-1, or "" to detect
    language: str = ""
    prompt: str = ""
    #: "near_field", "far_field" or "" (off)
    noise_reduction: str = ""
    #: "server_vad", "semantic_vad" or "none" (the client commits)
    turn_detection: str = "server_vad"
    vad_threshold: float = field(default_factory=lambda: get_catalog().realtime.server_vad_defaults.threshold)
    prefix_padding_ms: int = field(default_factory=lambda: get_catalog().realtime.server_vad_defaults.prefix_padding_ms)
    silence_duration_ms: int = field(
        default_factory=lambda: get_catalog().realtime.server_vad_defaults.silence_duration_ms
    )
    eagerness: str = "auto"
    include_logprobs: bool = False
    #: words or phrases to guide the transcript (models with ``keywords: true``)
    keywords: tuple[str, ...] = ()
    #: possible languages, ISO-639-1 (models with ``languages: true``)
    languages: tuple[str, ...] = ()
    #: minimal..xhigh: how long the model waits before emitting text (``delay: true``); "" = default
    delay: str = ""

    kind = "realtime_transcription"
    endpoint = "/realtime"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        rt = cat.realtime
        out = [
            p
            for p in (
                _one_of("model", self.model, rt.transcription_models),
                _one_of("turn_detection", self.turn_detection, rt.turn_detection),
            )
            if p is not None
        ]
        if self.language and not _ISO_639_1.match(self.language):
            out.append(Problem("language", self.language, "must be an ISO-639-1 code such as 'en', or empty to detect"))
        if not _is_unicode(self.prompt):
            out.append(Problem("prompt", self.prompt[:40], "contains invalid Unicode"))
        if self.noise_reduction and self.noise_reduction not in rt.noise_reduction:
            out.append(_one_of("noise_reduction", self.noise_reduction, [*rt.noise_reduction, ""]))
        if self.turn_detection == "server_vad":
            if not 0.0 <= self.vad_threshold <= 1.0:
                out.append(Problem("vad_threshold", self.vad_threshold, "must be between 0 and 1"))
            if not 0 <= self.prefix_padding_ms <= 10_000:
                out.append(Problem("prefix_padding_ms", self.prefix_padding_ms, "must be between 0 and 10000"))
            if not 0 <= self.silence_duration_ms <= 10_000:
                out.append(Problem("silence_duration_ms", self.silence_duration_ms, "must be between 0 and 10000"))
        if self.turn_detection == "semantic_vad" and self.eagerness not in rt.semantic_eagerness:
            out.append(_one_of("eagerness", self.eagerness, rt.semantic_eagerness))
        out.extend(_live_transcription_problems(cat, self.model, self.keywords, self.languages, self.delay))
        return out

    def to_kwargs(self) -> dict[str, Any]:
        """``client.realtime.connect(**kwargs)``: a transcription session names no model in the URL."""
        return {"extra_query": {"intent": "transcription"}}

    def to_session(self) -> dict[str, Any]:
        """The ``session`` object for ``session.update`` (GA transcription shape)."""
        transcription: dict[str, Any] = {"model": self.model}
        if self.language:
            transcription["language"] = self.language
        if self.prompt:
            transcription["prompt"] = self.prompt
        transcription.update(_live_transcription_fields(self.keywords, self.languages, self.delay))
        turn: dict[str, Any] | None
        if self.turn_detection == "server_vad":
            turn = {
                "type": "server_vad",
                "threshold": self.vad_threshold,
                "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms,
            }
        elif self.turn_detection == "semantic_vad":
            turn = {"type": "semantic_vad", "eagerness": self.eagerness}
        else:
            turn = None
        session: dict[str, Any] = {
            "type": "transcription",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": get_catalog().realtime.pcm_rate},
                    "transcription": transcription,
                    "noise_reduction": {"type": self.noise_reduction} if self.noise_reduction else None,
                    "turn_detection": turn,
                }
            },
        }
        if self.include_logprobs:
            session["include"] = ["item.input_audio_transcription.logprobs"]
        return session


# ------------------------------------------------------- speech through the Realtime API


def read_aloud_instructions(style: str) -> str:
    """The response instructions that ask for a text word for word, then the user's style."""
    ra = get_catalog().realtime.read_aloud
    style = (style or "").strip()
    return f"{ra.instructions}\n\n{ra.style_prefix}{style}" if style else ra.instructions


@dataclass(frozen=True)
class RealtimeSpeechSpec(_SpecBase):
    """Text to speech through the Realtime API: the speech endpoint's successor.

    One session carries the voice, speed and output format (``session.update``); the text
    goes in as an out-of-band response (``conversation: "none"``) whose instructions ask for
    it word for word, followed by the style. The audio comes back as
    ``response.output_audio.delta`` and what was said as its transcript.
    """

    input: str
    voice: str = _default("realtime", "default_voice")
    model: str = _default("realtime", "default_model")
    #: the style (a vibe's instructions); the read-aloud request is put in front of it
    instructions: str = ""
    #: 0.25–1.5, 1.0 = normal pace
    speed: float = 1.0
    #: audio/pcm (24 kHz PCM16), audio/pcmu or audio/pcma (G.711 at 8 kHz)
    output_format: str = "audio/pcm"

    kind = "realtime_speech"
    endpoint = "/realtime"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        rt = cat.realtime
        out = _text_problems("input", self.input, cat.limits.speech_input_max_chars)
        if cat.canonical_realtime_model(self.model) is None:
            out.append(_one_of("model", self.model, list(cat.realtime_models)))
        if not _custom_voice(self.voice) and self.voice not in rt.voices:
            where = " (it is a speech endpoint voice)" if self.voice in cat.speech_voices else ""
            out.append(Problem("voice", self.voice, f"not a Realtime voice{where}; use one of: {', '.join(rt.voices)}"))
        if len(self.instructions or "") > cat.limits.instructions_max_chars:
            out.append(
                Problem(
                    "instructions",
                    f"<{len(self.instructions)} chars>",
                    f"at most {cat.limits.instructions_max_chars} characters",
                )
            )
        speed = cat.limits.realtime_speed
        if isinstance(self.speed, bool) or not isinstance(self.speed, int | float) or self.speed not in speed:
            out.append(Problem("speed", self.speed, f"must be between {speed} on the Realtime API (1.0 = normal)"))
        if (p := _one_of("output_format", self.output_format, rt.audio_formats)) is not None:
            out.append(p)
        return out

    @property
    def response_format(self) -> str:
        """What the run keeps: the audio as a WAV file (G.711 decoded to 16-bit)."""
        return "wav"

    @property
    def file_name(self) -> str:
        return "speech.wav"

    def to_kwargs(self) -> dict[str, Any]:
        """``client.realtime.connect(**kwargs)``."""
        return {"model": self.model}

    def to_session(self) -> dict[str, Any]:
        """The ``session`` object for ``session.update``: voice, speed and format, audio out."""
        fmt: dict[str, Any] = {"type": self.output_format}
        if self.output_format == "audio/pcm":
            fmt["rate"] = get_catalog().realtime.pcm_rate
        output: dict[str, Any] = {"format": fmt, "voice": _voice_value(self.voice)}
        if self.speed != 1.0:
            output["speed"] = self.speed
        return {"type": "realtime", "model": self.model, "output_modalities": ["audio"], "audio": {"output": output}}

    def to_response(self) -> dict[str, Any]:
        """The ``response`` object for ``response.create``: the text, out of band."""
        return {
            "conversation": "none",
            "output_modalities": ["audio"],
            "instructions": read_aloud_instructions(self.instructions),
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": self.input}]}],
        }


def _text_problems(name: str, text: Any, limit: int) -> list[Problem]:
    """A text to speak: present, within the limit, real Unicode, no NULs."""
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return [Problem(name, text, "must not be empty")]
    if len(text) > limit:
        return [Problem(name, f"<{len(text)} chars>", f"at most {limit} characters")]
    if not _is_unicode(text):
        return [Problem(name, "<text>", "contains invalid Unicode (an unpaired surrogate)")]
    if "\x00" in text:
        return [Problem(name, "<text>", "contains NUL characters")]
    return []


# ---------------------------------------------------------------------- chat audio


def chat_output_problems(
    modalities: list[str] | tuple[str, ...],
    voice: str | None,
    audio_format: str | None,
    catalog: Catalog | None = None,
    *,
    fields: tuple[str, str] = ("voice", "audio_format"),
) -> list[Problem]:
    """What a chat reply may be: modalities and, for a spoken reply, its voice and format.

    Shared by ``ChatAudioSpec`` and the embedded backend, so both refuse the same things;
    ``fields`` names the voice and format in the caller's terms (``audio.voice`` on the wire).
    """
    chat = (catalog or get_catalog()).chat_audio
    out: list[Problem] = []
    if tuple(modalities) not in (("text", "audio"), ("text",)):
        out.append(Problem("modalities", list(modalities), 'must be ["text", "audio"] or ["text"]'))
    if "audio" in modalities:
        voice_field, format_field = fields
        for p in (
            _one_of(voice_field, voice, list(chat.voices)),
            _one_of(format_field, audio_format, list(chat.formats)),
        ):
            if p is not None:
                out.append(p)
    return out


@dataclass(frozen=True)
class ChatAudioSpec(_SpecBase):
    """``POST /v1/chat/completions`` with audio in and/or out, one turn of a conversation.

    ``history`` holds the earlier turns, oldest first, as small dicts (so history and
    share links can store them): ``{"role": "user", "text": ..., "audio": <wav/mp3 path>}``
    and ``{"role": "assistant", "audio_id": ..., "transcript": ...}`` for a spoken reply
    (sent as ``{"audio": {"id": ...}}``, as the API expects, never resent as sound) or
    ``{"role": "assistant", "text": ...}`` for a text one. Sampling parameters left at
    None are not sent. A streamed spoken reply is PCM16 only.
    """

    prompt: str = ""
    model: str = _default("chat_audio", "default_model")
    voice: str = "alloy"
    audio_format: str = "wav"
    system: str = ""
    #: path to a wav/mp3 sent as an ``input_audio`` content part
    input_audio: str = ""
    #: ("text", "audio") for a spoken reply, ("text",) for text only
    modalities: tuple[str, ...] = ("text", "audio")
    history: tuple[dict[str, str], ...] = ()
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    max_completion_tokens: int | None = None
    stream: bool = False

    kind = "chat_audio"
    endpoint = "/chat/completions"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        chat = cat.chat_audio
        out: list[Problem] = []
        if not self.prompt.strip() and not self.input_audio:
            out.append(Problem("prompt", self.prompt, "give a text prompt, an input audio file, or both"))
        if self.model not in chat.models:
            out.append(_one_of("model", self.model, list(chat.models)))
        found = chat_output_problems(self.modalities, self.voice, self.audio_format, cat)
        out.extend(p for p in found if not (p.field == "voice" and _custom_voice(self.voice)))
        if self.stream and "audio" in self.modalities and self.audio_format not in chat.stream_formats:
            allowed = ", ".join(chat.stream_formats)
            out.append(Problem("audio_format", self.audio_format, f"a streamed spoken reply must be {allowed}"))
        if self.input_audio:
            out.extend(_input_audio_problems(self.input_audio, "input_audio", chat.input_formats))
        for name, bounds in chat.parameters.items():
            value = getattr(self, name)
            if value is not None and value not in bounds:
                out.append(Problem(name, value, f"must be between {bounds.min:g} and {bounds.max:g}"))
        out.extend(self._history_problems(cat))
        return out

    def _history_problems(self, cat: Catalog) -> list[Problem]:
        limit = int(cat.limits.audio_chat_turns_max)
        out: list[Problem] = []
        users = sum(1 for turn in self.history if turn.get("role") == "user") + 1
        if users > limit:
            out.append(Problem("history", users, f"at most {limit} user turns per conversation; start a new one"))
        for i, turn in enumerate(self.history):
            where = f"history[{i}]"
            role = turn.get("role")
            if role == "user":
                if not str(turn.get("text") or "").strip() and not turn.get("audio"):
                    out.append(Problem(where, turn, "a user turn needs text, audio or both"))
                if turn.get("audio"):
                    out.extend(_input_audio_problems(turn["audio"], f"{where}.audio", cat.chat_audio.input_formats))
            elif role == "assistant":
                if not turn.get("audio_id") and not str(turn.get("text") or "").strip():
                    out.append(Problem(where, turn, "an assistant turn needs the audio_id of a spoken reply, or text"))
            else:
                out.append(_one_of(f"{where}.role", role, ["user", "assistant"]))
        return out

    def _user_message(self, text: str, audio_path: str) -> dict[str, Any]:
        if not audio_path:
            return {"role": "user", "content": text}
        path = Path(audio_path)
        parts: list[dict[str, Any]] = []
        if text:
            parts.append({"type": "text", "text": text})
        parts.append(
            {
                "type": "input_audio",
                "input_audio": {
                    # a missing file (a history entry whose audio is gone) renders, and fails validation
                    "data": base64.b64encode(path.read_bytes() if path.is_file() else b"").decode("ascii"),
                    "format": path.suffix.lower().lstrip("."),
                },
            }
        )
        return {"role": "user", "content": parts}

    def messages(self) -> list[dict[str, Any]]:
        msgs: list[dict[str, Any]] = []
        if self.system:
            msgs.append({"role": "system", "content": self.system})
        for turn in self.history:
            if turn.get("role") == "user":
                msgs.append(self._user_message(str(turn.get("text") or ""), str(turn.get("audio") or "")))
            elif turn.get("audio_id"):
                msgs.append({"role": "assistant", "audio": {"id": turn["audio_id"]}})
            else:
                msgs.append({"role": "assistant", "content": str(turn.get("text") or "")})
        msgs.append(self._user_message(self.prompt, self.input_audio))
        return msgs

    @property
    def audio_files(self) -> list[str]:
        """Every audio file the request reads, in the order it sends them (each once)."""
        paths = [str(t["audio"]) for t in self.history if t.get("role") == "user" and t.get("audio")]
        if self.input_audio:
            paths.append(self.input_audio)
        return list(dict.fromkeys(paths))

    def to_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model, "modalities": list(self.modalities)}
        if "audio" in self.modalities:
            kw["audio"] = {"voice": _voice_value(self.voice), "format": self.audio_format}
        kw["messages"] = self.messages()
        for name in get_catalog().chat_audio.parameters:
            if getattr(self, name) is not None:
                kw[name] = getattr(self, name)
        if self.stream:
            kw["stream"] = True
            kw["stream_options"] = {"include_usage": True}
        return kw

    @property
    def file_name(self) -> str:
        return f"reply.{'pcm' if self.audio_format == 'pcm16' else self.audio_format}"


def _input_audio_problems(value: str, name: str, formats: list[str]) -> list[Problem]:
    path = Path(value)
    ext = path.suffix.lower().lstrip(".")
    if not path.is_file():
        return [Problem(name, value, "no such file")]
    if ext not in formats:
        return [Problem(name, path.name, f"format must be one of: {', '.join(formats)}")]
    return []


Spec = (
    SpeechSpec
    | TranscriptionSpec
    | RealtimeSessionSpec
    | ChatAudioSpec
    | RealtimeTranscriptionSpec
    | RealtimeSpeechSpec
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
