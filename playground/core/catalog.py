"""The one reader of ``presets/catalog.yaml``: models, voices, formats, limits, prices, lifecycle.

Nothing else in the code types a voice or model list; it asks the catalog. The YAML is
loaded into typed pydantic models (strict, unknown keys refused) so a typo in the data
fails loudly with the path of the bad key rather than as a ``KeyError`` deep inside a
request. Each model entry also carries its lifecycle (shutdown date and replacement);
``playground.core.lifecycle`` turns that and a clock into current / deprecated / retired.

The typed models of each section are in ``catalog_schema`` (re-exported here); this module
loads and cross-checks the file and holds ``Catalog``, the one accessor the code uses.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from playground.core.catalog_schema import (
    Alias,
    AudioFormat,
    AudioTokenRates,
    CatalogFile,
    Chained,
    ChatAudioSection,
    ChatModel,
    ChatSection,
    Limits,
    LocalRealtime,
    LocalSection,
    LocalTranslation,
    LocalVoice,
    LocalWhisper,
    ModelEntry,
    Names,
    PcmFormat,
    Price,
    Range,
    ReadAloud,
    RealtimeModel,
    RealtimeSection,
    SemanticWait,
    SpeechModel,
    SpeechSection,
    TranscriptionModel,
    TranscriptionSection,
    TranslationSection,
    VadDefaults,
    Voice,
)
from playground.core.errors import CatalogError

__all__ = [
    "Alias",
    "AudioFormat",
    "AudioTokenRates",
    "Catalog",
    "CatalogFile",
    "Chained",
    "ChatAudioSection",
    "ChatModel",
    "ChatSection",
    "Limits",
    "LocalRealtime",
    "LocalSection",
    "LocalTranslation",
    "LocalVoice",
    "LocalWhisper",
    "ModelEntry",
    "Names",
    "PcmFormat",
    "Price",
    "Range",
    "ReadAloud",
    "RealtimeModel",
    "RealtimeSection",
    "SemanticWait",
    "SpeechModel",
    "SpeechSection",
    "Surface",
    "TranscriptionModel",
    "TranscriptionSection",
    "TranslationSection",
    "VadDefaults",
    "Voice",
    "default_catalog_path",
    "get_catalog",
    "load_catalog",
    "presets_dir",
]


@dataclass(frozen=True)
class Catalog:
    """Typed view of the catalog file. Lookups accept model aliases (dated snapshots)."""

    path: Path
    file: CatalogFile

    # -- sections ----------------------------------------------------------------
    @property
    def limits(self) -> Limits:
        return self.file.limits

    @property
    def realtime(self) -> RealtimeSection:
        return self.file.realtime

    @property
    def chat(self) -> ChatSection:
        return self.file.chat

    @property
    def chat_audio(self) -> ChatAudioSection:
        return self.file.chat_audio

    @property
    def transcription(self) -> TranscriptionSection:
        return self.file.transcription

    @property
    def local(self) -> LocalSection:
        if self.file.local is None:
            raise CatalogError(f"{self.path}: local: missing (the embedded backend needs it)")
        return self.file.local

    @property
    def prices(self) -> dict[str, dict[str, float]]:
        return self.file.prices

    # -- the names the rest of the code grew up with -------------------------------
    @property
    def speech_models(self) -> dict[str, SpeechModel]:
        return self.file.speech.models

    @functools.cached_property
    def speech_voices(self) -> dict[str, Voice]:
        return {v.id: v for v in self.file.speech.voices}

    @property
    def speech_formats(self) -> dict[str, AudioFormat]:
        return self.file.speech.formats

    @functools.cached_property
    def speech_defaults(self) -> dict[str, str]:
        s = self.file.speech
        return {"model": s.default_model, "voice": s.default_voice, "format": s.default_format}

    @property
    def pcm_sample_rate(self) -> int:
        return self.file.speech.pcm.sample_rate

    @property
    def transcription_models(self) -> dict[str, TranscriptionModel]:
        """Every transcription model, file and realtime-only (see ``file_transcription_models``)."""
        return self.file.transcription.models

    @functools.cached_property
    def file_transcription_models(self) -> dict[str, TranscriptionModel]:
        """The models ``/v1/audio/transcriptions`` takes."""
        return {k: m for k, m in self.file.transcription.models.items() if m.file}

    @property
    def transcription_input_formats(self) -> tuple[str, ...]:
        return self.file.transcription.input_formats

    @property
    def transcription_response_formats(self) -> tuple[str, ...]:
        return self.file.transcription.response_formats

    @property
    def transcription_default_model(self) -> str:
        return self.file.transcription.default_model

    @property
    def round_trip_model(self) -> str:
        """What the playground transcribes its own speech back with (Compare's round trip)."""
        return self.file.transcription.round_trip_model

    @property
    def realtime_models(self) -> dict[str, RealtimeModel]:
        return self.file.realtime.models

    @property
    def translation(self) -> TranslationSection:
        return self.file.translation

    @property
    def translation_models(self) -> dict[str, RealtimeModel]:
        return self.file.translation.models

    def translation_model(self, model: str) -> RealtimeModel | None:
        return _lookup(self.translation_models, model)

    @property
    def chat_models(self) -> dict[str, ChatModel]:
        return self.file.chat.models

    @property
    def chat_audio_models(self) -> dict[str, ChatModel]:
        return self.file.chat_audio.models

    # -- lookups -----------------------------------------------------------------
    def speech_model(self, model: str) -> SpeechModel | None:
        return _lookup(self.speech_models, model)

    def transcription_model(self, model: str) -> TranscriptionModel | None:
        return _lookup(self.transcription_models, model)

    def realtime_model(self, model: str) -> RealtimeModel | None:
        return _lookup(self.realtime_models, model)

    def canonical_realtime_model(self, model: str) -> str | None:
        found = _lookup(self.realtime_models, model)
        return found.id if found is not None else None

    def model_entry(self, model: str) -> ModelEntry | None:
        """The entry for a model name in any section (the first that defines it)."""
        for table in self.model_tables().values():
            found = _lookup(table, model)
            if found is not None:
                return found
        return None

    def model_tables(self) -> dict[str, dict[str, Any]]:
        """Each API surface's model table, keyed by surface name."""
        return {
            "speech": self.speech_models,
            "transcription": self.transcription_models,
            "realtime": self.realtime_models,
            "translation": self.translation_models,
            "chat_audio": self.chat_audio_models,
            "chat": self.chat_models,
        }

    def price(self, model: str) -> dict[str, float]:
        """Price entry for a model or its alias; empty when unknown (cost shown as n/a)."""
        found = self.model_entry(model)
        return self.prices.get(found.id if found is not None else model, {})

    @property
    def voice_ids(self) -> list[str]:
        return list(self.speech_voices)

    @property
    def realtime_voices(self) -> list[str]:
        return list(self.realtime.voices)


def _lookup(table: dict[str, Any], model: str) -> Any:
    if model in table:
        return table[model]
    for entry in table.values():
        if model in entry.alias_ids:
            return entry
    return None


# -- loading ---------------------------------------------------------------------

_KIND_NAMES = {
    "int_type": "int",
    "int_parsing": "int",
    "float_type": "number",
    "float_parsing": "number",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "string_type": "str",
    "dict_type": "mapping",
    "model_type": "mapping",
    "list_type": "list",
    "tuple_type": "list",
    "date_type": "date (YYYY-MM-DD)",
}


def _explain(error: dict[str, Any]) -> tuple[str, str]:
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    kind = error["type"]
    if kind == "missing":
        return where, "missing"
    if kind == "extra_forbidden":
        return where, "unknown key"
    if kind in _KIND_NAMES:
        return where, f"expected {_KIND_NAMES[kind]}, got {error.get('input')!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return where, message


def _check_references(cat: Catalog) -> None:
    """Cross-section facts pydantic cannot see: defaults defined, local mapping complete."""
    f = cat.file

    def fail(where: str, why: str) -> CatalogError:
        return CatalogError(f"{cat.path}: {where}: {why}")

    seen: set[str] = set()
    for i, v in enumerate(f.speech.voices):
        if v.id in seen:
            raise fail(f"speech.voices[{i}]", f"duplicate voice {v.id!r}")
        seen.add(v.id)
    for key, table in (("model", f.speech.models), ("voice", cat.speech_voices), ("format", f.speech.formats)):
        value = getattr(f.speech, f"default_{key}")
        if value not in table:
            raise fail(f"speech.default_{key}", f"{value!r} is not defined")
    for m in f.transcription.models.values():
        unknown = set(m.response_formats) - set(f.transcription.response_formats)
        if unknown:
            raise fail(f"transcription.models.{m.id}", f"unknown response formats {sorted(unknown)}")
    for key in ("default_model", "round_trip_model"):
        value = getattr(f.transcription, key)
        if value not in cat.file_transcription_models:
            raise fail(f"transcription.{key}", f"{value!r} is not a defined transcription model")
    for mid in f.realtime.transcription_models:
        if mid not in f.transcription.models:
            raise fail("realtime.transcription_models", f"{mid!r} is not a defined transcription model")
    if f.realtime.default_transcription_model not in f.realtime.transcription_models:
        raise fail("realtime.default_transcription_model", "must be one of realtime.transcription_models")
    if f.translation.transcription_model not in f.realtime.transcription_models:
        raise fail("translation.transcription_model", "must be one of realtime.transcription_models")
    for section, table in (
        ("realtime", f.realtime.models),
        ("chat", f.chat.models),
        ("chat_audio", f.chat_audio.models),
    ):
        default = getattr(f, section).default_model
        if default not in table:
            raise fail(f"{section}.default_model", f"{default!r} is not defined")
    for surface, table in cat.model_tables().items():
        for entry in table.values():
            if entry.replacement and cat.model_entry(entry.replacement) is None:
                raise fail(f"{surface}.models.{entry.id}.replacement", f"{entry.replacement!r} is not defined")
    if f.local is not None:
        _check_local(cat, fail)


def _check_local(cat: Catalog, fail: Any) -> None:
    """The embedded backend's mapping must cover every voice and transcription model."""
    local = cat.local
    missing = sorted(set(cat.speech_voices) - set(local.voices))
    if missing:
        raise fail("local.voices", f"no local voice for {missing}")
    if local.translation.voice not in local.voices:
        raise fail("local.translation.voice", f"{local.translation.voice!r} is not a local voice")
    missing = sorted(set(cat.transcription_models) - set(local.transcription))
    if missing:
        raise fail("local.transcription", f"no local model for {missing}")
    if local.hearing not in cat.transcription_models:
        raise fail("local.hearing", f"{local.hearing!r} is not a defined transcription model")
    if local.realtime.hearing not in cat.transcription_models:
        raise fail("local.realtime.hearing", f"{local.realtime.hearing!r} is not a defined transcription model")


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Read and check a catalog file; raises ``CatalogError`` naming the bad key."""
    path = Path(path) if path is not None else default_catalog_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"{path}: cannot read catalog: {e}") from e
    except yaml.YAMLError as e:
        raise CatalogError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: top level: expected a mapping, got {type(data).__name__}")
    try:
        parsed = CatalogFile.model_validate(data)
    except ValidationError as e:
        where, why = _explain(e.errors()[0])
        raise CatalogError(f"{path}: {where}: {why}") from None
    cat = Catalog(path=path, file=parsed)
    _check_references(cat)
    return cat


def default_catalog_path() -> Path:
    """$PLAYGROUND_CATALOG, else ``presets/catalog.yaml`` (source tree or installed copy)."""
    override = os.environ.get("PLAYGROUND_CATALOG")
    if override:
        return Path(override)
    return presets_dir() / "catalog.yaml"


def presets_dir() -> Path:
    """The ``presets/`` folder: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "presets", here / "presets"):
        if (candidate / "catalog.yaml").is_file():
            return candidate
    raise CatalogError(f"presets/catalog.yaml not found near {here}")


@functools.cache
def get_catalog() -> Catalog:
    """The process-wide catalog, loaded once."""
    return load_catalog()


Surface = Literal["speech", "transcription", "realtime", "chat_audio", "chat"]
