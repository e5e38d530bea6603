"""The classic voice pipeline behind the realtime protocol: STT → chat → TTS per turn.

The voice chat tab's "chained pipeline" mode puts ``ChainedPipeline`` where the SDK's
realtime connection would be (``send`` a client event, ``recv_bytes`` the next server
event), so the page, its event log and its latency table stay the same while each turn
goes through three ordinary REST calls to the active provider, made with the official
SDK: ``audio.transcriptions`` on the turn's audio, ``chat.completions`` streamed, and
``audio.speech`` (raw PCM) for each sentence as soon as the chat model has finished it,
while it goes on writing the next. That makes the two architectures comparable on one
conversation: same turns, same events, different machinery.

Turns are found here, with the local Silero VAD (on a worker thread) and the embedded
backend's pure turn detector; session and response settings are checked by the backend's
pure config functions, so both refuse the same things with the same messages.

Client events handled: ``session.update``, ``input_audio_buffer.append`` / ``commit`` /
``clear``, ``conversation.item.create`` / ``delete`` / ``truncate``, ``response.create``
/ ``cancel``. Any other event is answered with an ``error`` (code
``unsupported_in_chained_mode``) naming it, never dropped silently.

Where the chained pipeline differs from a speech-to-speech session, on purpose:

* ``semantic_vad`` is treated as ``server_vad`` whose silence is the catalog's *medium*
  semantic wait for a finished thought (600 ms), whatever the eagerness: a classic
  pipeline has no model that judges whether the user has finished.
* The user's speech is always transcribed (``audio.input.transcription.model``, or
  the catalog's file model, gpt-transcribe, when the session sets none or names a
  realtime-only one such as gpt-live-transcribe), since the chat model reads text;
  the transcription starts when the turn ends (no speculation while the silence runs),
  which is the classic pipeline's cost. ``noise_reduction`` filters the turn's audio
  (its ``strength`` scaling the reduction) before it is sent; ``keywords`` and
  ``languages`` go with the transcription request.
* The voice may change at any time (each sentence is a separate speech request).
* Remote MCP tools cannot be called by a chat completion: they are left out of the
  session with an ``error`` naming them. Function tools go to the chat endpoint as
  ``tools``; a provider whose chat endpoint ignores them (the embedded backend's does)
  answers without calling them.
* ``response.create`` with ``input`` (out-of-band context) is refused; out-of-band
  responses (``conversation: "none"``) work. ``output_audio_buffer.clear`` and
  ``conversation.item.retrieve`` are refused (no WebRTC buffer, no audio kept).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import io
import json
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import numpy as np
import soundfile as sf
import soxr
import websockets
from openai import APIConnectionError, APIStatusError, APITimeoutError, AsyncOpenAI, OpenAIError

from playground.backend.dsp import denoise
from playground.backend.engines.silero_vad import SileroVAD
from playground.backend.realtime import config as cfg
from playground.backend.realtime.conversation import cut_transcript, parse_item
from playground.backend.realtime.protocol import RealtimeError, error_event, message_item, new_id, server_event
from playground.backend.realtime.turns import Started, Stopped, TurnDetector, TurnEvent
from playground.backend.text import SentenceBuffer
from playground.client.providers import redact
from playground.core.catalog import get_catalog

__all__ = ["SUPPORTED_EVENTS", "ChainedPipeline"]

log = logging.getLogger(__name__)

#: input and output audio: PCM16 mono at 24 kHz, the realtime protocol's only PCM rate
RATE = 24000
VAD_RATE = 16000
#: Silero's frame: 512 samples at 16 kHz
VAD_FRAME_MS = 32
#: reply audio per ``response.output_audio.delta``: 40 ms
DELTA_SAMPLES = 960
#: below this much audio a commit is refused, as OpenAI's is
MIN_COMMIT_MS = 100
#: hears the user when the session names no transcription model: the catalog's current file
#: model (gpt-transcribe), which takes the session's keywords and languages
TRANSCRIBE_MODEL = get_catalog().transcription_default_model
#: while nobody speaks, audio older than this is dropped (beyond the next turn's padding)
IDLE_KEEP_MS = 5000
#: per-response timings kept in ``ChainedPipeline.timings``
TIMINGS_MAX = 256
UNSUPPORTED = "unsupported_in_chained_mode"
#: what a provider call can fail with: the SDK's errors, and the HTTP stack's mid-stream
PROVIDER_ERRORS = (OpenAIError, httpx2.HTTPError)


# ------------------------------------------------------------------ pure helpers


def _ms(samples: int) -> int:
    return samples * 1000 // RATE


def _wav(pcm: bytes, noise: str | None, strength: float = 1.0) -> bytes:
    """The turn as a WAV file for the transcription request (CPU work: call on a thread)."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
    if noise:
        samples = denoise(samples, RATE, noise, strength)
    buf = io.BytesIO()
    sf.write(buf, samples, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _file_model(model: str | None) -> str:
    """The model a turn is transcribed with over ``/v1/audio/transcriptions``: the session's, or,
    for a realtime-only one (gpt-live-transcribe, gpt-realtime-whisper: ``file: false``), the
    catalog's file model; ``TRANSCRIBE_MODEL`` when the session names none."""
    if not model:
        return TRANSCRIBE_MODEL
    entry = get_catalog().transcription_model(model)
    return get_catalog().transcription_default_model if entry is not None and not entry.file else model


def _require_pcm(fmt: dict[str, Any], param: str) -> None:
    """Speech requests return 24 kHz PCM and transcription takes it: the only format here."""
    if fmt.get("type") != "audio/pcm":
        raise RealtimeError(
            f"Invalid '{param}': the chained pipeline takes and gives audio/pcm at {RATE} Hz only; "
            f"got {fmt.get('type')!r}.",
            param=param,
            code=UNSUPPORTED,
        )


def _chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Realtime function tools (flat) in chat completions' shape (nested under ``function``)."""
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t.get("description", ""), "parameters": t["parameters"]},
        }
        for t in tools
    ]


