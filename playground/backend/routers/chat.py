"""``POST /chat/completions``: the local LLM, with audio in and audio out.

``input_audio`` content parts are transcribed by local Whisper and replaced by their
text; with ``modalities: ["text", "audio"]`` the reply is spoken by the requested
voice and returned as ``message.audio`` (or streamed as ``delta.audio``), as OpenAI's
audio models do.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from playground.backend.engines.base import ChatDelta, STTOptions
from playground.backend.errors import APIError
from playground.backend.localmap import chat_models, local_voice, stt_model_for
from playground.backend.style import Prosody
from playground.backend.synthesis import Synthesizer, output_rate
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.encode import StreamEncoder, encode_all

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)

MAX_TOKENS_CAP = 2048
AUDIO_TTL_S = 3600


class AudioParams(BaseModel):
    voice: str | dict[str, Any]
    format: str


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float = Field(default=0.7, ge=0, le=2)
    modalities: list[str] = Field(default_factory=lambda: ["text"])
    audio: AudioParams | None = None
    stream_options: dict[str, Any] | None = None
    n: int = 1


def _validate(body: ChatBody) -> None:
    if body.model not in chat_models():
        raise APIError(
            f"The model '{body.model}' does not exist or is not served here; known: {', '.join(chat_models())}",
            status=404,
            param="model",
            code="model_not_found",
        )
    if body.n != 1:
        raise APIError("Only n=1 is supported by the local backend.", param="n", code="invalid_value")
    if not set(body.modalities) <= {"text", "audio"} or "text" not in body.modalities:
        raise APIError('modalities must be ["text"] or ["text", "audio"].', param="modalities", code="invalid_value")
    chat = get_catalog().chat_audio
    if "audio" in body.modalities:
        if body.audio is None:
            raise APIError(
                'The audio parameter is required when modalities includes "audio".',
                param="audio",
                code="missing_required_parameter",
            )
        voice = body.audio.voice if isinstance(body.audio.voice, str) else ""
        if voice not in chat["voices"]:
            raise APIError(
                f"Invalid 'audio.voice': must be one of: {', '.join(chat['voices'])}",
                param="audio.voice",
                code="invalid_value",
            )
        if body.audio.format not in chat["formats"]:
            raise APIError(
                f"Invalid 'audio.format': must be one of: {', '.join(chat['formats'])}",
                param="audio.format",
                code="invalid_value",
            )
    for i, msg in enumerate(body.messages):
        if msg.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise APIError(f"Invalid 'messages[{i}].role'.", param=f"messages[{i}].role", code="invalid_value")


async def _transcribe_part(request: Request, part: dict[str, Any], where: str) -> str:
    data = (part.get("input_audio") or {}).get("data", "")
    try:
        raw = base64.b64decode(data, validate=True)
        decoded = await run_in_threadpool(audio.decode, raw)
    except (binascii.Error, ValueError, audio.AudioDecodeError) as e:
        raise APIError(f"Invalid audio in '{where}': {e}", param=where, code="invalid_value") from e
    samples = audio.resample(audio.to_mono(decoded.samples), decoded.sample_rate, 16_000)
    engine = request.app.state.engines.stt(stt_model_for("whisper-1", None))
    result = await run_in_threadpool(engine.transcribe, samples, STTOptions())
    segments = await run_in_threadpool(list, result.segments)
    return " ".join(s.text.strip() for s in segments).strip()


async def _plain_messages(request: Request, messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Flatten content parts to text, transcribing audio parts."""
    out = []
    for i, msg in enumerate(messages):
        content = msg.get("content")
        if isinstance(content, list):
            texts = []
            for j, part in enumerate(content):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind in ("text", "input_text"):
                    texts.append(str(part.get("text", "")))
                elif kind == "input_audio":
                    texts.append(await _transcribe_part(request, part, f"messages[{i}].content[{j}]"))
            content = "\n".join(t for t in texts if t)
        elif content is None and isinstance(msg.get("audio"), dict):
            content = msg["audio"].get("transcript", "")
        out.append({"role": "system" if msg["role"] == "developer" else msg["role"], "content": str(content or "")})
    return out


