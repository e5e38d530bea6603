"""Typed models of the realtime config a client sends: ``session.update`` (a conversation or a
transcription session) and ``response.create``'s overrides.

One model per object of the SDK's request types (``openai.types.realtime``), with the same
keys (checked when the class is made). Fields are declared in the order they are checked,
which decides which error a request with several mistakes gets. A field the client left
out keeps the default ``UNSET`` and stays out of ``model_fields_set``; ``config`` applies
only the fields that were set. Checks that depend on the session (its model, tools,
voice) read the validation context that ``config`` passes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from openai.types.realtime import realtime_truncation_retention_ratio_param as retention_param
from openai.types.realtime.realtime_function_tool_param import RealtimeFunctionToolParam
from openai.types.realtime.realtime_reasoning_param import RealtimeReasoningParam
from openai.types.realtime.realtime_response_create_params_param import RealtimeResponseCreateParamsParam
from openai.types.realtime.realtime_session_create_request_param import RealtimeSessionCreateRequestParam
from openai.types.realtime.realtime_transcription_session_create_request_param import (
    RealtimeTranscriptionSessionCreateRequestParam,
)
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)

from playground.backend.models_gate import realtime_refusal
from playground.backend.realtime import config_types as ct
from playground.backend.realtime.config_audio import ResponseAudio, SessionAudio, TranscriptionAudio
from playground.backend.realtime.config_types import UNSET, Choice, Flag, Integer, Number, Text, TypedModel
from playground.core.catalog import get_catalog

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: the one thing a session may ask to ``include`` (the one value of the SDK's literal)
LOGPROBS = "item.input_audio_transcription.logprobs"


def _reasoning_model(model: str) -> None:
    """Reasoning (and turning parallel tool calls off) needs a model that reasons."""
    entry = get_catalog().realtime_model(model)
    if entry is not None and not entry.reasoning:
        raise ct.unsupported(model, [m.id for m in get_catalog().realtime_models.values() if m.reasoning])


#: what a client is told that sends the other kind of session to this one
_OTHER_KIND = {
    "realtime": (
        "transcription",
        "this session is a conversation; open a transcription session "
        "(connect with intent=transcription) to transcribe only.",
    ),
    "transcription": (
        "realtime",
        "this session transcribes only; for a conversation, connect with "
        "?model=<realtime model> instead of ?intent=transcription.",
    ),
}


def _kind(expected: str) -> Any:
    """``session.type``: the session's own kind; the other kind is told how to open one."""
    other, hint = _OTHER_KIND[expected]

    def check(value: Any) -> Any:
        if value == other:
            raise ct.problem(hint)
        if value != expected:
            raise ct.problem(f"must be '{expected}'; got {value!r}.")
        return value

    return Annotated[Any, AfterValidator(check)]


# -- replies: tools, reasoning, limits ----------------------------------------------


def _tool_name(name: str, info: ValidationInfo) -> str:
    if not TOOL_NAME.match(name):
        raise ct.problem("must be 1-64 letters, digits, underscores or dashes.")
    seen = info.context["tool_names"]
    if name in seen:
        raise ct.problem(f"duplicate tool name {name!r}.")
    seen.add(name)
    return name


def _object_schema(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("type", "object") != "object":
        raise ct.problem("the parameters schema must describe an object.", at="type")
    return params


class FunctionTool(TypedModel):
    sdk = RealtimeFunctionToolParam
    model_config = ConfigDict(validate_default=True)
    type: Any = "function"
    name: Annotated[Text, AfterValidator(_tool_name)] = None
    parameters: Annotated[dict[str, Any], AfterValidator(_object_schema)] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    description: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _function(cls, tool: Any) -> Any:
        """Only function tools: the ``type`` is checked before the other keys."""
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            why = (
                f"Invalid '{ct.PARAM}': remote MCP servers are not available on the local backend "
                "(it has no network); use function tools, or a provider that supports MCP."
            )
            raise ct.problem(why, "unsupported_value", full=True)
        if isinstance(tool, dict) and tool.get("type") != "function":
            raise ct.problem(f"must be 'function'; got {tool.get('type')!r}.", at="type")
        return tool

    def plain(self) -> dict[str, Any]:
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters}


