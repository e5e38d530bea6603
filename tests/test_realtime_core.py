"""One protocol core under both realtime session kinds.

The embedded backend's session (over its WebSocket, driven by the SDK) and the chained
pipeline (driven as the relay drives it) are sent the same wrong client events and must
answer each with the same ``error``: type, code, param and words. The core's dispatch is
also checked on its own with a scripted session: an event whose handler breaks becomes a
``server_error`` and the next event is still served.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest
from openai import AsyncOpenAI

from playground.backend.realtime.core import Handler, Outbox, SessionCore, parse_event
from playground.backend.realtime.protocol import RealtimeError, server_event
from playground.relay.chained import ChainedPipeline
from tests.backend.realtime_support import client_for, collect

USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello there."}]}
SPOKEN = {"type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "Hi. Bye."}]}

#: wrong events (each gets one error), with the valid items some of them need before them
SCRIPT: list[dict[str, Any]] = [
    {"type": "conversation.item.create", "item": {"type": "bogus"}},
    {"type": "conversation.item.create", "item": USER, "previous_item_id": "item_nowhere"},
    {"type": "conversation.item.create", "item": USER, "previous_item_id": 7},
    {"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": "c1", "output": "{}"}},
    {"type": "conversation.item.create", "item": {**USER, "role": "narrator"}},
    {"type": "conversation.item.create", "item": {**USER, "content": []}},
    {"type": "conversation.item.delete", "item_id": "item_nowhere"},
    {"type": "conversation.item.truncate", "item_id": "item_nowhere", "content_index": 0, "audio_end_ms": 0},
    {"type": "conversation.item.create", "item": {**USER, "id": "item_user_one"}},
    {"type": "conversation.item.truncate", "item_id": "item_user_one", "content_index": 0, "audio_end_ms": 0},
    {"type": "conversation.item.create", "item": {**SPOKEN, "id": "item_said_one"}},
    {"type": "conversation.item.truncate", "item_id": "item_said_one", "content_index": 4, "audio_end_ms": 0},
    {"type": "conversation.item.truncate", "item_id": "item_said_one", "content_index": 0, "audio_end_ms": -5},
    {"type": "conversation.item.truncate", "item_id": "item_said_one", "content_index": 0, "audio_end_ms": True},
    {"type": "conversation.item.truncate", "item_id": "item_said_one", "content_index": 0, "audio_end_ms": 4000},
    {"type": "conversation.item.create", "item": {**USER, "id": "item_user_one"}},
    {"type": "response.cancel"},
    {"type": "input_audio_buffer.commit"},
    {"type": "input_audio_buffer.append", "audio": 42},
    {"type": "input_audio_buffer.append", "audio": "***not base64***"},
    {"type": "session.update"},
]


def _numbered() -> list[dict[str, Any]]:
    return [{**event, "event_id": f"evt_{i}"} for i, event in enumerate(SCRIPT)]


def _error_fields(event: dict[str, Any]) -> tuple[Any, ...]:
    e = event["error"]
    return e["event_id"], e["type"], e.get("code"), e.get("param"), e["message"]


async def _embedded(url: str) -> list[tuple[Any, ...]]:
    async with client_for(url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        for event in _numbered():
            await conn._connection.send(json.dumps(event))
        await conn._connection.send(json.dumps({"type": "conversation.item.retrieve", "item_id": "item_user_one"}))
        seen = await collect(conn, "conversation.item.retrieved", timeout=60)
        return [_error_fields(e.model_dump()) for e in seen if e.type == "error"]


async def _chained(url: str) -> list[tuple[Any, ...]]:
    client = AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    async with ChainedPipeline(client, chat_model="gpt-4o-mini") as pipe:
        for event in _numbered():
            await pipe.send(event)
        await pipe.send({"type": "session.update", "session": {"instructions": "still here"}})
        errors = []
        while True:
            event = json.loads(await pipe.recv_bytes())
            if event["type"] == "error":
                errors.append(_error_fields(event))
            if event["type"] == "session.updated" and event["session"]["instructions"] == "still here":
                return errors


@pytest.mark.models
def test_both_session_kinds_refuse_the_same_events_with_the_same_errors(backend_url):
    embedded = asyncio.run(_embedded(backend_url))
    chained = asyncio.run(_chained(backend_url))
    assert [e[0] for e in embedded] == [f"evt_{i}" for i in range(len(SCRIPT)) if i not in (8, 10)]
    assert chained == embedded
    by_id = {e[0]: e for e in embedded}
    # the drift this core removed: chained's "already shorter" truncate error had no code
    assert by_id["evt_14"][2:4] == ("invalid_value", "audio_end_ms")
    assert by_id["evt_15"][2:4] == ("duplicate_item_id", "item.id")
    assert by_id["evt_17"][2] == "input_audio_buffer_commit_empty"


# ------------------------------------------------------------------ the core on its own


class Scripted(SessionCore):
    """A session kind with three handlers: one that answers, one that breaks, one that refuses."""

    NAME = "The scripted session"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:  # type: ignore[override]
        self.sent.append(event)

    async def _ping(self, event: dict[str, Any]) -> None:
        self.emit(server_event("pong", n=event.get("n")))

    async def _boom(self, event: dict[str, Any]) -> None:
        raise ZeroDivisionError("a bug in a handler")

    async def _refuse(self, event: dict[str, Any]) -> None:
        raise RealtimeError("Not here.", param="thing", code="invalid_value")

    HANDLERS: ClassVar[dict[str, Handler]] = {"ping": _ping, "boom": _boom, "refuse": _refuse}


def test_a_handler_that_breaks_becomes_a_server_error_and_the_session_goes_on():
    async def run() -> list[dict[str, Any]]:
        s = Scripted()
        for event in (
            {"type": "boom", "event_id": "e1"},
            {"type": "ping", "n": 1},
            {"type": "refuse", "event_id": "e2"},
            {"type": "nope", "event_id": "e3"},
            {"event_id": 5},
        ):
            await s.dispatch(event)
        return s.sent

    sent = asyncio.run(run())
    kinds = [e["type"] for e in sent]
    assert kinds == ["error", "pong", "error", "error", "error"]
    boom, refused, unknown, untyped = (e["error"] for e in sent if e["type"] == "error")
    assert (boom["type"], boom["code"], boom["event_id"]) == ("server_error", "internal_error", "e1")
    assert boom["message"] == "The scripted session could not handle boom; the server log has the details."
    assert "ZeroDivisionError" not in boom["message"]  # the traceback goes to the log, not the client
    assert (refused["code"], refused["param"], refused["event_id"]) == ("invalid_value", "thing", "e2")
    assert unknown["param"] == "type" and "'nope'" in unknown["message"] and "boom, ping, refuse" in unknown["message"]
    assert untyped["event_id"] is None and "None" in untyped["message"]
    assert sent[1]["n"] == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "Expecting property name"),
        ('{"type": "session.update", "session": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_parse_event_answers_malformed_and_hostile_json(text, why):
    with pytest.raises(RealtimeError) as caught:
        parse_event(text)
    assert caught.value.code == "invalid_json" and why in caught.value.message


def test_parse_event_wants_an_object():
    with pytest.raises(RealtimeError) as caught:
        parse_event("[1, 2]")
    assert caught.value.code == "invalid_event"
    assert parse_event('{"type": "x"}') == {"type": "x"}


def test_the_outbox_says_no_when_full_and_holds_audio_back_from_half():
    async def run() -> tuple[list[bool], bool, bool, list[Any]]:
        box: Outbox[int] = Outbox(4)
        puts = [box.put(i) for i in range(5)]
        blocked = not box._writable.is_set()
        got = [await box.get(), await box.get(), await box.get()]
        await asyncio.wait_for(box.room(), 1)  # below half again: audio may go on
        box.end()
        got += [await box.get(), await box.get()]
        return puts, blocked, len(box) == 0, got

    puts, blocked, empty, got = asyncio.run(run())
    assert puts == [True, True, True, True, False]
    assert blocked and empty
    assert got == [0, 1, 2, 3, None]
