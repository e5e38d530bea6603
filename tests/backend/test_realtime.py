"""The realtime endpoint through the real SDK: spoken turns, manual turns, text, cancel,
truncate, tools, telephony formats, semantic VAD, idle timeout, items and expiry."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings

import numpy as np
import pytest
from faster_whisper.vad import VadOptions, get_speech_timestamps
from openai import OpenAI

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.serving import BackgroundServer
from tests.backend.conftest import wer
from tests.backend.realtime_support import (
    RATE,
    audio_of,
    b64,
    client_for,
    clip,
    collect,
    manifest_text,
    one,
    pcm16,
    send_audio,
    silence,
    types,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

pytestmark = pytest.mark.models

JFK = "jfk.flac"
#: jfk.flac pauses for ~0.7 s mid-sentence; a longer silence keeps it one turn
ONE_TURN = {"type": "server_vad", "silence_duration_ms": 1200}
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SHORT_TEXT = {"output_modalities": ["text"], "max_output_tokens": 16}


def speech_bounds_ms() -> tuple[int, int]:
    """Where speech starts and ends in 1 s of silence, jfk.flac, 2 s of silence, by
    faster-whisper's own offline VAD over the whole recording (the reference)."""
    padded = np.concatenate([silence(1.0, 16000), clip(JFK, 16000), silence(2.0, 16000)])
    spans = get_speech_timestamps(padded, VadOptions(min_silence_duration_ms=1200, speech_pad_ms=0))
    return spans[0]["start"] * 1000 // 16000, spans[-1]["end"] * 1000 // 16000


def _transcribe_wav(client: OpenAI, samples: np.ndarray) -> str:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, RATE, format="WAV", subtype="PCM_16")
    result = client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("reply.wav", buf.getvalue(), "audio/wav"), language="en"
    )
    return result.text


async def _spoken_turn(backend_url: str) -> list:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {
                    "input": {"transcription": {"model": "gpt-4o-mini-transcribe"}, "turn_detection": ONE_TURN},
                    "output": {"voice": "marin"},
                },
            }
        )
        await collect(conn, "session.updated")
        lead = 1.0
        await send_audio(conn, np.concatenate([silence(lead), clip(JFK), silence(2.0)]))
        return await collect(conn, "response.done", timeout=180)


def test_a_spoken_turn_from_a_wav_is_heard_transcribed_and_answered_in_speech(backend_url, client):
    events = asyncio.run(_spoken_turn(backend_url))
    names = types(events)
    order = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "response.created",
        "conversation.item.input_audio_transcription.completed",  # the reply waits for the words
        "response.output_item.added",
        "response.content_part.added",
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    positions = [names.index(n) for n in order]
    assert positions == sorted(positions), names

    # speech_started / stopped carry where the speech is, padding and silence included
    start_ms, end_ms = speech_bounds_ms()
    started = one(events, "input_audio_buffer.speech_started")
    stopped = one(events, "input_audio_buffer.speech_stopped")
    assert abs(started.audio_start_ms - (start_ms - 300)) <= 150
    assert abs(stopped.audio_end_ms - (end_ms + 1200)) <= 150
    assert started.item_id == stopped.item_id == one(events, "input_audio_buffer.committed").item_id

    heard = one(events, "conversation.item.input_audio_transcription.completed")
    assert wer(manifest_text(JFK), heard.transcript) <= 0.15, heard.transcript
    deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
    assert deltas and names.index(deltas[0].type) < names.index(heard.type)

    reply = audio_of(events)
    assert len(reply) > RATE // 2  # at least half a second of speech
    transcript = one(events, "response.output_audio_transcript.done").transcript
    assert transcript.strip()
    back = _transcribe_wav(client, reply)  # English-only Whisper: speech, not noise, if it finds words
    assert back.strip() and any(w.isalpha() for w in back), back

    done = one(events, "response.done").response
    assert done.status == "completed"
    usage = done.usage
    assert usage.input_token_details.audio_tokens > 0 and usage.output_token_details.audio_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_a_manual_turn_with_the_sync_sdk(backend_url, client):
    """turn_detection null: append, commit, response.create, in the sync client."""
    with client.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().type == "session.created"
        conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        assert conn.recv().type == "session.updated"
        data = pcm16(clip(JFK))
        for i in range(0, len(data), 96000):
            conn.input_audio_buffer.append(audio=b64(data[i : i + 96000]))
        conn.input_audio_buffer.commit()
        conn.response.create()
        events = []
        while True:
            event = conn.recv()
            events.append(event)
            assert event.type != "input_audio_buffer.speech_started"  # no VAD in a manual session
            if event.type == "response.done":
                break
    committed = one(events, "input_audio_buffer.committed")
    added = [e for e in events if e.type == "conversation.item.added"]
    assert added[0].item.id == committed.item_id and added[0].item.role == "user"
    assert added[1].item.role == "assistant" and added[1].previous_item_id == committed.item_id
    assert len(audio_of(events)) > RATE // 2
    assert one(events, "response.done").response.status == "completed"