def _tool_list(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, list):
        raise ct.problem("expected an array of tools.", "invalid_type")
    info.context["tool_names"] = set()
    return value


Tools = Annotated[list[FunctionTool], BeforeValidator(_tool_list)]


def _tool_choice(value: Any, info: ValidationInfo) -> Any:
    """``auto``/``none``/``required``, or a function that is configured (in this update, or before)."""
    if "tools" not in info.data:
        return value  # the tools were refused first
    tools = info.data["tools"]
    names = {t["name"] for t in info.context["tools"]} if tools is UNSET else {t.name for t in tools}
    if value is UNSET:
        kept = info.context.get("tool_choice")
        if isinstance(kept, dict) and kept["name"] not in names:
            raise ct.problem(f"tool {kept['name']!r} is no longer configured.", at="name")
        return value
    if value in ("auto", "none", "required"):
        return str(value)
    if isinstance(value, dict) and value.get("type") == "function":
        name = value.get("name")
        if not isinstance(name, str) or name not in names:
            raise ct.problem(f"no tool named {name!r} is configured.", at="name")
        return {"type": "function", "name": name}
    raise ct.problem("must be 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": ...}.")


ToolChoice = Annotated[Any, AfterValidator(_tool_choice)]


def _modalities(value: Any) -> list[str]:
    if value not in (["audio"], ["text"]):
        raise ct.problem('must be ["audio"] or ["text"].')
    return list(value)


def _max_tokens() -> tuple[int, int]:
    return 1, get_catalog().limits.realtime_max_output_tokens


def _no_prompt(value: Any) -> Any:
    if value is not None:
        why = (
            f"Invalid '{ct.PARAM}': stored prompts live on OpenAI's servers and are not available locally; "
            "send the instructions instead."
        )
        raise ct.problem(why, "unsupported_value", full=True)
    return value


Modalities = Annotated[Any, AfterValidator(_modalities)]
MaxTokens = Annotated[Integer(_max_tokens), WrapValidator(lambda v, handler: "inf" if v == "inf" else handler(v))]
Prompt = Annotated[Any, AfterValidator(_no_prompt)]


class Reasoning(TypedModel):
    """``reasoning: {effort}``, for a model whose catalog entry reasons (gpt-realtime-2 and later)."""

    sdk = RealtimeReasoningParam
    effort: Choice(ct.EFFORTS) | None = None

    def plain(self) -> dict[str, Any]:
        return {"effort": self.effort}


def _reasons(value: Any, model: Any) -> Any:
    """Refuse ``reasoning`` for a model that does not reason, once its keys are known good."""
    if isinstance(value, dict) and set(value) <= set(Reasoning.model_fields) and model is not None:
        _reasoning_model(model)
    return value


class TokenLimits(TypedModel):
    sdk = retention_param.TokenLimits
    post_instructions: Integer((1, 10_000_000)) | None = None


class RetentionRatio(TypedModel):
    sdk = retention_param.RealtimeTruncationRetentionRatioParam
    type: Choice(("retention_ratio",)) = Field(None, validate_default=True)
    retention_ratio: Number((0.0, 1.0))
    token_limits: TokenLimits | None = None

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "retention_ratio", "retention_ratio": float(self.retention_ratio)}
        if self.token_limits is not None:
            post = self.token_limits.post_instructions
            out["token_limits"] = {} if post is None else {"post_instructions": post}
        return out


def _truncation(value: Any, handler: Any) -> Any:
    """``truncation``: "auto", "disabled" or a retention ratio."""
    if value in ("auto", "disabled"):
        return str(value)
    if not isinstance(value, dict):
        raise ct.problem('must be \'auto\', \'disabled\' or {"type": "retention_ratio", "retention_ratio": 0..1}.')
    return handler(value)


