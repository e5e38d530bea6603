"""The relay's lifecycle with the real SDK upstream and the real embedded backend:
order, cleanup after many connects and disconnects, and an upstream that goes away."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect

from playground.backend.app import create_backend_app
from playground.backend.settings import BackendSettings
from playground.client.providers import embedded_provider
from playground.core.specs import RealtimeSessionSpec
from playground.realtime.relay import RelayTickets, create_relay_router
from playground.serving import BackgroundServer

pytestmark = pytest.mark.models


def _serve(settings: BackendSettings):
    backend = create_backend_app(settings)
    root = FastAPI()
    root.mount("/v1", backend)
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))

    @root.get("/tasks")
    async def tasks() -> dict:  # runs on the server's own event loop
        return {"tasks": len(asyncio.all_tasks())}

    return root, backend, tickets


@pytest.fixture(scope="module")
def relay():
    root, backend, tickets = _serve(BackendSettings(warm_start=False))
    with BackgroundServer(root) as url:
        yield url, backend, tickets


def _ws(url: str, ticket: str) -> str:
    return url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}"


def _settle(check, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _tasks(url: str) -> int:
    import httpx2 as httpx

    return httpx.get(url + "/tasks").json()["tasks"]


async def _until(ws, kind: str, seen: list[dict], timeout: float = 120) -> dict:
    async def run() -> dict:
        while True:
            event = json.loads(await ws.recv())
            seen.append(event)
            if event["type"] == kind:
                return event

    return await asyncio.wait_for(run(), timeout)


def test_events_arrive_in_the_order_the_provider_sent_them(relay):
    url, _, tickets = relay
    spec = RealtimeSessionSpec(output_modalities=("text",))
    token = tickets.mint(embedded_provider(url), spec.model, spec.to_session())
    ticket = tickets._tickets[token]  # its log records what came from upstream, in arrival order

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with connect(_ws(url, token)) as ws:
            await _until(ws, "session.updated", seen)
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}
            await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            await ws.send(json.dumps({"type": "response.create", "response": {"max_output_tokens": 24}}))
            await _until(ws, "response.done", seen)
        return seen

    seen = asyncio.run(run())
    upstream = [e.type for e in ticket.log.entries if e.direction == "received"]
    assert [e["type"] for e in seen] == upstream[: len(seen)]
    deltas = [e for e in seen if e["type"] == "response.output_text.delta"]
    done = next(e for e in seen if e["type"] == "response.output_text.done")
    assert "".join(d["delta"] for d in deltas).strip() == done["text"].strip()  # no delta lost or reordered
    kinds = [e["type"] for e in seen]
    assert kinds.index("response.created") < kinds.index("response.output_item.added") < kinds.index("response.done")


def test_twenty_connects_and_disconnects_leave_nothing_behind(relay):
    url, backend, tickets = relay
    provider = embedded_provider(url)
    session = RealtimeSessionSpec().to_session()

    async def cycle(k: int) -> None:
        ws = await connect(_ws(url, tickets.mint(provider, "gpt-realtime", session)))
        seen: list[dict] = []
        await _until(ws, "session.updated", seen, 30)
        if k % 2:
            await ws.close()  # a polite goodbye
        else:
            ws.transport.abort()  # a tab that vanished: no close frame

    asyncio.run(cycle(0))  # warm: the first connection loads what every later one shares
    assert _settle(lambda: not backend.state.realtime.sessions)
    tasks_before, fds_before = _tasks(url), len(os.listdir("/proc/self/fd"))
    for k in range(20):
        asyncio.run(cycle(k))
    assert _settle(lambda: not backend.state.realtime.sessions), backend.state.realtime.sessions
    assert _settle(lambda: _tasks(url) <= tasks_before + 1), (_tasks(url), tasks_before)
    assert _settle(lambda: len(os.listdir("/proc/self/fd")) <= fds_before + 4), (
        len(os.listdir("/proc/self/fd")),
        fds_before,
    )


def test_an_upstream_that_ends_closes_the_browser_side_too():
    root, backend, tickets = _serve(BackendSettings(warm_start=False, realtime_session_seconds=2))
    with BackgroundServer(root) as url:
        token = tickets.mint(embedded_provider(url), "gpt-realtime", RealtimeSessionSpec().to_session())

        async def run() -> tuple[list[dict], float]:
            seen: list[dict] = []
            started = time.monotonic()
            async with connect(_ws(url, token)) as ws:
                with pytest.raises(Exception) as closed:
                    await _until(ws, "never", seen, 30)
                assert "ConnectionClosed" in type(closed.value).__name__
            return seen, time.monotonic() - started

        seen, elapsed = asyncio.run(run())
        assert elapsed < 15
        assert seen[0]["type"] == "session.created"
        assert _settle(lambda: not backend.state.realtime.sessions)
        assert _settle(lambda: _tasks(url) <= 3), _tasks(url)
