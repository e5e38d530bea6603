"""Hostile input over WebSockets: every session kind and the relay answer it and keep going.

Each case is a frame a broken or malicious client might send: JSON nested too deeply to
parse, values of the wrong type, binary frames, events of another session kind, bad
base64, audio after closing. Every one must come back as an ``error`` event in OpenAI's
shape (the code named below), and the same connection must then still answer a valid
event. Real backend, real relay, raw frames (the SDK would not send most of these).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from playground.client.providers import embedded_provider
from playground.core.specs import RealtimeSessionSpec, RealtimeTranslationSpec
from tests.support.relay_server import serve_relay

pytestmark = pytest.mark.models

KEY = "hostile-test-key"
NESTED_LIST = '{"type": "session.update", "session": ' + "[" * 100_000 + "]" * 100_000 + "}"
NESTED_OBJECT = '{"type": "session.update", "session": ' + '{"a": ' * 30_000 + "1" + "}" * 30_000 + "}"
SURROGATE = '{"type": "session.update", "session": {"type": "realtime", "instructions": "\\ud800"}}'


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


#: frames every session kind must refuse, and the error code each gets
COMMON: list[tuple[str, str | bytes, str]] = [
    ("nesting, lists", NESTED_LIST, "invalid_json"),
    ("nesting, objects", NESTED_OBJECT, "invalid_json"),
    ("not JSON", "{type: session.update", "invalid_json"),
    ("truncated JSON", '{"type": "session.update", "session": {', "invalid_json"),
    ("an array", "[1, 2, 3]", "invalid_event"),
    ("a number", "42", "invalid_event"),
    ("a string", '"session.update"', "invalid_event"),
    ("null", "null", "invalid_event"),
    ("no type", "{}", "invalid_value"),
    ("type a number", '{"type": 5}', "invalid_value"),
    ("type null", '{"type": null}', "invalid_value"),
    ("type a list", '{"type": ["session.update"]}', "invalid_value"),
    ("type 10 KB long", _event("x" * 10_000), "invalid_value"),
    ("binary, not UTF-8", b"\xff\xfe\x00\x81", "invalid_json"),
    ("binary, UTF-8 but not JSON", b"hello", "invalid_json"),
    ("session an array", _event("session.update", session=[]), "invalid_type"),
    ("session a string", _event("session.update", session="fast"), "invalid_type"),
    ("session missing", _event("session.update"), "missing_required_parameter"),
]
#: a conversation's event, sent to a session kind that has no responses
RESPONSE = ("a response.create", _event("response.create", response={}), "invalid_value")

CONVERSATION: list[tuple[str, str | bytes, str]] = [
    ("lone surrogate", SURROGATE, "invalid_value"),
    ("audio a number", _event("input_audio_buffer.append", audio=123), "invalid_type"),
    ("audio a list", _event("input_audio_buffer.append", audio=["AAAA"]), "invalid_type"),
    ("audio not base64", _event("input_audio_buffer.append", audio="***"), "invalid_base64"),
    ("item null", _event("conversation.item.create", item=None), "invalid_type"),
    (
        "item text a number",
        _event(
            "conversation.item.create",
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": 5}]},
        ),
        "invalid_type",
    ),
    (
        "item role unknown",
        _event("conversation.item.create", item={"type": "message", "role": "root", "content": []}),
        "invalid_value",
    ),
    ("delete an id that is a list", _event("conversation.item.delete", item_id=[]), "item_not_found"),
    (
        "truncate end a string",
        _event("conversation.item.truncate", item_id="x", content_index=0, audio_end_ms="9"),
        "item_not_found",
    ),
    ("response a number", _event("response.create", response=5), "invalid_type"),
    ("tools a string", _event("session.update", session={"type": "realtime", "tools": "all"}), "invalid_type"),
    (
        "voice an object",
        _event("session.update", session={"type": "realtime", "audio": {"output": {"voice": {"x": 1}}}}),
        "unsupported_value",
    ),
    ("commit nothing", _event("input_audio_buffer.commit"), "input_audio_buffer_commit_empty"),
    ("cancel nothing", _event("response.cancel"), "response_cancel_not_active"),
]

TRANSCRIPTION: list[tuple[str, str | bytes, str]] = [
    RESPONSE,
    (
        "an item",
        _event("conversation.item.create", item={"type": "message", "role": "user", "content": []}),
        "invalid_value",
    ),
    (
        "a model that is not a transcriber",
        _event(
            "session.update",
            session={"type": "transcription", "audio": {"input": {"transcription": {"model": "gpt-realtime"}}}},
        ),
        "invalid_value",
    ),
    (
        "delay a number",
        _event(
            "session.update",
            session={
                "type": "transcription",
                "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper", "delay": 3}}},
            },
        ),
        "invalid_value",
    ),
]

TRANSLATION: list[tuple[str, str | bytes, str]] = [
    RESPONSE,
    (
        "odd bytes",
        _event("session.input_audio_buffer.append", audio=base64.b64encode(b"\x00\x01\x02").decode()),
        "invalid_value",
    ),
    (
        "a language that does not exist",
        _event("session.update", session={"audio": {"output": {"language": "zz"}}}),
        "invalid_value",
    ),
    (
        "a language the local backend does not speak",
        _event("session.update", session={"audio": {"output": {"language": "ja"}}}),
        "unsupported_language",
    ),
    ("a conversation append", _event("input_audio_buffer.append", audio="AAAA"), "invalid_value"),
    (
        "an input format",
        _event("session.update", session={"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}),
        "unknown_parameter",
    ),
]

PROBES = {
    "realtime": _event("session.update", session={"type": "realtime", "instructions": "still here"}),
    "transcription": _event("session.update", session={"type": "transcription"}),
    "translation": _event("session.update", session={"audio": {"input": {"transcription": None}}}),
}
PATHS = {
    "realtime": "/v1/realtime?model=gpt-realtime",
    "transcription": "/v1/realtime?intent=transcription",
    "translation": "/v1/realtime/translations?model=gpt-realtime-translate",
}


@pytest.fixture(scope="module")
def served():
    with serve_relay(KEY) as (url, tickets, _):
        yield url, tickets


async def _answers(ws: Any, frames: list[str | bytes], probe: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The error each frame got, in order, then the probe's answer on the same connection."""
    errors: list[dict[str, Any]] = []
    for frame in frames:
        await ws.send(frame)
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if event["type"] == "error":
                errors.append(event["error"])
                break
    await ws.send(probe)
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if event["type"] in ("session.updated", "error"):
            return errors, event


