"""The relay's lifecycle with the real SDK upstream and the real embedded backend:
order, cleanup after many connects and disconnects, and an upstream that goes away.

The backend is mounted behind a small ASGI wrapper that records every text frame it
sends on each WebSocket, so the order the provider produced is known independently of
the relay (its own event log is checked against it too). Tasks are counted on the
server's own event loop (a route of the served app: ``BackgroundServer`` runs uvicorn's
``asyncio.run`` in a thread of its own); sockets and files are this process's
``/proc/self/fd``, which holds both the client and the server side.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from playground.backend.app import create_backend_app
from playground.backend.settings import BackendSettings
from playground.client.providers import embedded_provider
from playground.core.specs import RealtimeSessionSpec
from playground.relay.route import RelayTicket, RelayTickets, create_relay_router
from playground.serving import BackgroundServer

pytestmark = pytest.mark.models

CYCLES = 20
#: tasks and descriptors that may come and go on their own (keep-alive, the count's own request)
TASK_SLACK = 2
FD_SLACK = 4
#: 40 ms of silence at 24 kHz, PCM16, as the page's microphone sends it
SILENCE_FRAME = base64.b64encode(bytes(24000 * 40 // 1000 * 2)).decode()


class FrameRecorder:
    """ASGI wrapper: the text frames the wrapped app sends, per WebSocket, in order; and
    how many of its WebSocket handlers are still running."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.connections: list[list[str]] = []
        self.running = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        frames: list[str] = []
        self.connections.append(frames)

        async def recording_send(message: dict) -> None:
            if message["type"] == "websocket.send" and message.get("text") is not None:
                frames.append(message["text"])
            await send(message)

        self.running += 1
        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.running -= 1


class Served:
    def __init__(self, settings: BackendSettings) -> None:
        self.backend = create_backend_app(settings)
        self.recorder = FrameRecorder(self.backend)
        self.tickets = RelayTickets()
        root = FastAPI()
        root.mount("/v1", self.recorder)
        root.include_router(create_relay_router(self.tickets))

        @root.get("/tasks")
        async def tasks() -> dict:  # runs on the server's own event loop
            names = sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks())
            return {"count": len(names), "names": names}

        self.server = BackgroundServer(root)
        self.url = ""

    def __enter__(self) -> Served:
        self.url = self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def sessions(self) -> set:
        return self.backend.state.realtime.sessions

    def mint(self, session: dict[str, Any]) -> tuple[str, RelayTicket]:
        """The page's relay address, and the ticket behind it (its log is the relay's view)."""
        token = self.tickets.mint(embedded_provider(self.url), "gpt-realtime", session)
        return self.url.replace("http", "ws") + f"/relay/realtime?ticket={token}", self.tickets._tickets[token]

    def tasks(self) -> dict:
        return httpx.get(self.url + "/tasks", timeout=10).json()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with Served(BackendSettings(warm_start=False)) as s:
        yield s


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


async def _until(ws: Any, kind: str, seen: list[dict], timeout: float = 120) -> dict:
    async def run() -> dict:
        while True:
            event = json.loads(await ws.recv())
            seen.append(event)
            if event["type"] == kind:
                return event

    return await asyncio.wait_for(run(), timeout)


def _text_session() -> dict[str, Any]:
    return RealtimeSessionSpec(output_modalities=("text",)).to_session()


def _say(text: str) -> list[str]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return [
        json.dumps({"type": "conversation.item.create", "item": item}),
        json.dumps({"type": "response.create", "response": {"max_output_tokens": 16}}),
    ]


def test_events_reach_the_browser_in_the_order_the_provider_sent_them(served):
    url, ticket = served.mint(_text_session())
    opened = len(served.recorder.connections)

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with connect(url) as ws:
            await _until(ws, "session.updated", seen, 30)
            for event in _say("Count from one to ten."):
                await ws.send(event)
            await _until(ws, "response.done", seen)
        return seen

    seen = asyncio.run(run())
    assert len(served.recorder.connections) == opened + 1  # exactly one upstream for this page
    produced = [json.loads(text) for text in served.recorder.connections[opened]]
    produced_ids = [e["event_id"] for e in produced]
    done = next(i for i, e in enumerate(produced) if e["type"] == "response.done")
    # every event the provider sent up to response.done, each once, in the provider's order
    assert [e["event_id"] for e in seen] == produced_ids[: done + 1]
    deltas = [e for e in seen if e["type"] == "response.output_text.delta"]
    assert len(deltas) >= 3, [e["type"] for e in seen]  # enough interleaving for the order to mean something
    text_done = next(e for e in seen if e["type"] == "response.output_text.done")
    assert "".join(d["delta"] for d in deltas) == text_done["text"]
    # the relay's own trace log saw the same thing, and what it sent upstream, in order
    received = [e.type for e in ticket.log.entries if e.direction == "received"]
    assert received[: done + 1] == [e["type"] for e in produced[: done + 1]]
    sent = [e.type for e in ticket.log.entries if e.direction == "sent"]
    assert sent == ["session.update", "conversation.item.create", "response.create"]
    assert _settle(lambda: not served.sessions), served.sessions


