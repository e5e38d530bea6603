"""Every realtime error path answers with an ``error`` event and the session stays open;
clients that leave cost nothing; sessions run side by side."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import websockets

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.serving import BackgroundServer
from tests.backend.realtime_support import b64, client_for, collect, pcm16, silence

pytestmark = pytest.mark.models

TEXT_ONLY = {"output_modalities": ["text"], "max_output_tokens": 8}


def _user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def _error_then_alive(backend_url: str, send) -> object:
    """Send something wrong; return its error, after proving the session still answers."""
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        await send(conn)
        error = (await collect(conn, "error", timeout=60))[-1].error
        await conn.session.update(session={"type": "realtime", "instructions": "still here"})
        updated = (await collect(conn, "session.updated"))[-1]
        assert updated.session.instructions == "still here"
        return error


def _run(backend_url: str, send) -> object:
    return asyncio.run(_error_then_alive(backend_url, send))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2, 3]", "invalid_event"),
        ('{"type": "input_audio_buffer.frobnicate"}', "invalid_value"),
        ('{"type": "input_audio_buffer.append", "audio": "***not base64***"}', "invalid_base64"),
        ('{"type": "input_audio_buffer.append", "audio": 42}', "invalid_type"),
        ('{"type": "session.update"}', "missing_required_parameter"),
    ],
)
def test_malformed_events(backend_url, raw, code):
    async def send(conn):
        await conn.send_raw(raw) if hasattr(conn, "send_raw") else await conn._connection.send(raw)

    assert _run(backend_url, send).code == code


BAD_UPDATES = [
    ({"type": "banana"}, "session.type", None),
    ({"model": "gpt-nope"}, "session.model", None),
    ({"output_modalities": ["audio", "text"]}, "session.output_modalities", None),
    ({"audio": {"output": {"voice": "fable"}}}, "session.audio.output.voice", None),
    ({"audio": {"output": {"speed": 2.0}}}, "session.audio.output.speed", None),
    ({"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}, "session.audio.input.format.rate", None),
    ({"audio": {"input": {"transcription": {"model": "nope"}}}}, "session.audio.input.transcription.model", None),
    (
        {"audio": {"input": {"transcription": {"model": "whisper-1", "language": "english"}}}},
        "session.audio.input.transcription.language",
        None,
    ),
    ({"audio": {"input": {"noise_reduction": {"type": "loud"}}}}, "session.audio.input.noise_reduction.type", None),
    ({"audio": {"input": {"turn_detection": {"type": "magic"}}}}, "session.audio.input.turn_detection.type", None),
    (
        {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}},
        "session.audio.input.turn_detection.threshold",
        None,
    ),
    (
        {"audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 100}}}},
        "session.audio.input.turn_detection.idle_timeout_ms",
        None,
    ),
    ({"tools": [{"type": "mcp", "server_url": "https://example.com"}]}, "session.tools[0]", "unsupported_value"),
    ({"tools": [{"type": "function", "parameters": {}}]}, "session.tools[0].name", None),
    ({"tool_choice": {"type": "function", "name": "nothing"}}, "session.tool_choice.name", None),
    ({"max_output_tokens": 0}, "session.max_output_tokens", None),
    ({"max_output_tokens": 99999}, "session.max_output_tokens", None),
    ({"colour": "blue"}, "session.colour", "unknown_parameter"),
    ({"prompt": {"id": "pmpt_123"}}, "session.prompt", "unsupported_value"),
    ({"instructions": 7}, "session.instructions", "invalid_type"),
    ({"audio": {"output": {"voice": {"id": "voice_123"}}}}, "session.audio.output.voice", "unsupported_value"),
]


@pytest.mark.parametrize(("session", "param", "code"), BAD_UPDATES, ids=[p for _, p, _ in BAD_UPDATES])
def test_session_update_names_the_bad_field(backend_url, session, param, code):
    async def send(conn):
        await conn.session.update(session={"type": "realtime", **session} if "type" not in session else session)

    error = _run(backend_url, send)
    assert error.param == param, error
    assert error.type == "invalid_request_error"
    if code:
        assert error.code == code


def test_a_partial_update_changes_only_what_it_names(backend_url):
    async def run():
        async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
            await collect(conn, "session.created")
            await conn.session.update(session={"type": "realtime", "instructions": "Speak like a pirate."})
            await collect(conn, "session.updated")
            await conn.session.update(session={"type": "realtime", "audio": {"output": {"voice": "cedar"}}})
            return (await collect(conn, "session.updated"))[-1].session

    session = asyncio.run(run())
    assert session.instructions == "Speak like a pirate."
    assert session.audio.output.voice == "cedar"
    assert session.audio.input.turn_detection.type == "server_vad"


STATE_ERRORS = [
    ("commit_empty", lambda c: c.input_audio_buffer.commit(), "input_audio_buffer_commit_empty"),
    ("cancel_nothing", lambda c: c.response.cancel(), "response_cancel_not_active"),
    (
        "truncate_unknown",
        lambda c: c.conversation.item.truncate(item_id="item_nope", content_index=0, audio_end_ms=10),
        "item_not_found",
    ),
    ("retrieve_unknown", lambda c: c.conversation.item.retrieve(item_id="item_nope"), "item_not_found"),
    ("delete_unknown", lambda c: c.conversation.item.delete(item_id="item_nope"), "item_not_found"),
    (
        "image",
        lambda c: c.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "data:,"}]}
        ),
        "unsupported_content",
    ),
    (
        "orphan_output",
        lambda c: c.conversation.item.create(
            item={"type": "function_call_output", "call_id": "call_x", "output": "{}"}
        ),
        "invalid_value",
    ),
    ("output_clear", lambda c: c.send({"type": "output_audio_buffer.clear"}), "invalid_value"),
]


@pytest.mark.parametrize(("name", "send", "code"), STATE_ERRORS, ids=[s[0] for s in STATE_ERRORS])
def test_requests_that_do_not_fit_the_state(backend_url, name, send, code):
    assert _run(backend_url, send).code == code


def test_truncating_a_user_item_is_refused(backend_url):
    async def send(conn):
        await conn.conversation.item.create(item={"id": "item_mine", **_user("Hello")})
        await collect(conn, "conversation.item.done")
        await conn.conversation.item.truncate(item_id="item_mine", content_index=0, audio_end_ms=0)

    assert _run(backend_url, send).param == "item_id"


def test_a_second_response_while_one_runs_is_refused(backend_url):
    async def send(conn):
        await conn.conversation.item.create(item=_user("Tell me a story about a fox."))
        await conn.response.create(response={"output_modalities": ["text"], "max_output_tokens": 64})
        await conn.response.create(response=TEXT_ONLY)

    assert _run(backend_url, send).code == "conversation_already_has_active_response"


def test_audio_far_faster_than_real_time_is_taken_and_cleared(backend_url):
    async def run():
        async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
            await collect(conn, "session.created")
            await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
            await collect(conn, "session.updated")
            chunk = b64(pcm16(silence(2.0)))
            for _ in range(10):  # 20 s in a blink
                await conn.input_audio_buffer.append(audio=chunk)
            await conn.input_audio_buffer.clear()
            events = await collect(conn, "input_audio_buffer.cleared")
            await conn.input_audio_buffer.commit()  # nothing left to commit
            events = await collect(conn, "error", events=events)
            return events

    events = asyncio.run(run())
    assert [e.type for e in events] == ["input_audio_buffer.cleared", "error"]
    assert events[-1].error.code == "input_audio_buffer_commit_empty"


def test_an_unknown_model_is_refused_with_an_event_then_closed(backend_url):
    async def run():
        async with client_for(backend_url).realtime.connect(model="gpt-nope") as conn:
            first = await asyncio.wait_for(conn.recv(), 10)
            with pytest.raises(Exception):  # noqa: B017 - the close surfaces as the websockets exception
                await asyncio.wait_for(conn.recv(), 10)
            return first

    first = asyncio.run(run())
    assert first.type == "error" and first.error.code == "model_not_found" and first.error.param == "model"


def test_the_key_is_checked_before_the_upgrade():
    async def connect(url: str, key: str):
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        async with client.realtime.connect(model="gpt-realtime") as conn:
            return (await asyncio.wait_for(conn.recv(), 10)).type

    with BackgroundServer(create_standalone_app(BackendSettings(api_key="s3cret", warm_start=False))) as url:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            asyncio.run(connect(url, "wrong"))
        assert refused.value.response.status_code == 401
        assert b"invalid_api_key" in refused.value.response.body
        assert asyncio.run(connect(url, "s3cret")) == "session.created"


def _backend(root):
    return next(r.app for r in root.routes if getattr(r, "path", "") == "/v1")


def test_a_client_that_vanishes_mid_response_leaves_nothing_behind():
    root = create_standalone_app(BackendSettings(api_key=None, warm_start=False))
    backend = _backend(root)

    async def vanish(url: str) -> None:
        async with client_for(url).realtime.connect(model="gpt-realtime") as conn:
            await collect(conn, "session.created")
            await conn.conversation.item.create(item=_user("Tell me a very long story about the sea."))
            await conn.response.create()  # spoken: LLM and TTS both busy when we leave
            await collect(conn, "response.output_audio.delta", timeout=120)
        # leaving the block closes the socket mid-response

    async def short(url: str) -> str:
        async with client_for(url).realtime.connect(model="gpt-realtime") as conn:
            await collect(conn, "session.created")
            await conn.conversation.item.create(item=_user("Say hi."))
            await conn.response.create(response=TEXT_ONLY)
            return (await collect(conn, "response.done", timeout=120))[-1].response.status

    with BackgroundServer(root) as url:
        asyncio.run(vanish(url))
        deadline = time.monotonic() + 10
        while backend.state.realtime.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not backend.state.realtime.sessions
        assert asyncio.run(short(url)) in ("completed", "incomplete")  # incomplete: hit max_output_tokens
        llm = backend.state.engines.llm()
        assert llm._jobs.qsize() == 0


def test_four_sessions_at_once(backend_url):
    async def one(n: int) -> str:
        async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
            await collect(conn, "session.created")
            await conn.conversation.item.create(item=_user(f"Say hello to guest number {n}."))
            await conn.response.create(response={"output_modalities": ["text"], "max_output_tokens": 16})
            return (await collect(conn, "response.done", timeout=180))[-1].response.status

    async def all_four() -> list[str]:
        return await asyncio.gather(*(one(n) for n in range(4)))

    statuses = asyncio.run(all_four())
    assert set(statuses) <= {"completed", "incomplete"} and len(statuses) == 4, statuses  # incomplete: token cap


def test_a_voice_turn_during_a_reply_says_a_reply_is_in_progress(backend_url):
    """With interrupt_response off, a turn that ends while a reply runs is refused as OpenAI words it,
    not reported as audio the server could not process."""
    from tests.backend.realtime_support import clip

    async def run() -> list:
        async with client_for(backend_url).realtime.connect(model="gpt-realtime-2.1-mini") as conn:
            await collect(conn, "session.created")
            vad = {"type": "server_vad", "create_response": True, "interrupt_response": False}
            session = {"type": "realtime", "output_modalities": ["text"], "audio": {"input": {"turn_detection": vad}}}
            await conn.session.update(session=session)
            await collect(conn, "session.updated")
            await conn.conversation.item.create(item=_user("Tell me a long story about a fox and a crow."))
            await conn.response.create(response={"output_modalities": ["text"], "max_output_tokens": 400})
            await collect(conn, "response.created")
            speech = pcm16(np.concatenate([clip("jfk.flac")[: 24_000 * 3], silence(1.0)]))
            await conn.input_audio_buffer.append(audio=b64(speech))
            return await collect(conn, "error", timeout=60)

    events = asyncio.run(run())
    errors = [e for e in events if e.type == "error"]
    assert errors and errors[-1].error.code == "conversation_already_has_active_response"
