"""``/studio/pcm/<token>``: a request for a token that never comes waits without a thread."""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx2 as httpx
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from playground.serving import BackgroundServer
from playground.ui.streaming import SpeechStreams, create_stream_router


def test_waiting_for_unknown_streams_leaves_the_worker_threads_free():
    app = FastAPI()
    app.include_router(create_stream_router(SpeechStreams()))

    @app.get("/work")
    async def work() -> dict[str, bool]:  # what an engine call does: one worker thread, briefly
        await run_in_threadpool(time.sleep, 0.01)
        return {"ok": True}

    async def run(url: str) -> list[str]:
        order: list[str] = []
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:

            async def unknown() -> None:
                r = await client.get(f"/studio/pcm/{secrets.token_urlsafe(16)}")
                order.append(f"pcm {r.status_code}")

            waiting = [asyncio.create_task(unknown()) for _ in range(60)]  # more than the 40 worker threads
            await asyncio.sleep(0.5)
            r = await client.get("/work")
            order.append(f"work {r.status_code}")
            await asyncio.gather(*waiting)
        return order

    with BackgroundServer(app) as url:
        order = asyncio.run(run(url))
    assert order[0] == "work 200", order[:3]  # answered while 60 requests waited for their streams
    assert order[1:] == ["pcm 404"] * 60
