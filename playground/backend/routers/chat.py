"""``POST /chat/completions``: the local LLM, with audio in and audio out.

``input_audio`` content parts are transcribed by local Whisper and replaced by their
text; with ``modalities: ["text", "audio"]`` the reply is spoken by the requested
voice and returned as ``message.audio`` (or streamed as ``delta.audio``), as OpenAI's
audio models do. A streamed spoken reply speaks each sentence as soon as the model
has written it, so audio starts long before the text is complete.

The request is checked at the edge, before any model runs: numbers and booleans must
be JSON numbers and booleans (pydantic would otherwise accept ``"100"`` or ``"yes"``),
integers fit 32 bits, a field OpenAI's request does not have is refused (those it has
that mean nothing locally are ignored), and every content part must be one we can read,
in valid Unicode.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from playground.backend.engines.base import ChatDelta, EngineBusyError, STTOptions
from playground.backend.errors import APIError, engine_failure, spec_error
from playground.backend.localmap import chat_models, local_voice, stt_model_for
from playground.backend.style import Prosody
from playground.backend.synthesis import Synthesizer
from playground.backend.text import SentenceBuffer
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.encode import WHOLE_FILE_FORMATS, StreamEncoder, encode_all
from playground.core.specs import chat_output_problems

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)

AUDIO_TTL_S = 3600
ROLES = ("system", "developer", "user", "assistant", "tool")
PART_TYPES = ("text", "input_text", "input_audio", "refusal")
INT32_MAX = 2**31 - 1
#: OpenAI's chat parameters that the local model has no use for: accepted and ignored
IGNORED_FIELDS = frozenset(
    {
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "metadata",
        "moderation",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "tool_choice",
        "tools",
        "top_logprobs",
        "user",
        "verbosity",
        "web_search_options",
    }
)


class AudioParams(BaseModel):
    voice: str | dict[str, Any]
    format: str


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = Field(default=False, strict=True)
    max_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX, strict=True)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX, strict=True)
    temperature: float = Field(default=0.7, ge=0, le=2, allow_inf_nan=False, strict=True)
    top_p: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False, strict=True)
    modalities: list[str] = Field(default_factory=lambda: ["text"])
    audio: AudioParams | None = None
    stream_options: dict[str, Any] | None = None
    n: int = Field(default=1, ge=1, le=1, strict=True)


def _wire_format(fmt: str) -> str:
    return "pcm" if fmt == "pcm16" else fmt


def _check_text(text: Any, where: str) -> None:
    if not isinstance(text, str):
        raise APIError(f"Invalid '{where}': expected a string.", param=where, code="invalid_type")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise APIError(
            f"Invalid '{where}': contains invalid Unicode (an unpaired surrogate).", param=where, code="invalid_value"
        ) from None


def _check_part(part: Any, where: str) -> None:
    """A content part we can read: text, or audio in a format the transcriber takes."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in PART_TYPES:
        raise APIError(
            f"Invalid '{where}': expected a content part object with type one of: {', '.join(PART_TYPES)}.",
            param=where,
            code="invalid_value",
        )
    if kind == "input_audio":
        audio_in = part.get("input_audio")
        formats = get_catalog().chat_audio["input_formats"]
        if not isinstance(audio_in, dict) or not isinstance(audio_in.get("data"), str):
            raise APIError(
                f"Invalid '{where}.input_audio': expected an object with base64 'data' and a 'format'.",
                param=where,
                code="invalid_type",
            )
        if audio_in.get("format") not in formats:
            raise APIError(
                f"Invalid '{where}.input_audio.format': must be one of: {', '.join(formats)}.",
                param=where,
                code="invalid_value",
            )
    else:
        key = "refusal" if kind == "refusal" else "text"
        _check_text(part.get(key), f"{where}.{key}")