def _check(kind: str, cases: list[tuple[str, str | bytes, str]], url: str) -> None:
    async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        headers = {"authorization": f"Bearer {KEY}"}
        async with connect(url.replace("http", "ws") + PATHS[kind], additional_headers=headers, max_size=None) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
            return await _answers(ws, [frame for _, frame, _ in cases], PROBES[kind])

    errors, probe = asyncio.run(run())
    got = [e["code"] for e in errors]
    assert got == [code for _, _, code in cases], list(zip([n for n, _, _ in cases], got, strict=False))
    assert all(set(e) >= {"type", "code", "message", "param"} for e in errors)
    assert all("Traceback" not in e["message"] and len(e["message"]) < 1000 for e in errors)
    assert probe["type"] == "session.updated", probe  # the session is still serving


def test_a_conversation_answers_every_hostile_frame_and_goes_on(served):
    _check("realtime", COMMON + CONVERSATION, served[0])


def test_a_transcription_session_answers_every_hostile_frame_and_goes_on(served):
    _check("transcription", COMMON + TRANSCRIPTION, served[0])


def test_a_translation_session_answers_every_hostile_frame_and_goes_on(served):
    _check("translation", COMMON + TRANSLATION, served[0])


def test_appends_after_close_are_refused_until_the_session_closes(served):
    async def run() -> list[str]:
        headers = {"authorization": f"Bearer {KEY}"}
        path = PATHS["translation"]
        async with connect(served[0].replace("http", "ws") + path, additional_headers=headers) as ws:
            await ws.recv()
            audio = base64.b64encode(b"\x00\x00" * 4800).decode()
            await ws.send(_event("session.close"))
            for _ in range(50):  # a flood after closing
                await ws.send(_event("session.input_audio_buffer.append", audio=audio))
            seen = []
            async for raw in ws:
                event = json.loads(raw)
                seen.append(event["error"]["code"] if event["type"] == "error" else event["type"])
            return seen

    seen = asyncio.run(run())  # the socket closed after session.closed; some appends came before it
    assert seen.count("session.closed") == 1 and set(seen) <= {"session.closed", "session_closing"}, seen


RELAY: list[tuple[str, str | bytes, str]] = [
    ("nesting, lists", NESTED_LIST, "invalid_json"),
    ("nesting, objects", NESTED_OBJECT, "invalid_json"),
    ("not JSON", "{type", "invalid_json"),
    ("an array", "[]", "invalid_event"),
    ("type unknown", _event("session.frobnicate"), "invalid_event"),
    ("type of a translation session", _event("session.close"), "invalid_event"),
    ("binary, not UTF-8", b"\xff\xfe", "invalid_json"),
]


def test_the_relay_answers_hostile_browser_frames_itself_and_goes_on(served):
    url, tickets = served
    spec = RealtimeSessionSpec(output_modalities=("text",))
    ticket = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session())

    async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}", max_size=None) as ws:
            while json.loads(await ws.recv())["type"] != "session.updated":
                pass
            return await _answers(ws, [f for _, f, _ in RELAY], PROBES["realtime"])

    errors, probe = asyncio.run(run())
    assert [e["code"] for e in errors] == [code for _, _, code in RELAY]
    assert probe["type"] == "session.updated" and probe["session"]["instructions"] == "still here"


def test_the_relay_of_a_translation_session_takes_only_its_three_events(served):
    url, tickets = served
    spec = RealtimeTranslationSpec(output_language="en", transcription_model="")
    ticket = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), mode="translation")

    async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}", max_size=None) as ws:
            while json.loads(await ws.recv())["type"] != "session.updated":
                pass
            frames = [NESTED_LIST, _event("response.create"), _event("input_audio_buffer.append", audio="AAAA")]
            return await _answers(ws, frames, PROBES["translation"])

    errors, probe = asyncio.run(run())
    assert [e["code"] for e in errors] == ["invalid_json", "invalid_event", "invalid_event"]
    assert probe["type"] == "session.updated"


def test_share_links_tool_arguments_and_custom_tools_survive_deep_nesting():
    from playground.relay.tools import ToolRunner
    from playground.ui.share import decode_share
    from playground.ui.voicechat import custom_tools

    deep = "[" * 5000 + "]" * 5000
    assert decode_share(base64.urlsafe_b64encode(deep.encode()).decode().rstrip("=")) is None
    assert "not valid JSON" in json.loads(ToolRunner().run("get_weather", deep))["error"]
    with pytest.raises(Exception) as refused:
        custom_tools(deep)
    assert "not valid JSON" in str(refused.value) and "nested too deeply" in str(refused.value)