def _speak(request: Request, voice: str, text: str) -> np.ndarray:
    """Synchronous full synthesis, for a non-streamed audio reply."""
    return Synthesizer(request.app.state.engines, local_voice(voice), text, speed=1.0, prosody=Prosody()).render_all()


def _wire_format(fmt: str) -> str:
    return "pcm" if fmt == "pcm16" else fmt


@router.post("/chat/completions")
async def create_chat_completion(body: ChatBody, request: Request) -> Response:
    _validate(body)
    messages = await _plain_messages(request, body.messages)
    max_tokens = min(body.max_completion_tokens or body.max_tokens or 512, MAX_TOKENS_CAP)
    llm = request.app.state.engines.llm()
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    wants_audio = "audio" in body.modalities

    def generate():
        return llm.chat(messages, max_tokens=max_tokens, temperature=body.temperature)

    if body.stream:
        return StreamingResponse(
            _stream(request, body, generate(), completion_id, created, wants_audio), media_type="text/event-stream"
        )

    try:
        deltas: list[ChatDelta] = await run_in_threadpool(lambda: list(generate()))
    except Exception as e:
        log.exception("chat failed")
        raise APIError(f"Local language model failed: {e}", status=500, type="server_error") from e
    text = "".join(d.text for d in deltas).strip()
    last = deltas[-1] if deltas else ChatDelta(finish_reason="stop")
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if wants_audio and body.audio is not None:
        samples = await run_in_threadpool(_speak, request, str(body.audio.voice), text or "...")
        data = encode_all(samples, _wire_format(body.audio.format), output_rate())
        message["content"] = None
        message["audio"] = {
            "id": f"audio_{uuid.uuid4().hex[:24]}",
            "data": base64.b64encode(data).decode("ascii"),
            "expires_at": created + AUDIO_TTL_S,
            "transcript": text,
        }
    usage = {
        "prompt_tokens": last.prompt_tokens,
        "completion_tokens": last.completion_tokens,
        "total_tokens": last.prompt_tokens + last.completion_tokens,
    }
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": last.finish_reason or "stop", "logprobs": None}
            ],
            "usage": usage,
        }
    )


async def _stream(
    request: Request, body: ChatBody, deltas, completion_id: str, created: int, wants_audio: bool
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [] if usage is not None else [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            payload["usage"] = usage
        return f"data: {json.dumps(payload)}\n\n".encode()

    audio_id = f"audio_{uuid.uuid4().hex[:24]}"
    yield chunk({"role": "assistant", "content": "" if not wants_audio else None})
    text_parts: list[str] = []
    last = ChatDelta(finish_reason="stop")
    try:
        async for d in iterate_in_threadpool(deltas):
            if d.text:
                text_parts.append(d.text)
                yield chunk({"audio": {"id": audio_id, "transcript": d.text}} if wants_audio else {"content": d.text})
            if d.finish_reason:
                last = d
        if wants_audio and body.audio is not None:
            text = "".join(text_parts).strip() or "..."
            synth = Synthesizer(
                request.app.state.engines, local_voice(str(body.audio.voice)), text, speed=1.0, prosody=Prosody()
            )
            encoder = StreamEncoder(_wire_format(body.audio.format), output_rate())
            pieces = [encoder.encode(samples) async for samples in synth.stream()]
            for data in [*pieces, encoder.finish()]:
                if data:
                    yield chunk(
                        {
                            "audio": {
                                "id": audio_id,
                                "data": base64.b64encode(data).decode("ascii"),
                                "expires_at": created + AUDIO_TTL_S,
                            }
                        }
                    )
    except Exception:
        log.exception("chat stream failed mid-way")
        last = ChatDelta(finish_reason="stop", prompt_tokens=last.prompt_tokens)
    yield chunk({}, finish=last.finish_reason or "stop")
    if (body.stream_options or {}).get("include_usage"):
        usage = {
            "prompt_tokens": last.prompt_tokens,
            "completion_tokens": last.completion_tokens,
            "total_tokens": last.prompt_tokens + last.completion_tokens,
        }
        yield chunk({}, usage=usage)
    yield b"data: [DONE]\n\n"
