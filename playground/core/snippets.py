"""Render a request spec as runnable Python, JavaScript or curl.

The snippet is built from ``spec.to_kwargs()``, the same dict the runner passes to the
SDK, so what a user copies makes exactly the request the playground made. Keys always
come from the environment; a ``base_url`` appears only for non-OpenAI servers.

Each script is a Jinja2 template, one per API and language, in ``templates/``
(``speech.py.j2``, ``transcription.sh.j2``, ...; files starting with ``_`` are the parts
several share). This module picks the template and hands it the spec's values; the
templates hold the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playground.core.catalog import get_catalog
from playground.core.lifecycle import code_warning
from playground.core.snippet_templates import LOCAL_KEY, OPENAI_BASE, Code, Language, realtime_speech, render_template
from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    RealtimeSpeechSpec,
    RealtimeTranscriptionSpec,
    RealtimeTranslationSpec,
    Spec,
    SpeechSpec,
    TranscriptionSpec,
)

__all__ = [
    "LANGUAGES",
    "LOCAL_KEY",
    "OPENAI_BASE",
    "Language",
    "form_fields",
    "lifecycle_warning",
    "render",
    "render_all",
]

LANGUAGES: tuple[Language, ...] = ("python", "js", "curl")

#: what the realtime session scripts say first
_GREETING = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello! Who are you?"}]}
#: the file a realtime transcription script plays when the run had none
_TRANSCRIBE_WAV = "recording.wav"


def _form_value(value: Any) -> str:
    """How the SDK writes a scalar into a multipart form field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------- speech


def _speech(spec: SpeechSpec, streaming: bool) -> dict[str, Any]:
    return {
        "kwargs": spec.to_kwargs(),
        "out": spec.file_name,
        "sse": spec.stream_format == "sse",
        "streaming": streaming,
    }


# ----------------------------------------------------------------- transcription


def _js_form(value: Any) -> Any:
    """A multipart value whose JS spelling sends the same text as the Python SDK.

    The npm SDK writes numbers with ``String(n)``: ``0.0`` goes out as ``"0"`` and
    ``1e-05`` as ``"0.00001"``, where the runner sends ``"0.0"`` and ``"1e-05"``. Such
    floats are rendered as that text; other values (shortest round-trip digits in both
    languages) stay numbers.
    """
    if isinstance(value, dict):
        return {k: _js_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_js_form(v) for v in value]
    if isinstance(value, float) and (value.is_integer() or "e" in repr(value)):
        return _form_value(value)
    return value


def form_fields(spec: TranscriptionSpec) -> list[tuple[str, str]]:
    """The multipart fields (besides ``file``) as the SDK sends them."""
    out: list[tuple[str, str]] = []
    for key, value in spec.to_kwargs().items():
        if isinstance(value, list):
            out += [(f"{key}[]", _form_value(v)) for v in value]
        elif isinstance(value, dict):
            out += [(f"{key}[{k}]", _form_value(v)) for k, v in value.items()]
        else:
            out.append((key, _form_value(value)))
    return out


def _transcription(spec: TranscriptionSpec, language: Language, file_path: str | None) -> dict[str, Any]:
    name = file_path or Path(spec.file).name
    kwargs = spec.to_kwargs()
    if language == "python":
        kwargs = {"file": Code("audio_file"), **kwargs}
    elif language == "js":
        kwargs = {"file": Code(f"fs.createReadStream({json.dumps(name)})"), **_js_form(kwargs)}
    return {
        "file_name": name,
        "kwargs": kwargs,
        "fields": form_fields(spec),
        "resource": "translations" if spec.task == "translate" else "transcriptions",
        "response_format": spec.response_format,
        "granularities": spec.timestamp_granularities,
        "stream": spec.stream,
    }


# -------------------------------------------------------------------- chat audio


