"""Realtime API session specs: a conversation (``RealtimeSessionSpec``) and live
transcription (``RealtimeTranscriptionSpec``), which share the input transcription's
keywords, languages and delay. Re-exported by ``specs``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem
from playground.core.spec_base import (
    _ISO_639_1,
    DELAYS,
    EFFORTS,
    TRUNCATIONS,
    _custom_voice,
    _default,
    _is_unicode,
    _one_of,
    _SpecBase,
    _transcription_field_problems,
    _voice_value,
)


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
