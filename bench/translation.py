"""Live translation: the end of a spoken phrase to the first translated audio.

The German half of ../shared/testdata/speech/multilingual.mp3 is cut into phrases where
its speaker pauses (Silero VAD over the clip, offline), phrases longer than the backend's
longest phrase are left out, and the rest are played with a second of silence between
them into a translation session on the embedded backend (``/v1/realtime/translations``)
the way a microphone sends audio: 200 ms appends, each when it would have been captured.
For each phrase the clock starts when the client sent the sample where the speech ended,
and stops at the first ``session.output_audio.delta`` whose ``elapsed_ms`` falls in that
phrase. Run twice: translation alone, and with the source-language transcript as well
(a second Whisper pass per phrase, after the translation).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from openai import AsyncOpenAI

from bench.common import bench_cache, p90, row
from playground.backend.app import create_standalone_app
from playground.backend.engines.manager import EngineManager
from playground.backend.realtime.core import VAD_FRAME_MS
from playground.backend.settings import BackendSettings
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

RATE = 24000
STEP = RATE // 5  # 200 ms appends
GAP_S = 1.0
TARGET_MS = 1500
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"
GERMAN_FROM_S = 30.0


def phrases(longest_ms: int = 5000, pause_ms: int = 160) -> list[np.ndarray]:
    """The German reading as phrases (24 kHz) of at most ``longest_ms``, cut where the
    speaker pauses for ``pause_ms`` or more (Silero over the clip, offline)."""
    x24 = audio.decode_mono((SPEECH / "multilingual.mp3").read_bytes(), RATE)[int(GERMAN_FROM_S * RATE) :]
    x16 = audio.resample(x24, RATE, 16000).astype(np.float32)
    probs = EngineManager(BackendSettings()).vad().stream().feed(x16)
    threshold = get_catalog().realtime.server_vad_defaults.threshold
    words: list[list[int]] = []  # speech stretches [start_ms, end_ms] between pauses
    for i, p in enumerate(probs):
        if p < threshold:
            continue
        at = i * VAD_FRAME_MS
        if words and at - words[-1][1] < pause_ms:
            words[-1][1] = at + VAD_FRAME_MS
        else:
            words.append([at, at + VAD_FRAME_MS])
    spans: list[list[int]] = []
    for a, b in words:
        if spans and b - spans[-1][0] <= longest_ms:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    pad = 100
    return [x24[max(0, a - pad) * RATE // 1000 : (b + pad) * RATE // 1000] for a, b in spans if b - a >= 800]


async def _session(url: str, parts: list[np.ndarray], with_source: bool) -> tuple[list[float], str]:
    """Latency (ms) from each phrase's end to its first translated audio, and the translation."""
    gap = np.zeros(int(GAP_S * RATE), np.float32)
    stream = np.concatenate([np.concatenate([p, gap]) for p in parts] + [gap])
    ends, pos = [], 0
    for p in parts:
        ends.append((pos + len(p)) * 1000 // RATE)
        pos += len(p) + len(gap)
    pcm = (np.clip(stream, -1, 1) * 32767).astype("<i2").tobytes()
    client = AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    first: dict[int, float] = {}
    text: list[str] = []
    async with client.realtime.translations.connect(model=get_catalog().translation.default_model) as conn:
        await conn.recv_bytes()
        if with_source:
            model = get_catalog().translation.transcription_model
            await conn.session.update(session={"audio": {"input": {"transcription": {"model": model}}}})
        t0 = time.perf_counter()

        async def send() -> None:
            import base64

            for k, i in enumerate(range(0, len(pcm), STEP * 2)):
                await conn.session.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + STEP * 2]).decode())
                wait = t0 + (k + 1) * STEP / RATE - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            await conn.session.close()

        sender = asyncio.create_task(send())
        while True:
            event: dict[str, Any] = json.loads(await asyncio.wait_for(conn.recv_bytes(), 120))
            now = (time.perf_counter() - t0) * 1000
            if event["type"] == "session.output_audio.delta":
                first.setdefault(event["elapsed_ms"], now)
            elif event["type"] == "session.output_transcript.delta":
                text.append(event["delta"])
            elif event["type"] == "error":
                raise RuntimeError(event["error"]["message"])
            elif event["type"] == "session.closed":
                break
        await sender
    latencies = []
    for i, end in enumerate(ends):
        upper = ends[i + 1] if i + 1 < len(ends) else float("inf")
        heard = [t for e, t in first.items() if end <= e < upper]
        if heard:
            latencies.append(min(heard) - end)
    return latencies, "".join(text)


def main() -> None:
    bench_cache()
    parts = phrases()
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None), warm=True)) as url:
        asyncio.run(_session(url, parts[:1], False))  # load the models first
        alone, english = asyncio.run(_session(url, parts, False))
        both, _ = asyncio.run(_session(url, parts, True))
    print(
        f"\nLive translation on the embedded backend (German → English), {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}: {len(parts)} phrases of the German reading "
        f"in multilingual.mp3, played in real time with {GAP_S:g} s between them\n"
    )
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print(row("phrase end → first translated audio, median", statistics.median(alone), "ms", TARGET_MS, fmt=".0f"))
    print(row("phrase end → first translated audio, p90", p90(alone), "ms", None, fmt=".0f"))
    print(row("  with the source transcript too, median", statistics.median(both), "ms", TARGET_MS, fmt=".0f"))
    print(row("  with the source transcript too, p90", p90(both), "ms", None, fmt=".0f"))
    print(row("phrases translated", len(alone), f"of {len(parts)}", None, fmt=".0f"))
    print(f"\nTranslation: {english.strip()[:400]}")


if __name__ == "__main__":
    main()