async def _text_turn(backend_url: str, text: str, **session) -> list:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"], **session})
        await collect(conn, "session.updated")
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        await conn.response.create()
        return await collect(conn, "response.done")


def test_text_only_output_streams_text_and_no_audio(backend_url):
    events = asyncio.run(_text_turn(backend_url, "Name three colours of the rainbow."))
    names = types(events)
    assert "response.output_audio.delta" not in names
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text.strip() and text.strip() == one(events, "response.output_text.done").text
    assert one(events, "response.content_part.added").part.type == "text"
    done = one(events, "response.done").response
    assert done.output_modalities == ["text"] and done.output[0].content[0].type == "output_text"
    assert done.usage.output_token_details.audio_tokens == 0 and done.usage.output_tokens > 0


async def _cancel_and_truncate(backend_url: str) -> dict:
    out: dict = {}
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me a long story about a lighthouse keeper."}],
            }
        )
        await conn.response.create(response={"instructions": "Tell long, detailed stories of many sentences."})
        first = await collect(conn, "response.output_audio.delta")
        await conn.response.cancel()
        events = await collect(conn, "response.done", events=first)
        out["cancel"] = events
        item_id = one(events, "response.output_item.added").item.id
        # nothing arrives after response.done (the generation stopped)
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=10**7)
        out["beyond"] = await collect(conn, "error")
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=300)
        out["truncated"] = await collect(conn, "conversation.item.truncated")
        await conn.conversation.item.retrieve(item_id=item_id)
        out["retrieved"] = await collect(conn, "conversation.item.retrieved")

        # a truncate before the first audio frame: answered (cancelling the response), no crash
        await conn.response.create()
        added = await collect(conn, "response.output_item.added")
        await conn.conversation.item.truncate(item_id=added[-1].item.id, content_index=0, audio_end_ms=0)
        out["early"] = await collect(conn, lambda e: e.type in ("conversation.item.truncated", "error"))
        out["early_done"] = await collect(conn, "response.done") if out["early"][-1].type == "error" else []
        await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
        out["alive"] = await collect(conn, "session.updated")
    return out


def test_cancel_stops_at_once_and_truncate_cuts_audio_and_transcript(backend_url):
    out = asyncio.run(_cancel_and_truncate(backend_url))
    cancel = out["cancel"]
    done = one(cancel, "response.done").response
    assert done.status == "cancelled" and done.status_details.reason == "client_cancelled"
    assert done.output[0].status == "incomplete"
    produced_ms = len(audio_of(cancel)) * 1000 // RATE
    assert produced_ms < 8000  # stopped long before a long story's end

    beyond = out["beyond"][-1].error
    assert beyond.param == "audio_end_ms" and beyond.code == "invalid_value"

    truncated = out["truncated"][-1]
    assert truncated.audio_end_ms == 300
    item = out["retrieved"][-1].item
    kept = base64.b64decode(item.content[0].audio)
    assert len(kept) == 300 * RATE // 1000 * 2
    full = one(cancel, "response.output_audio_transcript.done").transcript
    assert len(item.content[0].transcript) < len(full)

    assert out["early"][-1].type == "conversation.item.truncated" and out["early"][-1].audio_end_ms == 0
    assert out["alive"][-1].session.instructions == "Be brief."


