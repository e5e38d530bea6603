"""``/studio/pcm/<token>`` holds no worker thread while it waits (for a token or for audio),
and plays in flight are bounded per tab and per server."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from playground.client.providers import embedded_provider
from playground.core.errors import PlaygroundError
from playground.core.specs import SpeechSpec
from playground.serving import BackgroundServer
from playground.ui.streaming import SpeechStreams, create_stream_router


async def _page_token(client: httpx.AsyncClient) -> str:
    """A token as studio.js makes one: this person's stream key, a dot, 128 random bits."""
    key = (await client.get("/studio/key")).json()["key"]
    return f"{key}.{secrets.token_urlsafe(16)}"


def test_waiting_for_announced_streams_leaves_the_worker_threads_free():
    app = FastAPI()
    app.include_router(create_stream_router(SpeechStreams()))

    @app.get("/work")
    async def work() -> dict[str, bool]:  # what an engine call does: one worker thread, briefly
        await run_in_threadpool(time.sleep, 0.01)
        return {"ok": True}

    async def run(url: str) -> list[str]:
        order: list[str] = []
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:

            async def announced() -> None:  # the page's token, whose Play never arrives
                r = await client.get(f"/studio/pcm/{await _page_token(client)}")
                order.append(f"pcm {r.status_code}")

            waiting = [asyncio.create_task(announced()) for _ in range(60)]  # more than the 40 worker threads
            await asyncio.sleep(0.5)
            r = await client.get("/work")
            order.append(f"work {r.status_code}")
            await asyncio.gather(*waiting)
        return order

    with BackgroundServer(app) as url:
        order = asyncio.run(run(url))
    assert order[0] == "work 200", order[:3]  # answered while 60 requests waited for their streams
    assert order[1:] == ["pcm 404"] * 60


def test_unknown_tokens_are_answered_at_once():
    """Only a token made with this person's key is waited for; a random one, a forged key,
    another person's key or an old key of a restarted server gets its 404 while a page's
    own announced token is still waiting."""
    streams = SpeechStreams()
    app = FastAPI()
    app.include_router(create_stream_router(streams))
    nonce = secrets.token_urlsafe(16)
    others = [
        secrets.token_urlsafe(16),  # the old kind: no key at all
        f"{secrets.token_urlsafe(24)}.{nonce}",  # a key this server never signed
        f"{streams.key_for('someone-else')}.{nonce}",  # another person's key
        f"{SpeechStreams().key_for('local')}.{nonce}",  # a key from another process (before a restart)
        "not a token",
        "x" * 5000,
    ]

    async def run(url: str) -> tuple[list[int], bool]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            mine = asyncio.create_task(client.get(f"/studio/pcm/{await _page_token(client)}"))
            await asyncio.sleep(0.1)
            codes = [(await client.get(f"/studio/pcm/{token}")).status_code for token in others]
            still_waiting = not mine.done()
            assert (await mine).status_code == 404
        return codes, still_waiting

    with BackgroundServer(app) as url:
        codes, still_waiting = asyncio.run(run(url))
    assert codes == [404] * len(others)
    assert still_waiting  # every unknown token was answered before the announced one gave up


def test_a_run_is_followed_and_named_only_by_the_person_who_started_it():
    streams = SpeechStreams()
    spec = SpeechSpec(input="Hello there.", response_format="pcm")
    provider = embedded_provider("http://127.0.0.1:9")  # never reached: nothing is awaited but the lookup
    wanted = f"{streams.key_for('alice')}.{secrets.token_urlsafe(16)}"
    stolen = streams.start(spec, provider, token=wanted, person="bob")  # bob cannot take alice's token
    assert stolen.token != wanted and stolen.person == "bob"
    hers = streams.start(spec, provider, token=wanted, person="alice")
    assert hers.token == wanted

    async def lookups() -> list[object]:
        return [
            await streams.await_for(hers.token, "bob"),
            await streams.await_for(hers.token, "alice"),
            await streams.await_for(stolen.token, "alice"),
        ]

    assert asyncio.run(lookups()) == [None, hers, None]
    for run in (hers, stolen):
        run.wait(30)


