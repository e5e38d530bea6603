"""The chained pipeline (STT → chat → TTS over REST) behind the realtime protocol,
with the real SDK against the real embedded backend; every event checked against the
SDK's own server event models."""

from __future__ import annotations

import asyncio
import base64
import json
import typing
from typing import Any

import numpy as np
import pytest
from openai.types.realtime import RealtimeServerEvent

from playground.core.specs import RealtimeSessionSpec
from playground.realtime.chained import ChainedPipeline
from tests.backend.realtime_support import FRAME, b64, client_for, clip, pcm16, silence

pytestmark = pytest.mark.models

#: event type -> its SDK model, so a failure names the one model that applies
MODELS = {
    cls.model_fields["type"].annotation.__args__[0]: cls
    for cls in typing.get_args(typing.get_args(RealtimeServerEvent)[0])
}


async def _until(pipe: ChainedPipeline, kind: str, seen: list[dict[str, Any]], timeout: float = 120) -> dict:
    async def run() -> dict:
        while True:
            event = json.loads(await pipe.recv_bytes())
            MODELS[event["type"]].model_validate(event, strict=False)
            seen.append(event)
            if event["type"] == kind:
                return event

    return await asyncio.wait_for(run(), timeout)


async def _speak(pipe: ChainedPipeline, samples: np.ndarray) -> None:
    data = pcm16(samples)
    for i in range(0, len(data), FRAME * 2):
        await pipe.send({"type": "input_audio_buffer.append", "audio": b64(data[i : i + FRAME * 2])})


def _audio(seen: list[dict]) -> np.ndarray:
    data = b"".join(base64.b64decode(e["delta"]) for e in seen if e["type"] == "response.output_audio.delta")
    return np.frombuffer(data, "<i2")


def test_a_spoken_turn_goes_through_three_rest_calls(backend_url):
    async def run() -> tuple[list[dict], ChainedPipeline]:
        seen: list[dict] = []
        client = client_for(backend_url)
        spoken = await client.audio.speech.create(
            model="gpt-4o-mini-tts", voice="echo", input="What is the capital of Japan?", response_format="pcm"
        )
        question = np.frombuffer(spoken.read(), "<i2").astype(np.float32) / 32768
        spec = RealtimeSessionSpec(instructions="Answer in one short sentence.")
        async with ChainedPipeline(client, chat_model="gpt-4o-mini") as pipe:
            await _until(pipe, "session.created", seen)
            await pipe.send({"type": "session.update", "session": spec.to_session()})
            await _until(pipe, "session.updated", seen)
            await _speak(pipe, np.concatenate([silence(0.3), question, silence(1.2)]))
            await _until(pipe, "response.done", seen)
        return seen, pipe

    seen, pipe = asyncio.run(run())
    kinds = [e["type"] for e in seen]
    started = kinds.index("input_audio_buffer.speech_started")
    stopped = kinds.index("input_audio_buffer.speech_stopped")
    assert started < stopped < kinds.index("input_audio_buffer.committed")
    heard = next(e for e in seen if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "japan" in heard["transcript"].lower()
    assert kinds.index("conversation.item.input_audio_transcription.completed") < kinds.index(
        "response.output_item.added"
    )
    done = seen[-1]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["transcript"]
    assert len(_audio(seen)) / 24000 > 0.3
    timing = pipe.timings[-1]
    assert timing["transcript_ready_ms"] <= timing["first_token_ms"] <= timing["first_audio_ms"]
    assert not pipe._tasks and pipe._response.done()  # nothing left running after close


def test_manual_turns_typed_text_and_cancel(backend_url):
    async def run() -> list[dict]:
        seen: list[dict] = []
        spec = RealtimeSessionSpec(turn_detection="none", output_modalities=("text",))
        async with ChainedPipeline(client_for(backend_url), chat_model="gpt-4o-mini") as pipe:
            await pipe.send({"type": "session.update", "session": spec.to_session()})
            await _until(pipe, "session.updated", seen)
            await _speak(pipe, clip("jfk.flac")[: 3 * 24000])
            assert not any(e["type"] == "input_audio_buffer.speech_started" for e in seen)
            await pipe.send({"type": "input_audio_buffer.commit"})
            await pipe.send({"type": "response.create"})
            first = await _until(pipe, "response.done", seen)
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Count to fifty."}]}
            await pipe.send({"type": "conversation.item.create", "item": item})
            await pipe.send({"type": "response.create"})
            await _until(pipe, "response.created", seen)
            await pipe.send({"type": "response.cancel"})
            second = await _until(pipe, "response.done", seen)
            await pipe.send({"type": "output_audio_buffer.clear"})
            refused = await _until(pipe, "error", seen)
            await pipe.send({"type": "response.cancel"})
            nothing = await _until(pipe, "error", seen)
            return [first, second, refused, nothing, seen]

    first, second, refused, nothing, seen = asyncio.run(run())
    assert first["response"]["status"] == "completed"
    assert first["response"]["output"][0]["content"][0]["text"]
    assert any(e["type"] == "response.output_text.delta" for e in seen)
    assert second["response"]["status"] == "cancelled"
    assert (
        refused["error"]["code"] == "unsupported_in_chained_mode"
        and "output_audio_buffer.clear" in (refused["error"]["message"])
    )
    assert nothing["error"]["code"] == "response_cancel_not_active"


def test_bad_input_is_refused_and_the_session_goes_on(backend_url):
    async def run() -> list[dict]:
        seen: list[dict] = []
        async with ChainedPipeline(client_for(backend_url), chat_model="gpt-4o-mini") as pipe:
            bad_format = {"audio": {"input": {"format": {"type": "audio/pcmu"}}}}
            await pipe.send({"type": "session.update", "session": bad_format})
            fmt = await _until(pipe, "error", seen)
            await pipe.send({"type": "input_audio_buffer.append", "audio": "%%%"})
            b64err = await _until(pipe, "error", seen)
            image = {"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "x"}]}
            await pipe.send({"type": "conversation.item.create", "item": image})
            img = await _until(pipe, "error", seen)
            await pipe.send({"type": "conversation.item.truncate", "item_id": "nope", "audio_end_ms": 0})
            missing = await _until(pipe, "error", seen)
            await pipe.send({"type": "input_audio_buffer.clear"})
            await _until(pipe, "input_audio_buffer.cleared", seen)
            return [fmt, b64err, img, missing]

    fmt, b64err, img, missing = asyncio.run(run())
    assert fmt["error"]["param"] == "session.audio.input.format"
    assert b64err["error"]["param"] == "audio"
    assert img["error"]["code"] == "unsupported_content"
    assert missing["error"]["code"] == "item_not_found"
