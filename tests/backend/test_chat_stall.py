"""A streaming chat whose reader stops is cancelled after the stall limit, and the reader,
coming back, gets the API's error event (the SDK raises it) instead of a reply that looks whole.

The client here is the ASGI server's side of a socket that stopped draining: ``send`` blocks
after the first chunk, exactly as uvicorn's does once the kernel's buffers are full (on
loopback those hold megabytes, so a real socket would need a reply longer than any test)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from playground.backend.app import create_backend_app
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog

pytestmark = pytest.mark.models

STALL_S = 0.5


def _request(body: dict) -> tuple[dict, bytes]:
    data = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/chat/completions",
        "raw_path": b"/chat/completions",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    return scope, data


async def _stalled_stream(app, llm) -> tuple[list[bytes], int]:
    scope, data = _request(
        {
            "model": get_catalog().chat.default_model,
            "messages": [{"role": "user", "content": "Write the numbers from 1 to 500, separated by commas."}],
            "max_tokens": 1500,
            "temperature": 0,
            "stream": True,
        }
    )
    sent = False
    resume = asyncio.Event()
    bodies: list[bytes] = []

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))
            if len(bodies) == 2:  # the role chunk and one delta, then the reader stops
                await resume.wait()

    serving = asyncio.create_task(app(scope, receive, send))
    deadline = time.monotonic() + 120
    while llm.stalled_replies == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stalled = llm.stalled_replies
    resume.set()
    await asyncio.wait_for(serving, 120)
    return bodies, stalled


def test_a_reader_that_stops_gets_an_error_event_when_it_comes_back():
    app = create_backend_app(BackendSettings(api_key=None, warm_start=False, llm_stall_s=STALL_S))
    llm = app.state.engines.llm()
    bodies, stalled = asyncio.run(_stalled_stream(app, llm))
    assert stalled == 1
    events = [line.removeprefix(b"data: ") for line in b"".join(bodies).split(b"\n\n") if line.strip()]
    last = json.loads(events[-1])
    assert last["error"]["code"] == "engine_failure" and "took nothing" in last["error"]["message"]
    # what was generated before the stall reached the reader, and no finish pretended it was whole
    deltas = [json.loads(e) for e in events[:-1]]
    assert any(d["choices"] and d["choices"][0]["delta"].get("content") for d in deltas)
    assert all(not d["choices"] or d["choices"][0].get("finish_reason") is None for d in deltas)
