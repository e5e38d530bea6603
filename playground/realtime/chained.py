"""The classic voice pipeline behind the realtime protocol: STT → chat → TTS per turn.

The voice chat tab's "chained pipeline" mode puts ``ChainedPipeline`` where the SDK's
realtime connection would be, so the page, its event log and its latency table stay
the same while each turn goes through three ordinary REST calls to the active
provider: ``audio.transcriptions`` on the turn's audio, ``chat.completions`` streamed,
and ``audio.speech`` (PCM) for each sentence as soon as it is complete. Turns are found
here, with the local Silero VAD and the embedded backend's pure turn detector.

It speaks a subset of the GA events: session.update, input_audio_buffer.append /
commit / clear, conversation.item.create / delete / truncate, response.create /
cancel; anything else gets an ``error`` naming the event, never a silent drop.
``semantic_vad`` is treated as ``server_vad`` with its default silence (a classic
pipeline has no model that judges whether a thought is finished). Tool calls work
where the chat endpoint supports ``tools`` (OpenAI; the embedded chat ignores them).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import time
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import websockets
from openai import AsyncOpenAI, OpenAIError

from playground.backend.engines.silero_vad import SileroVAD
from playground.backend.realtime.protocol import message_item, new_id
from playground.backend.realtime.turns import Started, Stopped, TurnDetector
from playground.backend.text import SentenceBuffer
from playground.core.catalog import get_catalog
from playground.core.specs import RealtimeSessionSpec

__all__ = ["ChainedPipeline"]

RATE = 24000
DELTA_SAMPLES = 960  # 40 ms of reply audio per output_audio.delta
_VAD: SileroVAD | None = None


def _vad() -> SileroVAD:
    global _VAD
    if _VAD is None:
        _VAD = SileroVAD()
        _VAD.load()
    return _VAD


def _wav(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.frombuffer(pcm, "<i2"), RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _wire_part(part: dict[str, Any]) -> dict[str, Any]:
    """Content-part events name parts "audio" / "text" (items say output_audio / output_text)."""
    return {**part, "type": "audio" if part["type"] == "output_audio" else "text"}


class _Refused(Exception):
    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param, self.code = param, code


class ChainedPipeline:
    """Looks like ``client.realtime.connect(...)`` to the relay: ``send`` a client event,
    ``recv_bytes`` the next server event; closing cancels everything it started."""

    def __init__(self, client: AsyncOpenAI, *, chat_model: str, speech_model: str | None = None) -> None:
        cat = get_catalog()
        self.client = client
        self.chat_model = chat_model
        self.speech_model = speech_model or cat.realtime["chained"]["speech_model"]
        self.session: dict[str, Any] = RealtimeSessionSpec().to_session()
        self.items: list[dict[str, Any]] = []
        self.max_items = cat.realtime_items_max
        self.max_buffer = cat.realtime_buffer_max_seconds * RATE * 2
        self.timings: list[dict[str, float]] = []
        self.last_transcribe_ms = 0.0
        self._out: asyncio.Queue[str | None] = asyncio.Queue(maxsize=cat.realtime_outbox_max_events)
        self._buffer = bytearray()  # uncommitted input audio, PCM16 24 kHz
        self._buffer_start_ms = 0  # where the buffer starts on the input clock
        self._resampler = soxr.ResampleStream(RATE, 16000, 1, dtype="float32")
        self._vad_stream: Any = None
        self._vad_ms = 0  # input clock (ms) the VAD has seen
        self._detector: TurnDetector | None = None
        self._speech_item: str | None = None
        self._start_ms = 0  # where the current speech (with its padding) began
        self._response: asyncio.Task[None] | None = None
        self._response_id: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._transcripts: dict[str, asyncio.Future[str]] = {}
        self._lock = asyncio.Lock()  # one client event at a time, in order
        self._closed = False

    # ------------------------------------------------------------ connection

    async def __aenter__(self) -> ChainedPipeline:
        self._emit("session.created", session=self.session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks = [*self._tasks, *([self._response] if self._response else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._out.full():  # nobody is reading: make room for the end
            with contextlib.suppress(asyncio.QueueEmpty):
                self._out.get_nowait()
        self._out.put_nowait(None)

    async def recv_bytes(self) -> bytes:
        text = await self._out.get()
        if text is None:
            raise websockets.exceptions.ConnectionClosedOK(None, None)
        return text.encode()

    def _emit(self, type_: str, **fields: Any) -> None:
        if self._closed:
            return
        try:
            self._out.put_nowait(json.dumps({"type": type_, "event_id": new_id("event"), **fields}))
        except asyncio.QueueFull:  # the page stopped reading: end the session rather than grow
            self._spawn(self.close())

    def _error(self, message: str, *, param: str | None = None, code: str = "invalid_value") -> None:
        self._emit(
            "error",
            error={"type": "invalid_request_error", "code": code, "message": message, "param": param, "event_id": None},
        )

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------ client events

    async def send(self, event: dict[str, Any]) -> None:
        handler = getattr(self, "_on_" + str(event.get("type", "")).replace(".", "_"), None)
        if handler is None:
            self._error(
                f"{event.get('type')!r} is not available in the chained pipeline mode; use speech to speech.",
                param="type",
                code="unsupported_in_chained_mode",
            )
            return
        async with self._lock:
            try:
                await handler(event)
            except _Refused as e:
                self._error(str(e), param=e.param, code=e.code)

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            raise _Refused("session must be an object.", "session", "invalid_type")
        fmt = ((update.get("audio") or {}).get("input") or {}).get("format") or {}
        if fmt and (fmt.get("type") != "audio/pcm" or fmt.get("rate", RATE) != RATE):
            raise _Refused("The chained pipeline takes audio/pcm at 24 kHz only.", "session.audio.input.format")
        self.session = _merge(self.session, update)
        self._detector = None  # rebuilt with the new settings on the next audio
        self._emit("session.updated", session=self.session)

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        try:
            pcm = base64.b64decode(event.get("audio") or "", validate=True)
        except ValueError:
            raise _Refused("audio is not valid base64.", "audio") from None
        if len(self._buffer) + len(pcm) > self.max_buffer:
            raise _Refused("The input audio buffer is full; commit or clear it.", "audio", "buffer_full")
        self._buffer += pcm[: len(pcm) // 2 * 2]
        turn = self._turn_detection()
        if turn is not None:
            await self._detect(pcm, turn)

    async def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        if len(self._buffer) < RATE // 10 * 2:
            raise _Refused("The buffer holds less than 100 ms of audio.", None, "input_audio_buffer_commit_empty")
        self._commit(len(self._buffer), respond=False)

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._buffer_start_ms += len(self._buffer) * 1000 // (RATE * 2)
        self._buffer.clear()
        self._emit("input_audio_buffer.cleared")

    async def _on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            raise _Refused("item must be an object.", "item", "invalid_type")
        kind = item.get("type")
        if kind == "function_call_output":
            new = {"type": kind, "call_id": str(item.get("call_id", "")), "output": str(item.get("output", ""))}
        elif kind == "message" and item.get("role") in ("user", "system"):
            parts = item.get("content") or []
            if any(isinstance(p, dict) and p.get("type") != "input_text" for p in parts):
                raise _Refused("The chained pipeline takes text messages only.", "item.content", "unsupported_content")
            text = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
            new = {"type": "message", "role": item["role"], "content": [{"type": "input_text", "text": text}]}
        else:
            raise _Refused("Give a user or system text message, or a function_call_output.", "item.type")
        self._add({"id": item.get("id") or new_id("item"), "object": "realtime.item", "status": "completed", **new})

    async def _on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        item = self._find(event.get("item_id"))
        self.items.remove(item)
        self._emit("conversation.item.deleted", item_id=item["id"])

    async def _on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item = self._find(event.get("item_id"))
        end_ms = event.get("audio_end_ms")
        heard = item.get("_audio_ms", 0)
        if not isinstance(end_ms, int) or end_ms < 0 or end_ms > heard:
            raise _Refused(f"audio_end_ms must be between 0 and {heard}.", "audio_end_ms")
        if self._response is not None and not self._response.done():
            self._response.cancel()
        for part in item.get("content", []):
            if part.get("type") == "output_audio" and part.get("transcript"):
                text = part["transcript"]
                part["transcript"] = text[: len(text) * end_ms // max(1, heard)].rsplit(" ", 1)[0]
        item["_audio_ms"] = end_ms
        self._emit("conversation.item.truncated", item_id=item["id"], content_index=0, audio_end_ms=end_ms)

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self._response is not None and not self._response.done():
            raise _Refused(
                "A response is already in progress; wait for response.done or cancel it.",
                None,
                "conversation_already_has_active_response",
            )
        overrides = event.get("response") if isinstance(event.get("response"), dict) else {}
        self._start_response(overrides)

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        if self._response is None or self._response.done():
            raise _Refused("Cancellation failed: no active response found.", None, "response_cancel_not_active")
        self._response.cancel()

    # ------------------------------------------------------------ turns

    def _turn_detection(self) -> dict[str, Any] | None:
        return ((self.session.get("audio") or {}).get("input") or {}).get("turn_detection")

    async def _detect(self, pcm: bytes, turn: dict[str, Any]) -> None:
        if self._detector is None:
            defaults = get_catalog().realtime["server_vad_defaults"]
            self._detector = TurnDetector(
                threshold=float(turn.get("threshold", defaults["threshold"])),
                prefix_padding_ms=int(turn.get("prefix_padding_ms", defaults["prefix_padding_ms"])),
                silence_ms=int(turn.get("silence_duration_ms", defaults["silence_duration_ms"])),
            )
            if self._vad_stream is None:
                self._vad_stream = (await asyncio.to_thread(_vad)).stream()
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.float32) / 32768
        probs = await asyncio.to_thread(self._vad_probs, samples)
        for prob in probs:
            start, self._vad_ms = self._vad_ms, self._vad_ms + 32
            for ev in self._detector.feed(start, self._vad_ms, float(prob)):
                if isinstance(ev, Started):
                    self._speech_item = new_id("item")
                    self._emit(
                        "input_audio_buffer.speech_started", audio_start_ms=ev.audio_start_ms, item_id=self._speech_item
                    )
                    if turn.get("interrupt_response", True) and self._response and not self._response.done():
                        self._response.cancel()
                    self._start_ms = ev.audio_start_ms
                elif isinstance(ev, Stopped):
                    self._emit(
                        "input_audio_buffer.speech_stopped", audio_end_ms=ev.audio_end_ms, item_id=self._speech_item
                    )
                    start = max(0, (self._start_ms - self._buffer_start_ms) * RATE * 2 // 1000)
                    end = (ev.audio_end_ms - self._buffer_start_ms) * RATE * 2 // 1000
                    del self._buffer[: start - start % 2]
                    self._buffer_start_ms += start * 1000 // (RATE * 2)
                    self._commit(end - start, respond=bool(turn.get("create_response", True)))

    def _vad_probs(self, samples: np.ndarray) -> np.ndarray:
        return self._vad_stream.feed(self._resampler.resample_chunk(samples))

    def _commit(self, nbytes: int, *, respond: bool) -> None:
        nbytes = max(0, min(nbytes - nbytes % 2, len(self._buffer)))
        pcm = bytes(self._buffer[:nbytes])
        del self._buffer[:nbytes]
        self._buffer_start_ms += nbytes * 1000 // (RATE * 2)
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        previous = self.items[-1]["id"] if self.items else None
        self._emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        item = message_item("user", [{"type": "input_audio", "transcript": None}], item_id=item_id)
        self._add(item)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._transcripts[item_id] = future
        self._spawn(self._transcribe(item, pcm, future))
        if respond:
            self._start_response({})

    async def _transcribe(self, item: dict[str, Any], pcm: bytes, future: asyncio.Future[str]) -> None:
        tr = ((self.session.get("audio") or {}).get("input") or {}).get("transcription") or {}
        model = tr.get("model") or "gpt-4o-mini-transcribe"
        t0 = time.perf_counter()
        try:
            kwargs = {"language": tr["language"]} if tr.get("language") else {}
            result = await self.client.audio.transcriptions.create(
                model=model, file=("turn.wav", _wav(pcm), "audio/wav"), **kwargs
            )
            text = result.text.strip()
        except OpenAIError as e:
            self._emit(
                "conversation.item.input_audio_transcription.failed",
                item_id=item["id"],
                content_index=0,
                error={"type": "transcription_error", "code": "upstream_error", "message": str(e)},
            )
            text = ""
        item["content"][0]["transcript"] = text
        self.last_transcribe_ms = (time.perf_counter() - t0) * 1000
        if text:
            self._emit(
                "conversation.item.input_audio_transcription.delta", item_id=item["id"], content_index=0, delta=text
            )
            self._emit(
                "conversation.item.input_audio_transcription.completed",
                item_id=item["id"],
                content_index=0,
                transcript=text,
                usage={"type": "duration", "seconds": round(len(pcm) / (RATE * 2), 3)},
            )
        if not future.done():
            future.set_result(text)

    # ------------------------------------------------------------ conversation

    def _add(self, item: dict[str, Any]) -> None:
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        del self.items[: -self.max_items]
        public = {k: v for k, v in item.items() if not k.startswith("_")}
        self._emit("conversation.item.added", previous_item_id=previous, item=public)
        self._emit("conversation.item.done", previous_item_id=previous, item=public)

    def _find(self, item_id: Any) -> dict[str, Any]:
        for item in self.items:
            if item["id"] == item_id:
                return item
        raise _Refused(f"Item with item_id not found: {item_id!r}.", "item_id", "item_not_found")

    def _messages(self, instructions: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": instructions or "You are a helpful assistant."}]
        for item in self.items:
            kind = item["type"]
            if kind == "function_call":
                call = {
                    "id": item["call_id"],
                    "type": "function",
                    "function": {"name": item["name"], "arguments": item["arguments"]},
                }
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
            elif kind == "function_call_output":
                out.append({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]})
            else:
                text = " ".join(
                    str(p.get("text") or p.get("transcript") or "") for p in item.get("content", [])
                ).strip()
                if text:
                    out.append({"role": item["role"], "content": text})
        return out

    # ------------------------------------------------------------ responses

    def _start_response(self, overrides: dict[str, Any]) -> None:
        if self._response is not None and not self._response.done():
            return
        self._response_id = new_id("resp")
        self._response = asyncio.create_task(self._respond(self._response_id, overrides))

    async def _respond(self, response_id: str, overrides: dict[str, Any]) -> None:
        modalities = overrides.get("output_modalities") or self.session.get("output_modalities") or ["audio"]
        base = {
            "object": "realtime.response",
            "id": response_id,
            "conversation_id": "conv_chained",
            "output_modalities": modalities,
            "output": [],
            "usage": None,
            "status_details": None,
            "audio": {
                "output": {
                    "format": {"type": "audio/pcm", "rate": RATE},
                    "voice": self.session["audio"]["output"].get("voice", "marin"),
                }
            },
        }
        self._emit("response.created", response={**base, "status": "in_progress"})
        state: dict[str, Any] = {"output": [], "usage": None, "item": None}
        t0 = time.perf_counter()
        timing: dict[str, float] = {}
        try:
            pending = [f for f in self._transcripts.values() if not f.done()]
            if pending:
                await asyncio.gather(*pending)  # the model reads the user's words, so they must be in
            self._transcripts = {k: f for k, f in self._transcripts.items() if not f.done()}
            timing["transcript_ready_ms"] = (time.perf_counter() - t0) * 1000
            await self._generate(response_id, overrides, modalities, state, timing, t0)
            status = "completed"
        except asyncio.CancelledError:
            status = "cancelled"
        except OpenAIError as e:
            status = "failed"
            self._error(f"The provider failed: {e}", code="upstream_error")
        if state["item"] is not None and status != "completed":
            state["item"]["status"] = "incomplete"
        self.timings.append(timing)
        output = [{k: v for k, v in item.items() if not k.startswith("_")} for item in state["output"]]
        done = {**base, "status": status, "output": output, "usage": state["usage"]}
        if status == "cancelled":
            done["status_details"] = {"type": "cancelled", "reason": "client_cancelled"}
        self._emit("response.done", response=done)

    async def _generate(
        self,
        rid: str,
        overrides: dict[str, Any],
        modalities: list[str],
        state: dict[str, Any],
        timing: dict[str, float],
        t0: float,
    ) -> None:
        audio = "audio" in modalities
        instructions = overrides.get("instructions") or self.session.get("instructions") or ""
        kwargs: dict[str, Any] = {}
        tools = [t for t in self.session.get("tools") or [] if t.get("type") == "function"]
        if tools:
            kwargs["tools"] = [
                {"type": "function", "function": {k: t[k] for k in ("name", "description", "parameters") if k in t}}
                for t in tools
            ]
            choice = overrides.get("tool_choice") or self.session.get("tool_choice") or "auto"
            kwargs["tool_choice"] = (
                choice if choice in ("auto", "none", "required") else {"type": "function", "function": {"name": choice}}
            )
        limit = overrides.get("max_output_tokens") or self.session.get("max_output_tokens")
        if isinstance(limit, int):
            kwargs["max_tokens"] = limit
        stream = await self.client.chat.completions.create(
            model=self.chat_model,
            messages=self._messages(instructions),
            stream=True,
            stream_options={"include_usage": True},
            **kwargs,
        )
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        speaker = None
        item = None
        calls: dict[int, dict[str, Any]] = {}
        buffer = SentenceBuffer()
        text_so_far = ""
        async for chunk in stream:
            if chunk.usage is not None:
                state["usage"] = {
                    "total_tokens": chunk.usage.total_tokens,
                    "input_tokens": chunk.usage.prompt_tokens,
                    "output_tokens": chunk.usage.completion_tokens,
                }
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": call.id or new_id("call"), "name": "", "arguments": ""})
                if call.function and call.function.name:
                    entry["name"] += call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
            if not delta.content:
                continue
            if "first_token_ms" not in timing:
                timing["first_token_ms"] = (time.perf_counter() - t0) * 1000
            if item is None:
                item = self._open_message(rid, audio, state)
                if audio:
                    speaker = asyncio.create_task(self._speak(rid, item, sentences, timing, t0))
            text_so_far += delta.content
            if audio:
                for sentence in buffer.feed(delta.content):
                    sentences.put_nowait(sentence)
            else:
                self._emit(
                    "response.output_text.delta",
                    response_id=rid,
                    item_id=item["id"],
                    output_index=0,
                    content_index=0,
                    delta=delta.content,
                )
        try:
            if speaker is not None:
                for sentence in buffer.flush():
                    sentences.put_nowait(sentence)
                sentences.put_nowait(None)
                await speaker
        finally:
            if speaker is not None and not speaker.done():
                speaker.cancel()
        if item is not None:
            self._close_message(rid, item, audio, text_so_far)
        for index, call in enumerate(calls.values(), start=len(state["output"])):
            self._function_call(rid, index, call, state)

    def _open_message(self, rid: str, audio: bool, state: dict[str, Any]) -> dict[str, Any]:
        part = {"type": "output_audio", "transcript": ""} if audio else {"type": "output_text", "text": ""}
        item = {
            **message_item("assistant", [part], status="in_progress"),
            "_audio_ms": 0,
        }
        state["item"] = item
        state["output"].append(item)
        public = {k: v for k, v in item.items() if not k.startswith("_")}
        self._emit("response.output_item.added", response_id=rid, output_index=0, item={**public, "content": []})
        self.items.append(item)
        self._emit("conversation.item.added", previous_item_id=None, item={**public, "content": []})
        self._emit(
            "response.content_part.added",
            response_id=rid,
            item_id=item["id"],
            output_index=0,
            content_index=0,
            part=_wire_part(part),
        )
        return item

    def _close_message(self, rid: str, item: dict[str, Any], audio: bool, text: str) -> None:
        ids = {"response_id": rid, "item_id": item["id"], "output_index": 0, "content_index": 0}
        part = item["content"][0]
        if audio:
            part["transcript"] = text.strip()
            self._emit("response.output_audio.done", **ids)
            self._emit("response.output_audio_transcript.done", **ids, transcript=part["transcript"])
        else:
            part["text"] = text.strip()
            self._emit("response.output_text.done", **ids, text=part["text"])
        self._emit("response.content_part.done", **ids, part=_wire_part(part))
        item["status"] = "completed"
        public = {k: v for k, v in item.items() if not k.startswith("_")}
        self._emit("response.output_item.done", response_id=rid, output_index=0, item=public)
        self._emit("conversation.item.done", previous_item_id=None, item=public)

    async def _speak(
        self, rid: str, item: dict[str, Any], sentences: asyncio.Queue[str | None], timing: dict[str, float], t0: float
    ) -> None:
        """Each sentence to speech as soon as it is complete, its audio out in 40 ms deltas."""
        out = self.session["audio"]["output"]
        ids = {"response_id": rid, "item_id": item["id"], "output_index": 0, "content_index": 0}
        while (sentence := await sentences.get()) is not None:
            self._emit("response.output_audio_transcript.delta", **ids, delta=sentence + " ")
            carry = b""
            async with self.client.audio.speech.with_streaming_response.create(
                model=self.speech_model,
                voice=out.get("voice", "marin"),
                input=sentence,
                response_format="pcm",
                speed=float(out.get("speed", 1.0)),
            ) as response:
                async for chunk in response.iter_bytes(DELTA_SAMPLES * 2):
                    if "first_audio_ms" not in timing:
                        timing["first_audio_ms"] = (time.perf_counter() - t0) * 1000
                    data = carry + chunk
                    cut = len(data) - len(data) % (DELTA_SAMPLES * 2)
                    if cut:
                        self._audio_delta(ids, item, data[:cut])
                    carry = data[cut:]
            if carry:
                self._audio_delta(ids, item, carry[: len(carry) // 2 * 2])

    def _audio_delta(self, ids: dict[str, Any], item: dict[str, Any], pcm: bytes) -> None:
        for i in range(0, len(pcm), DELTA_SAMPLES * 2):
            piece = pcm[i : i + DELTA_SAMPLES * 2]
            item["_audio_ms"] += len(piece) * 1000 // (RATE * 2)
            self._emit("response.output_audio.delta", **ids, delta=base64.b64encode(piece).decode())

    def _function_call(self, rid: str, index: int, call: dict[str, Any], state: dict[str, Any]) -> None:
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "completed",
            "call_id": call["id"],
            "name": call["name"],
            "arguments": call["arguments"] or "{}",
        }
        ids = {"response_id": rid, "output_index": index}
        self._emit("response.output_item.added", **ids, item={**item, "status": "in_progress", "arguments": ""})
        self._emit(
            "response.function_call_arguments.delta",
            **ids,
            item_id=item["id"],
            call_id=call["id"],
            delta=item["arguments"],
        )
        self._emit(
            "response.function_call_arguments.done",
            **ids,
            item_id=item["id"],
            call_id=call["id"],
            name=call["name"],
            arguments=item["arguments"],
        )
        self._emit("response.output_item.done", **ids, item=item)
        self.items.append(item)
        state["output"].append(item)
