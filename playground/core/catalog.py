"""The one reader of ``presets/catalog.yaml``: models, voices, formats, limits, prices.

Nothing else in the code types a voice or model list; it asks the catalog. The YAML is
checked on load so a typo in the data fails loudly with the path of the bad key rather
than as a ``KeyError`` deep inside a request.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from playground.core.errors import CatalogError

__all__ = [
    "Catalog",
    "Range",
    "SpeechModel",
    "TranscriptionModel",
    "Voice",
    "default_catalog_path",
    "get_catalog",
    "load_catalog",
]


@dataclass(frozen=True, slots=True)
class Range:
    min: float
    max: float
    default: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.min <= value <= self.max

    def __str__(self) -> str:
        return f"{self.min:g} and {self.max:g}"


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    character: str
    expressive: bool


@dataclass(frozen=True, slots=True)
class SpeechModel:
    id: str
    label: str
    instructions: bool
    stream_formats: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TranscriptionModel:
    id: str
    label: str
    response_formats: tuple[str, ...]
    stream: bool
    logprobs: bool
    timestamp_granularities: bool = False
    translation: bool = False
    keywords: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AudioFormat:
    id: str
    mime: str
    ext: str
    label: str


@dataclass(frozen=True)
class Catalog:
    """Typed view of the catalog file. Lookups accept model aliases (dated snapshots)."""

    path: Path
    speech_input_max_chars: int
    instructions_max_chars: int
    speed: Range
    realtime_speed: Range
    transcription_temperature: Range
    upload_max_bytes: int
    realtime_max_output_tokens: int
    audio_max_seconds: int
    json_body_max_bytes: int
    chat_body_max_bytes: int
    chat_max_tokens: int
    llm_queue_max: int
    recent_runs_max: int
    browser_sessions_max: int
    history_max_bytes: int
    history_max_runs: int
    realtime_sessions_max: int
    realtime_event_max_bytes: int
    realtime_buffer_max_seconds: int
    realtime_items_max: int
    realtime_kept_audio_seconds: int
    realtime_outbox_max_events: int
    realtime_session_minutes: int
    speech_models: dict[str, SpeechModel]
    speech_voices: dict[str, Voice]
    speech_formats: dict[str, AudioFormat]
    speech_defaults: dict[str, str]
    pcm_sample_rate: int
    transcription_models: dict[str, TranscriptionModel]
    transcription_input_formats: tuple[str, ...]
    transcription_response_formats: tuple[str, ...]
    transcription_default_model: str
    #: what the playground transcribes its own speech back with (Compare's round trip)
    round_trip_model: str
    realtime: dict[str, Any]
    realtime_models: dict[str, dict[str, Any]]
    chat_audio: dict[str, Any]
    prices: dict[str, dict[str, float]]
    raw: dict[str, Any] = field(repr=False)

    # -- lookups -----------------------------------------------------------------
    def speech_model(self, model: str) -> SpeechModel | None:
        return _lookup(self.speech_models, model)

    def transcription_model(self, model: str) -> TranscriptionModel | None:
        return _lookup(self.transcription_models, model)

    def canonical_realtime_model(self, model: str) -> str | None:
        for mid, info in self.realtime_models.items():
            if model == mid or model in info.get("aliases", ()):
                return mid
        return None

    def price(self, model: str) -> dict[str, float]:
        """Price entry for a model or its alias; empty when unknown (cost shown as n/a)."""
        for table in (self.speech_models, self.transcription_models):
            found = _lookup(table, model)
            if found is not None:
                return self.prices.get(found.id, {})
        canonical = self.canonical_realtime_model(model) or model
        return self.prices.get(canonical, {})

    @property
    def voice_ids(self) -> list[str]:
        return list(self.speech_voices)

    @property
    def realtime_voices(self) -> list[str]:
        return list(self.realtime["voices"])


def _lookup(table: dict[str, Any], model: str) -> Any:
    if model in table:
        return table[model]
    for entry in table.values():
        if model in entry.aliases:
            return entry
    return None


# -- loading ---------------------------------------------------------------------


class _Reader:
    """Walks the YAML with a path so every error names the exact key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, why: str) -> CatalogError:
        return CatalogError(f"{self.path}: {where}: {why}")

    def mapping(self, node: Any, where: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(where, f"expected a mapping, got {type(node).__name__}")
        return node

    def get(self, node: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if key not in node:
            raise self.fail(f"{where}.{key}" if where else key, "missing")
        value = node[key]
        # bool is an int subclass; never accept it where a number is meant
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            names = "/".join(t.__name__ for t in _as_tuple(kind))
            raise self.fail(f"{where}.{key}" if where else key, f"expected {names}, got {value!r}")
        return value

    def str_list(self, node: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        items = self.get(node, key, where, list)
        if not items or not all(isinstance(i, str) and i for i in items):
            raise self.fail(f"{where}.{key}", "expected a non-empty list of names")
        return tuple(items)

    def range(self, node: dict[str, Any], key: str, where: str) -> Range:
        r = self.mapping(self.get(node, key, where, dict), f"{where}.{key}")
        lo, hi = (self.get(r, k, f"{where}.{key}", int | float) for k in ("min", "max"))
        default = r.get("default", lo)
        if not lo <= default <= hi:
            raise self.fail(f"{where}.{key}", f"default {default} outside {lo}..{hi}")
        return Range(float(lo), float(hi), float(default))


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    if isinstance(kind, tuple):
        return kind
    args = getattr(kind, "__args__", None)  # int | float unions
    return tuple(args) if args else (kind,)


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Read and check a catalog file; raises ``CatalogError`` naming the bad key."""
    path = Path(path) if path is not None else default_catalog_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"{path}: cannot read catalog: {e}") from e
    except yaml.YAMLError as e:
        raise CatalogError(f"{path}: not valid YAML: {e}") from e
    r = _Reader(path)
    data = r.mapping(data, "top level")

    limits = r.mapping(r.get(data, "limits", "", dict), "limits")
    speech = r.mapping(r.get(data, "speech", "", dict), "speech")
    trans = r.mapping(r.get(data, "transcription", "", dict), "transcription")
    realtime = r.mapping(r.get(data, "realtime", "", dict), "realtime")
    chat = r.mapping(r.get(data, "chat_audio", "", dict), "chat_audio")
    prices = r.mapping(r.get(data, "prices", "", dict), "prices")

    speech_models = {}
    for mid, m in r.mapping(r.get(speech, "models", "speech", dict), "speech.models").items():
        where = f"speech.models.{mid}"
        m = r.mapping(m, where)
        speech_models[mid] = SpeechModel(
            id=mid,
            label=r.get(m, "label", where, str),
            instructions=r.get(m, "instructions", where, bool),
            stream_formats=r.str_list(m, "stream_formats", where),
            aliases=tuple(m.get("aliases", ())),
        )

    voices = {}
    for i, v in enumerate(r.get(speech, "voices", "speech", list)):
        where = f"speech.voices[{i}]"
        v = r.mapping(v, where)
        vid = r.get(v, "id", where, str)
        if vid in voices:
            raise r.fail(where, f"duplicate voice {vid!r}")
        voices[vid] = Voice(vid, r.get(v, "character", where, str), bool(v.get("expressive", False)))

    formats = {}
    for fid, f in r.mapping(r.get(speech, "formats", "speech", dict), "speech.formats").items():
        where = f"speech.formats.{fid}"
        f = r.mapping(f, where)
        formats[fid] = AudioFormat(fid, r.get(f, "mime", where, str), r.get(f, "ext", where, str), f.get("label", fid))

    defaults = {k: r.get(speech, f"default_{k}", "speech", str) for k in ("model", "voice", "format")}
    for key, table in (("model", speech_models), ("voice", voices), ("format", formats)):
        if defaults[key] not in table:
            raise r.fail(f"speech.default_{key}", f"{defaults[key]!r} is not defined")

    t_models = {}
    for mid, m in r.mapping(r.get(trans, "models", "transcription", dict), "transcription.models").items():
        where = f"transcription.models.{mid}"
        m = r.mapping(m, where)
        t_models[mid] = TranscriptionModel(
            id=mid,
            label=r.get(m, "label", where, str),
            response_formats=r.str_list(m, "response_formats", where),
            stream=r.get(m, "stream", where, bool),
            logprobs=r.get(m, "logprobs", where, bool),
            timestamp_granularities=bool(m.get("timestamp_granularities", False)),
            translation=bool(m.get("translation", False)),
            keywords=bool(m.get("keywords", False)),
            aliases=tuple(m.get("aliases", ())),
        )
    t_formats = r.str_list(trans, "response_formats", "transcription")
    for m in t_models.values():
        unknown = set(m.response_formats) - set(t_formats)
        if unknown:
            raise r.fail(f"transcription.models.{m.id}", f"unknown response formats {sorted(unknown)}")

    for key in ("default_model", "round_trip_model"):
        if r.get(trans, key, "transcription", str) not in t_models:
            raise r.fail(f"transcription.{key}", f"{trans[key]!r} is not a defined transcription model")
    round_trip = trans["round_trip_model"]

    rt_models = r.mapping(r.get(realtime, "models", "realtime", dict), "realtime.models")
    r.str_list(realtime, "voices", "realtime")
    r.str_list(chat, "formats", "chat_audio")
    r.str_list(chat, "voices", "chat_audio")
    if not set(r.str_list(chat, "stream_formats", "chat_audio")) <= set(chat["formats"]):
        raise r.fail("chat_audio.stream_formats", "every streamed format must be one of chat_audio.formats")
    for name, bounds in r.mapping(r.get(chat, "parameters", "chat_audio", dict), "chat_audio.parameters").items():
        b = r.mapping(bounds, f"chat_audio.parameters.{name}")
        if not all(isinstance(b.get(k), int | float) for k in ("min", "max", "default")) or not (
            b["min"] <= b["default"] <= b["max"]
        ):
            raise r.fail(f"chat_audio.parameters.{name}", "needs numbers min <= default <= max")

    for model, entry in prices.items():
        for k, v in r.mapping(entry, f"prices.{model}").items():
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise r.fail(f"prices.{model}.{k}", f"expected a non-negative number, got {v!r}")

    if "local" in data:
        _check_local(r, r.mapping(data["local"], "local"), set(voices), set(t_models))

    pcm = r.mapping(r.get(speech, "pcm", "speech", dict), "speech.pcm")
    return Catalog(
        path=path,
        speech_input_max_chars=r.get(limits, "speech_input_max_chars", "limits", int),
        instructions_max_chars=r.get(limits, "instructions_max_chars", "limits", int),
        speed=r.range(limits, "speed", "limits"),
        realtime_speed=r.range(limits, "realtime_speed", "limits"),
        transcription_temperature=r.range(limits, "transcription_temperature", "limits"),
        upload_max_bytes=r.get(limits, "upload_max_bytes", "limits", int),
        realtime_max_output_tokens=r.get(limits, "realtime_max_output_tokens", "limits", int),
        audio_max_seconds=r.get(limits, "audio_max_seconds", "limits", int),
        json_body_max_bytes=r.get(limits, "json_body_max_bytes", "limits", int),
        chat_body_max_bytes=r.get(limits, "chat_body_max_bytes", "limits", int),
        chat_max_tokens=r.get(limits, "chat_max_tokens", "limits", int),
        llm_queue_max=r.get(limits, "llm_queue_max", "limits", int),
        recent_runs_max=r.get(limits, "recent_runs_max", "limits", int),
        browser_sessions_max=r.get(limits, "browser_sessions_max", "limits", int),
        history_max_bytes=r.get(limits, "history_max_bytes", "limits", int),
        history_max_runs=r.get(limits, "history_max_runs", "limits", int),
        realtime_sessions_max=r.get(limits, "realtime_sessions_max", "limits", int),
        realtime_event_max_bytes=r.get(limits, "realtime_event_max_bytes", "limits", int),
        realtime_buffer_max_seconds=r.get(limits, "realtime_buffer_max_seconds", "limits", int),
        realtime_items_max=r.get(limits, "realtime_items_max", "limits", int),
        realtime_kept_audio_seconds=r.get(limits, "realtime_kept_audio_seconds", "limits", int),
        realtime_outbox_max_events=r.get(limits, "realtime_outbox_max_events", "limits", int),
        realtime_session_minutes=r.get(limits, "realtime_session_minutes", "limits", int),
        speech_models=speech_models,
        speech_voices=voices,
        speech_formats=formats,
        speech_defaults=defaults,
        pcm_sample_rate=r.get(pcm, "sample_rate", "speech.pcm", int),
        transcription_models=t_models,
        transcription_input_formats=r.str_list(trans, "input_formats", "transcription"),
        transcription_response_formats=t_formats,
        transcription_default_model=r.get(trans, "default_model", "transcription", str),
        round_trip_model=round_trip,
        realtime=realtime,
        realtime_models={k: r.mapping(v, f"realtime.models.{k}") for k, v in rt_models.items()},
        chat_audio=chat,
        prices={k: dict(v) for k, v in prices.items()},
        raw=data,
    )


def _check_local(r: _Reader, local: dict[str, Any], voices: set[str], t_models: set[str]) -> None:
    """The embedded backend's mapping must cover every voice and transcription model."""
    table = r.mapping(r.get(local, "voices", "local", dict), "local.voices")
    missing = sorted(voices - set(table))
    if missing:
        raise r.fail("local.voices", f"no local voice for {missing}")
    for name, entry in table.items():
        where = f"local.voices.{name}"
        entry = r.mapping(entry, where)
        r.get(entry, "engine", where, str)
        r.get(entry, "speaker", where, str)
        for key in ("pitch", "formant", "intonation", "breath", "pace"):
            if key in entry:
                value = r.get(entry, key, where, int | float)
                if key in ("intonation", "pace") and value <= 0:
                    raise r.fail(f"{where}.{key}", f"must be positive, got {value!r}")
    trans = r.mapping(r.get(local, "transcription", "local", dict), "local.transcription")
    missing = sorted(t_models - set(trans))
    if missing:
        raise r.fail("local.transcription", f"no local model for {missing}")
    for name, entry in trans.items():
        r.get(r.mapping(entry, f"local.transcription.{name}"), "model", f"local.transcription.{name}", str)
    r.str_list(local, "chat_models", "local")
    if r.get(local, "hearing", "local", str) not in t_models:
        raise r.fail("local.hearing", f"{local['hearing']!r} is not a defined transcription model")


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
