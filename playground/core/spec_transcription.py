"""The file transcription spec (``/v1/audio/transcriptions`` and ``/translations``).

The file endpoint's rules, per model: response formats, streaming, log-probabilities,
timestamps, keywords and languages, known speakers, the upload itself. Re-exported by
``specs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem
from playground.core.spec_base import (
    _ISO_639_1,
    KNOWN_SPEAKERS_MAX,
    _default,
    _list_problems,
    _one_of,
    _SpecBase,
    _transcription_field_problems,
)


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
