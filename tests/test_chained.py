"""The chained pipeline (STT → chat → TTS over REST) behind the realtime protocol, driven
with the real SDK against the real embedded backend, served in-process under ``/v1``
with a key. Every server event is checked against the SDK's own models: the right
model for its type, every required field, and no field the model does not know."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import time
from typing import Any

import httpx2
import numpy as np
import pytest
import soundfile as sf
import websockets
from fastapi import FastAPI
from openai import AsyncOpenAI, OpenAI
from openai.types.realtime import RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter
from websockets.asyncio.client import connect

from playground.backend.app import create_backend_app
from playground.backend.settings import BackendSettings
from playground.client.providers import embedded_provider
from playground.core.specs import RealtimeSessionSpec
from playground.relay.chained import SUPPORTED_EVENTS, ChainedPipeline, vad_engine
from playground.relay.route import CLIENT_EVENTS, RelayTickets, create_relay_router, tool_calls
from playground.serving import BackgroundServer
from tests.backend.realtime_support import FRAME, RATE, b64, clip, pcm16, silence

pytestmark = pytest.mark.models

KEY = "chained-test-key-do-not-leak"
CHAT = "gpt-4o-mini"  # answered by the embedded backend's local LLM
JFK = "jfk.flac"
#: jfk.flac pauses ~0.7 s mid-sentence; a longer silence keeps it one turn
ONE_TURN = 1200
GET_TIME = {
    "type": "function",
    "name": "get_time",
    "description": "The current time of day.",
    "parameters": {"type": "object", "properties": {}},
}
#: the local LLM answers this with a story of many sentences (seconds to write and speak)
STORYTELLER = "You are a storyteller. Always answer with a long story of at least ten sentences."
LONG_REPLY = "Tell me a long story about a dragon."

_EVENTS = TypeAdapter(RealtimeServerEvent)
#: the SDK types a session event's ``session`` with its request model, but OpenAI's own
#: session.created/updated also carry these three (and so does the embedded backend's)
_SESSION_EXTRAS = {".session.id", ".session.object", ".session.expires_at"}


@pytest.fixture(scope="module")
def backend_v1():
    """The embedded backend at ``<app>/v1`` with a key, and a relay beside it, as the app
    serves them; every model warmed once, so the timings are those of warm turns."""
    root = FastAPI()
    root.mount("/v1", create_backend_app(BackendSettings(api_key=KEY, warm_start=False)))
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))
    with BackgroundServer(root) as url:
        _warm(url)
        yield url, tickets


def _warm(url: str) -> None:
    client = OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
    buf = io.BytesIO()
    sf.write(buf, clip(JFK)[:RATE], RATE, format="WAV", subtype="PCM_16")
    client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=("w.wav", buf.getvalue(), "audio/wav"))
    client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
    client.audio.speech.create(model="gpt-4o-mini-tts", voice="marin", input="Hello.", response_format="pcm")
    vad_engine()


# ------------------------------------------------------------------ helpers


def _unknown_fields(value: Any, path: str = "") -> list[str]:
    """Fields the SDK model does not declare (its models accept extras silently)."""
    if isinstance(value, BaseModel):
        found = [f"{path}.{k}" for k in value.model_extra or {}]
        for name in type(value).model_fields:
            found += _unknown_fields(getattr(value, name), f"{path}.{name}")
        return found
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _unknown_fields(v, f"{path}[{i}]")]
    return []


def check(event: dict[str, Any]) -> dict[str, Any]:
    """One server event, validated strictly against the SDK's GA models."""
    parsed = _EVENTS.validate_python(event)
    assert parsed.type == event["type"], f"{event['type']} parsed as {parsed.type}"
    unknown = set(_unknown_fields(parsed)) - _SESSION_EXTRAS
    assert not unknown, f"{event['type']}: fields the SDK model does not know: {sorted(unknown)}"
    assert event["event_id"].startswith("event_")
    return event


