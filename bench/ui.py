"""Compare-tab concurrency: wall time of a 4-variant comparison / slowest single variant.

Runs the same code path as the Compare tab (``playground.client.batch.run_variants``)
against (1) a local OpenAI-compatible server that answers after a fixed 500 ms, which
is what a network provider looks like, and (2) the embedded backend. A ratio near 1.0
means the variants really ran at once (target <= 1.3 against the delayed server). On
the embedded backend the four syntheses share two CPU cores, so the ratio there
measures CPU contention rather than the UI's concurrency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import Response

from playground.backend.app import create_standalone_app
from playground.client.batch import Variant, run_variants
from playground.client.providers import Provider, embedded_provider
from playground.core.encode import encode_all
from playground.core.specs import SpeechSpec
from playground.serving import BackgroundServer

DELAY_S = 0.5
SCRIPT = "Comparing voices side by side should take as long as the slowest one."
VOICES = ("echo", "ash", "onyx", "alloy")
ROUNDS = 3


def delayed_server() -> FastAPI:
    """Answers /v1/audio/speech after a fixed delay with a second of real mp3 audio."""
    app = FastAPI()
    t = np.arange(24_000) / 24_000
    body = encode_all((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), "mp3", 24_000)

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        await request.body()
        await asyncio.sleep(DELAY_S)
        return Response(body, media_type="audio/mpeg")

    return app


async def _wall(variants: list[Variant]) -> float:
    t0 = time.perf_counter()
    async for outcome in run_variants(variants):
        if outcome.error:
            raise RuntimeError(outcome.error)
    return time.perf_counter() - t0


def ratio(provider: Provider) -> tuple[float, float, float]:
    """(median wall of all 4 at once, median slowest single, ratio)."""
    variants = [Variant(SpeechSpec(input=SCRIPT, voice=v, model="tts-1"), provider, v) for v in VOICES]

    async def measure() -> tuple[float, float]:
        await _wall(variants)  # warm-up: engines load, connections open
        walls, slowest = [], []
        for _ in range(ROUNDS):
            walls.append(await _wall(variants))
            slowest.append(max([await _wall([v]) for v in variants]))
        return statistics.median(walls), statistics.median(slowest)

    wall, single = asyncio.run(measure())
    return wall, single, wall / single


def main() -> None:
    os.environ.setdefault("PLAYGROUND_CACHE_DIR", str(Path(tempfile.gettempdir()) / "playground-bench-cache"))
    print(f"\nCompare tab, 4 variants ({', '.join(VOICES)}), median of {ROUNDS} rounds\n")
    print("| provider | 4 at once | slowest alone | ratio | target |")
    print("|---|---|---|---|---|")
    with BackgroundServer(delayed_server()) as url:
        wall, single, r = ratio(Provider("compatible", "delayed test server", url + "/v1", "local"))
        verdict = "meets" if r <= 1.3 else "misses"
        print(
            f"| test server, fixed {DELAY_S * 1000:.0f} ms delay | {wall:.3f} s | {single:.3f} s | {r:.2f} | "
            f"≤ 1.3 ({verdict}) |"
        )
    with BackgroundServer(create_standalone_app()) as url:
        wall, single, r = ratio(embedded_provider(url))
        print(f"| embedded backend (2 CPU cores shared) | {wall:.3f} s | {single:.3f} s | {r:.2f} | – |")
