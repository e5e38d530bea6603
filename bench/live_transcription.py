"""Live transcription delay: the end of a spoken phrase to its ``completed`` text.

Every recording in ../shared/testdata/speech (both voices of the stereo file separately)
is played into its own realtime transcription session on the embedded backend, like a
microphone: 40 ms frames, each sent when it would have been captured, then silence. For
each VAD turn the clock starts where the phrase's speech ended (``audio_end_ms`` less the
silence the VAD waits for, on the audio clock of the frames sent) and stops when the
client receives the turn's ``completed`` event. The same turn's first delta shows how
early text appears: negative when it came while the phrase was still being spoken.

Then the choice Live mode's "Compare two delays" shows: jfk.flac through gpt-realtime-whisper
at the shortest and the longest delay at once (``client.live_compare``), first text on the
audio clock and the final WER against the clip's reference.
"""

from __future__ import annotations

import asyncio
import base64
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
from playground.backend.settings import BackendSettings
from playground.client.live_compare import compare_delays
from playground.client.providers import embedded_provider
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.specs import DELAYS
from playground.serving import BackgroundServer

RATE = 24000
FRAME = RATE // 25  # 40 ms
SILENCE_MS = 500
MODEL = get_catalog().realtime.default_transcription_model
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"


def _clips() -> list[tuple[str, np.ndarray, str | None]]:
    """(name, 24 kHz mono samples, language or None to detect) for every test recording."""
    out: list[tuple[str, np.ndarray, str | None]] = []
    for path in sorted(SPEECH.iterdir()):
        if path.suffix not in (".flac", ".wav", ".mp3"):
            continue
        sound = audio.decode(path.read_bytes())
        language = None if path.stem == "multilingual" else "en"
        if path.stem == "stereo_diarization":  # one speaker per channel
            for c, side in enumerate(("left", "right")):
                channel = audio.resample(sound.samples[:, c], sound.sample_rate, RATE)
                out.append((f"{path.name} ({side})", channel, "en"))
        else:
            out.append((path.name, audio.decode_mono(path.read_bytes(), RATE), language))
    return out


async def _session(url: str, samples: np.ndarray, language: str | None) -> list[dict[str, float]]:
    """Play one recording into a transcription session; per turn: phrase end, first text, completed."""
    client = AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    transcription: dict[str, Any] = {"model": MODEL, **({"language": language} if language else {})}
    session = {
        "type": "transcription",
        "audio": {
            "input": {
                "transcription": transcription,
                "turn_detection": {"type": "server_vad", "silence_duration_ms": SILENCE_MS},
            }
        },
    }
    pcm = (np.clip(np.concatenate([np.zeros(RATE // 2), samples, np.zeros(2 * RATE)]), -1, 1) * 32767).astype("<i2")
    turns: dict[str, dict[str, float]] = {}
    async with client.realtime.connect(extra_query={"intent": "transcription"}) as conn:
        await conn.session.update(session=session)
        while (await conn.recv()).type != "session.updated":
            pass
        start = time.perf_counter()

        async def play() -> None:
            for k, i in enumerate(range(0, len(pcm), FRAME)):
                # a microphone hands over a frame once it has been captured, i.e. at its end
                await asyncio.sleep(max(0.0, start + (k + 1) * FRAME / RATE - time.perf_counter()))
                await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + FRAME].tobytes()).decode())

        async def listen() -> None:
            while True:
                event = await conn.recv()
                now = time.perf_counter()
                if event.type == "input_audio_buffer.speech_stopped":
                    turn = turns.setdefault(event.item_id, {})
                    turn["phrase_end"] = start + (event.audio_end_ms - SILENCE_MS) / 1000
                    turn["stopped"] = now
                elif event.type == "conversation.item.input_audio_transcription.delta":
                    turns.setdefault(event.item_id, {}).setdefault("first_text", now)
                elif event.type == "conversation.item.input_audio_transcription.completed":
                    turns.setdefault(event.item_id, {})["completed"] = now
                elif event.type == "error":
                    raise RuntimeError(event.error.message)

        listener = asyncio.create_task(listen())
        try:
            await play()
            deadline = time.perf_counter() + 60
            while not all("completed" in t for t in turns.values()) and time.perf_counter() < deadline:
                if listener.done():
                    listener.result()  # an error event: say so
                await asyncio.sleep(0.05)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
    return [t for t in turns.values() if {"phrase_end", "completed"} <= set(t)]


def _delay_rows(url: str) -> list[str]:
    """First text and final WER at the shortest and the longest delay, on jfk.flac."""
    reference = next(c["text"] for c in json.loads((SPEECH / "manifest.json").read_text())["clips"]
                     if c["file"] == "jfk.flac")  # fmt: skip
    pcm = audio.float_to_pcm16(audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE))
    result = compare_delays(embedded_provider(url), pcm, [DELAYS[0], DELAYS[-1]], reference=reference)
    rows = []
    for run in result.runs:
        if run.error:
            rows.append(f"| jfk.flac at delay {run.delay} | failed: {run.error} | – | – |")
            continue
        first = run.first_text_ms if run.first_text_ms is not None else float("nan")
        rows.append(row(f"jfk.flac, delay {run.delay}: first text (audio clock)", first, "ms", None, fmt=".0f"))
        rows.append(row(f"jfk.flac, delay {run.delay}: final WER", (run.wer or 0.0) * 100, "%", None, fmt=".1f"))
    return rows


def main() -> None:
    bench_cache()
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None), warm=True)) as url:
        clips = _clips()
        asyncio.run(_session(url, clips[0][1], "en"))  # load the models first
        turns: list[dict[str, float]] = []
        for name, samples, language in clips:
            heard = asyncio.run(_session(url, samples, language))
            print(f"{name}: {len(heard)} turns", flush=True)
            turns += heard
        delay_rows = _delay_rows(url)
    completed = [(t["completed"] - t["phrase_end"]) * 1000 for t in turns]
    after_stop = [(t["completed"] - t["stopped"]) * 1000 for t in turns]
    first = [(t["first_text"] - t["phrase_end"]) * 1000 for t in turns if "first_text" in t]
    early = sum(1 for t in turns if "first_text" in t and t["first_text"] < t["stopped"])
    rows = [
        row("end of phrase → completed text, median", statistics.median(completed), "ms", None, fmt=".0f"),
        row("end of phrase → completed text, p90", p90(completed), "ms", None, fmt=".0f"),
        row("  of which the VAD's silence timer", SILENCE_MS, "ms", None, fmt=".0f"),
        row("speech_stopped → completed text, median", statistics.median(after_stop), "ms", 400, fmt=".0f"),
        row("end of phrase → first text of the turn, median", statistics.median(first), "ms", None, fmt=".0f"),
        row("turns with text before speech_stopped", early, f"of {len(turns)}", None, fmt=".0f"),
    ]
    print(
        f"\nLive transcription on the embedded backend ({MODEL}), {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}: {len(turns)} turns from {len(clips)} recordings played in real time "
        f"(server VAD, silence_duration_ms {SILENCE_MS})\n"
    )
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows + delay_rows))


if __name__ == "__main__":
    main()