class Reader:
    """Reads the pipeline's events in order, checking each; ``until`` a type is seen."""

    def __init__(self, pipe: ChainedPipeline) -> None:
        self.pipe = pipe
        self.seen: list[dict[str, Any]] = []

    async def until(self, kind: str, timeout: float = 120) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            while True:
                raw = await self.pipe.recv_bytes()
                assert KEY.encode() not in raw
                event = check(json.loads(raw))
                self.seen.append(event)
                if event["type"] == kind:
                    return event

        return await asyncio.wait_for(run(), timeout)

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.seen]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e["type"] == kind]


async def _speak(pipe: ChainedPipeline, samples: np.ndarray) -> None:
    """40 ms appends, as a microphone worklet sends them (as fast as they are taken)."""
    data = pcm16(samples)
    for i in range(0, len(data), FRAME * 2):
        await pipe.send({"type": "input_audio_buffer.append", "audio": b64(data[i : i + FRAME * 2])})


async def _configure(pipe: ChainedPipeline, reader: Reader, **spec: Any) -> dict[str, Any]:
    await pipe.send({"type": "session.update", "session": RealtimeSessionSpec(**spec).to_session()})
    return await reader.until("session.updated")


async def _say(pipe: ChainedPipeline, text: str) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    await pipe.send({"type": "conversation.item.create", "item": item})


def _audio(events: list[dict[str, Any]]) -> np.ndarray:
    data = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    return np.frombuffer(data, "<i2")


@pytest.fixture
def url(backend_v1) -> str:
    return backend_v1[0]


def _client(url: str) -> AsyncOpenAI:
    return embedded_provider(url, KEY).async_client()


def _others() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


# ------------------------------------------------------------------ turns


def test_a_spoken_turn_goes_through_three_rest_calls(url):
    async def run() -> tuple[Reader, ChainedPipeline, set[asyncio.Task[Any]]]:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await r.until("session.created")
            await _configure(pipe, r, instructions="Answer in one short sentence.", silence_duration_ms=ONE_TURN)
            await _speak(pipe, np.concatenate([silence(0.5), clip(JFK), silence(1.5)]))
            await r.until("response.done")
        return r, pipe, _others()

    r, pipe, left = asyncio.run(run())
    kinds = r.kinds()
    started, stopped = r.of("input_audio_buffer.speech_started"), r.of("input_audio_buffer.speech_stopped")
    assert len(started) == 1 and len(stopped) == 1, kinds
    assert 0 < started[0]["audio_start_ms"] < 1000 < 11000 < stopped[0]["audio_end_ms"] < 13500
    committed = r.of("input_audio_buffer.committed")[0]
    assert started[0]["item_id"] == stopped[0]["item_id"] == committed["item_id"]
    order = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
        "response.output_item.added",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order), kinds
    heard = r.of("conversation.item.input_audio_transcription.completed")[0]
    assert "country" in heard["transcript"].lower() and heard["item_id"] == committed["item_id"]
    done = r.of("response.done")[0]["response"]
    assert done["status"] == "completed" and done["usage"]["output_tokens"] > 0
    said = "".join(e["delta"] for e in r.of("response.output_audio_transcript.delta"))
    assert said == done["output"][0]["content"][0]["transcript"] != ""
    pieces = [len(base64.b64decode(e["delta"])) for e in r.of("response.output_audio.delta")]
    assert max(pieces) == 960 * 2 and all(p % 2 == 0 for p in pieces)
    assert len(_audio(r.seen)) / RATE > 0.3
    timing = pipe.timings[-1]
    print("\nspoken turn timings (ms):", json.dumps(timing))
    assert timing["trigger"] == "speech" and timing["response_id"] == done["id"]
    for key in ("transcribe_ms", "chat_first_token_ms", "tts_first_byte_ms", "first_audio_ms", "done_ms"):
        assert timing[key] > 0, key
    assert timing["heard_ms"] <= timing["first_audio_ms"] <= timing["done_ms"]
    assert not left and not pipe._tasks  # nothing of the pipeline's is left running


