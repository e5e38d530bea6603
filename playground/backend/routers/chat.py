"""``POST /chat/completions``: the local LLM, with audio in and audio out.

``input_audio`` content parts are transcribed by local Whisper and replaced by their
text; with ``modalities: ["text", "audio"]`` the reply is spoken by the requested
voice and returned as ``message.audio`` (or streamed as ``delta.audio``), as OpenAI's
audio models do. A streamed spoken reply speaks each sentence as soon as the model
has written it, so audio starts long before the text is complete.

Multi-turn: every spoken reply is remembered (its transcript and length, not its
sound: the local model reads text) in a bounded store that forgets it at its
``expires_at``, so a later request may carry ``{"role": "assistant", "audio": {"id":
...}}`` instead of resending the reply, as OpenAI expects. An unknown or expired id is a
400 naming ``messages[i].audio.id``. Usage splits tokens into text and audio the way
OpenAI reports them, audio tokens counted from the sound's length (catalog rates).
Spoken user turns are heard once: a conversation resends them with every request, so
their transcripts are kept (bounded) by a hash of the audio.

The request is checked at the edge, before any model runs: numbers and booleans must
be JSON numbers and booleans (pydantic would otherwise accept ``"100"`` or ``"yes"``),
integers fit 32 bits, a field OpenAI's request does not have is refused (those it has
that mean nothing locally are ignored), and every content part must be one we can read,
in valid Unicode.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from playground.backend.engines.base import ChatDelta, EngineBusyError, ReaderStalledError, STTOptions
from playground.backend.errors import APIError, custom_voice_message, engine_failure, error_body, spec_error
from playground.backend.localmap import chat_models, local_voice, stt_model_for
from playground.backend.models_gate import check_model
from playground.backend.style import Prosody
from playground.backend.synthesis import Synthesizer
from playground.backend.text import SentenceBuffer
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.encode import WHOLE_FILE_FORMATS, StreamEncoder, encode_all
from playground.core.specs import chat_output_problems

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class SpokenReply:
    """What a later turn needs from an earlier spoken reply: its words and its length."""

    transcript: str
    seconds: float
    expires_at: int


class SpokenReplies:
    """Spoken replies by ``audio.id``: at most ``limit`` kept (oldest dropped), each until it expires."""

    def __init__(self, limit: int | None = None, ttl_s: int | None = None) -> None:
        limits = get_catalog().limits
        self.limit = limit or limits.chat_audio_replies_kept
        self.ttl_s = ttl_s or limits.chat_audio_reply_ttl_seconds
        self._items: OrderedDict[str, SpokenReply] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, audio_id: str, transcript: str, seconds: float, expires_at: int) -> None:
        with self._lock:
            self._items[audio_id] = SpokenReply(transcript, seconds, expires_at)
            self._items.move_to_end(audio_id)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def recall(self, audio_id: str, now: float | None = None) -> SpokenReply | None:
        """The reply, or None when it was never made here, was dropped or has expired."""
        now = time.time() if now is None else now
        with self._lock:
            for key in [k for k, v in self._items.items() if v.expires_at <= now]:
                del self._items[key]
            return self._items.get(audio_id)

    def __len__(self) -> int:
        return len(self._items)


def spoken_replies(app: Any) -> SpokenReplies:
    """The app's store, made on first use (one per backend app, so test servers stay apart)."""
    store = getattr(app.state, "spoken_replies", None)
    if store is None:
        store = app.state.spoken_replies = SpokenReplies()
    return store


def _audio_tokens(seconds: float, speaker: str) -> int:
    rate = getattr(get_catalog().chat_audio.audio_tokens_per_second, speaker)
    return round(seconds * rate)


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
        formats = get_catalog().chat_audio.input_formats
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
    check_model(body.model)
    if "audio" in body.modalities and body.audio is None:
        raise APIError(
            'The audio parameter is required when modalities includes "audio".',
            param="audio",
            code="missing_required_parameter",
        )
    if body.audio is not None:
        custom = custom_voice_message(body.audio.voice, "audio.voice", len(get_catalog().chat_audio.voices))
        if custom is not None:
            raise APIError(custom, param="audio.voice", code="invalid_value")
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
        if msg.get("audio") is not None:
            _check_audio_reference(msg, i)


