"""Execute request specs through the official SDK and measure them.

Every call goes through ``openai`` (sync or async client of the active provider) with
``spec.to_kwargs()`` — the same arguments the exported snippet shows. Results carry
the payload plus timings (time to first byte, total), usage when the server returns
it, and a cost estimate from the catalog.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import openai

from playground.client.providers import Provider
from playground.client.realtime_speech import realtime_speech
from playground.client.results import MAX_TRACED_CHUNKS, ChatAudioResult, SpeechResult, TranscriptionResult
from playground.core import audio
from playground.core.errors import ProviderError
from playground.core.pricing import estimate_chat_audio_cost, estimate_speech_cost, estimate_transcription_cost
from playground.core.specs import ChatAudioSpec, RealtimeSpeechSpec, SpeechSpec, TranscriptionSpec

__all__ = ["Runner", "SpeechStream"]

log = logging.getLogger(__name__)
INSTRUCTIONS_HEADER = "x-playground-instructions-applied"


def _ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


@contextlib.contextmanager
def _provider_errors(provider: Provider, what: str) -> Iterator[None]:
    """Turn SDK exceptions into ``ProviderError`` with a readable, key-free message."""
    try:
        yield
    except openai.APIStatusError as e:
        message = e.message
        body = e.body if isinstance(e.body, dict) else None
        if body and isinstance(body.get("error"), dict):
            message = body["error"].get("message") or message
        elif body and "message" in body:
            message = str(body["message"])
        code = getattr(e, "code", None)
        raise ProviderError(
            provider.redact(f"{what} failed ({e.status_code}): {message}"), status=e.status_code, code=code
        ) from None
    except openai.APITimeoutError:
        raise ProviderError(f"{what} timed out talking to {provider.label}", code="timeout") from None
    except openai.APIConnectionError as e:
        raise ProviderError(
            provider.redact(f"{what}: cannot reach {provider.public()['base_url']} ({e.__cause__ or e})"),
            code="connection_error",
        ) from None


def _speech_result(
    spec: SpeechSpec,
    data: bytes,
    t0: float,
    ttfb: float | None,
    usage: dict[str, Any] | None,
    headers: Any,
    chunks: list[tuple[float, int]] | None = None,
) -> SpeechResult:
    total = _ms_since(t0)
    try:
        duration = audio.duration_seconds(data, spec.response_format) if data else None
    except audio.AudioDecodeError:
        duration = None
    return SpeechResult(
        spec=spec,
        audio=data,
        duration_s=duration,
        ttfb_ms=ttfb if ttfb is not None else total,
        total_ms=total,
        usage=usage,
        est_cost=estimate_speech_cost(
            spec.model,
            input_chars=len(spec.input) + len(spec.instructions),
            duration_s=duration or 0.0,
            usage=usage,
        ),
        instructions_applied=headers.get(INSTRUCTIONS_HEADER) if headers is not None else None,
        chunks=tuple(chunks or ())[:MAX_TRACED_CHUNKS],
    )


class _SSEAudio:
    """Turns ``speech.audio.*`` server-sent event lines into audio bytes and usage."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None

    def feed(self, line: str) -> bytes:
        if not line.startswith("data:"):
            return b""
        event = json.loads(line[5:])
        if event.get("type") == "speech.audio.delta":
            return base64.b64decode(event.get("audio", ""))
        if event.get("type") == "speech.audio.done":
            self.usage = event.get("usage")
        return b""


class SpeechStream:
    """Iterate to receive audio chunks as they arrive; ``result`` is set when done."""

    def __init__(self, runner: Runner, spec: SpeechSpec):
        self._runner, self._spec = runner, spec
        self.result: SpeechResult | None = None

    def __iter__(self) -> Iterator[bytes]:
        spec, provider = self._spec, self._runner.provider
        parts: list[bytes] = []
        arrivals: list[tuple[float, int]] = []
        ttfb: float | None = None
        sse = _SSEAudio() if spec.stream_format == "sse" else None
        t0 = time.perf_counter()
        with _provider_errors(provider, "Speech"):
            with provider.client().audio.speech.with_streaming_response.create(**spec.to_kwargs()) as response:
                headers = response.headers
                pieces = (sse.feed(line) for line in response.iter_lines()) if sse else response.iter_bytes()
                for chunk in pieces:
                    if not chunk:
                        continue
                    if ttfb is None:
                        ttfb = _ms_since(t0)
                    if len(arrivals) < MAX_TRACED_CHUNKS:
                        arrivals.append((_ms_since(t0), len(chunk)))
                    parts.append(chunk)
                    yield chunk
        usage = sse.usage if sse else None
        self.result = _speech_result(spec, b"".join(parts), t0, ttfb, usage, headers, arrivals)


