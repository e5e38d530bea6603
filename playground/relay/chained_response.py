"""One response of the chained pipeline: the chat model streamed, its text or speech sent as events.

Runs as one task. Cancelled (``response.cancel``, the user talking over it, the session
closing), it closes the chat and speech streams, which stops the provider's work, and
still ends with the closing events and ``response.done`` (``ResponseCore``).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any, Protocol

from openai import AsyncOpenAI

from playground.backend.realtime.conversation import Entry
from playground.backend.realtime.protocol import RealtimeError, message_item
from playground.backend.realtime.response_core import Part, ResponseCore, ResponseHost, text_usage
from playground.backend.text import SentenceBuffer
from playground.relay.chat_shape import (
    PROVIDER_ERRORS,
    chat_messages,
    chat_tool_choice,
    chat_tools,
    provider_error,
    samples_ms,
)

#: reply audio per ``response.output_audio.delta``: 40 ms
DELTA_SAMPLES = 960

__all__ = ["ChainedHost", "ChainedResponse"]


class _NoTranscript(Exception):
    """The user's turn could not be transcribed (already reported as transcription.failed)."""


class ChainedHost(ResponseHost, Protocol):
    """What a chained response needs of its pipeline beyond the protocol's four things."""

    client: AsyncOpenAI
    chat_model: str
    speech_model: str

    async def audio_room(self) -> None:
        """Wait while the reader is behind (reply audio is the bulk of the traffic)."""

    def record(self, timing: dict[str, Any]) -> None:
        """Keep the finished response's timings."""