def _chat_files(spec: ChatAudioSpec, file_path: str | None) -> list[tuple[str, str]]:
    """(path in the spec, name the snippet reads) for each audio file the request sends.

    ``file_path`` renames the current turn's file (the upload's own name); earlier
    turns' files keep their names (the Audio chat tab saves them as ``turn-N.<ext>``).
    """
    names = {p: Path(p).name for p in spec.audio_files}
    if spec.input_audio and file_path:
        names[spec.input_audio] = file_path
    return list(names.items())


def _chat_kwargs(spec: ChatAudioSpec, variables: dict[str, Any]) -> dict[str, Any]:
    """``to_kwargs()`` with each audio file's base64 replaced by its variable."""
    kw = spec.to_kwargs()
    sent = [str(t["audio"]) for t in spec.history if t.get("role") == "user" and t.get("audio")]
    sent += [spec.input_audio] if spec.input_audio else []
    parts = [
        part
        for msg in kw["messages"]
        if isinstance(msg.get("content"), list)
        for part in msg["content"]
        if part["type"] == "input_audio"
    ]
    for part, path in zip(parts, sent, strict=True):
        part["input_audio"]["data"] = variables[path]
    return kw


def _heredoc_json(kwargs: dict[str, Any], variables: list[str]) -> str:
    """The request as JSON in an unquoted heredoc: ``$VAR`` for each ``__VAR__`` placeholder,
    everything else the shell would touch escaped."""
    body = json.dumps(kwargs, indent=2, ensure_ascii=False)
    body = body.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
    for var in variables:
        body = body.replace(f"__{var}__", f"${var}")
    return body


def _chat(spec: ChatAudioSpec, language: Language, file_path: str | None) -> dict[str, Any]:
    files = _chat_files(spec, file_path)
    base = {"python": "audio_b64", "js": "audioB64", "curl": "AUDIO_B64"}[language]
    names = {p: base if len(files) == 1 else f"{base}_{i}" for i, (p, _) in enumerate(files, 1)}
    context = {
        "files": [(name, names[p]) for p, name in files],
        "modalities": spec.modalities,
        "history": bool(spec.history),
        "stream": spec.stream,
        "out": "reply.wav" if spec.stream else spec.file_name,
    }
    if language != "curl":
        return {**context, "kwargs": _chat_kwargs(spec, {p: Code(v) for p, v in names.items()})}
    placeholders = _chat_kwargs(spec, {p: f"__{v}__" for p, v in names.items()})
    return {**context, "kwargs": spec.to_kwargs(), "body": _heredoc_json(placeholders, list(names.values()))}


# ---------------------------------------------------------------------- realtime


def _replay_session(spec: RealtimeSessionSpec) -> tuple[dict[str, Any], list[str]]:
    """``spec.to_session()`` for the replay script, which streams PCM16 at the catalog rate,
    and the sides switched to it: a G.711 format (telephony) would need an encoder the
    standard library no longer has (the script says so in a comment)."""
    session = spec.to_session()
    rate = get_catalog().realtime.pcm_rate
    switched = []
    for side in ("input", "output"):
        fmt = session["audio"][side]["format"]
        if fmt["type"] != "audio/pcm":
            switched.append(f"{side} {fmt['type']}")
            session["audio"][side]["format"] = {"type": "audio/pcm", "rate": rate}
    return session, switched


def _realtime(spec: RealtimeSessionSpec, file_path: str | None) -> dict[str, Any]:
    """The session script; with ``file_path`` (Python only) the voice chat's replay of it."""
    context = {"model": spec.model, "session": spec.to_session(), "greeting": _GREETING}
    if file_path:
        session, switched = _replay_session(spec)
        names = [str(t["name"]) for t in spec.tools if t.get("type") == "function" and t.get("name")]
        context |= {"session": session, "switched": switched, "tool_names": names, "wav": file_path}
        context |= {"manual": spec.turn_detection == "none", "create_response": spec.create_response}
    return context


def _realtime_transcription(spec: RealtimeTranscriptionSpec, file_path: str | None) -> dict[str, Any]:
    return {
        "wav": file_path or _TRANSCRIBE_WAV,
        "session": spec.to_session(),
        "connect": spec.to_kwargs(),
        "manual": spec.turn_detection == "none",
    }


