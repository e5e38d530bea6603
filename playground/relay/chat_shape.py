"""The chained pipeline's pure pieces: realtime shapes in chat completions' terms, and back.

No I/O and no session state here: how a conversation reads as chat messages, how tools
and tool choice translate, what a provider's failure says to the page, and which
settings the classic pipeline refuses (its audio is 24 kHz PCM, its chat model reads
text, and a chat completion cannot call remote MCP tools).
"""

from __future__ import annotations

import io
from typing import Any

import httpx2
import numpy as np
import soundfile as sf
from openai import APIConnectionError, APIStatusError, APITimeoutError, OpenAIError

from playground.backend.dsp import denoise
from playground.backend.realtime.protocol import RealtimeError
from playground.client.providers import redact
from playground.core.catalog import get_catalog

__all__ = [
    "PROVIDER_ERRORS",
    "RATE",
    "TRANSCRIBE_MODEL",
    "UNSUPPORTED",
    "chat_messages",
    "chat_tool_choice",
    "chat_tools",
    "file_model",
    "provider_error",
    "refuse_media",
    "require_pcm",
    "samples_ms",
    "turn_wav",
    "without_mcp",
]

#: input and output audio: PCM16 mono at 24 kHz, the realtime protocol's only PCM rate
RATE = 24000
#: hears the user when the session names no transcription model: the catalog's current file
#: model (gpt-transcribe), which takes the session's keywords and languages
TRANSCRIBE_MODEL = get_catalog().transcription_default_model
UNSUPPORTED = "unsupported_in_chained_mode"
#: what a provider call can fail with: the SDK's errors, and the HTTP stack's mid-stream
PROVIDER_ERRORS = (OpenAIError, httpx2.HTTPError)


def samples_ms(samples: int) -> int:
    return samples * 1000 // RATE


def turn_wav(pcm: bytes, noise: str | None, strength: float = 1.0) -> bytes:
    """The turn as a WAV file for the transcription request (CPU work: call on a thread)."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
    if noise:
        samples = denoise(samples, RATE, noise, strength)
    buf = io.BytesIO()
    sf.write(buf, samples, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def file_model(model: str | None) -> str:
    """The model a turn is transcribed with over ``/v1/audio/transcriptions``: the session's, or,
    for a realtime-only one (gpt-live-transcribe, gpt-realtime-whisper: ``file: false``), the
    catalog's file model; ``TRANSCRIBE_MODEL`` when the session names none."""
    if not model:
        return TRANSCRIBE_MODEL
    entry = get_catalog().transcription_model(model)
    return get_catalog().transcription_default_model if entry is not None and not entry.file else model


def require_pcm(fmt: dict[str, Any], param: str) -> None:
    """Speech requests return 24 kHz PCM and transcription takes it: the only format here."""
    if fmt.get("type") != "audio/pcm":
        raise RealtimeError(
            f"Invalid '{param}': the chained pipeline takes and gives audio/pcm at {RATE} Hz only; "
            f"got {fmt.get('type')!r}.",
            param=param,
            code=UNSUPPORTED,
        )


def chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Realtime function tools (flat) in chat completions' shape (nested under ``function``)."""
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t.get("description", ""), "parameters": t["parameters"]},
        }
        for t in tools
    ]


def chat_tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, dict):
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def message_text(item: dict[str, Any]) -> str:
    """What the chat model reads of a message item: its text, or its audio's transcript."""
    texts = [str(p.get("text") or p.get("transcript") or "") for p in item.get("content", [])]
    return " ".join(t.strip() for t in texts if t.strip())


def chat_messages(instructions: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as chat messages, in the chat API's own tool-calling shape.

    A function call goes in only with its output, since the chat API refuses an assistant
    ``tool_calls`` message that no ``tool`` message answers (the user may have spoken
    before the tool ran). Consecutive calls form one assistant message, directly followed
    by their results, wherever the outputs were added to the conversation.
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": instructions}]
    outputs = {i["call_id"]: i["output"] for i in items if i["type"] == "function_call_output"}
    group: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "function_call" and item["call_id"] in outputs:
            if group is None:
                group = {"role": "assistant", "content": None, "tool_calls": []}
                out.append(group)
            function = {"name": item["name"], "arguments": item["arguments"] or "{}"}
            group["tool_calls"].append({"id": item["call_id"], "type": "function", "function": function})
            results.append({"role": "tool", "tool_call_id": item["call_id"], "content": outputs[item["call_id"]]})
            continue
        out.extend(results)
        group, results = None, []
        text = message_text(item) if item["type"] == "message" else ""
        if text:
            out.append({"role": item["role"], "content": text})
    out.extend(results)
    return out


def provider_error(stage: str, e: Exception, key: str | None) -> RealtimeError:
    """An SDK failure as an ``error`` the page can show: which call failed and why, with
    the key (and anything shaped like one) removed."""
    if isinstance(e, APIStatusError):
        body = e.body if isinstance(e.body, dict) else {}
        text = f"The {stage} request failed with HTTP {e.status_code}: {body.get('message') or e.message}"
        kind = "invalid_request_error" if e.status_code < 500 else "server_error"
    elif isinstance(e, APITimeoutError):
        text, kind = f"The {stage} request timed out.", "server_error"
    elif isinstance(e, APIConnectionError):
        text, kind = f"Could not reach the provider for the {stage} request: {e}", "server_error"
    else:
        text, kind = f"The {stage} request failed: {e}", "server_error"
    return RealtimeError(redact(text, key), code=f"{stage}_failed", type=kind)


def without_mcp(update: Any) -> tuple[Any, list[int]]:
    """The update without remote MCP tools (a chat completion cannot call them), and their
    indices, so the rest of the session still applies."""
    if not isinstance(update, dict) or not isinstance(update.get("tools"), list):
        return update, []
    tools = update["tools"]
    dropped = [i for i, t in enumerate(tools) if isinstance(t, dict) and t.get("type") == "mcp"]
    if not dropped:
        return update, []
    return {**update, "tools": [t for i, t in enumerate(tools) if i not in dropped]}, dropped


def refuse_media(raw: Any) -> None:
    """Images and audio in an item: the chained chat model reads text only."""
    content = raw.get("content") if isinstance(raw, dict) else None
    for i, part in enumerate(content if isinstance(content, list) else []):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_image", "input_audio"):
            raise RealtimeError(
                f"Invalid 'item.content[{i}]': the chained pipeline sends the chat model text only; "
                f"{kind} parts are not supported (speak, or type the text).",
                param=f"item.content[{i}]",
                code="unsupported_content",
            )