class ChainedResponse(ResponseCore):
    """Build with the pipeline, the checked settings, when it started and what triggered it."""

    def __init__(
        self, host: ChainedHost, params: dict[str, Any], *, started: float, trigger: str, turns: list[Entry]
    ) -> None:
        super().__init__(host, params, context=host.conversation.entries())
        self.host: ChainedHost = host
        self.started = started
        #: the user's spoken turns since the previous response (their transcription is timed)
        self.turns = turns
        self.usage_tokens: dict[str, Any] | None = None
        self.timing: dict[str, Any] = {"response_id": self.id, "trigger": trigger}
        #: the assistant message, and its part being written (said, for speech)
        self.message: Entry | None = None
        self.part: Part | None = None
        self._calls: dict[int, dict[str, Any]] = {}

    def mark(self, key: str, since: float | None = None) -> None:
        """A timing in ms, from the response's start unless ``since``; the first one stays."""
        if key not in self.timing:
            self.timing[key] = round((time.perf_counter() - (since or self.started)) * 1000, 1)

    # -- ResponseCore's hooks ------------------------------------------------------------

    async def body(self) -> None:
        await self._hear()
        await self._chat()

    UNEXPECTED = ("The chained pipeline failed", "internal_error")

    def failure(self, e: Exception) -> tuple[RealtimeError, bool]:
        if isinstance(e, _NoTranscript):  # already reported as transcription.failed
            return RealtimeError("", code="transcription_failed", type="server_error"), False
        if isinstance(e, PROVIDER_ERRORS):
            return provider_error("chat", e, self.host.client.api_key), True
        return super().failure(e)

    def finished(self) -> None:
        self.mark("done_ms")
        self.host.record(self.timing)

    def usage(self) -> dict[str, Any]:
        """The chat stream's token counts; for a provider that gave none, 4 characters a token."""
        if self.usage_tokens is not None:
            return self.usage_tokens
        said = self.part.said if self.part is not None else []
        reply = sum(len(s) for s in said) + sum(len(c["arguments"]) for c in self._calls.values())
        prompt = sum(len(str(m.get("content") or "")) for m in self._messages())
        return text_usage(prompt // 4, reply // 4)

    # -- the run ------------------------------------------------------------------------

    async def _hear(self) -> None:
        """Wait for the user's words: the chat model reads transcripts, not audio."""
        spoken = [e for e in self.context if e.transcript is not None]
        for entry in spoken:
            heard = await asyncio.shield(entry.transcript)  # type: ignore[arg-type]
            if heard is None and entry is self.context[-1]:  # nothing new to answer
                raise _NoTranscript
        self.mark("heard_ms")
        self.timing["transcribe_ms"] = self.turns[-1].transcribe_ms if self.turns else None

    async def _chat(self) -> None:
        p = self.params
        kwargs: dict[str, Any] = {}
        if p["tools"] and p["tool_choice"] != "none":
            kwargs["tools"] = chat_tools(p["tools"])
            kwargs["tool_choice"] = chat_tool_choice(p["tool_choice"])
        if isinstance(p["max_output_tokens"], int):
            kwargs["max_completion_tokens"] = p["max_output_tokens"]
        asked = time.perf_counter()
        stream = await self.host.client.chat.completions.create(
            model=self.host.chat_model,
            messages=self._messages(),  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            **kwargs,
        )
        async with stream:  # leaving closes the HTTP stream, which stops the generation
            await self._read(stream, asked)

    def _messages(self) -> list[dict[str, Any]]:
        instructions = self.params["instructions"] or "You are a helpful assistant."
        return chat_messages(instructions, [e.item for e in self.context])

    async def _read(self, stream: Any, asked: float) -> None:
        """The chat stream: text to the page (or to the voice), tool calls as items."""
        voice: _Voice | None = None
        try:
            async for chunk in stream:
                self._take_usage(chunk)
                for choice in chunk.choices[:1]:
                    self.finish = choice.finish_reason or self.finish
                    delta = choice.delta
                    if delta.content or delta.tool_calls:
                        self.mark("chat_first_token_ms", asked)
                    for call in delta.tool_calls or []:
                        self._call_delta(call)
                    if delta.content:
                        voice = self._text(delta.content, voice)
                if voice is not None:
                    voice.check()
            self.mark("chat_done_ms")
            if voice is not None:
                await voice.finish()
        finally:
            if voice is not None:
                await voice.stop()
        self._close_message("completed")
        for item in self._calls.values():
            self.finish_call(item)

    def _take_usage(self, chunk: Any) -> None:
        u = getattr(chunk, "usage", None)
        if u is None:
            return
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        self.usage_tokens = text_usage(u.prompt_tokens or 0, u.completion_tokens or 0, cached)

    # -- the assistant message ----------------------------------------------------------

    def _text(self, text: str, voice: _Voice | None) -> _Voice | None:
        """One piece of the reply: queued for speech, or sent as a text delta."""
        if self.part is None:
            voice = self._open_message()
        assert self.part is not None
        if voice is not None:
            voice.feed(text)
        else:
            self.part.said.append(text)
            self.emit("response.output_text.delta", delta=text, **self.part.ids)
        return voice

    def _open_message(self) -> _Voice | None:
        spoken = self.params["output_modalities"] == ["audio"]
        item = message_item("assistant", [], status="in_progress")
        index = self.start_item(item)
        self.message = self.current
        self.part = self.open_part(item, index, spoken)
        assert self.message is not None
        return _Voice(self, self.message, self.part) if spoken else None

    def _close_message(self, status: str) -> None:
        if self.part is not None and self.message is not None:
            self.close_part(self.part)
            self.finish_item(self.message.item, status)

    # -- function calls -----------------------------------------------------------------

    def _call_delta(self, call: Any) -> None:
        """A streamed tool call: its item on the first piece, then argument deltas."""
        fn = call.function
        item = self._calls.get(call.index)
        if item is None:
            item = self.call_item((fn.name if fn else None) or "", call.id)
            self._calls[call.index] = item
        elif fn is not None and fn.name and not item["name"]:
            item["name"] = fn.name
        if fn is not None and fn.arguments:
            self.call_delta(item, fn.arguments)


class _Voice:
    """Speaks a reply sentence by sentence while the chat model is still writing it.

    The chat stream feeds text in; a task of its own takes each finished sentence to the
    speech endpoint and sends its PCM on in 40 ms deltas as the bytes arrive, so the first
    audio follows the first sentence (or clause), not the whole reply. A sentence's words
    go out as a transcript delta just before its first audio, so the transcript holds what
    was actually said, also when the response is cut short.
    """

    def __init__(self, response: ChainedResponse, entry: Entry, part: Part) -> None:
        self.response = response
        self.entry = entry
        self.part = part
        self.sentences = SentenceBuffer()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.samples = 0
        self.task = asyncio.create_task(self._run())

    def feed(self, text: str) -> None:
        for sentence in self.sentences.feed(text):
            self.queue.put_nowait(sentence)

    def check(self) -> None:
        """Raise a speech failure now, rather than once the whole reply is written."""
        if self.task.done() and not self.task.cancelled():
            self.task.result()

    async def finish(self) -> None:
        for sentence in self.sentences.flush():
            self.queue.put_nowait(sentence)
        self.queue.put_nowait(None)
        await self.task

    async def stop(self) -> None:
        if not self.task.done():
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while (sentence := await self.queue.get()) is not None:
                await self._say(sentence)
        except PROVIDER_ERRORS as e:
            raise provider_error("speech", e, self.response.host.client.api_key) from None

    async def _say(self, sentence: str) -> None:
        r, p = self.response, self.response.params
        start_ms, heard, carry = samples_ms(self.samples), False, b""
        asked = time.perf_counter()
        try:
            async with r.host.client.audio.speech.with_streaming_response.create(
                model=r.host.speech_model,
                voice=p["voice"],
                input=sentence,
                response_format="pcm",
                speed=p["speed"],
            ) as reply:
                async for chunk in reply.iter_bytes():
                    if not heard:
                        heard = True
                        r.mark("tts_first_byte_ms", asked)
                        self._said(sentence)
                    data = carry + chunk
                    cut = len(data) - len(data) % (DELTA_SAMPLES * 2)
                    for i in range(0, cut, DELTA_SAMPLES * 2):
                        await self._send(data[i : i + DELTA_SAMPLES * 2])
                    carry = data[cut:]
            if len(carry) >= 2:
                await self._send(carry[: len(carry) // 2 * 2])
            if not heard:  # a sentence with no sound (punctuation only) still was the reply
                self._said(sentence)
        finally:  # also when cut short: truncation needs what was really sent
            if heard:
                self.entry.spans.append((start_ms, samples_ms(self.samples), sentence))

    def _said(self, sentence: str) -> None:
        r, said = self.response, self.part.said
        delta = (" " if said else "") + sentence.strip()
        said.append(delta)
        r.emit("response.output_audio_transcript.delta", delta=delta, **self.part.ids)

    async def _send(self, pcm: bytes) -> None:
        r = self.response
        await r.host.audio_room()
        r.mark("first_audio_ms")
        self.samples += len(pcm) // 2
        self.entry.sent_ms = samples_ms(self.samples)
        r.emit("response.output_audio.delta", delta=base64.b64encode(pcm).decode(), **self.part.ids)