def test_manual_turns_commit_then_response_create(url):
    async def run() -> Reader:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(
                pipe,
                r,
                turn_detection="none",
                instructions="Answer in one short sentence.",
                noise_reduction="near_field",
            )
            await pipe.send({"type": "input_audio_buffer.commit"})
            await r.until("error")
            await _speak(pipe, clip(JFK))
            await pipe.send({"type": "input_audio_buffer.commit"})
            await pipe.send({"type": "response.create"})
            await r.until("response.done")
        return r

    r = asyncio.run(run())
    assert r.of("error")[0]["error"]["code"] == "input_audio_buffer_commit_empty"
    assert not r.of("input_audio_buffer.speech_started")  # manual: no VAD events
    kinds = r.kinds()
    assert kinds.index("input_audio_buffer.committed") < kinds.index("response.created")
    assert "country" in r.of("conversation.item.input_audio_transcription.completed")[0]["transcript"].lower()
    done = r.of("response.done")[0]["response"]
    assert done["status"] == "completed" and len(_audio(r.seen)) / RATE > 0.3


def done_id(r: Reader) -> str:
    return r.of("response.done")[0]["response"]["id"]


def test_a_typed_message_with_text_output(url):
    async def run() -> tuple[Reader, ChainedPipeline]:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, output_modalities=("text",), max_output_tokens=40)
            await _say(pipe, "What is the capital of France?")
            added = await r.until("conversation.item.added")
            await pipe.send({"type": "response.create", "response": {"metadata": {"turn": "1"}}})
            await r.until("response.done")
            aside = {"conversation": "none", "instructions": "Reply with one word."}
            await pipe.send({"type": "response.create", "response": aside})
            await r.until("response.done")
        assert added["item"]["content"][0]["text"] == "What is the capital of France?"
        return r, pipe

    r, pipe = asyncio.run(run())
    assert not r.of("response.output_audio.delta")
    text = "".join(e["delta"] for e in r.of("response.output_text.delta") if e["response_id"] == done_id(r))
    done_text = r.of("response.output_text.done")[0]["text"]
    assert r.of("response.output_text.done")[0]["response_id"] == done_id(r)
    assert done_text and done_text == text.strip()
    done, aside = (e["response"] for e in r.of("response.done"))
    assert done["status"] in ("completed", "incomplete") and done["metadata"] == {"turn": "1"}
    assert done["conversation_id"] and aside["conversation_id"] is None  # out of band: not in the conversation
    assert len(r.of("conversation.item.added")) == 2 and aside["output"][0]["content"][0]["text"]
    assert done["output"][0]["content"][0] == {"type": "output_text", "text": done_text}
    assert done["usage"]["input_tokens"] > 0 and done["max_output_tokens"] == 40
    assert pipe.timings[-1]["transcribe_ms"] is None and pipe.timings[-1]["trigger"] == "response.create"


def test_speech_starts_while_the_chat_model_is_still_writing(url):
    async def run() -> tuple[Reader, ChainedPipeline]:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, turn_detection="none", instructions=STORYTELLER, max_output_tokens=80)
            await _say(pipe, LONG_REPLY)
            await pipe.send({"type": "response.create"})
            await r.until("response.done")
        return r, pipe

    r, pipe = asyncio.run(run())
    timing = pipe.timings[-1]
    print("\nlong typed reply timings (ms):", json.dumps(timing))
    done = r.of("response.done")[0]["response"]
    assert done["status"] in ("completed", "incomplete") and len(r.of("response.output_audio_transcript.delta")) >= 2
    if done["status"] == "incomplete":
        assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert timing["first_audio_ms"] < timing["chat_done_ms"] / 2  # the first sentence, not the whole reply


# ------------------------------------------------------------------ tools