class Runner:
    """Runs specs against one provider. Cheap to create; clients are cached per provider."""

    def __init__(self, provider: Provider):
        self.provider = provider

    # ---------------------------------------------------------------- speech
    def stream_speech(self, spec: SpeechSpec) -> SpeechStream:
        spec.validate()
        return SpeechStream(self, spec)

    def speech(self, spec: SpeechSpec, *, on_chunk: Callable[[bytes], None] | None = None) -> SpeechResult:
        stream = self.stream_speech(spec)
        for chunk in stream:
            if on_chunk is not None:
                on_chunk(chunk)
        assert stream.result is not None  # set when iteration completes
        return stream.result

    def realtime_speech(
        self,
        spec: RealtimeSpeechSpec,
        *,
        on_audio: Callable[[bytes], None] | None = None,
        on_transcript: Callable[[str], None] | None = None,
    ) -> SpeechResult:
        """The same text through a Realtime session (``client.realtime.connect``)."""
        return realtime_speech(self.provider, spec, on_audio=on_audio, on_transcript=on_transcript)

    def say(
        self, spec: SpeechSpec | RealtimeSpeechSpec, *, on_chunk: Callable[[bytes], None] | None = None
    ) -> SpeechResult:
        """Either workflow by its spec: the speech endpoint or a Realtime session."""
        if isinstance(spec, RealtimeSpeechSpec):
            return self.realtime_speech(spec, on_audio=on_chunk)
        return self.speech(spec, on_chunk=on_chunk)

    async def aspeech_chunks(self, spec: SpeechSpec) -> AsyncIterator[bytes | SpeechResult]:
        """Async stream: yields audio chunks, then the ``SpeechResult`` last."""
        spec.validate()
        provider = self.provider
        parts: list[bytes] = []
        ttfb: float | None = None
        sse = _SSEAudio() if spec.stream_format == "sse" else None
        t0 = time.perf_counter()
        with _provider_errors(provider, "Speech"):
            create = provider.async_client().audio.speech.with_streaming_response.create
            async with create(**spec.to_kwargs()) as response:
                headers = response.headers
                if sse:
                    source: AsyncIterator[bytes] = (sse.feed(line) async for line in response.iter_lines())
                else:
                    source = response.iter_bytes()
                async for chunk in source:
                    if not chunk:
                        continue
                    if ttfb is None:
                        ttfb = _ms_since(t0)
                    parts.append(chunk)
                    yield chunk
        # decoding the clip for its duration is CPU work: off the event loop
        yield await asyncio.to_thread(
            _speech_result, spec, b"".join(parts), t0, ttfb, sse.usage if sse else None, headers
        )

    async def aspeech(self, spec: SpeechSpec) -> SpeechResult:
        result = None
        async for item in self.aspeech_chunks(spec):
            if isinstance(item, SpeechResult):
                result = item
        assert result is not None
        return result

    # --------------------------------------------------------- transcription
    def transcribe(
        self, spec: TranscriptionSpec, *, on_delta: Callable[[str], None] | None = None
    ) -> TranscriptionResult:
        spec.validate()
        path = Path(spec.file)
        client = self.provider.client()
        resource = client.audio.translations if spec.task == "translate" else client.audio.transcriptions
        what = "Translation" if spec.task == "translate" else "Transcription"
        t0 = time.perf_counter()
        ttfb: float | None = None
        usage: dict[str, Any] | None = None
        with _provider_errors(self.provider, what), path.open("rb") as fh, warnings.catch_warnings():
            # the SDK marks translations deprecated; the endpoint still works and the user chose it
            warnings.simplefilter("ignore", DeprecationWarning)
            response = resource.create(file=fh, **spec.to_kwargs())
            if spec.stream:
                text_parts: list[str] = []
                final = None
                for event in response:
                    if ttfb is None:
                        ttfb = _ms_since(t0)
                    if event.type == "transcript.text.delta":
                        text_parts.append(event.delta)
                        if on_delta:
                            on_delta(event.delta)
                    elif event.type == "transcript.text.done":
                        final = event
                text = final.text if final is not None else "".join(text_parts)
                raw: Any = final.model_dump() if final is not None else {"text": text}
                usage = raw.get("usage")
            elif isinstance(response, str):
                text, raw = response, response
            else:
                raw = response.model_dump(exclude_none=True)
                text = raw.get("text", "")
                usage = raw.get("usage")
        total = _ms_since(t0)
        try:
            duration = audio.duration_seconds(path.read_bytes())
        except audio.AudioDecodeError:
            duration = None
        return TranscriptionResult(
            spec=spec,
            text=text,
            raw=raw,
            duration_s=duration,
            ttfb_ms=ttfb if ttfb is not None else total,
            total_ms=total,
            usage=usage,
            est_cost=estimate_transcription_cost(spec.model, duration_s=duration or 0.0, usage=usage),
        )

    # ------------------------------------------------------------ chat audio
    def chat_audio(
        self,
        spec: ChatAudioSpec,
        *,
        on_audio: Callable[[bytes], None] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> ChatAudioResult:
        """One chat completion. A streamed spec reports PCM16 audio and transcript text as
        they arrive (``on_audio`` / ``on_text``); a whole one reports them once at the end."""
        spec.validate()
        if spec.stream:
            return self._chat_audio_stream(spec, on_audio, on_text)
        t0 = time.perf_counter()
        with _provider_errors(self.provider, "Chat"):
            completion = self.provider.client().chat.completions.create(**spec.to_kwargs())
        total = _ms_since(t0)
        message = completion.choices[0].message
        data = base64.b64decode(message.audio.data) if message.audio else None
        text = message.audio.transcript if message.audio else (message.content or "")
        if on_text is not None and text:
            on_text(text)
        if on_audio is not None and data:
            on_audio(data)
        usage = completion.usage.model_dump(exclude_none=True) if completion.usage else None
        return ChatAudioResult(
            spec=spec,
            text=text,
            audio=data,
            total_ms=total,
            usage=usage,
            audio_id=message.audio.id if message.audio else None,
            expires_at=message.audio.expires_at if message.audio else None,
            ttfb_ms=total,
            first_audio_ms=total if data else None,
            est_cost=estimate_chat_audio_cost(spec.model, usage) if usage else None,
            finish_reason=completion.choices[0].finish_reason,
        )

    def _chat_audio_stream(
        self,
        spec: ChatAudioSpec,
        on_audio: Callable[[bytes], None] | None,
        on_text: Callable[[str], None] | None,
    ) -> ChatAudioResult:
        t0 = time.perf_counter()
        ttfb = first_audio = None
        pcm = bytearray()
        text: list[str] = []
        usage = audio_id = expires_at = finish = None
        with _provider_errors(self.provider, "Chat"):
            for chunk in self.provider.client().chat.completions.create(**spec.to_kwargs()):
                if ttfb is None:
                    ttfb = _ms_since(t0)
                if chunk.usage is not None:
                    usage = chunk.usage.model_dump(exclude_none=True)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish = choice.finish_reason or finish
                # ``delta.audio``: a typed model in newer SDKs, an extra (dict) field in older ones
                piece = getattr(choice.delta, "audio", None) or {}
                if not isinstance(piece, dict):
                    piece = piece.model_dump(exclude_none=True)
                said = piece.get("transcript") or (choice.delta.content or "")
                if said:
                    text.append(said)
                    if on_text is not None:
                        on_text(said)
                audio_id = piece.get("id") or audio_id
                expires_at = piece.get("expires_at") or expires_at
                if piece.get("data"):
                    data = base64.b64decode(piece["data"])
                    if first_audio is None:
                        first_audio = _ms_since(t0)
                    pcm.extend(data)
                    if on_audio is not None:
                        on_audio(data)
        return ChatAudioResult(
            spec=spec,
            text="".join(text),
            audio=bytes(pcm) if pcm else None,
            total_ms=_ms_since(t0),
            usage=usage,
            audio_id=audio_id,
            expires_at=expires_at,
            ttfb_ms=ttfb,
            first_audio_ms=first_audio,
            est_cost=estimate_chat_audio_cost(spec.model, usage) if usage else None,
            finish_reason=finish,
        )
