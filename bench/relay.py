"""The browser relay's cost: latency it adds per event, and a turn as the page sees it.

One process serves the embedded backend under ``/v1`` and the relay at
``/relay/realtime``, as the app does.

(a) Round trips of a cheap event whose answer is immediate
(``input_audio_buffer.clear`` → ``input_audio_buffer.cleared``), 300 over a direct
connection to ``/v1/realtime`` and 300 through the relay, interleaved one by one so
both see the same load. The added latency is relay minus direct (p50 and p99 of each
side); a round trip crosses the relay twice (browser → provider, provider → browser),
so one crossing costs about half of it.

(b) Spoken turns sent through the relay like the page sends them, by a plain WebSocket
client in the page's place: JFK's four phrases (jfk.flac, resampled to 24 kHz PCM16,
base64 in ``input_audio_buffer.append``, 40 ms frames in real time, then silence) with
server VAD; ``speech_stopped`` → first ``response.output_audio.delta`` and →
``response.done``.

(c) The whole app in Chromium, its fake microphone playing JFK's speech into the Voice
chat tab: the page's own latency table (first delta received, first sample heard);
skipped with the reason when Chromium is missing or the page cannot be driven.
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
from websockets.asyncio.client import connect

from bench.common import bench_cache, row
from bench.realtime import RATE, SPEECH, _wait_warm
from playground.backend.app import create_backend_app, warm_up
from playground.backend.settings import BackendSettings
from playground.client.providers import embedded_provider
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.specs import RealtimeSessionSpec
from playground.relay.route import RelayTickets, create_relay_router
from playground.serving import BackgroundServer, free_port

ROUND_TRIPS = 300
WARM_TRIPS = 20
TURNS = 6
#: JFK's phrases (seconds into jfk.flac), cut in the pauses longer than server VAD's 500 ms
PHRASES = [(0.0, 2.5), (2.9, 4.7), (5.1, 7.8), (7.9, 10.5)]
FRAME_MS = 40
BROWSER_SECONDS = 45


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


# ---------------------------------------------------------------- (a) added latency


async def _round_trip(ws: Any) -> float:
    t0 = time.perf_counter()
    await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
    while json.loads(await ws.recv())["type"] != "input_audio_buffer.cleared":
        pass
    return (time.perf_counter() - t0) * 1000


async def _until(ws: Any, kind: str, timeout: float = 60) -> None:
    async def run() -> None:
        while json.loads(await ws.recv())["type"] != kind:
            pass

    await asyncio.wait_for(run(), timeout)


async def _overhead(direct_url: str, relay_url: str) -> tuple[list[float], list[float]]:
    """(direct, relayed) round trips in ms, taken alternately on two open sessions."""
    direct: list[float] = []
    relayed: list[float] = []
    async with connect(direct_url, max_size=None) as d, connect(relay_url, max_size=None) as r:
        # the same session on both sides: the relay applies its ticket's, the direct one gets it here
        await d.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        await _until(d, "session.updated")
        await _until(r, "session.updated")
        for _ in range(WARM_TRIPS):
            await _round_trip(d)
            await _round_trip(r)
        for k in range(ROUND_TRIPS):  # alternate which side goes first, so neither is favoured
            pair = (d, r) if k % 2 else (r, d)
            first, second = await _round_trip(pair[0]), await _round_trip(pair[1])
            (direct if pair[0] is d else relayed).append(first)
            (relayed if pair[0] is d else direct).append(second)
    return direct, relayed


# ---------------------------------------------------------------- (b) turns through the relay


def _phrases() -> list[np.ndarray]:
    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    return [jfk[int(a * RATE) : int(b * RATE)] for a, b in PHRASES]


async def _send(ws: Any, samples: np.ndarray, stop: asyncio.Event) -> None:
    """Like the page's microphone: 40 ms PCM16 frames, base64, in real time."""
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = RATE * FRAME_MS // 1000 * 2
    start = time.perf_counter()
    for k, i in enumerate(range(0, len(data), step)):
        if stop.is_set():
            return
        chunk = base64.b64encode(data[i : i + step]).decode()
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
        await asyncio.sleep(max(0.0, start + (k + 1) * FRAME_MS / 1000 - time.perf_counter()))