def _check_audio_reference(msg: dict[str, Any], i: int) -> None:
    """``{"role": "assistant", "audio": {"id": ...}}``: an earlier spoken reply, by id."""
    where = f"messages[{i}].audio"
    if msg.get("role") != "assistant":
        raise APIError(f"Invalid '{where}': only assistant messages refer to audio.", param=where, code="invalid_value")
    ref = msg["audio"]
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise APIError(
            f"Invalid '{where}': expected an object with the 'id' of an earlier audio reply.",
            param=f"{where}.id",
            code="invalid_type",
        )


class HeardParts:
    """Transcripts of recent ``input_audio`` parts by a hash of their data: a conversation
    resends every spoken user turn with each request, and hearing it once is enough."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit or int(get_catalog().limits.chat_heard_kept)
        self._items: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, value: tuple[str, float]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)


def heard_parts(app: Any) -> HeardParts:
    store = getattr(app.state, "heard_parts", None)
    if store is None:
        store = app.state.heard_parts = HeardParts()
    return store


async def _transcribe_part(request: Request, part: dict[str, Any], where: str) -> tuple[str, float]:
    """The words of an ``input_audio`` part, and its length in seconds (from the cache when
    the same audio was heard before)."""
    data = (part.get("input_audio") or {}).get("data", "")
    key = hashlib.sha256(data.encode() if isinstance(data, str) else repr(data).encode()).hexdigest()
    heard = heard_parts(request.app)
    known = heard.get(key)
    if known is not None:
        return known
    engine = request.app.state.engines.stt(stt_model_for(get_catalog().local.hearing, None))
    try:
        raw = base64.b64decode(data, validate=True)
        samples = await run_in_threadpool(
            audio.decode_mono, raw, engine.sample_rate, max_seconds=get_catalog().limits.audio_max_seconds
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
    text = " ".join(s.text.strip() for s in segments).strip()
    heard.put(key, (text, len(samples) / engine.sample_rate))
    return text, len(samples) / engine.sample_rate


def _recall(request: Request, ref: dict[str, Any], i: int) -> SpokenReply:
    reply = spoken_replies(request.app).recall(ref["id"])
    if reply is None:
        raise APIError(
            f"Invalid 'messages[{i}].audio.id': no audio reply with id '{ref['id'][:80]}' "
            "(it was never made by this server, or it has expired).",
            param=f"messages[{i}].audio.id",
            code="invalid_value",
        )
    return reply


async def _plain_messages(request: Request, messages: list[dict[str, Any]]) -> tuple[list[dict[str, str]], int]:
    """Flatten content parts to text, transcribing audio parts and recalling earlier spoken
    replies by id; also the audio tokens the prompt held."""
    out = []
    audio_tokens = 0
    for i, msg in enumerate(messages):
        content = msg.get("content")
        if isinstance(content, list):
            texts = []
            for j, part in enumerate(content):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind in ("text", "input_text"):
                    texts.append(str(part.get("text", "")))
                elif kind == "input_audio":
                    heard, seconds = await _transcribe_part(request, part, f"messages[{i}].content[{j}]")
                    texts.append(heard)
                    audio_tokens += _audio_tokens(seconds, "user")
            content = "\n".join(t for t in texts if t)
        if isinstance(msg.get("audio"), dict):
            reply = _recall(request, msg["audio"], i)
            audio_tokens += _audio_tokens(reply.seconds, "assistant")
            if not content:
                content = reply.transcript
        out.append({"role": "system" if msg["role"] == "developer" else msg["role"], "content": str(content or "")})
    return out, audio_tokens


def _usage(last: ChatDelta, audio_in: int = 0, audio_out: int = 0) -> dict[str, Any]:
    """OpenAI's usage: text tokens as the model counted them, audio tokens from the sound's length."""
    prompt = last.prompt_tokens + audio_in
    completion = last.completion_tokens + audio_out
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"audio_tokens": audio_in, "cached_tokens": 0, "text_tokens": last.prompt_tokens},
        "completion_tokens_details": {
            "audio_tokens": audio_out,
            "reasoning_tokens": 0,
            "text_tokens": last.completion_tokens,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@router.post("/chat/completions")
async def create_chat_completion(body: ChatBody, request: Request) -> Response:
    _validate(body)
    messages, audio_in = await _plain_messages(request, body.messages)
    max_tokens = min(body.max_completion_tokens or body.max_tokens or 512, get_catalog().limits.chat_max_tokens)
    try:
        deltas = request.app.state.engines.llm().chat(messages, max_tokens=max_tokens, temperature=body.temperature)
    except EngineBusyError as e:
        raise APIError(str(e), status=429, code="engine_busy", type="rate_limit_exceeded") from e
    except Exception as e:
        log.exception("chat could not start")
        raise engine_failure("language model") from e
    reply = _Reply(request, body, audio_in)
    if body.stream:
        return StreamingResponse(reply.stream(deltas), media_type="text/event-stream")
    return JSONResponse(await reply.whole(deltas))


class _Reply:
    """One completion: its ids, and the whole or streamed rendering of the model's deltas."""

    def __init__(self, request: Request, body: ChatBody, audio_in: int = 0):
        self.engines = request.app.state.engines
        self.replies = spoken_replies(request.app)
        self.body = body
        self.audio_in = audio_in
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.audio_id = f"audio_{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.expires_at = self.created + self.replies.ttl_s
        self.spoken = "audio" in body.modalities and body.audio is not None
        #: samples of the spoken reply so far (for its audio tokens and its length)
        self.samples_out = 0

    def _remember(self, transcript: str) -> None:
        seconds = self.samples_out / get_catalog().pcm_sample_rate
        self.replies.remember(self.audio_id, transcript, seconds, self.expires_at)

    def _final_usage(self, last: ChatDelta) -> dict[str, Any]:
        seconds = self.samples_out / get_catalog().pcm_sample_rate
        return _usage(last, self.audio_in, _audio_tokens(seconds, "assistant") if self.spoken else 0)

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
            self.samples_out = len(samples)
            self._remember(text)
            message["content"] = None
            message["audio"] = {
                "id": self.audio_id,
                "data": base64.b64encode(data).decode("ascii"),
                "expires_at": self.expires_at,
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
            "usage": self._final_usage(last),
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
        return self._chunk(
            {"audio": {"id": self.audio_id, "data": base64.b64encode(data).decode(), "expires_at": self.expires_at}}
        )

    async def _speak(
        self, sentences: list[str], encoder: StreamEncoder | None, pending: list[np.ndarray]
    ) -> AsyncIterator[bytes]:
        """Audio chunks for finished sentences (or, for whole-file formats, keep the samples)."""
        for sentence in sentences:
            synth = self._synth(sentence)
            async for samples in synth.stream():
                self.samples_out += len(samples)
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
        said: list[str] = []
        try:
            async for d in iterate_in_threadpool(deltas):
                if d.text:
                    said.append(d.text)
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
                self._remember("".join(said).strip())
        except Exception as e:
            # OpenAI's streams report a failure mid-way as an ``error`` event, which the SDK raises
            if isinstance(e, ReaderStalledError):
                message = str(e)
            else:
                log.exception("chat stream failed mid-way")
                message = "The chat engine failed mid-reply; the reply is incomplete. Try again."
            failed = error_body(message, type="server_error", code="engine_failure")
            yield f"data: {json.dumps(failed)}\n\n".encode()
            return
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # a client that went away stops the generation
        yield self._chunk({}, finish=last.finish_reason or "stop")
        if (body.stream_options or {}).get("include_usage"):
            yield self._chunk({}, usage=self._final_usage(last))
        yield b"data: [DONE]\n\n"
