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

from playground.backend.errors import custom_voice_message
from playground.backend.models_gate import realtime_refusal
from playground.backend.realtime.protocol import RealtimeError, invalid, new_id, text_field
from playground.core.catalog import LocalRealtime, RealtimeSection, get_catalog

__all__ = [
    "DELAY_INTERIM_MS",
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

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ISO_639_1 = re.compile(r"^[a-z]{2}$")
#: fields of OpenAI's session that change nothing locally: accepted and echoed back
_ECHOED = ("tracing", "include")
#: ``reasoning.effort`` levels, in order
EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
#: locally, reasoning effort scales the reply's token budget (``local.realtime.reply_max_tokens``):
#: the small LLM does not think, so more effort buys a longer answer and less a shorter one
EFFORT_TOKEN_SCALE = {"minimal": 0.25, "low": 0.5, "medium": 1.0, "high": 1.5, "xhigh": 2.0}
#: ``audio.input.transcription.delay`` (gpt-realtime-whisper) as the interim decode cadence:
#: the longer the model may wait, the more speech each interim decode hears
DELAY_INTERIM_MS = {"minimal": 500, "low": 1000, "medium": 1500, "high": 2000, "xhigh": 3000}
#: the most keywords one transcription takes (Whisper's prompt holds ~224 tokens)
KEYWORDS_MAX = 100
#: the strongest ``noise_reduction.strength`` taken (the denoiser's reduction saturates past it)
NOISE_STRENGTH_MAX = 4.0
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
    "truncation",
    "parallel_tool_calls",
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
    if entry is not None and entry.id in _rt().transcription_models:
        return str(model)
    return str(_local_rt().hearing)


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


def _transcription_model(value: Any, param: str) -> str:
    """A realtime transcription model (or a dated snapshot of one), not retired."""
    cat = get_catalog()
    entry = cat.transcription_model(value) if isinstance(value, str) else None
    if entry is None or entry.id not in _rt().transcription_models:
        raise _fail(param, f"must be one of: {', '.join(_rt().transcription_models)}; got {value!r}.")
    refusal = realtime_refusal(value, param)
    if refusal is not None:
        raise refusal
    return str(value)


def _words(value: Any, param: str, *, codes: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(param, "expected an array of strings.", "invalid_type")
    out = []
    for i, v in enumerate(value):
        v = _str(v, f"{param}[{i}]").strip()
        if not v:
            raise _fail(param, "an entry must not be empty.")
        if codes and not _ISO_639_1.match(v):
            raise _fail(param, f"must hold ISO-639-1 codes such as 'en'; got {v!r}.")
        out.append(v)
    if not codes and len(out) > KEYWORDS_MAX:
        raise _fail(param, f"at most {KEYWORDS_MAX} keywords; got {len(out)}.")
    return out


def _unsupported(param: str, model: str, which: list[str]) -> RealtimeError:
    return RealtimeError(
        f"Unsupported parameter: '{param}' is not supported with {model}; models that take it: {', '.join(which)}.",
        param=param,
        code="unsupported_parameter",
    )


def _transcription(value: Any, param: str) -> dict[str, Any] | None:
    """``audio.input.transcription``: model, language, prompt, and the 2026 fields ``keywords``,
    ``languages`` (gpt-transcribe, gpt-live-transcribe) and ``delay`` (gpt-realtime-whisper),
    each refused, naming it, for a model whose catalog entry does not take it."""
    if value is None:
        return None
    t = _obj(value, param)
    _unknown(t, ("model", "language", "prompt", "keywords", "languages", "delay"), param)
    model = _transcription_model(t.get("model"), f"{param}.model")
    out: dict[str, Any] = {"model": model}
    if t.get("language") is not None:
        lang = _str(t["language"], f"{param}.language")
        if not _ISO_639_1.match(lang):
            raise _fail(f"{param}.language", f"must be an ISO-639-1 code such as 'en'; got {lang!r}.")
        out["language"] = lang
    if t.get("prompt") is not None:
        out["prompt"] = _str(t["prompt"], f"{param}.prompt")
    cat = get_catalog()
    entry = cat.transcription_model(model)
    assert entry is not None
    takes = [cat.transcription_models[m] for m in _rt().transcription_models]
    for key in ("keywords", "languages"):
        if t.get(key) is None:
            continue
        if not getattr(entry, key):
            raise _unsupported(f"{param}.{key}", model, [m.id for m in takes if getattr(m, key)])
        out[key] = _words(t[key], f"{param}.{key}", codes=key == "languages")
    if t.get("delay") is not None:
        if not entry.delay:
            raise _unsupported(f"{param}.delay", model, [m.id for m in takes if m.delay])
        out["delay"] = _one_of(t["delay"], EFFORTS, f"{param}.delay")
    return out


def interim_ms(transcription: dict[str, Any] | None) -> int:
    """How much new speech an interim decode of an open turn waits for: the catalog's
    ``live_interim_ms``, or the session's ``delay`` (gpt-realtime-whisper) mapped onto it."""
    delay = (transcription or {}).get("delay")
    return DELAY_INTERIM_MS[delay] if delay else int(_local_rt().live_interim_ms)


def _noise_reduction(value: Any, param: str, current: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """``noise_reduction``: a type and a ``strength`` (> 0; 1 when first enabled, kept when left out)."""
    if value is None:
        return None
    n = _obj(value, param)
    _unknown(n, ("type", "strength"), param)
    out: dict[str, Any] = {"type": _one_of(n.get("type"), list(_rt().noise_reduction), f"{param}.type")}
    if n.get("strength") is not None:
        strength = n["strength"]
        if isinstance(strength, bool) or not isinstance(strength, int | float) or strength != strength:
            raise _fail(f"{param}.strength", "expected a number.", "invalid_type")
        if not 0 < strength <= NOISE_STRENGTH_MAX:
            why = f"must be greater than 0 and at most {NOISE_STRENGTH_MAX:g}; got {strength:g}."
            raise _fail(f"{param}.strength", why)
        out["strength"] = float(strength)
    else:
        out["strength"] = float((current or {}).get("strength") or 1.0)
    return out


def _reasoning(value: Any, model: str, param: str) -> dict[str, Any] | None:
    """``reasoning: {effort}``, for a model whose catalog entry reasons (gpt-realtime-2 and later)."""
    if value is None:
        return None
    r = _obj(value, param)
    _unknown(r, ("effort",), param)
    _reasoning_model(model, param)
    if r.get("effort") is None:
        return {"effort": None}
    return {"effort": _one_of(r["effort"], EFFORTS, f"{param}.effort")}


def _reasoning_model(model: str, param: str) -> None:
    entry = get_catalog().realtime_model(model)
    if entry is not None and not entry.reasoning:
        which = [m.id for m in get_catalog().realtime_models.values() if m.reasoning]
        raise _unsupported(param, model, which)


def _truncation(value: Any, param: str) -> str | dict[str, Any]:
    """``truncation``: "auto", "disabled" or ``{type: "retention_ratio", retention_ratio: 0..1,
    token_limits: {post_instructions}}``."""
    if value in ("auto", "disabled"):
        return str(value)
    if not isinstance(value, dict):
        raise _fail(param, 'must be \'auto\', \'disabled\' or {"type": "retention_ratio", "retention_ratio": 0..1}.')
    _unknown(value, ("type", "retention_ratio", "token_limits"), param)
    _one_of(value.get("type"), ("retention_ratio",), f"{param}.type")
    if "retention_ratio" not in value:
        raise RealtimeError(
            f"Missing required parameter: '{param}.retention_ratio'.",
            param=f"{param}.retention_ratio",
            code="missing_required_parameter",
        )
    out: dict[str, Any] = {
        "type": "retention_ratio",
        "retention_ratio": _number(value["retention_ratio"], f"{param}.retention_ratio", 0.0, 1.0),
    }
    if value.get("token_limits") is not None:
        limits = _obj(value["token_limits"], f"{param}.token_limits")
        _unknown(limits, ("post_instructions",), f"{param}.token_limits")
        out["token_limits"] = {}
        if limits.get("post_instructions") is not None:
            out["token_limits"]["post_instructions"] = _int(
                limits["post_instructions"], f"{param}.token_limits.post_instructions", 1, 10_000_000
            )
    return out


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
    custom = custom_voice_message(value, param, len(_rt().voices))
    if custom is not None:
        raise RealtimeError(f"{custom} Use one of: {', '.join(_rt().voices)}.", param=param, code="unsupported_value")
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
        refusal = realtime_refusal(model, "session.model")
        if refusal is not None:
            raise refusal
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
    if "reasoning" in upd:
        new["reasoning"] = _reasoning(upd["reasoning"], new["model"], "session.reasoning")
    elif new.get("reasoning") is not None and "model" in upd:
        entry = get_catalog().realtime_model(new["model"])
        if entry is not None and not entry.reasoning:
            new["reasoning"] = None  # the new model does not reason: nothing to echo
    if "parallel_tool_calls" in upd:
        value = _bool(upd["parallel_tool_calls"], "session.parallel_tool_calls")
        if not value:
            _reasoning_model(new["model"], "session.parallel_tool_calls")
        new["parallel_tool_calls"] = value
    if "truncation" in upd:
        new["truncation"] = _truncation(upd["truncation"], "session.truncation")
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
                    a_in["noise_reduction"], "session.audio.input.noise_reduction", cur["noise_reduction"]
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
            cur["noise_reduction"] = _noise_reduction(
                a_in["noise_reduction"], "session.audio.input.noise_reduction", cur["noise_reduction"]
            )
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
        "reasoning": session.get("reasoning"),
        "parallel_tool_calls": session.get("parallel_tool_calls", True),
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
    if "reasoning" in r:
        out["reasoning"] = _reasoning(r["reasoning"], session.get("model", ""), "response.reasoning")
    if "parallel_tool_calls" in r:
        out["parallel_tool_calls"] = _bool(r["parallel_tool_calls"], "response.parallel_tool_calls")
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


def reply_token_cap(params: dict[str, Any]) -> int:
    """The most tokens a spoken or written reply may take: the catalog's ``reply_max_tokens``
    scaled by the reasoning effort (the local model does not think; effort buys length)."""
    effort = (params.get("reasoning") or {}).get("effort")
    scale = EFFORT_TOKEN_SCALE.get(effort, 1.0) if effort else 1.0
    return max(16, round(int(_local_rt().reply_max_tokens) * scale))