def _validate(body: ChatBody) -> None:
    unknown = sorted(set(body.model_extra or ()) - IGNORED_FIELDS)
    if unknown:
        raise APIError(
            f"Unrecognized request argument supplied: {', '.join(unknown)}", param=unknown[0], code="unknown_parameter"
        )
    if body.model not in chat_models():
        raise APIError(
            f"The model '{body.model}' does not exist or is not served here; known: {', '.join(chat_models())}",
            status=404,
            param="model",
            code="model_not_found",
        )
    if "audio" in body.modalities and body.audio is None:
        raise APIError(
            'The audio parameter is required when modalities includes "audio".',
            param="audio",
            code="missing_required_parameter",
        )
    voice = body.audio.voice if body.audio and isinstance(body.audio.voice, str) else None
    problems = chat_output_problems(
        body.modalities, voice, body.audio.format if body.audio else None, fields=("audio.voice", "audio.format")
    )
    if problems:
        raise spec_error(problems)
    for i, msg in enumerate(body.messages):
        if msg.get("role") not in ROLES:
            raise APIError(
                f"Invalid 'messages[{i}].role': must be one of: {', '.join(ROLES)}.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        content = msg.get("content")
        if content is not None and not isinstance(content, str | list):
            raise APIError(
                f"Invalid 'messages[{i}].content': expected a string or a list of content parts.",
                param=f"messages[{i}].content",
                code="invalid_type",
            )
        if isinstance(content, str):
            _check_text(content, f"messages[{i}].content")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                _check_part(part, f"messages[{i}].content[{j}]")
        elif isinstance(msg.get("audio"), dict) and "transcript" in msg["audio"]:
            _check_text(msg["audio"]["transcript"], f"messages[{i}].audio.transcript")


async def _transcribe_part(request: Request, part: dict[str, Any], where: str) -> str:
    data = (part.get("input_audio") or {}).get("data", "")
    engine = request.app.state.engines.stt(stt_model_for(get_catalog().raw["local"]["hearing"], None))
    try:
        raw = base64.b64decode(data, validate=True)
        samples = await run_in_threadpool(
            audio.decode_mono, raw, engine.sample_rate, max_seconds=get_catalog().audio_max_seconds
        )
    except (binascii.Error, TypeError, ValueError) as e:  # AudioDecodeError is a ValueError
        raise APIError(f"Invalid audio in '{where}': {e}", param=where, code="invalid_value") from e
    if len(samples) < engine.sample_rate // 10:  # under 0.1 s, refused as /audio/transcriptions does
        raise APIError(
            f"Audio in '{where}' is too short. Minimum audio length is 0.1 seconds.",
            param=where,
            code="audio_too_short",
        )
    try:
        result = await run_in_threadpool(engine.transcribe, samples, STTOptions())
        segments = await run_in_threadpool(list, result.segments)
    except Exception as e:
        log.exception("transcribing an input_audio part failed")
        raise engine_failure("transcription engine") from e
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


def _usage(last: ChatDelta) -> dict[str, int]:
    return {
        "prompt_tokens": last.prompt_tokens,
        "completion_tokens": last.completion_tokens,
        "total_tokens": last.prompt_tokens + last.completion_tokens,
    }


@router.post("/chat/completions")
async def create_chat_completion(body: ChatBody, request: Request) -> Response:
    _validate(body)
    messages = await _plain_messages(request, body.messages)
    max_tokens = min(body.max_completion_tokens or body.max_tokens or 512, get_catalog().chat_max_tokens)
    try:
        deltas = request.app.state.engines.llm().chat(messages, max_tokens=max_tokens, temperature=body.temperature)
    except EngineBusyError as e:
        raise APIError(str(e), status=429, code="engine_busy", type="rate_limit_exceeded") from e
    except Exception as e:
        log.exception("chat could not start")
        raise engine_failure("language model") from e
    reply = _Reply(request, body)
    if body.stream:
        return StreamingResponse(reply.stream(deltas), media_type="text/event-stream")
    return JSONResponse(await reply.whole(deltas))


class _Reply:
    """One completion: its ids, and the whole or streamed rendering of the model's deltas."""

    def __init__(self, request: Request, body: ChatBody):
        self.engines = request.app.state.engines
        self.body = body
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.audio_id = f"audio_{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.spoken = "audio" in body.modalities and body.audio is not None

    def _synth(self, text: str) -> Synthesizer:
        assert self.body.audio is not None
        voice = local_voice(str(self.body.audio.voice))
        return Synthesizer(self.engines, voice, text, speed=1.0, prosody=Prosody())

    async def whole(self, deltas: Iterator[ChatDelta]) -> dict[str, Any]:
        try:
            items: list[ChatDelta] = await run_in_threadpool(list, deltas)
        except Exception as e:
            log.exception("chat failed")
            raise engine_failure("language model") from e
        text = "".join(d.text for d in items).strip()
        last = items[-1] if items else ChatDelta(finish_reason="stop")
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if self.spoken:
            assert self.body.audio is not None
            try:
                synth = self._synth(text or "...")
                samples = await run_in_threadpool(synth.render_all)
                data = await run_in_threadpool(encode_all, samples, _wire_format(self.body.audio.format), synth.rate)
            except Exception as e:
                log.exception("speaking the chat reply failed")
                raise engine_failure("speech engine") from e
            message["content"] = None
            message["audio"] = {
                "id": self.audio_id,
                "data": base64.b64encode(data).decode("ascii"),
                "expires_at": self.created + AUDIO_TTL_S,
                "transcript": text,
            }
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.body.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": last.finish_reason or "stop", "logprobs": None}
            ],
            "usage": _usage(last),
        }

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.body.model,
            "choices": [] if usage is not None else [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            payload["usage"] = usage
        return f"data: {json.dumps(payload)}\n\n".encode()

    def _audio_chunk(self, data: bytes) -> bytes:
        expires = self.created + AUDIO_TTL_S
        return self._chunk(
            {"audio": {"id": self.audio_id, "data": base64.b64encode(data).decode(), "expires_at": expires}}
        )

    async def _speak(
        self, sentences: list[str], encoder: StreamEncoder | None, pending: list[np.ndarray]
    ) -> AsyncIterator[bytes]:
        """Audio chunks for finished sentences (or, for whole-file formats, keep the samples)."""
        for sentence in sentences:
            synth = self._synth(sentence)
            async for samples in synth.stream():
                if encoder is None:
                    pending.append(samples)
                    continue
                data = await run_in_threadpool(encoder.encode, samples)
                if data:
                    yield self._audio_chunk(data)

    async def stream(self, deltas: Iterator[ChatDelta]) -> AsyncIterator[bytes]:
        body = self.body
        yield self._chunk({"role": "assistant", "content": None if self.spoken else ""})
        last = ChatDelta(finish_reason="stop")
        fmt = _wire_format(body.audio.format) if self.spoken and body.audio else ""
        rate = get_catalog().pcm_sample_rate
        encoder = StreamEncoder(fmt, rate) if self.spoken and fmt not in WHOLE_FILE_FORMATS else None
        held: list[np.ndarray] = []  # samples of a whole-file format, encoded at the end
        sentences = SentenceBuffer()
        try:
            async for d in iterate_in_threadpool(deltas):
                if d.text:
                    delta = (
                        {"audio": {"id": self.audio_id, "transcript": d.text}} if self.spoken else {"content": d.text}
                    )
                    yield self._chunk(delta)
                    if self.spoken:
                        async for piece in self._speak(sentences.feed(d.text), encoder, held):
                            yield piece
                if d.finish_reason:
                    last = d
            if self.spoken:
                async for piece in self._speak(sentences.flush(), encoder, held):
                    yield piece
                if encoder is not None:
                    tail = await run_in_threadpool(encoder.finish)
                elif held:
                    tail = await run_in_threadpool(encode_all, np.concatenate(held), fmt, rate)
                else:
                    tail = b""
                if tail:
                    yield self._audio_chunk(tail)
        except Exception:
            log.exception("chat stream failed mid-way")
            last = ChatDelta(finish_reason="stop", prompt_tokens=last.prompt_tokens)
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # a client that went away stops the generation
        yield self._chunk({}, finish=last.finish_reason or "stop")
        if (body.stream_options or {}).get("include_usage"):
            yield self._chunk({}, usage=_usage(last))
        yield b"data: [DONE]\n\n"