def test_pages_following_a_slow_stream_leave_the_worker_threads_free():
    """Sixty pages listen to one run whose provider has sent a first chunk and is still
    speaking; an engine call made meanwhile is served before the run ends."""
    app = FastAPI()
    streams = SpeechStreams()
    app.include_router(create_stream_router(streams))
    finish = asyncio.Event()

    @app.post("/v1/audio/speech")
    async def speech() -> StreamingResponse:  # a provider part-way through a long reply
        async def body() -> AsyncIterator[bytes]:
            yield b"\x00\x01" * 2400
            await finish.wait()
            yield b"\x00\x01" * 2400

        return StreamingResponse(body(), media_type="audio/pcm")

    @app.get("/work")
    async def work() -> dict[str, bool]:
        await run_in_threadpool(time.sleep, 0.01)
        return {"ok": True}

    @app.post("/finish")
    async def end() -> dict[str, bool]:
        finish.set()
        return {"ok": True}

    async def run(url: str) -> tuple[list[str], list[int]]:
        order: list[str] = []
        sizes: list[int] = []
        pending = streams.start(SpeechSpec(input="Hello there.", response_format="pcm"), embedded_provider(url))
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            listening = 0

            async def follow() -> None:
                nonlocal listening
                size = 0
                async with client.stream("GET", f"/studio/pcm/{pending.token}") as r:
                    async for chunk in r.aiter_bytes():
                        listening += size == 0
                        size += len(chunk)
                sizes.append(size)
                order.append("pcm done")

            followers = [asyncio.create_task(follow()) for _ in range(60)]  # more than the 40 worker threads
            while listening < 60:  # every page has its first chunk and waits for the next
                await asyncio.sleep(0.01)
            r = await client.get("/work")
            order.append(f"work {r.status_code}")
            await client.post("/finish")
            await asyncio.gather(*followers)
        return order, sizes

    with BackgroundServer(app) as url:
        order, sizes = asyncio.run(asyncio.wait_for(run(url), 20))
    assert order[0] == "work 200", order[:3]
    assert order[1:] == ["pcm done"] * 60
    assert set(sizes) == {2 * 4800}  # every page got the whole clip (24 kHz in, 24 kHz out)


def test_one_tab_cannot_take_every_play_slot():
    app = FastAPI()
    finish = asyncio.Event()

    @app.post("/v1/audio/speech")
    async def speech() -> StreamingResponse:  # every run stays in flight until the test ends it
        async def body() -> AsyncIterator[bytes]:
            yield b"\x00\x01" * 2400
            await finish.wait()

        return StreamingResponse(body(), media_type="audio/pcm")

    @app.post("/finish")
    async def end() -> dict[str, bool]:
        finish.set()
        return {"ok": True}

    streams = SpeechStreams(limit=6, per_tab=2)
    spec = SpeechSpec(input="Hello there.", response_format="pcm")
    with BackgroundServer(app) as url:
        provider = embedded_provider(url)
        started = [streams.start(spec, provider, owner="tab-a") for _ in range(2)]
        with pytest.raises(PlaygroundError, match="This tab already has 2 plays"):
            streams.start(spec, provider, owner="tab-a")
        started += [streams.start(spec, provider, owner=f"tab-{i}") for i in "bcde"]  # other tabs still play
        with pytest.raises(PlaygroundError, match="6 plays are still in progress on this server"):
            streams.start(spec, provider, owner="tab-f")
        httpx.post(f"{url}/finish")
        for pending in started:
            assert pending.wait(30) == (pending.result, None) and pending.result is not None
        assert streams.start(spec, provider, owner="tab-a").wait(30)[1] is None  # room again once they end