async def _turns(relay_url: str, phrases: list[np.ndarray]) -> tuple[list[tuple[float, float]], int]:
    """(ms to first audio, ms to response.done) after each turn's speech_stopped; turns tried."""
    out: list[tuple[float, float]] = []
    async with connect(relay_url, max_size=None) as ws:
        await _until(ws, "session.updated")
        for n in range(TURNS):
            silence = np.zeros(RATE * 4, np.float32)
            speech = np.concatenate([silence[: RATE // 2], phrases[n % len(phrases)], silence])
            stop = asyncio.Event()
            sender = asyncio.create_task(_send(ws, speech, stop))
            stopped = first = None
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 60))
                now = time.perf_counter()
                if event["type"] == "input_audio_buffer.speech_stopped" and stopped is None:
                    stopped = now
                elif event["type"] == "response.output_audio.delta" and first is None and stopped is not None:
                    first = now
                elif event["type"] == "response.done" and stopped is not None:
                    if first is not None and event["response"]["status"] == "completed":
                        out.append(((first - stopped) * 1000, (now - stopped) * 1000))
                    break
            stop.set()  # this turn is measured; the page's microphone would go on
            await sender
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            await _until(ws, "input_audio_buffer.cleared")
            await asyncio.sleep(0.3)
    return out, TURNS


# ---------------------------------------------------------------- (c) the page in Chromium


def _browser_turns() -> tuple[list[dict[str, Any]], str]:
    """The page's latency table after a spoken conversation in Chromium (or why not)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return [], "Chromium not installed"
    try:
        from playwright.sync_api import sync_playwright

        from playground.server import create_app
    except ImportError as e:
        return [], f"cannot drive the page: {e}"

    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    pause = np.zeros(4 * RATE, np.float32)
    mic = Path(tempfile.mkdtemp()) / "mic.wav"
    sf.write(mic, np.concatenate([pause[: RATE // 2], jfk, pause, jfk, pause]), RATE, subtype="PCM_16")
    port = free_port()
    args = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
    args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    args += [f"--use-file-for-fake-audio-capture={mic}"]
    try:
        with BackgroundServer(create_app(port=port), port=port) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=args)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url, wait_until="load")
                page.get_by_role("tab", name="Voice chat").click()
                page.wait_for_function("() => window.pgRealtime !== undefined", timeout=60_000)
                time.sleep(20)  # the app warms its engines in the background after start
                page.click("#pg-rt-connect")
                time.sleep(BROWSER_SECONDS)
                turns = page.evaluate("() => window.pgRealtime.transcript().latency_ms")
                page.evaluate("() => window.pgRealtime.disconnect()")
            finally:
                browser.close()
    except Exception as e:  # noqa: BLE001 - the page is being worked on; the other figures stand
        return [], f"could not drive the page ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    return [t for t in turns if t.get("kind") == "spoken" and t.get("first_audio")], "no spoken turn measured"


# ---------------------------------------------------------------- the table


def main() -> None:
    bench_cache()
    started = time.perf_counter()
    backend = create_backend_app(BackendSettings(api_key=None))
    root = FastAPI()
    root.mount("/v1", backend)
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))
    warm_up(backend)
    phrases = _phrases()
    with BackgroundServer(root) as url:
        _wait_warm(backend)
        provider = embedded_provider(url)
        ws_url = url.replace("http", "ws")
        realtime_model = get_catalog().realtime.default_model
        session = RealtimeSessionSpec(
            transcription_model=get_catalog().realtime.default_transcription_model
        ).to_session()

        def relay_url() -> str:
            return f"{ws_url}/relay/realtime?ticket={tickets.mint(provider, realtime_model, session)}"

        direct, relayed = asyncio.run(_overhead(f"{ws_url}/v1/realtime?model={realtime_model}", relay_url()))
        turns, tried = asyncio.run(_turns(relay_url(), phrases))

    relay_seconds = time.perf_counter() - started
    browser, why_not = _browser_turns()

    added50 = _p(relayed, 50) - _p(direct, 50)
    added99 = _p(relayed, 99) - _p(direct, 99)
    first = [t[0] for t in turns]
    done = [t[1] for t in turns]
    rows = [
        row(
            f"event round trip, direct, p50 ({ROUND_TRIPS} trips each side, interleaved)",
            _p(direct, 50),
            "ms",
            None,
            fmt=".2f",
        ),
        row("event round trip, direct, p99", _p(direct, 99), "ms", None, fmt=".2f"),
        row("event round trip, through the relay, p50", _p(relayed, 50), "ms", None, fmt=".2f"),
        row("event round trip, through the relay, p99", _p(relayed, 99), "ms", None, fmt=".2f"),
        row("relay's added latency per round trip (relay − direct), p50", added50, "ms", None, fmt=".2f"),
        row("relay's added latency per round trip (relay − direct), p99", added99, "ms", 5, fmt=".2f"),
        row("  one crossing of the relay (a round trip crosses twice), p50", added50 / 2, "ms", None, fmt=".2f"),
        row("  one crossing of the relay, p99", added99 / 2, "ms", None, fmt=".2f"),
    ]
    if turns:
        rows += [
            row(
                f"client via relay: speech_stopped → first audio delta, median ({len(turns)} of {tried} turns)",
                statistics.median(first),
                "ms",
                500,
                fmt=".0f",
            ),
            row("client via relay: speech_stopped → first audio delta, p90", _p(first, 90), "ms", 800, fmt=".0f"),
            row(
                "client via relay: speech_stopped → response.done, median",
                statistics.median(done),
                "ms",
                None,
                fmt=".0f",
            ),
            row("client via relay: speech_stopped → response.done, p90", _p(done, 90), "ms", None, fmt=".0f"),
        ]
    else:
        rows.append(f"| client via relay | no completed turn of {tried} | – | – |")
    if browser:
        heard = [t["heard"] for t in browser if t.get("heard")]
        rows.append(
            row(
                f"Chromium page: end of speech → first audio delta, median of {len(browser)} turns",
                statistics.median(t["first_audio"] for t in browser),
                "ms",
                500,
                fmt=".0f",
            )
        )
        if heard:
            rows += [
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
    total = time.perf_counter() - started
    print(
        f"\n## Relay (browser ⇄ /relay/realtime ⇄ embedded /v1/realtime): {relay_seconds:.0f} s, "
        f"the page in Chromium {total - relay_seconds:.0f} s\n"
    )
    print("| measure | value | target | ratio |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
