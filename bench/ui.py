"""The UI's figures: Studio click -> first audible sample, and Compare-tab concurrency.

Click -> first audible: the app runs in this process, Chromium (Playwright) clicks Play
with a two-sentence script on each workflow (Realtime and the speech endpoint), and the
page's own measurement (studio.js: the click to the
first sample the AudioWorklet plays, plus the output latency) is read back, per engine.

Compare: wall time of a 4-variant comparison / slowest single variant. Runs the same
code path as the Compare tab (``playground.client.batch.run_variants``)
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
from typing import Any

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
TWO_SENTENCES = "Welcome to the audio playground. Every voice you hear is made on this machine."
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


#: per workflow (its picker label starts with), one voice per local engine it has, as their cards read
HEARD_VOICES = {
    "Realtime": (("Marin", "hibari"), ("Echo", "piper")),
    "Speech endpoint": (("Marin", "hibari"), ("Echo", "piper"), ("Fable", "pico")),
}
HEARD_RUNS = 7
#: consecutive Plays in one page for the drift figure
DRIFT_RUNS = 30
HEARD_TARGET_MS = 300.0
DONE = "() => { const t = window.pgStudio.state.last; return t.heardMs !== null && t.streamEndAt !== null }"
#: the run's results are on the page (metrics with the heard time, the waveform drawn): a
#: listener presses Play again after reading them, not while the page is still drawing
SHOWN = "() => /\\d+ ms/.test((document.querySelector('.pg-heard') || {}).innerText || '')"


def _studio_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.pgStudio !== undefined", timeout=90_000)
    page.fill("#pg-script textarea", TWO_SENTENCES)
    return page


def _click_and_time(page: Any) -> dict[str, float]:
    """One Play: the page's own timings, once the results are on the page and a second has passed."""
    page.click("#pg-play")
    page.wait_for_function(DONE, timeout=60_000)
    t = page.evaluate("() => ({...window.pgStudio.state.last, n: window.pgStudio.state.receivedSamples})")
    page.wait_for_function(SHOWN, timeout=60_000)
    page.wait_for_timeout(1000)
    return t


def heard_latency() -> tuple[list[tuple[str, str, str, float, float, float]], list[float]]:
    """Click -> first audible sample in Chromium, per workflow and engine: (workflow, voice,
    engine, heard ms, first PCM byte in the page ms, clip seconds), medians of ``HEARD_RUNS``
    after a warm-up, each row in a fresh page; and the default's heard times over
    ``DRIFT_RUNS`` consecutive Plays in one page (the page slows down as it is used)."""
    import shutil

    from playwright.sync_api import sync_playwright

    from playground.server import create_app
    from playground.serving import free_port

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("(skipping click -> first audio: no Chromium; apt-get install chromium)")
        return [], []
    port = free_port()
    rows = []
    with BackgroundServer(create_app(port=port), port=port) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for workflow, label, engine in [(w, v, e) for w, voices in HEARD_VOICES.items() for v, e in voices]:
            page = _studio_page(browser, url)
            page.locator("#pg-workflow label").filter(has_text=workflow).first.click()
            page.wait_for_timeout(500)
            page.locator("#pg-voice label").filter(has_text=label).first.click()
            page.wait_for_timeout(1500)  # the voice preview (its own request) finishes first
            heard, first_byte, seconds = [], [], []
            for i in range(HEARD_RUNS + 1):
                t = _click_and_time(page)
                if i:  # the first run warms the path (audio context, connections)
                    heard.append(t["heardMs"])
                    first_byte.append(t["firstChunkAt"] - t["clickAt"])
                    seconds.append(t["n"] / 24_000)
            page.close()
            rows.append((workflow, label.lower(), engine, *map(statistics.median, (heard, first_byte, seconds))))
        page = _studio_page(browser, url)
        drift = [_click_and_time(page)["heardMs"] for _ in range(DRIFT_RUNS)]
        browser.close()
    return rows, drift


def main() -> None:
    os.environ.setdefault("PLAYGROUND_CACHE_DIR", str(Path(tempfile.gettempdir()) / "playground-bench-cache"))
    rows, drift = heard_latency()
    if rows:
        print(f"\nStudio: click Play -> first audible sample in Chromium, two sentences, median of {HEARD_RUNS}\n")
        print("| workflow | voice (engine) | heard | first PCM in the page | clip | heard / clip | target |")
        print("|---|---|---|---|---|---|---|")
        for workflow, voice, engine, heard, first, clip in rows:
            verdict = "meets" if heard <= HEARD_TARGET_MS else "misses"
            print(
                f"| {workflow} | {voice} ({engine}) | {heard:.0f} ms | {first:.0f} ms | {clip:.2f} s "
                f"| {heard / 1000 / clip:.3f} | ≤ {HEARD_TARGET_MS:.0f} ms ({verdict}) |"
            )
    if drift:
        first, last = statistics.median(drift[:5]), statistics.median(drift[-5:])
        print(
            f"\nOne page, {len(drift)} Plays in a row (Realtime, marin): heard, median of the first five "
            f"{first:.0f} ms, of the last five {last:.0f} ms ({last / first:.2f}x)"
        )
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
