"""Session configuration: the GA ``session`` object, its defaults, and field-by-field updates.

``session.update`` and ``response.create`` overrides are checked before anything changes,
by the typed models in ``session_models``: a bad field raises ``RealtimeError`` naming it
(``session.audio.output.voice``) and the session keeps its previous configuration. Here,
each field that was sent takes its local effect. Only fields present change; nested
objects that OpenAI replaces whole (turn detection, transcription, formats) are replaced
whole, with defaults for what they leave out. Pure: the catalog is the only input.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from pydantic import BaseModel

from playground.backend.realtime import config_audio as audio
from playground.backend.realtime import session_models as sm
from playground.backend.realtime.config_types import EFFORTS, rt, validate
from playground.backend.realtime.protocol import new_id
from playground.core.catalog import LocalRealtime, get_catalog

__all__ = [
    "DELAY_INTERIM_MS",
    "EFFORTS",
    "EFFORT_TOKEN_SCALE",
    "LOGPROBS",
    "TOOL_NAME",
    "default_session",
    "default_transcription_session",
    "interim_ms",
    "reply_token_cap",
    "response_params",
    "update_session",
    "update_transcription_session",
]

TOOL_NAME = sm.TOOL_NAME
LOGPROBS = sm.LOGPROBS
KEYWORDS_MAX = audio.KEYWORDS_MAX
NOISE_STRENGTH_MAX = audio.NOISE_STRENGTH_MAX
IDLE_TIMEOUT_MS = audio.IDLE_TIMEOUT_MS
#: locally, reasoning effort scales the reply's token budget (``local.realtime.reply_max_tokens``):
#: the small LLM does not think, so more effort buys a longer answer and less a shorter one
EFFORT_TOKEN_SCALE = {"minimal": 0.25, "low": 0.5, "medium": 1.0, "high": 1.5, "xhigh": 2.0}
#: ``audio.input.transcription.delay`` (gpt-realtime-whisper) as the interim decode cadence:
#: the longer the model may wait, the more speech each interim decode hears
DELAY_INTERIM_MS = {"minimal": 500, "low": 1000, "medium": 1500, "high": 2000, "xhigh": 3000}
#: ... and as the agreement policy: how many successive decodes must agree before words go out
DELAY_AGREEMENT = {"minimal": 1, "low": 2, "medium": 2, "high": 3, "xhigh": 3}
#: the session fields that are stored as sent (after checking); ``audio`` is merged below
_STORED = (
    "model",
    "instructions",
    "output_modalities",
    "max_output_tokens",
    "tools",
    "tool_choice",
    "reasoning",
    "parallel_tool_calls",
    "truncation",
    "tracing",
    "include",
)
#: turn detection fields that steer responses: a transcription session has none to steer
_RESPONSE_STEERING = ("create_response", "interrupt_response", "idle_timeout_ms")


def _local_rt() -> LocalRealtime:
    return get_catalog().local.realtime


def default_turn_detection(kind: str = "server_vad") -> dict[str, Any]:
    if kind == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": "auto", "create_response": True, "interrupt_response": True}
    d = rt().server_vad_defaults
    return {
        "type": "server_vad",
        "threshold": d.threshold,
        "prefix_padding_ms": d.prefix_padding_ms,
        "silence_duration_ms": d.silence_duration_ms,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }


def _pcm() -> dict[str, Any]:
    return {"type": "audio/pcm", "rate": int(rt().pcm_rate)}


def default_session(model: str) -> dict[str, Any]:
    """What ``session.created`` reports: everything a client may change, at its default."""
    minutes = get_catalog().limits.realtime_session_minutes
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "expires_at": int(time.time()) + minutes * 60,
        "output_modalities": ["audio"],
        "instructions": str(_local_rt().default_instructions).strip(),
        "audio": {
            "input": {
                "format": _pcm(),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": default_turn_detection(),
            },
            "output": {"format": _pcm(), "voice": rt().default_voice, "speed": 1.0},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "include": None,
        "parallel_tool_calls": True,
        "prompt": None,
        "reasoning": None,
    }


def default_transcription_session(model: str | None = None) -> dict[str, Any]:
    """What ``session.created`` reports for ``?intent=transcription``: audio in, text out, no replies.

    Transcription is on from the start (the catalog's realtime ``hearing`` model), so a
    client that only appends audio already gets text.
    """
    minutes = get_catalog().limits.realtime_session_minutes
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": new_id("sess"),
        "expires_at": int(time.time()) + minutes * 60,
        "audio": {
            "input": {
                "format": _pcm(),
                "transcription": {"model": _heard_by(model), "language": None, "prompt": ""},
                "noise_reduction": None,
                "turn_detection": _without_steering(default_turn_detection()),
            }
        },
        "include": None,
    }


def _heard_by(model: str | None) -> str:
    """A transcription session's first model: the one in the URL (``?model=gpt-realtime-whisper``)
    when it is a realtime transcription model, else the catalog's realtime ``hearing``."""
    entry = get_catalog().transcription_model(model) if model else None
    if entry is not None and entry.id in rt().transcription_models:
        return str(model)
    return str(_local_rt().hearing)


def _without_steering(td: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if td is None else {k: v for k, v in td.items() if k not in _RESPONSE_STEERING}


def agreement(transcription: dict[str, Any] | None) -> int:
    """How many successive interim decodes must agree on a word: 2, or the ``delay``'s policy."""
    delay = (transcription or {}).get("delay")
    return DELAY_AGREEMENT[delay] if delay else 2


def interim_ms(transcription: dict[str, Any] | None) -> int:
    """How much new speech an interim decode of an open turn waits for: the catalog's
    ``live_interim_ms``, or the session's ``delay`` (gpt-realtime-whisper) mapped onto it."""
    delay = (transcription or {}).get("delay")
    return DELAY_INTERIM_MS[delay] if delay else int(_local_rt().live_interim_ms)


# -- local effects of what was sent ---------------------------------------------------


def _plain(value: Any) -> Any:
    """A checked value as the session stores it: plain dicts and lists."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.plain() if isinstance(value, BaseModel) else value


def _turn_detection(td: audio.ServerVad | audio.SemanticVad | None) -> dict[str, Any] | None:
    """The catalog's defaults for the kind, with the fields that were sent."""
    if td is None:
        return None
    return default_turn_detection(td.type) | {k: getattr(td, k) for k in td.model_fields_set if k != "type"}


def _apply_input(cur: dict[str, Any], sent: audio.AudioInput, *, transcribe_only: bool = False) -> None:
    for name in sent.model_fields_set:
        value = getattr(sent, name)
        if name == "noise_reduction":
            cur[name] = None if value is None else value.plain(cur["noise_reduction"])
        elif name == "turn_detection":
            td = _turn_detection(value)
            cur[name] = _without_steering(td) if transcribe_only else td
        elif name == "transcription" and transcribe_only:
            cur[name] = {"language": None, "prompt": "", **value.plain()}
        else:
            cur[name] = _plain(value)


def _apply_output(cur: dict[str, Any], sent: audio.AudioOutput | audio.ResponseAudioOutput) -> None:
    for name in sent.model_fields_set:
        cur[name] = _plain(getattr(sent, name))


# -- updates ------------------------------------------------------------------------


def update_session(current: dict[str, Any], update: Any, *, voice_locked: bool) -> dict[str, Any]:
    """The session after ``session.update``; raises ``RealtimeError`` without changing anything.

    ``voice_locked``: audio has already been produced, so the voice may no longer change.
    """
    sent = validate(
        sm.SessionUpdate,
        update,
        "session",
        model=current["model"],
        tools=current["tools"],
        tool_choice=current["tool_choice"],
        voice=current["audio"]["output"]["voice"],
        voice_locked=voice_locked,
    )
    new = copy.deepcopy(current)
    for name in sent.model_fields_set & set(_STORED):
        new[name] = _plain(getattr(sent, name))
    if (
        "reasoning" not in sent.model_fields_set
        and new.get("reasoning") is not None
        and "model" in sent.model_fields_set
    ):
        entry = get_catalog().realtime_model(new["model"])
        if entry is not None and not entry.reasoning:
            new["reasoning"] = None  # the new model does not reason: nothing to echo
    if "audio" in sent.model_fields_set:
        if "input" in sent.audio.model_fields_set:
            _apply_input(new["audio"]["input"], sent.audio.input)
        if "output" in sent.audio.model_fields_set:
            _apply_output(new["audio"]["output"], sent.audio.output)
    return new


def update_transcription_session(current: dict[str, Any], update: Any) -> dict[str, Any]:
    """A transcription session after ``session.update``; raises ``RealtimeError`` without changing it.

    Only the input side exists: format, transcription, noise reduction, turn detection,
    and ``include``. Conversation fields (instructions, voice, tools, output) are refused
    by name, so a client that mixed up the two session kinds is told which one it has.
    """
    sent = validate(sm.TranscriptionSessionUpdate, update, "session", transcribe_only=True)
    new = copy.deepcopy(current)
    if "include" in sent.model_fields_set:
        new["include"] = sent.include
    if "audio" in sent.model_fields_set and "input" in sent.audio.model_fields_set:
        _apply_input(new["audio"]["input"], sent.audio.input, transcribe_only=True)
    return new


def response_params(session: dict[str, Any], response: Any) -> dict[str, Any]:
    """One response's settings: the session's, with ``response.create``'s overrides."""
    out: dict[str, Any] = {
        "instructions": session["instructions"],
        "output_modalities": list(session["output_modalities"]),
        "voice": session["audio"]["output"]["voice"],
        "speed": session["audio"]["output"]["speed"],
        "format": dict(session["audio"]["output"]["format"]),
        "tools": list(session["tools"]),
        "tool_choice": session["tool_choice"],
        "max_output_tokens": session["max_output_tokens"],
        "conversation": "auto",
        "input": None,
        "metadata": None,
        "reasoning": session.get("reasoning"),
        "parallel_tool_calls": session.get("parallel_tool_calls", True),
    }
    if response is None:
        return out
    sent = validate(sm.ResponseCreate, response, "response", model=session.get("model", ""), tools=session["tools"])
    for name in sent.model_fields_set - {"prompt", "audio"}:
        value = _plain(getattr(sent, name))
        if value is not None or name not in ("metadata", "input"):
            out[name] = value
    if "audio" in sent.model_fields_set and "output" in sent.audio.model_fields_set:
        _apply_output(out, sent.audio.output)
    return out


def reply_token_cap(params: dict[str, Any]) -> int:
    """The most tokens a spoken or written reply may take: the catalog's ``reply_max_tokens``
    scaled by the reasoning effort (the local model does not think; effort buys length)."""
    effort = (params.get("reasoning") or {}).get("effort")
    scale = EFFORT_TOKEN_SCALE.get(effort, 1.0) if effort else 1.0
    return max(16, round(int(_local_rt().reply_max_tokens) * scale))