async def _barge_in(backend_url: str) -> list:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": ONE_TURN}}})
        await collect(conn, "session.updated")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me a long story."}],
            }
        )
        await conn.response.create(response={"instructions": "Tell long, detailed stories of many sentences."})
        events = await collect(conn, "response.output_audio.delta")
        await send_audio(conn, np.concatenate([clip(JFK)[: RATE * 3], silence(0.2)]))
        return await collect(conn, "response.done", events=events)


def test_speech_during_a_response_interrupts_it(backend_url):
    # The local LLM sometimes answers in one short sentence that is fully generated before the
    # VAD hears the speech; such a try shows nothing either way, so it is made again (at most 3).
    for _ in range(3):
        events = asyncio.run(_barge_in(backend_url))
        names = types(events)
        if "input_audio_buffer.speech_started" in names:
            break
    assert "input_audio_buffer.speech_started" in names, f"every reply ended before the speech was heard: {names}"
    assert names.index("input_audio_buffer.speech_started") < names.index("response.done")
    done = one(events, "response.done").response
    assert done.status == "cancelled" and done.status_details.reason == "turn_detected"


async def _tool_round_trip(backend_url: str) -> tuple[list, list]:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]})
        await collect(conn, "session.updated")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What's the weather like in Paris today?"}],
            }
        )
        await conn.response.create()
        first = await collect(conn, "response.done")
        call = one(first, "response.function_call_arguments.done")
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": json.dumps({"city": "Paris", "temperature_c": 18, "conditions": "sunny"}),
            }
        )
        await conn.response.create()
        second = await collect(conn, "response.done")
    return first, second


def test_a_tool_call_round_trip_uses_the_result(backend_url):
    first, second = asyncio.run(_tool_round_trip(backend_url))
    call = one(first, "response.function_call_arguments.done")
    assert call.name == "get_weather"
    args = json.loads(call.arguments)
    assert set(args) == {"city"} and "paris" in args["city"].lower()
    delta = one(first, "response.function_call_arguments.delta")
    assert delta.call_id == call.call_id and json.loads(delta.delta) == args
    item = one(first, "response.output_item.done").item
    assert item.type == "function_call" and item.call_id == call.call_id and item.status == "completed"
    assert one(first, "response.done").response.status == "completed"

    reply = one(second, "response.output_text.done").text.lower()
    assert "18" in reply or "sunny" in reply, reply
    assert "response.function_call_arguments.done" not in types(second)


async def _telephony(backend_url: str) -> list:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcmu"},
                        "turn_detection": None,
                        "transcription": {"model": "whisper-1", "language": "en"},
                    },
                    "output": {"format": {"type": "audio/pcma"}},
                },
            }
        )
        await collect(conn, "session.updated")
        x8 = clip(JFK, 8000)
        ulaw = audioop.lin2ulaw(pcm16(x8), 2)
        for i in range(0, len(ulaw), 1600):
            await conn.input_audio_buffer.append(audio=b64(ulaw[i : i + 1600]))
        await conn.input_audio_buffer.commit()
        await conn.response.create()
        return await collect(conn, "response.done", timeout=180)


def test_g711_in_and_out(backend_url, client):
    events = asyncio.run(_telephony(backend_url))
    heard = one(events, "conversation.item.input_audio_transcription.completed").transcript
    assert wer(manifest_text(JFK), heard) <= 0.2, heard
    alaw = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    x8 = np.frombuffer(audioop.alaw2lin(alaw, 2), "<i2").astype(np.float32) / 32768
    assert len(x8) > 8000 // 2  # one byte per sample at 8 kHz
    from playground.core.audio import resample

    back = _transcribe_wav(client, resample(x8, 8000, RATE))
    assert back.strip(), "the A-law reply should be intelligible speech"


