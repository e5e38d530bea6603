"""The browser's realtime relay: tickets, forwarding both ways, validation, closing."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from playground.client.providers import embedded_provider
from playground.core.specs import RealtimeSessionSpec
from playground.relay.route import CLIENT_EVENTS, RelayTickets
from playground.relay.tools import demo_tools
from tests.support.relay_server import serve_relay

pytestmark = pytest.mark.models

KEY = "relay-test-key-do-not-leak"


@pytest.fixture(scope="module")
def relay_server():
    with serve_relay(KEY) as (url, tickets, backend):
        yield url, tickets, backend


async def _recv_until(ws, kind: str, seen: list[dict], timeout: float = 120) -> dict:
    async def run() -> dict:
        while True:
            raw = await ws.recv()
            assert KEY not in raw  # the key never reaches the browser
            event = json.loads(raw)
            seen.append(event)
            if event["type"] == kind:
                return event

    return await asyncio.wait_for(run(), timeout)


def test_client_event_types_come_from_the_sdk():
    assert {"session.update", "input_audio_buffer.append", "response.cancel", "conversation.item.truncate"} <= (
        CLIENT_EVENTS
    )
    assert "session.created" not in CLIENT_EVENTS


def test_a_relayed_turn_with_the_session_settings_applied(relay_server):
    url, tickets, backend = relay_server
    provider = embedded_provider(url, KEY)
    spec = RealtimeSessionSpec(instructions="Answer in five words.", output_modalities=("text",), voice="cedar")
    ticket = tickets.mint(provider, spec.model, spec.to_session())

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}") as ws:
            updated = await _recv_until(ws, "session.updated", seen)
            assert updated["session"]["instructions"] == "Answer in five words."
            assert updated["session"]["audio"]["output"]["voice"] == "cedar"
            await ws.send("not json")
            assert (await _recv_until(ws, "error", seen))["error"]["code"] == "invalid_json"
            await ws.send(json.dumps({"type": "session.created"}))  # a server event: never forwarded
            assert (await _recv_until(ws, "error", seen))["error"]["code"] == "invalid_event"
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello!"}]}
            await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            await ws.send(json.dumps({"type": "response.create", "response": {"max_output_tokens": 16}}))
            await _recv_until(ws, "response.done", seen)
        return seen

    seen = asyncio.run(run())
    assert seen[0]["type"] == "session.created"
    assert any(e["type"] == "response.output_text.delta" for e in seen)
    # the browser left: the upstream session closes too
    deadline = time.monotonic() + 10
    while backend.state.realtime.sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not backend.state.realtime.sessions


def test_a_ticket_works_once(relay_server):
    url, tickets, _ = relay_server
    ticket = tickets.mint(embedded_provider(url, KEY), "gpt-realtime", RealtimeSessionSpec().to_session())

    async def attempt() -> dict:
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}") as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 30))

    assert asyncio.run(attempt())["type"] == "session.created"
    again = asyncio.run(attempt())
    assert again["type"] == "error" and again["error"]["code"] == "invalid_ticket"


def test_an_unreachable_provider_is_reported_without_the_key(relay_server):
    url, tickets, _ = relay_server
    wrong = embedded_provider(url, "sk-wrongkey123456789")
    ticket = tickets.mint(wrong, "gpt-realtime", RealtimeSessionSpec().to_session())

    async def attempt() -> str:
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}") as ws:
            return await asyncio.wait_for(ws.recv(), 30)

    raw = asyncio.run(attempt())
    event = json.loads(raw)
    assert event["error"]["code"] == "upstream_unavailable" and "401" in event["error"]["message"]
    assert "sk-wrongkey123456789" not in raw


def test_the_relay_runs_a_demo_tool_and_the_answer_uses_it(relay_server):
    url, tickets, _ = relay_server
    spec = RealtimeSessionSpec(output_modalities=("text",), tools=tuple(demo_tools(["get_weather"])))
    token = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), owner="page-1")

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={token}") as ws:
            await _recv_until(ws, "session.updated", seen)
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Tokyo?"}]}
            await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            # this response must call a tool; the relay's follow-up is a plain response
            await ws.send(json.dumps({"type": "response.create", "response": {"tool_choice": "required"}}))
            first = await _recv_until(ws, "response.done", seen)
            second = await _recv_until(ws, "response.done", seen)
            return [first, second, *seen]

    first, second, *seen = asyncio.run(run())
    call = next(o for o in first["response"]["output"] if o["type"] == "function_call")
    assert call["name"] == "get_weather"
    sent = [e["event"] for e in seen if e["type"] == "relay.sent"]
    assert [e["type"] for e in sent] == ["conversation.item.create", "response.create"]
    output = json.loads(sent[0]["item"]["output"])
    assert sent[0]["item"]["call_id"] == call["call_id"] and output["conditions"] == "humid and cloudy"
    assert second["response"]["status"] == "completed"
    answer = " ".join(
        part.get("text", "") for o in second["response"]["output"] for part in o.get("content") or []
    ).lower()
    assert "22" in answer or "humid" in answer or "cloud" in answer, answer


def test_a_browser_sessions_notes_outlive_its_connections(relay_server):
    """A note remembered through one relay connection is recalled through the next one of the
    same browser session, and not through another session's."""
    url, tickets, _ = relay_server
    spec = RealtimeSessionSpec(output_modalities=("text",), tools=tuple(demo_tools(["remember_note", "recall_notes"])))

    async def say(owner: str, text: str) -> list[dict]:
        token = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), owner=owner)
        seen: list[dict] = []
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={token}") as ws:
            await _recv_until(ws, "session.updated", seen)
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
            await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            await ws.send(json.dumps({"type": "response.create", "response": {"tool_choice": "required"}}))
            await _recv_until(ws, "response.done", seen)
            await _recv_until(ws, "response.done", seen)  # the relay's follow-up with the result
        return [e["event"] for e in seen if e["type"] == "relay.sent"]

    def outputs(sent: list[dict]) -> str:
        return " ".join(e["item"]["output"] for e in sent if e["type"] == "conversation.item.create")

    asyncio.run(say("notes-page", "Remember that the spare key is under the blue pot."))
    assert "blue pot" in outputs(asyncio.run(say("notes-page", "What did I ask you to remember?")))
    assert "blue pot" not in outputs(asyncio.run(say("other-page", "What did I ask you to remember?")))


def test_custom_tools_answer_with_their_canned_result():
    tickets = RelayTickets(limit=2)
    runner = tickets.runner("page")
    runner.set_custom({"lookup_order": '{"status": "shipped"}'})
    assert runner.run("lookup_order", "{}") == '{"status": "shipped"}'
    assert "error" in json.loads(runner.run("nope", "{}"))
    for owner in ("a", "b", "c"):
        tickets.runner(owner)
    assert tickets.runner("page") is not runner  # bounded: the oldest session's runner went first