def test_twenty_connects_and_disconnects_leave_nothing_behind(served):
    """Polite closes, vanished tabs (no close frame) at once, after the session is set up,
    and while a response streams: each upstream session ends with its page, and nothing
    piles up."""

    async def cycle(k: int) -> None:
        seen: list[dict] = []
        ws = await connect(served.mint(_text_session())[0])
        how = k % 4
        if how == 3:  # gone before the relay has even reached the provider
            ws.transport.abort()
            return
        await _until(ws, "session.updated", seen, 30)
        assert len(served.sessions) == 1  # this page's upstream, and no other
        if how == 2:  # a response in flight when the tab goes
            for event in _say("Tell me a long story about the sea."):
                await ws.send(event)
            await _until(ws, "response.output_text.delta", seen, 60)
        if how == 0:
            await ws.close()  # a polite goodbye
        else:
            ws.transport.abort()  # a tab that vanished: no close frame

    def upstreams_closed(opened: int) -> bool:
        return len(served.recorder.connections) == opened and not served.recorder.running and not served.sessions

    asyncio.run(cycle(2))  # warm: the first connection and response load what every later one shares
    assert _settle(lambda: not served.recorder.running and not served.sessions)
    time.sleep(0.5)
    tasks_before, fds_before = served.tasks(), _fds()
    for k in range(CYCLES):
        opened = len(served.recorder.connections)
        asyncio.run(cycle(k))
        # the page left: its one upstream (opened even for a page already gone) ends too,
        # before the next page comes
        assert _settle(functools.partial(upstreams_closed, opened + 1), 10), (
            k,
            len(served.recorder.connections) - opened,
            served.recorder.running,
            served.sessions,
        )
    assert _settle(lambda: served.tasks()["count"] <= tasks_before["count"] + TASK_SLACK), (
        served.tasks(),
        tasks_before,
    )
    assert _settle(lambda: _fds() <= fds_before + FD_SLACK), (_fds(), fds_before)


@pytest.mark.parametrize("streaming", [False, True], ids=["idle", "microphone-on"])
def test_an_upstream_that_ends_closes_the_browser_side_too(streaming: bool):
    """The provider ends the session (its maximum duration, here 2 s): the relay passes on
    its last event and closes the page's socket, whether or not the page is sending
    audio at that moment, and leaves nothing open."""
    lifetime = 2.0
    with Served(BackendSettings(warm_start=False, realtime_session_seconds=lifetime)) as s:
        s.tasks()
        time.sleep(0.3)
        tasks_before, fds_before = s.tasks(), _fds()
        url, _ = s.mint(RealtimeSessionSpec().to_session())

        async def run() -> tuple[list[dict], float, float | None]:
            seen: list[dict] = []
            started = time.monotonic()
            expired_at: float | None = None

            async def microphone(ws: Any) -> None:
                while True:
                    await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": SILENCE_FRAME}))
                    await asyncio.sleep(0.04)

            async with connect(url) as ws:
                await _until(ws, "session.updated", seen, 30)
                mic = asyncio.create_task(microphone(ws)) if streaming else None
                with pytest.raises(ConnectionClosed):
                    while True:
                        event = json.loads(await asyncio.wait_for(ws.recv(), lifetime + 10))
                        seen.append(event)
                        if event["type"] == "error" and expired_at is None:
                            expired_at = time.monotonic()
                closed_at = time.monotonic()
                if mic is not None:
                    mic.cancel()
                    await asyncio.gather(mic, return_exceptions=True)
            return seen, closed_at - started, (closed_at - expired_at) if expired_at else None

        seen, closed_after, close_after_error = asyncio.run(run())
        assert seen[0]["type"] == "session.created"
        errors = [e["error"]["code"] for e in seen if e["type"] == "error"]
        assert "session_expired" in errors, errors  # the provider's last word reached the page
        assert close_after_error is not None and close_after_error < 3.0, close_after_error
        assert closed_after < lifetime + 5.0, closed_after
        assert _settle(lambda: not s.sessions), s.sessions
        assert _settle(lambda: s.tasks()["count"] <= tasks_before["count"] + TASK_SLACK), (s.tasks(), tasks_before)
        assert _settle(lambda: _fds() <= fds_before + FD_SLACK), (_fds(), fds_before)
