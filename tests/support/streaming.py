"""Telling a streamed HTTP body from a buffered one by when its bytes arrived."""

from __future__ import annotations

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