Truncation = Annotated[RetentionRatio, WrapValidator(_truncation)]


# -- the requests -------------------------------------------------------------------


def _realtime_model(model: str) -> str:
    cat = get_catalog()
    if cat.canonical_realtime_model(model) is None:
        raise ct.problem(f"must be one of: {', '.join(cat.realtime_models)}.")
    refusal = realtime_refusal(model, ct.PARAM)
    if refusal is not None:
        raise ct.refuse(refusal)
    return model


def _session_model(info: ValidationInfo) -> str | None:
    """The model after this update: the one it names, the session's, or None when refused."""
    model = info.data.get("model")
    return None if "model" not in info.data else info.context["model"] if model is UNSET else model


class SessionUpdate(TypedModel):
    """``session.update`` of a conversation."""

    sdk = RealtimeSessionCreateRequestParam
    type: _kind("realtime") = UNSET
    model: Annotated[Text, AfterValidator(_realtime_model)] = UNSET
    instructions: Text = UNSET
    output_modalities: Modalities = UNSET
    max_output_tokens: MaxTokens = UNSET
    tools: Tools = UNSET
    tool_choice: ToolChoice = Field(UNSET, validate_default=True)
    prompt: Prompt = UNSET
    reasoning: Reasoning | None = UNSET
    parallel_tool_calls: Flag = UNSET
    truncation: Truncation = UNSET
    tracing: Any = UNSET  # accepted and echoed: changes nothing locally
    include: Any = UNSET  # accepted and echoed
    audio: SessionAudio = UNSET

    @field_validator("reasoning", mode="before")
    @classmethod
    def _reasoning(cls, value: Any, info: ValidationInfo) -> Any:
        return _reasons(value, _session_model(info))

    @field_validator("parallel_tool_calls")
    @classmethod
    def _parallel(cls, value: bool, info: ValidationInfo) -> bool:
        model = _session_model(info)
        if not value and model is not None:
            _reasoning_model(model)
        return value


def _include(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v != LOGPROBS for v in value):
        raise ct.problem(f"must be null or a list holding only {LOGPROBS!r}.")
    return sorted(set(value))


class TranscriptionSessionUpdate(TypedModel):
    """``session.update`` of a transcription session: the input side only."""

    sdk = RealtimeTranscriptionSessionCreateRequestParam
    type: _kind("transcription") = UNSET
    include: Annotated[Any, AfterValidator(_include)] = UNSET
    audio: TranscriptionAudio = UNSET


def _metadata(meta: dict[str, Any]) -> dict[str, Any]:
    if len(meta) > 16 or not all(isinstance(v, str) for v in meta.values()):
        raise ct.problem("up to 16 string keys with string values.")
    return meta


def _items(value: Any) -> Any:
    if value is not None and not isinstance(value, list):
        raise ct.problem("expected an array of items.", "invalid_type")
    return value


class ResponseCreate(TypedModel):
    """``response.create``'s ``response``: one reply's overrides of the session."""

    sdk = RealtimeResponseCreateParamsParam
    instructions: Text = UNSET
    output_modalities: Modalities = UNSET
    max_output_tokens: MaxTokens = UNSET
    tools: Tools = UNSET
    tool_choice: ToolChoice = UNSET
    prompt: Prompt = UNSET
    reasoning: Reasoning | None = UNSET
    parallel_tool_calls: Flag = UNSET
    conversation: Choice(("auto", "none")) = UNSET
    metadata: Annotated[dict[str, Any], AfterValidator(_metadata)] | None = UNSET
    input: Annotated[Any, AfterValidator(_items)] = UNSET
    audio: ResponseAudio = UNSET

    @field_validator("reasoning", mode="before")
    @classmethod
    def _reasoning(cls, value: Any, info: ValidationInfo) -> Any:
        return _reasons(value, info.context["model"])