class ToolTurnShim(httpx2.AsyncBaseTransport):
    """The embedded chat endpoint ignores ``tools``; this plays OpenAI's part for the first
    chat request that offers them (a streamed call of the forced tool) and passes every
    other request, as it is, to the real backend."""

    def __init__(self) -> None:
        self.real = httpx2.AsyncHTTPTransport()
        self.chats: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/chat/completions"):
            body = json.loads(await request.aread())
            self.chats.append(body)
            if body.get("tools") and len(self.chats) == 1:
                return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=_tool_call_sse())
        return await self.real.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def _tool_call_sse() -> bytes:
    head = {"id": "chatcmpl-shim", "object": "chat.completion.chunk", "created": 0, "model": CHAT}
    call = {"index": 0, "id": "call_shim1", "type": "function", "function": {"name": "get_time", "arguments": ""}}
    deltas = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
    ]
    chunks = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    chunks.append({**head, "choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36}})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def test_a_function_call_round_trip(url):
    shim = ToolTurnShim()

    async def run() -> tuple[Reader, dict[str, Any], dict[str, Any]]:
        client = AsyncOpenAI(
            base_url=url + "/v1", api_key=KEY, max_retries=0, http_client=httpx2.AsyncClient(transport=shim)
        )
        async with ChainedPipeline(client, chat_model=CHAT) as pipe:
            r = Reader(pipe)
            session = await _configure(pipe, r, tools=(GET_TIME,), tool_choice="required", turn_detection="none")
            assert session["session"]["tools"][0]["name"] == "get_time"
            await _say(pipe, "What time is it?")
            await pipe.send({"type": "response.create"})
            first = await r.until("response.done")
            (call,) = tool_calls(first)  # what the relay would run
            output = {"type": "function_call_output", "call_id": "call_unknown", "output": "{}"}
            await pipe.send({"type": "conversation.item.create", "item": output})
            unknown = await r.until("error")
            output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"time": "10:42"}'}
            await pipe.send({"type": "conversation.item.create", "item": output})
            await pipe.send({"type": "response.create"})
            second = await r.until("response.done")
        await client.close()
        assert unknown["error"]["param"] == "item.call_id"
        return r, first["response"], second["response"]

    r, first, second = asyncio.run(run())
    (call,) = first["output"]
    assert first["status"] == "completed"
    assert call["type"] == "function_call" and call["name"] == "get_time" and call["arguments"] == "{}"
    assert call["status"] == "completed" and call["call_id"] == "call_shim1"
    assert first["usage"]["input_tokens"] == 30 and first["usage"]["output_tokens"] == 6
    assert [e["delta"] for e in r.of("response.function_call_arguments.delta")] == ["{", "}"]
    args_done = r.of("response.function_call_arguments.done")[0]
    assert args_done["name"] == "get_time" and args_done["item_id"] == call["id"]
    kinds = r.kinds()
    assert kinds.index("response.function_call_arguments.done") < kinds.index("response.output_item.done")
    asked = shim.chats[0]
    function = {k: GET_TIME[k] for k in ("name", "description", "parameters")}
    assert asked["tools"] == [{"type": "function", "function": function}]
    assert asked["tool_choice"] == "required" and asked["stream"] is True
    # the result goes back in the chat API's own shape, and the real backend answered it
    tail = shim.chats[1]["messages"][-3:]
    assert tail[0] == {"role": "user", "content": "What time is it?"}
    assert tail[1]["role"] == "assistant" and tail[1]["tool_calls"][0]["id"] == "call_shim1"
    assert tail[2] == {"role": "tool", "tool_call_id": "call_shim1", "content": '{"time": "10:42"}'}
    assert second["status"] == "completed" and second["output"][0]["type"] == "message"


# ------------------------------------------------------------------ cancelling


def test_cancel_mid_response_then_truncate(url):
    async def run() -> tuple[Reader, dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, turn_detection="none", instructions=STORYTELLER)
            await _say(pipe, LONG_REPLY)
            await pipe.send({"type": "response.create"})
            await r.until("response.output_audio.delta")
            await pipe.send({"type": "response.cancel"})
            done = await r.until("response.done")
            item = done["response"]["output"][0]
            heard_ms = len(_audio(r.seen)) * 1000 // RATE
            cut = {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0}
            await pipe.send({**cut, "audio_end_ms": heard_ms + 60_000})
            too_far = await r.until("error")
            await pipe.send({**cut, "audio_end_ms": 40})
            truncated = await r.until("conversation.item.truncated")
            await pipe.send({"type": "response.cancel"})
            nothing = await r.until("error")
        return r, done, {"too_far": too_far, "nothing": nothing}, truncated

    r, done, errors, truncated = asyncio.run(run())
    response = done["response"]
    assert response["status"] == "cancelled"
    assert response["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert response["output"][0]["status"] == "incomplete"
    kinds = r.kinds()
    for closing in ("response.output_audio.done", "response.content_part.done", "response.output_item.done"):
        assert kinds.index(closing) < kinds.index("response.done")
    assert errors["too_far"]["error"]["param"] == "audio_end_ms"
    assert errors["nothing"]["error"]["code"] == "response_cancel_not_active"
    assert truncated["audio_end_ms"] == 40 and truncated["content_index"] == 0


def test_speech_over_a_reply_interrupts_it(url):
    async def run() -> Reader:
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, silence_duration_ms=ONE_TURN, instructions=STORYTELLER)
            await _say(pipe, LONG_REPLY)
            await pipe.send({"type": "response.create"})
            await r.until("response.output_audio.delta")
            await _speak(pipe, np.concatenate([silence(0.3), clip(JFK), silence(1.5)]))
            await r.until("response.done")
            await r.until("response.done")
        return r

    r = asyncio.run(run())
    first, second = (e["response"] for e in r.of("response.done"))
    assert first["status"] == "cancelled" and first["status_details"]["reason"] == "turn_detected"
    kinds = r.kinds()
    assert kinds.index("input_audio_buffer.speech_started") < kinds.index("response.done")
    # the story after the interruption may run into the chat model's token cap: that
    # ends it "incomplete", which is still a reply that was not cut by the interruption
    assert second["status"] == "completed" or second["status_details"]["reason"] == "max_output_tokens"


# ------------------------------------------------------------------ refusals and failures


def test_refusals_are_errors_and_the_session_goes_on(url):
    async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        errors = []
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, output_modalities=("text",), max_output_tokens=24)
            refused: list[dict[str, Any]] = [
                {"type": "output_audio_buffer.clear"},
                {"type": "conversation.item.retrieve", "item_id": "item_x"},
                {"type": "session.update", "session": {"audio": {"input": {"format": {"type": "audio/pcmu"}}}}},
                {
                    "type": "session.update",
                    "session": {
                        "audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}}}
                    },
                },
                {"type": "input_audio_buffer.append", "audio": "%%%"},
                {
                    "type": "conversation.item.create",
                    "item": {"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "x"}]},
                },
                {"type": "conversation.item.truncate", "item_id": "nope", "content_index": 0, "audio_end_ms": 0},
                {"type": "response.cancel"},
                {"type": "response.create", "response": {"input": []}},
            ]
            for event in refused:
                await pipe.send(event)
                errors.append(await r.until("error"))
            mcp = {"type": "mcp", "server_label": "docs", "server_url": "https://example.com/mcp"}
            await pipe.send({"type": "session.update", "session": {"tools": [mcp, GET_TIME]}})
            updated = await r.until("session.updated")
            errors.append(await r.until("error"))
            await _say(pipe, "Say hello.")
            await pipe.send({"type": "response.create"})
            done = await r.until("response.done")
        assert updated["session"]["tools"] == [GET_TIME]
        return errors, done

    errors, done = asyncio.run(run())
    codes = [(e["error"]["code"], e["error"]["param"]) for e in errors]
    assert codes == [
        ("unsupported_in_chained_mode", "type"),
        ("unsupported_in_chained_mode", "type"),
        ("unsupported_in_chained_mode", "session.audio.input.format"),
        ("unsupported_in_chained_mode", "session.audio.input.turn_detection.idle_timeout_ms"),
        ("invalid_base64", "audio"),
        ("unsupported_content", "item.content[0]"),
        ("item_not_found", "item_id"),
        ("response_cancel_not_active", None),
        ("unsupported_in_chained_mode", "response.input"),
        ("unsupported_in_chained_mode", "session.tools[0]"),
    ]
    assert "output_audio_buffer.clear" in errors[0]["error"]["message"]
    assert "conversation.item.retrieve" in errors[1]["error"]["message"]
    assert done["response"]["status"] in ("completed", "incomplete") and done["response"]["output"]


def test_every_other_client_event_is_refused_by_name(url):
    async def run() -> list[dict[str, Any]]:
        out = []
        async with ChainedPipeline(_client(url), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            for kind in sorted(CLIENT_EVENTS - SUPPORTED_EVENTS):
                await pipe.send({"type": kind})
                out.append((kind, await r.until("error")))
        return out

    answers = asyncio.run(run())
    assert len(answers) >= 2
    for kind, event in answers:
        assert event["error"]["code"] == "unsupported_in_chained_mode" and kind in event["error"]["message"]


def test_provider_errors_are_told_without_the_key(url):
    wrong = "sk-wrong-" + "Kx7" * 10

    async def run() -> Reader:
        async with ChainedPipeline(embedded_provider(url, wrong).async_client(), chat_model=CHAT) as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, turn_detection="none")
            await _say(pipe, "Hello?")
            await pipe.send({"type": "response.create"})
            await r.until("response.done")
            await _speak(pipe, clip(JFK)[: RATE // 2])
            await pipe.send({"type": "input_audio_buffer.commit"})
            await r.until("conversation.item.input_audio_transcription.failed")
            await pipe.send({"type": "input_audio_buffer.clear"})
            await r.until("input_audio_buffer.cleared")  # still open
        return r

    r = asyncio.run(run())
    assert all(wrong not in json.dumps(e) and "Kx7Kx7" not in json.dumps(e) for e in r.seen)
    chat, heard = (e["error"] for e in r.of("error"))
    assert chat["code"] == "chat_failed" and "401" in chat["message"]
    assert heard["code"] == "transcription_failed" and "401" in heard["message"]
    done = r.of("response.done")[0]["response"]
    assert done["status"] == "failed" and done["status_details"]["error"]["code"] == "chat_failed"


def test_a_failing_speech_call_fails_the_response_not_the_session(url):
    async def run() -> Reader:
        async with ChainedPipeline(_client(url), chat_model=CHAT, speech_model="no-such-tts") as pipe:
            r = Reader(pipe)
            await _configure(pipe, r, turn_detection="none", instructions="Answer in one short sentence.")
            await _say(pipe, "Hello!")
            await pipe.send({"type": "response.create"})
            await r.until("response.done")
            await pipe.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
            await r.until("response.done")
        return r

    r = asyncio.run(run())
    failed, text = (e["response"] for e in r.of("response.done"))
    (error,) = (e["error"] for e in r.of("error"))
    assert error["code"] == "speech_failed" and "no-such-tts" in error["message"]
    assert failed["status"] == "failed" and failed["output"][0]["status"] == "incomplete"
    assert text["status"] in ("completed", "incomplete") and text["output"][0]["content"][0]["text"]


# ------------------------------------------------------------------ bounds and closing


def test_a_slow_reader_slows_the_speech_down_instead_of_growing_the_queue(url):
    async def run() -> tuple[list[int], Reader]:
        pipe = ChainedPipeline(_client(url), chat_model=CHAT)
        pipe._outbox.limit = 24
        room, parked = pipe.audio_room, asyncio.Event()

        async def audio_room() -> None:  # the reply's audio asks for room before each delta
            waiting = asyncio.ensure_future(room())
            await asyncio.sleep(0)  # room() is done after one turn of the loop unless there is none
            if not waiting.done():
                parked.set()
            await waiting

        pipe.audio_room = audio_room  # type: ignore[method-assign]
        async with pipe:
            session = {"instructions": STORYTELLER, "max_output_tokens": 60}
            await pipe.send({"type": "session.update", "session": session})
            await _say(pipe, LONG_REPLY)
            await pipe.send({"type": "response.create"})
            # nobody reads: the reply's audio fills half the queue, then waits for room
            try:
                await asyncio.wait_for(parked.wait(), 120)
            except TimeoutError:
                pytest.fail(f"the reply's audio never waited for room ({len(pipe._outbox)} events queued)")
            sizes = [len(pipe._outbox)]
            for _ in range(200):  # every other task runs meanwhile; the speech stays parked
                await asyncio.sleep(0)
                sizes.append(len(pipe._outbox))
            r = Reader(pipe)
            await r.until("response.done")
        return sizes, r

    sizes, r = asyncio.run(run())
    assert all(12 <= n <= 24 for n in sizes), sizes  # half full at least, never over the limit
    done = r.of("response.done")[0]["response"]
    assert done["status"] in ("completed", "incomplete") and len(_audio(r.seen)) / RATE > 5  # all of it, late


def test_a_reader_that_stopped_ends_the_session(url):
    async def run() -> tuple[int, ChainedPipeline]:
        pipe = ChainedPipeline(_client(url), chat_model=CHAT)
        pipe._outbox.limit = 8
        async with pipe:
            for _ in range(20):
                with contextlib.suppress(websockets.exceptions.ConnectionClosedOK):
                    await pipe.send({"type": "input_audio_buffer.clear"})
            # nobody has read: the 9th answer found the queue full and the session closes
            # itself; a session that never closed would leave the reads below waiting
            got = 0

            async def read_to_the_end() -> None:
                nonlocal got
                with contextlib.suppress(websockets.exceptions.ConnectionClosedOK):
                    while True:
                        check(json.loads(await pipe.recv_bytes()))
                        got += 1

            await asyncio.wait_for(read_to_the_end(), 60)
            closed = pipe._closed  # before the context's own close
        assert closed
        return got, pipe

    got, pipe = asyncio.run(run())
    assert got == 8 and not pipe._tasks  # what fitted was still delivered, then the end


def test_semantic_vad_waits_the_medium_silence():
    async def run() -> tuple[dict[str, Any], Any]:
        async with ChainedPipeline(AsyncOpenAI(api_key="unused", base_url="http://127.0.0.1:9"), chat_model=CHAT) as p:
            r = Reader(p)
            await _configure(p, r, turn_detection="semantic_vad", eagerness="high")
            return r.of("session.updated")[0], p._input.detector

    updated, detector = asyncio.run(run())
    assert updated["session"]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"  # echoed as set
    assert detector.silence_ms == 600 and detector.threshold == 0.5


# ------------------------------------------------------------------ closing


def test_closing_mid_response_leaves_nothing_running(url):
    async def run() -> tuple[int, set[asyncio.Task[Any]], ChainedPipeline]:
        pipe = ChainedPipeline(_client(url), chat_model=CHAT)
        async with pipe:
            r = Reader(pipe)
            await _configure(pipe, r, instructions=STORYTELLER)
            await _say(pipe, LONG_REPLY)
            await pipe.send({"type": "response.create"})
            await r.until("response.output_audio.delta")
        left = _others()
        drained = 0
        with pytest.raises(websockets.exceptions.ConnectionClosedOK):
            while True:
                check(json.loads(await pipe.recv_bytes()))
                drained += 1
        for _ in range(2):
            with pytest.raises(websockets.exceptions.ConnectionClosedOK):
                await pipe.recv_bytes()
        with pytest.raises(websockets.exceptions.ConnectionClosedOK):
            await pipe.send({"type": "response.create"})
        return drained, left, pipe

    drained, left, pipe = asyncio.run(run())
    print(f"\n{drained} events still queued at close were delivered before ConnectionClosedOK")
    assert not left and not pipe._tasks
    assert pipe.response_task is not None and pipe.response_task.done()


def test_the_relay_runs_a_chained_session(backend_v1):
    url, tickets = backend_v1
    spec = RealtimeSessionSpec(instructions="Answer in five words.", output_modalities=("text",))
    token = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), mode="chained", chat_model=CHAT)

    async def run() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        ws_url = url.replace("http", "ws") + f"/relay/realtime?ticket={token}"
        async with connect(ws_url, max_size=None) as ws:
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi there!"}]}
            await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            await ws.send(json.dumps({"type": "response.create"}))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                raw = await asyncio.wait_for(ws.recv(), 120)
                assert KEY not in raw
                event = json.loads(raw)
                seen.append(check(event))
                if event["type"] == "response.done":
                    return seen
        raise AssertionError("no response.done")

    seen = asyncio.run(run())
    kinds = [e["type"] for e in seen]
    assert kinds[:2] == ["session.created", "session.updated"]
    assert seen[1]["session"]["instructions"] == "Answer in five words."
    assert seen[-1]["response"]["status"] in ("completed", "incomplete")