async def _semantic_wait(backend_url: str, eagerness: str, text_cut: float) -> int:
    """How long the detector waited after the speech ended, for a turn cut at ``text_cut`` s."""
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        td = {"type": "semantic_vad", "eagerness": eagerness, "create_response": False}
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": td}}})
        await collect(conn, "session.updated")
        speech = clip(JFK)[: int(text_cut * RATE)] if text_cut else clip(JFK)
        await send_audio(conn, np.concatenate([silence(0.5), speech, silence(9.0)]))
        stopped = (await collect(conn, "input_audio_buffer.speech_stopped"))[-1]
        return stopped.audio_end_ms - (500 + len(speech) * 1000 // RATE)


def test_semantic_vad_waits_by_eagerness_and_longer_mid_sentence(backend_url):
    high = asyncio.run(_semantic_wait(backend_url, "high", 0))
    low = asyncio.run(_semantic_wait(backend_url, "low", 0))
    assert high < low, (high, low)
    # "And so my fellow Americans," ... cut after the comma: not a finished thought
    cut = asyncio.run(_semantic_wait(backend_url, "high", 2.7))
    assert cut > high + 800, (cut, high)


async def _idle(backend_url: str) -> list:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        td = {"type": "server_vad", "idle_timeout_ms": 5000}
        await conn.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "audio": {"input": {"turn_detection": td}}}
        )
        await collect(conn, "session.updated")
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi!"}]}
        )
        await conn.response.create(response={"max_output_tokens": 8})
        events = await collect(conn, "response.done")
        await send_audio(conn, silence(7.0), pace=1.0)  # a quiet microphone, in real time
        return await collect(conn, "response.done", events=events, timeout=30)


def test_idle_timeout_prompts_the_user(backend_url):
    events = asyncio.run(_idle(backend_url))
    names = types(events)
    first_done = names.index("response.done")
    timeout = names.index("input_audio_buffer.timeout_triggered")
    assert first_done < timeout < len(names) - 1
    assert names[timeout + 1] == "response.created"


async def _items(backend_url: str) -> dict:
    out: dict = {}
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await conn.session.update(
            session={"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}}}
        )
        await collect(conn, "session.updated")
        data = b64(pcm16(clip(JFK)))
        await conn.conversation.item.create(
            item={
                "id": "item_user_audio",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": data}],
            }
        )
        out["added"] = await collect(conn, "conversation.item.done")
        await conn.conversation.item.create(
            previous_item_id="root",
            item={"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Be brief."}]},
        )
        out["first"] = await collect(conn, "conversation.item.added")
        await conn.conversation.item.retrieve(item_id="item_user_audio")
        out["retrieved"] = await collect(conn, "conversation.item.retrieved")
        await conn.conversation.item.delete(item_id="item_user_audio")
        out["deleted"] = await collect(conn, "conversation.item.deleted")
        await conn.conversation.item.retrieve(item_id="item_user_audio")
        out["gone"] = await collect(conn, "error")
    return out


def test_items_create_retrieve_delete(backend_url):
    out = asyncio.run(_items(backend_url))
    assert out["added"][-1].item.id == "item_user_audio"
    assert out["first"][-1].previous_item_id is None  # inserted at the root
    item = out["retrieved"][-1].item
    assert len(base64.b64decode(item.content[0].audio)) == len(pcm16(clip(JFK)))
    assert out["deleted"][-1].item_id == "item_user_audio"
    assert out["gone"][-1].error.code == "item_not_found"


def test_sessions_end_after_their_lifetime():
    async def run(url: str) -> list:
        async with client_for(url).realtime.connect(model="gpt-realtime") as conn:
            events = await collect(conn, "session.created")
            events = await collect(conn, "error", events=events, timeout=10)
            with pytest.raises(Exception):  # noqa: B017 - the SDK raises the websockets close exception
                await asyncio.wait_for(conn.recv(), 5)
            return events

    app = create_standalone_app(BackendSettings(api_key=None, realtime_session_seconds=1.0, warm_start=False))
    with BackgroundServer(app) as url:
        events = asyncio.run(run(url))
    assert events[-1].error.code == "session_expired"