def _realtime_translation(spec: RealtimeTranslationSpec, base_url: str | None, file_path: str | None) -> dict[str, Any]:
    base = base_url or OPENAI_BASE
    model = spec.to_kwargs()["model"]
    return {
        "wav": file_path or _TRANSCRIBE_WAV,
        "connect": spec.to_kwargs(),
        "session": spec.to_session(),
        "secret_session": {"model": model, **spec.to_session()},
        "secrets_url": base + "/realtime/translations/client_secrets",
        "ws_url": "ws" + base.removeprefix("http") + f"/realtime/translations?model={model}",
        "frame_ms": get_catalog().translation.frame_ms,
    }


# -------------------------------------------------------------------------- entry


def _spec_models(spec: Spec) -> list[str]:
    models = [spec.model]
    if isinstance(spec, RealtimeSessionSpec | RealtimeTranslationSpec) and spec.transcription_model:
        models.append(spec.transcription_model)
    return models


def lifecycle_warning(spec: Spec, *, chat_model: str | None = None) -> str:
    """One sentence per deprecated (or retired) model the code uses, on one line; "" when all are current."""
    models = [*_spec_models(spec), *([chat_model] if chat_model else [])]
    warnings = [w for w in dict.fromkeys(code_warning(m) for m in dict.fromkeys(models)) if w]
    return " ".join(warnings)


def render(
    spec: Spec,
    language: Language,
    *,
    base_url: str | None = None,
    streaming: bool = True,
    file_path: str | None = None,
    chat_model: str | None = None,
) -> str:
    """Code that reproduces ``spec``.

    ``base_url`` None means OpenAI (no base_url line; the key comes from
    ``OPENAI_API_KEY``). ``file_path`` overrides the input file name shown (default:
    the file's base name). ``streaming`` picks the streaming variant for speech.
    ``chat_model`` (the chained pipeline's) only adds to the lifecycle warning: a
    deprecated model puts one comment line with its shutdown date above the code.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of: {', '.join(LANGUAGES)}")
    code = _render(spec, language, base_url=base_url, streaming=streaming, file_path=file_path)
    warning = lifecycle_warning(spec, chat_model=chat_model)
    if not warning:
        return code
    return f"{'//' if language == 'js' else '#'} {warning}\n{code}"


def _render(spec: Spec, language: Language, *, base_url: str | None, streaming: bool, file_path: str | None) -> str:
    if isinstance(spec, RealtimeSpeechSpec):
        return realtime_speech(spec, language, base_url=base_url)
    api = spec.kind
    if isinstance(spec, SpeechSpec):
        context = _speech(spec, streaming)
    elif isinstance(spec, TranscriptionSpec):
        context = _transcription(spec, language, file_path)
    elif isinstance(spec, ChatAudioSpec):
        context = _chat(spec, language, file_path)
    elif isinstance(spec, RealtimeSessionSpec):
        context = _realtime(spec, file_path if language == "python" else None)
        api = "realtime_replay" if language == "python" and file_path else api
    elif isinstance(spec, RealtimeTranscriptionSpec):
        context = _realtime_transcription(spec, file_path)
    elif isinstance(spec, RealtimeTranslationSpec):
        context = _realtime_translation(spec, base_url, file_path)
    else:
        raise TypeError(f"no snippet renderer for {type(spec).__name__}")
    base = base_url or OPENAI_BASE
    shared = {
        "base_url": base_url,
        "url": base + spec.endpoint,
        "secrets_url": base + "/realtime/client_secrets",
        "rate": get_catalog().realtime.pcm_rate,
    }
    return render_template(api, language, shared | context)


def render_all(spec: Spec, *, base_url: str | None = None, file_path: str | None = None) -> dict[str, str]:
    return {lang: render(spec, lang, base_url=base_url, file_path=file_path) for lang in LANGUAGES}