def _chat_tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, dict):
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _item_text(item: dict[str, Any]) -> str:
    """What the chat model reads of a message item: its text, or its audio's transcript."""
    texts = [str(p.get("text") or p.get("transcript") or "") for p in item.get("content", [])]
    return " ".join(t.strip() for t in texts if t.strip())


def _chat_messages(instructions: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        text = _item_text(item) if item["type"] == "message" else ""
        if text:
            out.append({"role": item["role"], "content": text})
    out.extend(results)
    return out


def _provider_error(stage: str, e: Exception, key: str | None) -> RealtimeError:
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


def _snapshot(item: dict[str, Any]) -> dict[str, Any]:
    """A copy as the item is now: an event must not change when the item does later."""
    return copy.deepcopy(item)


_VAD_LOCK = threading.Lock()
_VAD: SileroVAD | None = None


def _vad_engine() -> SileroVAD:
    """One Silero model for every session (loading it is file I/O: call on a thread)."""
    global _VAD
    with _VAD_LOCK:
        if _VAD is None:
            engine = SileroVAD()
            engine.load()
            _VAD = engine
        return _VAD


# ------------------------------------------------------------------ plumbing


class _Outbox:
    """Server events waiting for the reader, at most ``limit`` of them.

    ``put`` never waits, so answering a client event never blocks on the reader. Reply
    audio, the bulk of the traffic, waits in ``room()`` while the queue is half full: a
    slow reader slows the speech down instead of growing the queue. Only a reader that
    stopped altogether fills the other half; then ``put`` says no and the session ends.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self._items: deque[bytes | None] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def put(self, data: bytes) -> bool:
        if len(self._items) >= self.limit:
            return False
        self._items.append(data)
        self._readable.set()
        if len(self._items) >= self.limit // 2:
            self._writable.clear()
        return True

    def end(self) -> None:
        """The end marker, after whatever is still queued (may go one over the limit)."""
        self._items.append(None)
        self._readable.set()

    async def get(self) -> bytes | None:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        data = self._items.popleft()
        if len(self._items) < self.limit // 2:
            self._writable.set()
        return data

    async def room(self) -> None:
        await self._writable.wait()


@dataclass(eq=False)
class _Entry:
    """A conversation item and what the pipeline knows beside it."""

    item: dict[str, Any]
    #: assistant audio sent so far, and (start_ms, end_ms, text) per spoken sentence
    audio_ms: int = 0
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    #: user speech: resolves to the transcript, or None when transcription failed
    transcript: asyncio.Future[str | None] | None = None
    transcribe_ms: float | None = None

    @property
    def id(self) -> str:
        return str(self.item["id"])


class _Conversation:
    """Items in order, at most ``limit`` (the oldest go first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def entries(self) -> list[_Entry]:
        return list(self._entries.values())

    def get(self, item_id: Any, param: str = "item_id") -> _Entry:
        entry = self._entries.get(item_id) if isinstance(item_id, str) else None
        if entry is None:
            raise RealtimeError(f"Item with item_id not found: {item_id!r}.", param=param, code="item_not_found")
        return entry

    def add(self, entry: _Entry, previous_item_id: str | None = None) -> str | None:
        """Insert after ``previous_item_id`` (``"root"``: first; None: last); returns the id before it."""
        if entry.id in self._entries:
            raise RealtimeError(f"Item with id {entry.id!r} already exists.", param="item.id", code="duplicate_item_id")
        order = list(self._entries)
        if previous_item_id is None:
            at = len(order)
        elif previous_item_id == "root":
            at = 0
        elif previous_item_id in self._entries:
            at = order.index(previous_item_id) + 1
        else:
            raise RealtimeError(
                f"previous_item_id not found: {previous_item_id!r}.", param="previous_item_id", code="item_not_found"
            )
        self._entries[entry.id] = entry
        for later in order[at:]:
            self._entries.move_to_end(later)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)
        return order[at - 1] if at > 0 else None

    def delete(self, item_id: str) -> None:
        del self._entries[item_id]


class _Input:
    """The uncommitted input audio (PCM16, 24 kHz) on the session's input clock, and the
    turn detector that watches it. ``take`` is CPU work (base64, resampling, VAD): the
    pipeline runs it on a worker thread, one append at a time."""

    def __init__(self, max_seconds: int) -> None:
        self.max_bytes = max_seconds * RATE * 2
        self.buffer = bytearray()
        #: absolute sample index (since the session began) of ``buffer[0]``
        self.base = 0
        self.detector: TurnDetector | None = None
        self._stream: Any = None
        self._resampler: Any = None
        self._origin_ms = 0  # input clock where the current detector started
        self._frames = 0

    @property
    def end_ms(self) -> int:
        return _ms(self.base + len(self.buffer) // 2)

    @property
    def buffered_ms(self) -> int:
        return _ms(len(self.buffer) // 2)

    def configure(self, turn_detection: dict[str, Any] | None) -> None:
        """A fresh detector (and VAD state) from here on; None for manual turns."""
        self.detector = _detector(turn_detection)
        if self.detector is not None:
            self.detector.floor_ms = self.end_ms
        self._stream = None
        self._origin_ms, self._frames = self.end_ms, 0

    def take(self, data: str) -> list[TurnEvent]:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise RealtimeError(
                "Invalid 'audio': the string is not valid base64.", param="audio", code="invalid_base64"
            ) from None
        pcm = raw[: len(raw) // 2 * 2]
        if len(self.buffer) + len(pcm) > self.max_bytes:
            raise RealtimeError(
                f"The input audio buffer is full ({self.max_bytes // (RATE * 2)} s of uncommitted audio); "
                "commit or clear it, or turn on turn detection.",
                param="audio",
                code="input_audio_buffer_full",
            )
        self.buffer += pcm
        if self.detector is None:
            return []
        events = self._detect(pcm)
        if not events and not self.detector.in_speech and self.buffered_ms > IDLE_KEEP_MS:
            self.drop_before(self.end_ms - self.detector.prefix_padding_ms - 500)
        return events

    def _detect(self, pcm: bytes) -> list[TurnEvent]:
        assert self.detector is not None
        if self._stream is None:
            self._stream = _vad_engine().stream()
            self._resampler = soxr.ResampleStream(RATE, VAD_RATE, 1, dtype="float32")
        samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
        probs = self._stream.feed(self._resampler.resample_chunk(samples))
        events: list[TurnEvent] = []
        for prob in probs:
            start = self._origin_ms + self._frames * VAD_FRAME_MS
            self._frames += 1
            events += self.detector.feed(start, start + VAD_FRAME_MS, float(prob))
        return events

    def slice(self, start_ms: int, end_ms: int) -> bytes:
        a = max(0, start_ms * RATE // 1000 - self.base) * 2
        b = max(0, end_ms * RATE // 1000 - self.base) * 2
        return bytes(self.buffer[a:b])

    def drop_before(self, ms: int) -> None:
        cut = min(max(0, ms * RATE // 1000 - self.base), len(self.buffer) // 2)
        del self.buffer[: cut * 2]
        self.base += cut

    def take_all(self) -> bytes:
        pcm = bytes(self.buffer)
        self.clear()
        return pcm

    def clear(self) -> None:
        self.base += len(self.buffer) // 2
        self.buffer.clear()
        if self.detector is not None:
            self.detector.reset(self.end_ms)


def _detector(td: dict[str, Any] | None) -> TurnDetector | None:
    """server_vad as configured; semantic_vad as server_vad with the medium semantic wait."""
    if td is None:
        return None
    rt = get_catalog().realtime
    if td["type"] == "semantic_vad":
        d = rt.server_vad_defaults
        silence = int(rt.semantic_vad_wait_ms["medium"].complete)
        return TurnDetector(threshold=d.threshold, prefix_padding_ms=d.prefix_padding_ms, silence_ms=silence)
    return TurnDetector(
        threshold=td["threshold"], prefix_padding_ms=td["prefix_padding_ms"], silence_ms=td["silence_duration_ms"]
    )


# ------------------------------------------------------------------ one response


class _NoTranscript(Exception):
    """The user's turn could not be transcribed (already reported as transcription.failed)."""


class _Response:
    """One response: the chat model streamed, its text or speech sent as events.

    Runs as one task. Cancelled (``response.cancel``, the user talking over it, the
    session closing), it closes the chat and speech streams, which stops the provider's
    work, and still ends with the closing events and ``response.done``.
    """

    def __init__(
        self, pipe: ChainedPipeline, params: dict[str, Any], *, started: float, trigger: str, turns: list[_Entry]
    ) -> None:
        self.pipe = pipe
        self.params = params
        self.id = new_id("resp")
        self.started = started
        self.in_conversation = params["conversation"] == "auto"
        self.context = pipe.conversation.entries()
        #: the user's spoken turns since the previous response (their transcription is timed)
        self.turns = turns
        self.output: list[dict[str, Any]] = []
        self.cancel_reason = "client_cancelled"
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None
        self.timing: dict[str, Any] = {"response_id": self.id, "trigger": trigger}
        #: the assistant message being written, and its words so far (said, for speech)
        self.message: _Entry | None = None
        self.said: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self._closers: list[Callable[[], None]] = []

    def emit(self, type_: str, **fields: Any) -> None:
        self.pipe._emit(server_event(type_, **fields))

    def mark(self, key: str, since: float | None = None) -> None:
        """A timing in ms, from the response's start unless ``since``; the first one stays."""
        if key not in self.timing:
            self.timing[key] = round((time.perf_counter() - (since or self.started)) * 1000, 1)

    # -- the run --------------------------------------------------------------------

    async def run(self) -> None:
        self.emit("response.created", response=self._envelope("in_progress"))
        status, details = "completed", None
        try:
            await self._hear()
            await self._chat()
            if self.finish == "length":
                status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        except asyncio.CancelledError:
            status, details = "cancelled", {"type": "cancelled", "reason": self.cancel_reason}
        except _NoTranscript:
            status, details = "failed", _failed("server_error", "transcription_failed")
        except (RealtimeError, *PROVIDER_ERRORS) as e:
            err = e if isinstance(e, RealtimeError) else _provider_error("chat", e, self.pipe.client.api_key)
            status, details = "failed", _failed(err.type, err.code)
            self.pipe._report(err)
        except Exception:
            log.exception("chained response failed")
            status, details = "failed", _failed("server_error", "internal_error")
            self.pipe._report(
                RealtimeError("The chained pipeline failed; the server log has the details.", type="server_error")
            )
        finally:
            for close in reversed(self._closers):
                close()
        self.mark("done_ms")
        self.pipe._record(self.timing)
        self.emit("response.done", response=self._envelope(status, details))

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
            kwargs["tools"] = _chat_tools(p["tools"])
            kwargs["tool_choice"] = _chat_tool_choice(p["tool_choice"])
        if isinstance(p["max_output_tokens"], int):
            kwargs["max_completion_tokens"] = p["max_output_tokens"]
        asked = time.perf_counter()
        stream = await self.pipe.client.chat.completions.create(
            model=self.pipe.chat_model,
            messages=self._messages(),  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            **kwargs,
        )
        async with stream:  # leaving closes the HTTP stream, which stops the generation
            await self._read(stream, asked)

    def _messages(self) -> list[dict[str, Any]]:
        instructions = self.params["instructions"] or "You are a helpful assistant."
        return _chat_messages(instructions, [e.item for e in self.context])

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
            self._finish_call(item)

    def _take_usage(self, chunk: Any) -> None:
        u = getattr(chunk, "usage", None)
        if u is None:
            return
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        self.usage = _usage(u.prompt_tokens or 0, u.completion_tokens or 0, cached)

    def _envelope(self, status: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        p = self.params
        usage = None if status == "in_progress" else self.usage or self._estimated_usage()
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": [_snapshot(i) for i in self.output],
            "conversation_id": self.pipe.conversation_id if self.in_conversation else None,
            "output_modalities": p["output_modalities"],
            "max_output_tokens": p["max_output_tokens"],
            "audio": {"output": {"format": p["format"], "voice": p["voice"]}},
            "usage": usage,
            "metadata": p["metadata"],
        }

    def _estimated_usage(self) -> dict[str, Any]:
        """For a provider whose chat stream gave no token counts: 4 characters a token."""
        reply = sum(len(s) for s in self.said) + sum(len(c["arguments"]) for c in self._calls.values())
        prompt = sum(len(str(m.get("content") or "")) for m in self._messages())
        return _usage(prompt // 4, reply // 4, 0)

    # -- items ------------------------------------------------------------------------

    def _start_item(self, entry: _Entry) -> None:
        """An output item: in the response (and the conversation), announced as added."""
        item = entry.item
        self.output.append(item)
        index = len(self.output) - 1
        self.emit("response.output_item.added", response_id=self.id, output_index=index, item=_snapshot(item))
        if self.in_conversation:
            before = self.pipe.conversation.add(entry)
            self.emit("conversation.item.added", previous_item_id=before, item=_snapshot(item))

    def _finish_item(self, item: dict[str, Any], status: str) -> None:
        if item["status"] != "in_progress":
            return
        item["status"] = status
        index = self.output.index(item)
        self.emit("response.output_item.done", response_id=self.id, output_index=index, item=_snapshot(item))
        if self.in_conversation:
            self.emit("conversation.item.done", item=_snapshot(item))

    # -- the assistant message ----------------------------------------------------------

    def _text(self, text: str, voice: _Voice | None) -> _Voice | None:
        """One piece of the reply: queued for speech, or sent as a text delta."""
        if self.message is None:
            voice = self._open_message()
        if voice is not None:
            voice.feed(text)
        else:
            self.said.append(text)
            self.emit("response.output_text.delta", delta=text, **self.ids())
        return voice

    def _open_message(self) -> _Voice | None:
        spoken = self.params["output_modalities"] == ["audio"]
        self.message = _Entry(message_item("assistant", [], status="in_progress"))
        self._start_item(self.message)
        self.emit(
            "response.content_part.added",
            part={"type": "audio", "transcript": ""} if spoken else {"type": "text", "text": ""},
            **self.ids(),
        )
        part = {"type": "output_audio", "transcript": ""} if spoken else {"type": "output_text", "text": ""}
        self.message.item["content"].append(part)
        self._closers.append(lambda: self._close_message("incomplete"))
        return _Voice(self, self.message) if spoken else None

    def ids(self) -> dict[str, Any]:
        assert self.message is not None
        index = self.output.index(self.message.item)
        return {"response_id": self.id, "item_id": self.message.id, "output_index": index, "content_index": 0}

    def _close_message(self, status: str) -> None:
        """The message's closing events, with what was really said (or written); once."""
        if self.message is None or self.message.item["status"] != "in_progress":
            return
        part, ids = self.message.item["content"][0], self.ids()
        if part["type"] == "output_audio":
            text = " ".join(s.strip() for s in self.said if s.strip())
            part["transcript"] = text
            self.emit("response.output_audio.done", **ids)
            self.emit("response.output_audio_transcript.done", transcript=text, **ids)
            wire = {"type": "audio", "transcript": text}
        else:
            text = "".join(self.said).strip()
            part["text"] = text
            self.emit("response.output_text.done", text=text, **ids)
            wire = {"type": "text", "text": text}
        self.emit("response.content_part.done", part=wire, **ids)
        self._finish_item(self.message.item, status)

    # -- function calls -----------------------------------------------------------------

    def _call_delta(self, call: Any) -> None:
        """A streamed tool call: its item on the first piece, then argument deltas."""
        fn = call.function
        item = self._calls.get(call.index)
        if item is None:
            item = {
                "id": new_id("item"),
                "object": "realtime.item",
                "type": "function_call",
                "status": "in_progress",
                "call_id": call.id or new_id("call"),
                "name": (fn.name if fn else None) or "",
                "arguments": "",
            }
            self._calls[call.index] = item
            self._start_item(_Entry(item))
            self._closers.append(lambda: self._finish_item(item, "incomplete"))
        elif fn is not None and fn.name and not item["name"]:
            item["name"] = fn.name
        if fn is not None and fn.arguments:
            item["arguments"] += fn.arguments
            self.emit("response.function_call_arguments.delta", delta=fn.arguments, **self._call_ids(item))

    def _call_ids(self, item: dict[str, Any]) -> dict[str, Any]:
        index = self.output.index(item)
        return {"response_id": self.id, "item_id": item["id"], "output_index": index, "call_id": item["call_id"]}

    def _finish_call(self, item: dict[str, Any]) -> None:
        item["arguments"] = item["arguments"] or "{}"
        self.emit(
            "response.function_call_arguments.done",
            arguments=item["arguments"],
            name=item["name"],
            **self._call_ids(item),
        )
        self._finish_item(item, "completed")


def _failed(kind: str, code: str | None) -> dict[str, Any]:
    return {"type": "failed", "error": {"type": kind, "code": code}}


def _usage(prompt: int, completion: int, cached: int) -> dict[str, Any]:
    """Realtime usage from chat token counts: all text (speech in and out is not counted)."""
    return {
        "total_tokens": prompt + completion,
        "input_tokens": prompt,
        "output_tokens": completion,
        "input_token_details": {"text_tokens": prompt, "audio_tokens": 0, "cached_tokens": cached, "image_tokens": 0},
        "output_token_details": {"text_tokens": completion, "audio_tokens": 0},
    }


class _Voice:
    """Speaks a reply sentence by sentence while the chat model is still writing it.

    The chat stream feeds text in; a task of its own takes each finished sentence to the
    speech endpoint and sends its PCM on in 40 ms deltas as the bytes arrive, so the first
    audio follows the first sentence (or clause), not the whole reply. A sentence's words
    go out as a transcript delta just before its first audio, so the transcript holds what
    was actually said, also when the response is cut short.
    """

    def __init__(self, response: _Response, entry: _Entry) -> None:
        self.response = response
        self.entry = entry
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
            raise _provider_error("speech", e, self.response.pipe.client.api_key) from None

    async def _say(self, sentence: str) -> None:
        r, p = self.response, self.response.params
        start_ms, heard, carry = _ms(self.samples), False, b""
        asked = time.perf_counter()
        try:
            async with r.pipe.client.audio.speech.with_streaming_response.create(
                model=r.pipe.speech_model,
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
                self.entry.spans.append((start_ms, _ms(self.samples), sentence))

    def _said(self, sentence: str) -> None:
        r = self.response
        sentence = sentence.strip()
        lead = " " if r.said else ""
        r.said.append(sentence)
        r.emit("response.output_audio_transcript.delta", delta=lead + sentence, **r.ids())

    async def _send(self, pcm: bytes) -> None:
        r = self.response
        await r.pipe._audio_room()
        r.mark("first_audio_ms")
        self.samples += len(pcm) // 2
        self.entry.audio_ms = _ms(self.samples)
        r.emit("response.output_audio.delta", delta=base64.b64encode(pcm).decode(), **r.ids())


# ------------------------------------------------------------------ the connection


class ChainedPipeline:
    """Looks like ``client.realtime.connect(...)`` to the relay: ``send`` a client event,
    ``recv_bytes`` the next server event (UTF-8 JSON); closing cancels everything it
    started, and ``recv_bytes`` then raises ``ConnectionClosedOK`` as a closed socket does.

    ``timings`` keeps, per response (newest last), milliseconds: ``transcribe_ms`` (the
    transcription request of the user's turn; None for a typed turn), ``heard_ms`` (start
    → transcript in hand), ``chat_first_token_ms`` (chat request → first delta),
    ``chat_done_ms``, ``tts_first_byte_ms`` (first speech request → its first byte),
    ``first_audio_ms`` (start → first audio delta) and ``done_ms``. The start is the end
    of the user's speech for a turn the VAD found, else the ``response.create``.
    """

    def __init__(self, client: AsyncOpenAI, *, chat_model: str, speech_model: str | None = None) -> None:
        cat = get_catalog()
        self.client = client
        self.chat_model = chat_model
        self.speech_model = speech_model or get_catalog().realtime.chained.speech_model
        self.session: dict[str, Any] = cfg.default_session(cat.realtime.default_model)
        self.conversation = _Conversation(cat.limits.realtime_items_max)
        self.conversation_id = new_id("conv")
        self.timings: list[dict[str, Any]] = []
        self._input = _Input(cat.limits.realtime_buffer_max_seconds)
        self._input.configure(self._turn_detection())
        self._outbox = _Outbox(cat.limits.realtime_outbox_max_events)
        self._lock = asyncio.Lock()  # client events are handled one at a time, in order
        self._tasks: set[asyncio.Task[Any]] = set()
        self._response: _Response | None = None
        self._response_task: asyncio.Task[None] | None = None
        self._turn_item: str | None = None
        self._turn_start_ms = 0
        self._new_turns: list[_Entry] = []  # spoken turns no response has started from yet
        self._closer: asyncio.Task[None] | None = None
        self._closed = False
        self._ended = False

    # -- the connection surface -----------------------------------------------------

    async def __aenter__(self) -> ChainedPipeline:
        self._emit(server_event("session.created", session=_snapshot(self.session)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        me = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not me]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._outbox.end()

    async def recv_bytes(self) -> bytes:
        if not self._ended:
            data = await self._outbox.get()
            if data is not None:
                return data
            self._ended = True
        raise websockets.exceptions.ConnectionClosedOK(None, None)

    async def send(self, event: dict[str, Any]) -> None:
        if self._closed:
            raise websockets.exceptions.ConnectionClosedOK(None, None)
        kind = event.get("type")
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            message = (
                f"{kind!r} is not supported in the chained pipeline mode (transcription → chat → speech over "
                "REST, with no audio kept and no WebRTC buffer); use the speech-to-speech mode for it."
            )
            self._report(RealtimeError(message, param="type", code=UNSUPPORTED), event_id)
            return
        async with self._lock:
            try:
                await handler(self, event)
            except RealtimeError as e:
                self._report(e, event_id)
            except Exception:  # a bug here must not end the user's session
                log.exception("chained pipeline: handling %s failed", kind)
                failure = RealtimeError(
                    f"The chained pipeline could not handle {kind}; the server log has the details.",
                    code="internal_error",
                    type="server_error",
                )
                self._report(failure, event_id)

    # -- plumbing -------------------------------------------------------------------

    def _emit(self, event: dict[str, Any]) -> None:
        if self._closed:
            return
        if not self._outbox.put(json.dumps(event).encode()) and self._closer is None:
            log.warning("chained pipeline: %d events wait for a reader that stopped; closing", self._outbox.limit)
            self._closer = asyncio.get_running_loop().create_task(self.close())

    def _report(self, err: RealtimeError, client_event_id: str | None = None) -> None:
        self._emit(error_event(err, client_event_id))

    async def _audio_room(self) -> None:
        await self._outbox.room()

    def _record(self, timing: dict[str, Any]) -> None:
        self.timings.append(timing)
        del self.timings[:-TIMINGS_MAX]

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _turn_detection(self) -> dict[str, Any] | None:
        return self.session["audio"]["input"]["turn_detection"]

    def _responding(self) -> bool:
        return self._response_task is not None and not self._response_task.done()

    # -- session.update ---------------------------------------------------------------

    async def _session_update(self, event: dict[str, Any]) -> None:
        if "session" not in event:
            raise RealtimeError(
                "Missing required parameter: 'session'.", param="session", code="missing_required_parameter"
            )
        update, dropped = _without_mcp(event["session"])
        new = cfg.update_session(self.session, update, voice_locked=False)
        _require_pcm(new["audio"]["input"]["format"], "session.audio.input.format")
        _require_pcm(new["audio"]["output"]["format"], "session.audio.output.format")
        if (new["audio"]["input"]["turn_detection"] or {}).get("idle_timeout_ms") is not None:
            raise RealtimeError(
                "Invalid 'session.audio.input.turn_detection.idle_timeout_ms': the chained pipeline has no idle "
                "timeout; leave it out (or null).",
                param="session.audio.input.turn_detection.idle_timeout_ms",
                code=UNSUPPORTED,
            )
        changed = new["audio"]["input"]["turn_detection"] != self._turn_detection()
        self.session = new
        if changed:
            self._input.configure(self._turn_detection())
            self._turn_item = None
        self._emit(server_event("session.updated", session=_snapshot(new)))
        for i in dropped:
            message = (
                f"Invalid 'session.tools[{i}]': a chat completion cannot call remote MCP tools, so the chained "
                "pipeline leaves this one out; function tools work."
            )
            self._report(RealtimeError(message, param=f"session.tools[{i}]", code=UNSUPPORTED))

    # -- input audio and turns ----------------------------------------------------------

    async def _append(self, event: dict[str, Any]) -> None:
        data = event.get("audio")
        if not isinstance(data, str):
            raise RealtimeError("Invalid 'audio': expected a base64 string.", param="audio", code="invalid_type")
        for turn in await asyncio.to_thread(self._input.take, data):
            await self._on_turn(turn)

    async def _on_turn(self, turn: TurnEvent) -> None:
        td = self._turn_detection()
        if td is None:
            return
        if isinstance(turn, Started):
            self._turn_item, self._turn_start_ms = new_id("item"), turn.audio_start_ms
            self._emit(
                server_event(
                    "input_audio_buffer.speech_started", audio_start_ms=turn.audio_start_ms, item_id=self._turn_item
                )
            )
            if td["interrupt_response"] and self._responding():
                await self._cancel_response("turn_detected")
        elif isinstance(turn, Stopped):
            started = time.perf_counter()
            item_id, self._turn_item = self._turn_item or new_id("item"), None
            self._emit(
                server_event("input_audio_buffer.speech_stopped", audio_end_ms=turn.audio_end_ms, item_id=item_id)
            )
            pcm = self._input.slice(self._turn_start_ms, turn.audio_end_ms)
            self._input.drop_before(turn.audio_end_ms)
            self._commit(item_id, pcm)
            if td["create_response"]:
                self._start_response(cfg.response_params(self.session, None), started=started, trigger="speech")

    async def _commit_event(self, _: dict[str, Any]) -> None:
        held = self._input.buffered_ms
        if held < MIN_COMMIT_MS:
            raise RealtimeError(
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms of "
                f"audio, but buffer only has {held:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        item_id, self._turn_item = self._turn_item or new_id("item"), None
        self._commit(item_id, self._input.take_all())

    async def _clear(self, _: dict[str, Any]) -> None:
        self._input.clear()
        self._turn_item = None
        self._emit(server_event("input_audio_buffer.cleared"))

    def _commit(self, item_id: str, pcm: bytes) -> None:
        """The user's turn as an item, whose transcription starts now."""
        item = message_item("user", [{"type": "input_audio", "transcript": None}], item_id=item_id)
        entry = _Entry(item, audio_ms=_ms(len(pcm) // 2), transcript=asyncio.get_running_loop().create_future())
        before = self.conversation.add(entry)
        self._emit(server_event("input_audio_buffer.committed", previous_item_id=before, item_id=item_id))
        self._emit(server_event("conversation.item.added", previous_item_id=before, item=_snapshot(item)))
        self._emit(server_event("conversation.item.done", previous_item_id=before, item=_snapshot(item)))
        self._new_turns = [*self._new_turns[-7:], entry]
        self._spawn(self._transcribe(entry, pcm))

    async def _transcribe(self, entry: _Entry, pcm: bytes) -> None:
        assert entry.transcript is not None
        a_in = self.session["audio"]["input"]
        tr = a_in["transcription"] or {}
        noise = (a_in["noise_reduction"] or {}).get("type")
        strength = float((a_in["noise_reduction"] or {}).get("strength") or 1.0)
        model = _file_model(tr.get("model"))
        options = {k: tr[k] for k in ("language", "prompt", "keywords", "languages") if tr.get(k)}
        try:
            wav = await asyncio.to_thread(_wav, pcm, noise, strength)
            asked = time.perf_counter()
            result = await self.client.audio.transcriptions.create(
                model=model, file=("turn.wav", wav, "audio/wav"), **options
            )
            entry.transcribe_ms = round((time.perf_counter() - asked) * 1000, 1)
        except asyncio.CancelledError:
            entry.transcript.cancel()
            raise
        except Exception as e:
            if not isinstance(e, PROVIDER_ERRORS):
                log.exception("chained transcription failed")
            err = _provider_error("transcription", e, self.client.api_key)
            self._transcription_failed(entry, err)
            return
        text = result.text.strip()
        entry.item["content"][0]["transcript"] = text
        self._transcribed(entry, text, getattr(result, "usage", None))

    def _transcribed(self, entry: _Entry, text: str, usage: Any) -> None:
        ids = {"item_id": entry.id, "content_index": 0}
        if text:
            self._emit(server_event("conversation.item.input_audio_transcription.delta", delta=text, **ids))
        kind = getattr(usage, "type", None)
        used = usage.model_dump(exclude_none=True) if kind in ("tokens", "duration") else None
        used = used or {"type": "duration", "seconds": round(entry.audio_ms / 1000, 3)}
        self._emit(
            server_event("conversation.item.input_audio_transcription.completed", transcript=text, usage=used, **ids)
        )
        assert entry.transcript is not None
        entry.transcript.set_result(text)

    def _transcription_failed(self, entry: _Entry, err: RealtimeError) -> None:
        error = {"type": err.type, "code": err.code, "message": err.message, "param": None}
        self._emit(
            server_event(
                "conversation.item.input_audio_transcription.failed",
                item_id=entry.id,
                content_index=0,
                error=error,
            )
        )
        self._report(err)
        assert entry.transcript is not None
        entry.transcript.set_result(None)

    # -- conversation items -------------------------------------------------------------

    async def _item_create(self, event: dict[str, Any]) -> None:
        raw = event.get("item")
        _refuse_media(raw)
        item, _ = parse_item(raw)
        previous = event.get("previous_item_id")
        if previous is not None and not isinstance(previous, str):
            raise RealtimeError("Invalid 'previous_item_id': expected a string.", param="previous_item_id")
        if item["type"] == "function_call_output" and not any(
            e.item["type"] == "function_call" and e.item.get("call_id") == item["call_id"]
            for e in self.conversation.entries()
        ):
            raise RealtimeError(
                f"No function_call with call_id {item['call_id']!r} in this conversation.",
                param="item.call_id",
                code="invalid_value",
            )
        before = self.conversation.add(_Entry(item), previous)
        self._emit(server_event("conversation.item.added", previous_item_id=before, item=_snapshot(item)))
        self._emit(server_event("conversation.item.done", previous_item_id=before, item=_snapshot(item)))

    async def _item_delete(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        if self._responding() and self._response is not None and entry is self._response.message:
            raise RealtimeError(
                "Cannot delete an item while its response is in progress; cancel it first.",
                param="item_id",
                code="item_in_progress",
            )
        self.conversation.delete(entry.id)
        self._emit(server_event("conversation.item.deleted", item_id=entry.id))

    async def _item_truncate(self, event: dict[str, Any]) -> None:
        """Cut an assistant message where the listener stopped hearing it: its audio, and
        its transcript (whole sentences heard, and the heard share of the one cut)."""
        entry = self.conversation.get(event.get("item_id"))
        item = entry.item
        if item["type"] != "message" or item.get("role") != "assistant":
            raise RealtimeError("Only assistant messages can be truncated.", param="item_id", code="invalid_value")
        parts = item.get("content", [])
        index = event.get("content_index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < max(1, len(parts)):
            raise RealtimeError(
                f"Invalid 'content_index': the item has {len(parts)} content part(s).", param="content_index"
            )
        end = event.get("audio_end_ms")
        if isinstance(end, bool) or not isinstance(end, int) or end < 0:
            raise RealtimeError("Invalid 'audio_end_ms': expected a non-negative integer.", param="audio_end_ms")
        if parts and parts[index]["type"] != "output_audio":
            raise RealtimeError("Invalid 'content_index': that part has no audio.", param="content_index")
        if self._responding() and self._response is not None and entry is self._response.message:
            await self._cancel_response("client_cancelled")  # stop producing what is being cut
        if end > entry.audio_ms:
            raise RealtimeError(
                f"Audio content of {entry.audio_ms}ms is already shorter than {end}ms.", param="audio_end_ms"
            )
        if parts:
            parts[index]["transcript"] = cut_transcript(entry.spans, end)
        entry.spans = [s for s in entry.spans if s[0] < end]
        entry.audio_ms = end
        self._emit(server_event("conversation.item.truncated", item_id=entry.id, content_index=index, audio_end_ms=end))

    # -- responses ----------------------------------------------------------------------

    async def _response_create(self, event: dict[str, Any]) -> None:
        params = cfg.response_params(self.session, event.get("response"))
        if params["input"] is not None:
            raise RealtimeError(
                "Invalid 'response.input': the chained pipeline answers from the conversation only.",
                param="response.input",
                code=UNSUPPORTED,
            )
        _require_pcm(params["format"], "response.audio.output.format")
        self._start_response(params, started=time.perf_counter(), trigger="response.create")

    def _start_response(self, params: dict[str, Any], *, started: float, trigger: str) -> None:
        if self._responding():
            raise RealtimeError(
                "Conversation already has an active response in progress; wait for response.done or cancel it.",
                code="conversation_already_has_active_response",
            )
        turns, self._new_turns = self._new_turns, []
        self._response = _Response(self, params, started=started, trigger=trigger, turns=turns)
        self._response_task = self._spawn(self._response.run())

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        rid = event.get("response_id")
        if not self._responding() or (rid is not None and self._response is not None and rid != self._response.id):
            raise RealtimeError("Cancellation failed: no active response found.", code="response_cancel_not_active")
        await self._cancel_response("client_cancelled")

    async def _cancel_response(self, reason: str) -> None:
        """Cancel the running response and wait for its ``response.done``."""
        task, response = self._response_task, self._response
        if task is None or task.done() or response is None:
            return
        response.cancel_reason = reason
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _without_mcp(update: Any) -> tuple[Any, list[int]]:
    """The update without remote MCP tools (a chat completion cannot call them), and their
    indices, so the rest of the session still applies."""
    if not isinstance(update, dict) or not isinstance(update.get("tools"), list):
        return update, []
    tools = update["tools"]
    dropped = [i for i, t in enumerate(tools) if isinstance(t, dict) and t.get("type") == "mcp"]
    if not dropped:
        return update, []
    return {**update, "tools": [t for i, t in enumerate(tools) if i not in dropped]}, dropped


def _refuse_media(raw: Any) -> None:
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


_HANDLERS: dict[str, Callable[[ChainedPipeline, dict[str, Any]], Awaitable[None]]] = {
    "session.update": ChainedPipeline._session_update,
    "input_audio_buffer.append": ChainedPipeline._append,
    "input_audio_buffer.commit": ChainedPipeline._commit_event,
    "input_audio_buffer.clear": ChainedPipeline._clear,
    "conversation.item.create": ChainedPipeline._item_create,
    "conversation.item.delete": ChainedPipeline._item_delete,
    "conversation.item.truncate": ChainedPipeline._item_truncate,
    "response.create": ChainedPipeline._response_create,
    "response.cancel": ChainedPipeline._response_cancel,
}
#: the client events the chained pipeline answers; every other one gets an ``error``
SUPPORTED_EVENTS = frozenset(_HANDLERS)
