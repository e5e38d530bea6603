"""Session configuration: the GA ``session`` object, its defaults, and field-by-field updates.

``session.update`` and ``response.create`` overrides are checked here before anything
changes: a bad field raises ``RealtimeError`` naming it (``session.audio.output.voice``)
and the session keeps its previous configuration. Only fields present change; nested
objects that OpenAI replaces whole (turn detection, transcription, formats) are replaced
whole, with defaults for what they leave out. Pure: the catalog is the only input.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from playground.backend.realtime.protocol import RealtimeError, invalid, new_id, text_field
from playground.core.catalog import LocalRealtime, RealtimeSection, get_catalog

__all__ = [
    "LOGPROBS",
    "TOOL_NAME",
    "default_session",
    "default_transcription_session",
    "response_params",
    "update_session",
    "update_transcription_session",
]

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ISO_639_1 = re.compile(r"^[a-z]{2}$")
#: fields of OpenAI's session that change nothing locally: accepted and echoed back
_ECHOED = ("tracing", "truncation", "include", "parallel_tool_calls")
_SESSION_FIELDS = {
    "type",
    "model",
    "instructions",
    "output_modalities",
    "audio",
    "tools",
    "tool_choice",
    "max_output_tokens",
    "prompt",
    "reasoning",
    *_ECHOED,
}
_RESPONSE_FIELDS = {
    "audio",
    "conversation",
    "input",
    "instructions",
    "max_output_tokens",
    "metadata",
    "output_modalities",
    "tool_choice",
    "tools",
    "prompt",
    "parallel_tool_calls",
    "reasoning",
}
#: OpenAI's documented range for server_vad's idle timeout
IDLE_TIMEOUT_MS = (5000, 30000)
#: the one thing a session may ask to ``include``
LOGPROBS = "item.input_audio_transcription.logprobs"
#: turn detection fields that steer responses: a transcription session has none to steer
_RESPONSE_STEERING = ("create_response", "interrupt_response", "idle_timeout_ms")


def _rt() -> RealtimeSection:
    return get_catalog().realtime


def _local_rt() -> LocalRealtime:
    return get_catalog().local.realtime


def default_turn_detection(kind: str = "server_vad") -> dict[str, Any]:
    if kind == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": "auto", "create_response": True, "interrupt_response": True}
    d = _rt().server_vad_defaults
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
    return {"type": "audio/pcm", "rate": int(_rt().pcm_rate)}


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
            "output": {"format": _pcm(), "voice": _rt().default_voice, "speed": 1.0},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "include": None,
        "parallel_tool_calls": True,
        "prompt": None,
    }


def default_transcription_session() -> dict[str, Any]:
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
                "transcription": {"model": str(_local_rt().hearing), "language": None, "prompt": ""},
                "noise_reduction": None,
                "turn_detection": _without_steering(default_turn_detection()),
            }
        },
        "include": None,
    }


def _without_steering(td: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if td is None else {k: v for k, v in td.items() if k not in _RESPONSE_STEERING}


# -- field checks -------------------------------------------------------------------


_fail = invalid


def _obj(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(param, "expected an object.", "invalid_type")
    return value


def _unknown(value: dict[str, Any], allowed: set[str] | tuple[str, ...], param: str) -> None:
    extra = sorted(set(value) - set(allowed))
    if extra:
        raise RealtimeError(
            f"Unknown parameter: '{param}.{extra[0]}'.", param=f"{param}.{extra[0]}", code="unknown_parameter"
        )


def _bool(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(param, "expected a boolean.", "invalid_type")
    return value


def _int(value: Any, param: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(param, "expected an integer.", "invalid_type")
    if not lo <= value <= hi:
        raise _fail(param, f"must be between {lo} and {hi}; got {value}.")
    return value


def _number(value: Any, param: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _fail(param, "expected a number.", "invalid_type")
    if not lo <= value <= hi:
        raise _fail(param, f"must be between {lo:g} and {hi:g}; got {value:g}.")
    return float(value)


_str = text_field


def _one_of(value: Any, options: list[str] | tuple[str, ...], param: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise _fail(param, f"must be one of: {', '.join(options)}; got {value!r}.")
    return value


def _format(value: Any, param: str) -> dict[str, Any]:
    fmt = _obj(value, param)
    _unknown(fmt, ("type", "rate"), param)
    kind = _one_of(fmt.get("type"), list(_rt().audio_formats), f"{param}.type")
    if kind == "audio/pcm":
        rate = fmt.get("rate", _rt().pcm_rate)
        if rate != _rt().pcm_rate:
            raise _fail(f"{param}.rate", f"audio/pcm is {_rt().pcm_rate} Hz only; got {rate!r}.")
        return _pcm()
    if "rate" in fmt:
        raise _fail(f"{param}.rate", f"{kind} has a fixed rate (8000 Hz); leave 'rate' out.")
    return {"type": kind}


def _modalities(value: Any, param: str) -> list[str]:
    if value not in (["audio"], ["text"]):
        raise _fail(param, 'must be ["audio"] or ["text"].')
    return list(value)


def _max_tokens(value: Any, param: str) -> int | str:
    if value == "inf":
        return "inf"
    return _int(value, param, 1, get_catalog().limits.realtime_max_output_tokens)


def _transcription(value: Any, param: str) -> dict[str, Any] | None:
    if value is None:
        return None
    t = _obj(value, param)
    _unknown(t, ("model", "language", "prompt"), param)
    out: dict[str, Any] = {"model": _one_of(t.get("model"), list(_rt().transcription_models), f"{param}.model")}
    if t.get("language") is not None:
        lang = _str(t["language"], f"{param}.language")
        if not _ISO_639_1.match(lang):
            raise _fail(f"{param}.language", f"must be an ISO-639-1 code such as 'en'; got {lang!r}.")
        out["language"] = lang
    if t.get("prompt") is not None:
        out["prompt"] = _str(t["prompt"], f"{param}.prompt")
    return out


def _noise_reduction(value: Any, param: str) -> dict[str, Any] | None:
    if value is None:
        return None
    n = _obj(value, param)
    _unknown(n, ("type",), param)
    return {"type": _one_of(n.get("type"), list(_rt().noise_reduction), f"{param}.type")}


def _turn_detection(value: Any, param: str) -> dict[str, Any] | None:
    if value is None:
        return None
    td = _obj(value, param)
    kind = _one_of(td.get("type"), ("server_vad", "semantic_vad"), f"{param}.type")
    out = default_turn_detection(kind)
    if kind == "server_vad":
        allowed = ("type", "threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms")
        _unknown(td, (*allowed, "create_response", "interrupt_response"), param)
        if "threshold" in td:
            out["threshold"] = _number(td["threshold"], f"{param}.threshold", 0.0, 1.0)
        for key in ("prefix_padding_ms", "silence_duration_ms"):
            if key in td:
                out[key] = _int(td[key], f"{param}.{key}", 0, 10_000)
        if td.get("idle_timeout_ms") is not None:
            out["idle_timeout_ms"] = _int(td["idle_timeout_ms"], f"{param}.idle_timeout_ms", *IDLE_TIMEOUT_MS)
    else:
        _unknown(td, ("type", "eagerness", "create_response", "interrupt_response"), param)
        if "eagerness" in td:
            out["eagerness"] = _one_of(td["eagerness"], list(_rt().semantic_eagerness), f"{param}.eagerness")
    for key in ("create_response", "interrupt_response"):
        if key in td:
            out[key] = _bool(td[key], f"{param}.{key}")
    return out


def _voice(value: Any, param: str) -> str:
    if isinstance(value, dict):
        raise RealtimeError(
            f"Invalid '{param}': custom voices are not available on the local backend; "
            f"use one of: {', '.join(_rt().voices)}.",
            param=param,
            code="unsupported_value",
        )
    return _one_of(value, list(_rt().voices), param)


def _tools(value: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail(param, "expected an array of tools.", "invalid_type")
    out, names = [], set()
    for i, tool in enumerate(value):
        where = f"{param}[{i}]"
        t = _obj(tool, where)
        if t.get("type") == "mcp":
            raise RealtimeError(
                f"Invalid '{where}': remote MCP servers are not available on the local backend "
                "(it has no network); use function tools, or a provider that supports MCP.",
                param=where,
                code="unsupported_value",
            )
        if t.get("type") != "function":
            raise _fail(f"{where}.type", f"must be 'function'; got {t.get('type')!r}.")
        _unknown(t, ("type", "name", "description", "parameters"), where)
        name = _str(t.get("name"), f"{where}.name")
        if not TOOL_NAME.match(name):
            raise _fail(f"{where}.name", "must be 1-64 letters, digits, underscores or dashes.")
        if name in names:
            raise _fail(f"{where}.name", f"duplicate tool name {name!r}.")
        names.add(name)
        params = t.get("parameters", {"type": "object", "properties": {}})
        params = _obj(params, f"{where}.parameters")
        if params.get("type", "object") != "object":
            raise _fail(f"{where}.parameters.type", "the parameters schema must describe an object.")
        out.append(
            {
                "type": "function",
                "name": name,
                "description": _str(t.get("description", ""), f"{where}.description"),
                "parameters": params,
            }
        )
    return out


def _tool_choice(value: Any, tools: list[dict[str, Any]], param: str) -> str | dict[str, Any]:
    if value in ("auto", "none", "required"):
        return str(value)
    if isinstance(value, dict) and value.get("type") == "function":
        name = value.get("name")
        if name not in {t["name"] for t in tools}:
            raise _fail(f"{param}.name", f"no tool named {name!r} is configured.")
        return {"type": "function", "name": name}
    raise _fail(param, "must be 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": ...}.")


def _refuse_prompt(value: Any, param: str) -> None:
    if value is not None:
        raise RealtimeError(
            f"Invalid '{param}': stored prompts live on OpenAI's servers and are not available locally; "
            "send the instructions instead.",
            param=param,
            code="unsupported_value",
        )


# -- updates ------------------------------------------------------------------------


def update_session(current: dict[str, Any], update: Any, *, voice_locked: bool) -> dict[str, Any]:
    """The session after ``session.update``; raises ``RealtimeError`` without changing anything.

    ``voice_locked``: audio has already been produced, so the voice may no longer change.
    """
    upd = _obj(update, "session")
    _unknown(upd, _SESSION_FIELDS, "session")
    new = copy.deepcopy(current)
    if "type" in upd and upd["type"] != "realtime":
        if upd["type"] == "transcription":
            raise RealtimeError(
                "Invalid 'session.type': this session is a conversation; open a transcription session "
                "(connect with intent=transcription) to transcribe only.",
                param="session.type",
                code="invalid_value",
            )
        raise _fail("session.type", f"must be 'realtime'; got {upd['type']!r}.")
    if "model" in upd:
        model = _str(upd["model"], "session.model")
        if get_catalog().canonical_realtime_model(model) is None:
            raise _fail("session.model", f"must be one of: {', '.join(get_catalog().realtime_models)}.")
        new["model"] = model
    if "instructions" in upd:
        new["instructions"] = _str(upd["instructions"], "session.instructions")
    if "output_modalities" in upd:
        new["output_modalities"] = _modalities(upd["output_modalities"], "session.output_modalities")
    if "max_output_tokens" in upd:
        new["max_output_tokens"] = _max_tokens(upd["max_output_tokens"], "session.max_output_tokens")
    if "tools" in upd:
        new["tools"] = _tools(upd["tools"], "session.tools")
    if "tool_choice" in upd:
        new["tool_choice"] = _tool_choice(upd["tool_choice"], new["tools"], "session.tool_choice")
    elif isinstance(new["tool_choice"], dict) and new["tool_choice"]["name"] not in {t["name"] for t in new["tools"]}:
        raise _fail("session.tool_choice.name", f"tool {new['tool_choice']['name']!r} is no longer configured.")
    _refuse_prompt(upd.get("prompt"), "session.prompt")
    if upd.get("reasoning") is not None:
        _obj(upd["reasoning"], "session.reasoning")  # accepted: the local model does not reason
    for key in _ECHOED:
        if key in upd:
            new[key] = upd[key]
    if "audio" in upd:
        audio = _obj(upd["audio"], "session.audio")
        _unknown(audio, ("input", "output"), "session.audio")
        if "input" in audio:
            a_in = _obj(audio["input"], "session.audio.input")
            _unknown(a_in, ("format", "transcription", "noise_reduction", "turn_detection"), "session.audio.input")
            cur = new["audio"]["input"]
            if "format" in a_in:
                cur["format"] = _format(a_in["format"], "session.audio.input.format")
            if "transcription" in a_in:
                cur["transcription"] = _transcription(a_in["transcription"], "session.audio.input.transcription")
            if "noise_reduction" in a_in:
                cur["noise_reduction"] = _noise_reduction(
                    a_in["noise_reduction"], "session.audio.input.noise_reduction"
                )
            if "turn_detection" in a_in:
                cur["turn_detection"] = _turn_detection(a_in["turn_detection"], "session.audio.input.turn_detection")
        if "output" in audio:
            a_out = _obj(audio["output"], "session.audio.output")
            _unknown(a_out, ("format", "voice", "speed"), "session.audio.output")
            cur = new["audio"]["output"]
            if "format" in a_out:
                cur["format"] = _format(a_out["format"], "session.audio.output.format")
            if "voice" in a_out:
                voice = _voice(a_out["voice"], "session.audio.output.voice")
                if voice_locked and voice != cur["voice"]:
                    raise RealtimeError(
                        "Cannot update a conversation's voice if assistant audio is present.",
                        param="session.audio.output.voice",
                        code="cannot_update_voice",
                    )
                cur["voice"] = voice
            if "speed" in a_out:
                rng = get_catalog().limits.realtime_speed
                cur["speed"] = _number(a_out["speed"], "session.audio.output.speed", rng.min, rng.max)
    return new


def _include(value: Any, param: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v != LOGPROBS for v in value):
        raise _fail(param, f"must be null or a list holding only {LOGPROBS!r}.")
    return sorted(set(value))


def update_transcription_session(current: dict[str, Any], update: Any) -> dict[str, Any]:
    """A transcription session after ``session.update``; raises ``RealtimeError`` without changing it.

    Only the input side exists: format, transcription, noise reduction, turn detection,
    and ``include``. Conversation fields (instructions, voice, tools, output) are refused
    by name, so a client that mixed up the two session kinds is told which one it has.
    """
    upd = _obj(update, "session")
    _unknown(upd, ("type", "audio", "include"), "session")
    new = copy.deepcopy(current)
    if "type" in upd and upd["type"] != "transcription":
        if upd["type"] == "realtime":
            raise RealtimeError(
                "Invalid 'session.type': this session transcribes only; for a conversation, connect with "
                "?model=<realtime model> instead of ?intent=transcription.",
                param="session.type",
                code="invalid_value",
            )
        raise _fail("session.type", f"must be 'transcription'; got {upd['type']!r}.")
    if "include" in upd:
        new["include"] = _include(upd["include"], "session.include")
    if "audio" in upd:
        audio = _obj(upd["audio"], "session.audio")
        _unknown(audio, ("input",), "session.audio")
        a_in = _obj(audio.get("input", {}), "session.audio.input")
        _unknown(a_in, ("format", "transcription", "noise_reduction", "turn_detection"), "session.audio.input")
        cur = new["audio"]["input"]
        if "format" in a_in:
            cur["format"] = _format(a_in["format"], "session.audio.input.format")
        if "transcription" in a_in:
            tr = _transcription(a_in["transcription"], "session.audio.input.transcription")
            if tr is None:
                raise RealtimeError(
                    "Invalid 'session.audio.input.transcription': a transcription session needs a transcription "
                    "model; close the session to stop transcribing.",
                    param="session.audio.input.transcription",
                    code="invalid_value",
                )
            cur["transcription"] = {"language": None, "prompt": "", **tr}
        if "noise_reduction" in a_in:
            cur["noise_reduction"] = _noise_reduction(a_in["noise_reduction"], "session.audio.input.noise_reduction")
        if "turn_detection" in a_in:
            td = _turn_detection(a_in["turn_detection"], "session.audio.input.turn_detection")
            cur["turn_detection"] = _without_steering(td)
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
    }
    if response is None:
        return out
    r = _obj(response, "response")
    _unknown(r, _RESPONSE_FIELDS, "response")
    if "instructions" in r:
        out["instructions"] = _str(r["instructions"], "response.instructions")
    if "output_modalities" in r:
        out["output_modalities"] = _modalities(r["output_modalities"], "response.output_modalities")
    if "max_output_tokens" in r:
        out["max_output_tokens"] = _max_tokens(r["max_output_tokens"], "response.max_output_tokens")
    if "tools" in r:
        out["tools"] = _tools(r["tools"], "response.tools")
    if "tool_choice" in r:
        out["tool_choice"] = _tool_choice(r["tool_choice"], out["tools"], "response.tool_choice")
    _refuse_prompt(r.get("prompt"), "response.prompt")
    if "conversation" in r:
        out["conversation"] = _one_of(r["conversation"], ("auto", "none"), "response.conversation")
    if r.get("metadata") is not None:
        meta = _obj(r["metadata"], "response.metadata")
        if len(meta) > 16 or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise _fail("response.metadata", "up to 16 string keys with string values.")
        out["metadata"] = meta
    if r.get("input") is not None:
        if not isinstance(r["input"], list):
            raise _fail("response.input", "expected an array of items.", "invalid_type")
        out["input"] = r["input"]
    if "audio" in r:
        audio = _obj(r["audio"], "response.audio")
        _unknown(audio, ("output",), "response.audio")
        a_out = _obj(audio.get("output", {}), "response.audio.output")
        _unknown(a_out, ("format", "voice"), "response.audio.output")
        if "format" in a_out:
            out["format"] = _format(a_out["format"], "response.audio.output.format")
        if "voice" in a_out:
            out["voice"] = _voice(a_out["voice"], "response.audio.output.voice")
    return out
