"""Speech through the Realtime API on the embedded backend: how soon a text read as written
starts to sound, and whether what comes back is exactly the text.

The app's read-aloud request (``realtime.read_aloud`` in the catalog): a session with voice
marin on the default realtime model, each text an out-of-band ``response.create`` whose
instructions ask for it word for word (some with a style), the text as an ``input`` item.
The clock starts when the client sends ``response.create`` and stops at the first
``response.output_audio.delta`` (first audio) and at ``response.done`` (total), with warm
engines. The real-time factor is total time over seconds of audio.
"""

from __future__ import annotations

import asyncio
import base64
import os
import platform
import statistics
import time
from typing import Any

import numpy as np
from openai import AsyncOpenAI

from bench.common import bench_cache, row
from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

CAT = get_catalog()
RATE = 24000
VOICE = "marin"
WARMUP = 3
#: (text, style): varied lengths and shapes; an empty style sends the bare instructions
TEXTS = [
    ("Hello.", ""),
    ("Today is a wonderful day to build something people love.", "in a cheerful tone"),
    ("Your table for four is ready, please follow me.", ""),
    ("Flight 2417 to Lisbon now boards at gate B12, at 9:45 p.m.", "calm and measured"),
    ("Is this the right way to the station?", ""),
    (
        "The playground turns text into speech on your own computer. It splits the text into sentences, "
        "speaks each one with a local voice, and streams the audio while the next sentence is being made.",
        "",
    ),
    ("Wait for it… now!", "excited"),
    (
        "When the long first sentence finally begins, with a clause that sets the scene, the listener "
        "should hear it at once rather than wait for the whole thing.",
        "slowly, like a bedtime story",
    ),
    ("Dr. Smith met Mr. Jones at 3 p.m. on Baker St.\nThey talked for an hour.", ""),
    (
        "Welcome to the audio playground. Every voice you hear is made on this machine. Nothing leaves it, "
        "and nothing waits on a network. Try a style, change the speed, and listen to the difference.",
        "warm, unhurried",
    ),
]


def _instructions(style: str) -> str:
    read = CAT.realtime.read_aloud
    return read.instructions + (f"\n\n{read.style_prefix}{style}" if style else "")


async def _read(conn: Any, text: str, style: str) -> dict[str, Any]:
    """One out-of-band reading: first audio and total (seconds), audio seconds, transcript."""
    sent = time.perf_counter()
    await conn.response.create(
        response={
            "conversation": "none",
            "output_modalities": ["audio"],
            "instructions": _instructions(style),
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}],
        }
    )
    first = None
    samples = 0
    transcript = None
    while True:
        event = await asyncio.wait_for(conn.recv(), 120)
        if event.type == "response.output_audio.delta":
            first = first or time.perf_counter()
            samples += len(base64.b64decode(event.delta)) // 2
        elif event.type == "response.output_audio_transcript.done":
            transcript = event.transcript
        elif event.type == "response.done":
            done = time.perf_counter()
            break
    return {
        "first": (first or done) - sent,
        "total": done - sent,
        "seconds": samples / RATE,
        "exact": transcript == text,
    }


async def _session(url: str) -> list[dict[str, Any]]:
    client = AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    async with client.realtime.connect(model=CAT.realtime.default_model) as conn:
        await conn.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["audio"],
                "audio": {"output": {"voice": VOICE, "speed": 1.0, "format": {"type": "audio/pcm", "rate": RATE}}},
            }
        )
        for text, style in TEXTS[:WARMUP]:
            await _read(conn, text, style)
        return [{**await _read(conn, text, style), "text": text} for text, style in TEXTS]


def main() -> None:
    bench_cache()
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None))) as url:
        results = asyncio.run(_session(url))

    first = [r["first"] * 1000 for r in results]
    total = [r["total"] * 1000 for r in results]
    print(
        f"\nRead aloud through the Realtime API on the embedded backend, {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}: voice {VOICE}, {CAT.realtime.default_model}, "
        f"{len(results)} texts after {WARMUP} warm-up reads\n"
    )
    print("| text | chars | first audio | total | audio | RTF | transcript == text |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        label = r["text"].replace("\n", " ")
        label = label if len(label) <= 40 else label[:37] + "..."
        print(
            f"| {label} | {len(r['text'])} | {r['first'] * 1000:.0f} ms | {r['total'] * 1000:.0f} ms | "
            f"{r['seconds']:.2f} s | {r['total'] / max(r['seconds'], 1e-9):.3f} | {'yes' if r['exact'] else 'no'} |"
        )
    exact = sum(r["exact"] for r in results)
    rows = [
        row("response.create → first audio delta, p50", statistics.median(first), "ms", 100, fmt=".0f"),
        row("response.create → first audio delta, p90", float(np.percentile(first, 90)), "ms", None, fmt=".0f"),
        row("response.create → response.done, p50", statistics.median(total), "ms", None, fmt=".0f"),
        row("audio, total", sum(r["seconds"] for r in results), "s", None, fmt=".1f"),
        row(
            "real-time factor (total time / audio), overall",
            sum(r["total"] for r in results) / sum(r["seconds"] for r in results),
            "",
            None,
        ),
        row("transcripts exactly the text", exact, f"of {len(results)}", None, fmt=".0f"),
    ]
    print("\n| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
