"""The browser relay's cost: latency it adds per event, and a turn as the page sees it.

One process serves the embedded backend under ``/v1`` and the relay at
``/relay/realtime``, as the app does. (a) Round trips of a cheap event
(``input_audio_buffer.clear`` → ``input_audio_buffer.cleared``) over a direct
connection and through the relay, interleaved so both see the same load; a round trip
crosses the relay twice, so the added latency per event is half the difference.
(b) Spoken turns sent through the relay like the page sends them (40 ms PCM16 frames in
real time) by a WebSocket client in the page's place: ``speech_stopped`` → first
``response.output_audio.delta`` and → ``response.done``. (c) The whole app in Chromium,
its fake microphone playing JFK's speech into the Voice chat tab: the page's own latency
table (first delta received, first sample heard), skipped with a reason without Chromium.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from fastapi import FastAPI
from openai import OpenAI
from websockets.asyncio.client import connect

from bench.common import bench_cache, row
from bench.realtime import RATE, SPEECH, _utterances, _wait_warm
from playground.backend.app import create_backend_app, warm_up
from playground.backend.settings import BackendSettings
from playground.client.providers import embedded_provider
from playground.core import audio
from playground.core.specs import RealtimeSessionSpec
from playground.realtime.relay import RelayTickets, create_relay_router
from playground.serving import BackgroundServer, free_port

ROUND_TRIPS = 300
TURNS = 6


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def _round_trip(ws: Any) -> float:
    t0 = time.perf_counter()
    await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
    while json.loads(await ws.recv())["type"] != "input_audio_buffer.cleared":
        pass
    return (time.perf_counter() - t0) * 1000


async def _ready(ws: Any) -> None:
    while json.loads(await ws.recv())["type"] != "session.updated":
        pass


async def _overhead(direct_url: str, relay_url: str) -> tuple[list[float], list[float]]:
    direct, relayed = [], []
    async with connect(direct_url, max_size=None) as d, connect(relay_url, max_size=None) as r:
        await d.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        await _ready(d)
        await _ready(r)
        for _ in range(20):  # warm both paths
            await _round_trip(d)
            await _round_trip(r)
        for _ in range(ROUND_TRIPS):
            direct.append(await _round_trip(d))
            relayed.append(await _round_trip(r))
    return direct, relayed


async def _send(ws: Any, samples: np.ndarray, stop: asyncio.Event) -> None:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = RATE * 40 // 1000 * 2
    start = time.perf_counter()
    for k, i in enumerate(range(0, len(data), step)):
        if stop.is_set():
            return
        chunk = base64.b64encode(data[i : i + step]).decode()
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
        await asyncio.sleep(max(0.0, start + (k + 1) * 0.04 - time.perf_counter()))


async def _turns(relay_url: str, utterances: list[np.ndarray]) -> list[tuple[float, float]]:
    out = []
    async with connect(relay_url, max_size=None) as ws:
        await _ready(ws)
        for n in range(TURNS):
            speech = np.concatenate([np.zeros(RATE // 2, np.float32), utterances[n], np.zeros(RATE * 5, np.float32)])
            stop = asyncio.Event()
            sender = asyncio.create_task(_send(ws, speech, stop))
            stopped = first = None
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 60))
                now = time.perf_counter()
                if event["type"] == "input_audio_buffer.speech_stopped" and stopped is None:
                    stopped = now
                elif event["type"] == "response.output_audio.delta" and first is None:
                    first = now
                elif event["type"] == "response.done" and stopped is not None:
                    if first is not None:
                        out.append(((first - stopped) * 1000, (now - stopped) * 1000))
                    break
            stop.set()  # the page stops listening for this turn; the mic would go on
            await sender
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            await asyncio.sleep(0.3)
    return out


BROWSER_SECONDS = 45


def _browser_turns() -> tuple[list[dict[str, Any]], str]:
    """The page's latency table after a spoken conversation in Chromium (or why not)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return [], "Chromium not installed"
    from playwright.sync_api import sync_playwright

    from playground.server import create_app

    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    pause = np.zeros(4 * RATE, np.float32)
    mic = Path(tempfile.mkdtemp()) / "mic.wav"
    sf.write(mic, np.concatenate([pause[: RATE // 2], jfk, pause, jfk, pause]), RATE, subtype="PCM_16")
    port = free_port()
    args = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
    args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    args += [f"--use-file-for-fake-audio-capture={mic}"]
    with BackgroundServer(create_app(port=port), port=port) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url, wait_until="load")
        page.get_by_role("tab", name="Voice chat").click()
        page.wait_for_function("() => window.pgRealtime !== undefined", timeout=60_000)
        time.sleep(20)  # the app warms its engines in the background after start
        page.click("#pg-rt-connect")
        time.sleep(BROWSER_SECONDS)
        turns = page.evaluate("() => window.pgRealtime.transcript().latency_ms")
        page.evaluate("() => window.pgRealtime.disconnect()")
        browser.close()
    return [t for t in turns if t.get("kind") == "spoken" and t.get("first_audio")], ""


def main() -> None:
    bench_cache()
    backend = create_backend_app(BackendSettings(api_key=None))
    root = FastAPI()
    root.mount("/v1", backend)
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))
    warm_up(backend)
    with BackgroundServer(root) as url:
        _wait_warm(backend)
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=300)
        utterances = _utterances(client)
        provider = embedded_provider(url)
        ws_url = url.replace("http", "ws")
        session = RealtimeSessionSpec(transcription_model="gpt-4o-mini-transcribe").to_session()

        def relay_url() -> str:
            return f"{ws_url}/relay/realtime?ticket={tickets.mint(provider, 'gpt-realtime', session)}"

        direct, relayed = asyncio.run(_overhead(f"{ws_url}/v1/realtime?model=gpt-realtime", relay_url()))
        turns = asyncio.run(_turns(relay_url(), utterances))

    browser, why_not = _browser_turns()
    added50 = (_p(relayed, 50) - _p(direct, 50)) / 2
    added99 = (_p(relayed, 99) - _p(direct, 99)) / 2
    first = [t[0] for t in turns]
    done = [t[1] for t in turns]
    rows = [
        row(f"event round trip, direct, p50 ({ROUND_TRIPS} trips)", _p(direct, 50), "ms", None, fmt=".2f"),
        row("event round trip, direct, p99", _p(direct, 99), "ms", None, fmt=".2f"),
        row("event round trip, through the relay, p50", _p(relayed, 50), "ms", None, fmt=".2f"),
        row("event round trip, through the relay, p99", _p(relayed, 99), "ms", None, fmt=".2f"),
        row("relay's added latency per event, p50 (half the round-trip difference)", added50, "ms", None, fmt=".2f"),
        row("relay's added latency per event, p99", added99, "ms", 5, fmt=".2f"),
        row(
            f"client via relay: speech_stopped → first audio, median of {len(turns)} turns via relay",
            statistics.median(first),
            "ms",
            500,
            fmt=".0f",
        ),
        row("client via relay: speech_stopped → first audio, p90", _p(first, 90), "ms", 800, fmt=".0f"),
        row("client via relay: speech_stopped → response.done, median", statistics.median(done), "ms", None, fmt=".0f"),
    ]
    if browser:
        heard = [t["heard"] for t in browser if t.get("heard")]
        rows += [
            row(
                f"Chromium page: end of speech → first audio delta, median of {len(browser)} turns",
                statistics.median(t["first_audio"] for t in browser),
                "ms",
                500,
                fmt=".0f",
            ),
            row(
                "Chromium page: end of speech → first sample heard, median",
                statistics.median(heard),
                "ms",
                None,
                fmt=".0f",
            ),
            row("Chromium page: end of speech → first sample heard, p90", _p(heard, 90), "ms", 800, fmt=".0f"),
        ]
    else:
        rows.append(f"| Chromium page | skipped: {why_not} | – | – |")
    print("\n## Relay (browser ⇄ /relay/realtime ⇄ embedded /v1/realtime)\n")
    print("| measure | value | target | ratio |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
