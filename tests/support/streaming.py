"""Telling a streamed HTTP body from a buffered one by when its bytes arrived; and hearing a
Studio run as the page does."""

from __future__ import annotations

import asyncio
from typing import Any

#: reads within this long of the first belong to the same burst (a buffered body arrives in one)
BURST_S = 0.010


def first_burst_share(arrivals: list[float], sizes: list[int]) -> float:
    """The share of the body's bytes that came in the first burst of reads.

    Counting reads proves nothing (a buffered body is read in several pieces too); a body
    streamed sentence by sentence has most of its bytes arrive well after the first.
    """
    total = sum(sizes)
    if not total:
        return 1.0
    first = arrivals[0]
    return sum(n for t, n in zip(arrivals, sizes, strict=True) if t - first <= BURST_S) / total


def heard(streams: Any, token: str) -> bytes:
    """The whole PCM a page playing ``token`` hears, through the route's own waiting and following."""

    async def drain() -> bytes:
        pending = await streams.await_for(token)
        assert pending is not None, f"no run for {token!r}"
        return b"".join([chunk async for chunk in pending.follow_pcm()])

    return asyncio.run(drain())
