"""Realtime latency: end of the user's speech to the first reply audio, speech to speech,
against the same turn through chained REST calls (transcribe → chat → speech).

Twelve turns of one conversation on the embedded backend: real recorded speech
(jfk.flac's two phrases, both voices of stereo_diarization.wav) and questions spoken by
a local voice, each sent like a microphone (40 ms frames in real time, then silence).
The clock starts when the client receives ``input_audio_buffer.speech_stopped``; the
server's own stamps give the breakdown (transcript ready, LLM first token, TTS first
chunk). Whisper always encodes a 30 s window, so the session transcribes while the
silence timer runs; the table says how many turns that speculation covered.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from openai import AsyncOpenAI, OpenAI

from bench.common import QUESTIONS, bench_cache, p90, row
from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

CAT = get_catalog()

RATE = 24000
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"
TURNS = 12


def _utterances(client: OpenAI) -> list[np.ndarray]:
    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    stereo = audio.decode((SPEECH / "stereo_diarization.wav").read_bytes())
    channels = [audio.resample(stereo.samples[:, c], stereo.sample_rate, RATE) for c in range(2)]
    out = [jfk[int(0.2 * RATE) : int(3.4 * RATE)], jfk[int(3.4 * RATE) :], *channels]
    for q in QUESTIONS:
        pcm = client.audio.speech.create(
            model=CAT.speech_defaults["model"], voice="echo", input=q, response_format="pcm"
        ).read()
        out.append(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768)
    return out


def _backend(root: Any) -> Any:
    return next(r.app for r in root.routes if getattr(r, "path", "") == "/v1")


async def _send(conn: Any, samples: np.ndarray, stop: asyncio.Event) -> None:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = RATE * 40 // 1000 * 2
    loop = asyncio.get_running_loop()
    start = loop.time()
    for k, i in enumerate(range(0, len(data), step)):
        if stop.is_set():
            return
        await conn.input_audio_buffer.append(audio=base64.b64encode(data[i : i + step]).decode())
        await asyncio.sleep(max(0.0, start + (k + 1) * 0.04 - loop.time()))


async def _conversation(url: str, utterances: list[np.ndarray]) -> list[dict[str, float]]:
    client = AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    turns = []
    async with client.realtime.connect(model=CAT.realtime.default_model) as conn:
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": CAT.realtime.default_transcription_model}}},
            }
        )
        for n in range(TURNS):
            speech = utterances[n % len(utterances)]
            stop = asyncio.Event()
            sender = asyncio.create_task(
                _send(
                    conn,
                    np.concatenate([np.zeros(RATE // 2, np.float32), speech, np.zeros(RATE * 6, np.float32)]),
                    stop,
                )
            )
            stopped = first = None
            while True:
                event = await asyncio.wait_for(conn.recv(), 60)
                now = time.perf_counter()
                if event.type == "input_audio_buffer.speech_stopped" and stopped is None:
                    stopped = now
                elif event.type == "response.output_audio.delta" and first is None:
                    first = now
                elif event.type == "response.done":
                    if stopped is not None and first is not None:
                        turns.append({"first_audio": first - stopped, "done": now - stopped})
                    break
            stop.set()
            await sender
            await asyncio.sleep(0.3)
    return turns


def _chained(client: OpenAI, speech: np.ndarray) -> tuple[float, float, float, float]:
    """(transcribe, chat first sentence, speech first byte, total to first audio) in seconds."""
    buf = io.BytesIO()
    sf.write(buf, speech, RATE, format="WAV", subtype="PCM_16")
    t0 = time.perf_counter()
    text = client.audio.transcriptions.create(
        model=CAT.transcription_default_model, file=("turn.wav", buf.getvalue(), "audio/wav"), language="en"
    ).text
    t1 = time.perf_counter()
    reply = ""
    stream = client.chat.completions.create(
        model=CAT.chat.default_model,
        messages=[{"role": "system", "content": "Answer in one short sentence."}, {"role": "user", "content": text}],
        max_tokens=60,
        stream=True,
    )
    for chunk in stream:
        reply += chunk.choices[0].delta.content or "" if chunk.choices else ""
        if any(p in reply for p in ".!?,") and len(reply.split()) >= 3:
            break
    stream.close()
    t2 = time.perf_counter()
    with client.audio.speech.with_streaming_response.create(
        model=CAT.realtime.chained.speech_model, voice="marin", input=reply or "Okay.", response_format="pcm"
    ) as response:
        for chunk in response.iter_bytes():
            if chunk:
                break
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t3 - t0


def _wait_warm(backend: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    need = {"llm", "vad", "stt:tiny.en"}
    while not need <= set(backend.state.engines.loaded()) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3.0)  # the last engine's warm-up call


def main() -> None:
    bench_cache()
    root = create_standalone_app(BackendSettings(api_key=None), warm=True)
    backend = _backend(root)
    with BackgroundServer(root) as url:
        _wait_warm(backend)
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=300)
        utterances = _utterances(client)
        backend.state.realtime.timings.clear()
        turns = asyncio.run(_conversation(url, utterances))
        timings = [t for t in backend.state.realtime.timings if "speech_stopped" in t]
        chained = [_chained(client, u) for u in utterances[:TURNS]]

    first = [t["first_audio"] * 1000 for t in turns]
    done = [t["done"] * 1000 for t in turns]

    def stage(key: str, since: str = "speech_stopped") -> list[float]:
        return [(t[key] - t[since]) * 1000 for t in timings if key in t and since in t]

    rows = [
        row("speech_stopped → first audio delta, median", statistics.median(first), "ms", 500, fmt=".0f"),
        row("speech_stopped → first audio delta, p90", p90(first), "ms", 800, fmt=".0f"),
        row("speech_stopped → response.done, median", statistics.median(done), "ms", None, fmt=".0f"),
        row("speech_stopped → response.done, p90", p90(done), "ms", None, fmt=".0f"),
        row(
            "  transcript ready (after speech_stopped), median",
            statistics.median(stage("heard")),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "  transcription time itself, median",
            statistics.median([t["stt_seconds"] * 1000 for t in timings if "stt_seconds" in t]),
            "ms",
            None,
            fmt=".0f",
        ),
        row("  LLM first token, median", statistics.median(stage("llm_first_token", "heard")), "ms", None, fmt=".0f"),
        row(
            "  first sentence spoken (TTS first chunk after first token), median",
            statistics.median(stage("tts_first_chunk", "llm_first_token")),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "  turns whose transcript was ready from speculation",
            sum(t.get("speculative", 0) for t in timings),
            f"of {len(timings)}",
            None,
            fmt=".0f",
        ),
        row(
            "chained REST: transcribe, median", statistics.median([c[0] * 1000 for c in chained]), "ms", None, fmt=".0f"
        ),
        row(
            "chained REST: chat to first sentence, median",
            statistics.median([c[1] * 1000 for c in chained]),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "chained REST: speech first byte, median",
            statistics.median([c[2] * 1000 for c in chained]),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "chained REST: end of speech → first audio, median",
            statistics.median([c[3] * 1000 for c in chained]),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "chained REST: end of speech → first audio, p90",
            p90([c[3] * 1000 for c in chained]),
            "ms",
            None,
            fmt=".0f",
        ),
    ]
    print(
        f"\nRealtime on the embedded backend, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}: {len(turns)} turns (silence_duration_ms 500)\n"
    )
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
