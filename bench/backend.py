"""Embedded backend figures on this machine, through the real SDK over loopback.

Prints a markdown table: speech time to first byte (streamed, two sentences) and
real-time factor per engine, transcription real-time factor per local model, chat time
to first token and tokens/s, and the process's peak memory. Targets from DESIGN.md are
printed beside each figure with the ratio measured/target (<= 1 meets it).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from openai import OpenAI

from playground.backend.app import create_standalone_app
from playground.backend.localmap import local_voices
from playground.core import audio
from playground.serving import BackgroundServer

TWO_SENTENCES = "Welcome to the audio playground. Every voice you hear is made on this machine."
PARAGRAPH = (
    "The playground turns text into speech on your own computer. It splits the text into sentences, "
    "speaks each one with a local voice, and streams the audio while the next sentence is being made. "
    "That is why you hear the first words almost at once, even when the whole passage takes longer."
)
RUNS = 5
JFK = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech" / "jfk.flac"


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _ttfb_ms(client: OpenAI, voice: str, fmt: str) -> float:
    t0 = time.perf_counter()
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice=voice, input=TWO_SENTENCES, response_format=fmt
    ) as response:
        first = None
        for chunk in response.iter_bytes():
            if chunk and first is None:
                first = time.perf_counter() - t0
    return (first or time.perf_counter() - t0) * 1000


def _speech_rtf(client: OpenAI, voice: str) -> float:
    t0 = time.perf_counter()
    data = client.audio.speech.create(model="tts-1", voice=voice, input=PARAGRAPH, response_format="pcm").read()
    elapsed = time.perf_counter() - t0
    return elapsed / audio.decode(data, "pcm").duration


def _stt_rtf(client: OpenAI, model: str, language: str | None) -> float:
    data = JFK.read_bytes()
    seconds = audio.decode(data).duration
    t0 = time.perf_counter()
    kwargs = {"language": language} if language else {}
    client.audio.transcriptions.create(file=("jfk.flac", data), model=model, **kwargs)
    return (time.perf_counter() - t0) / seconds


def _chat(client: OpenAI) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    stream = client.chat.completions.create(
        model="smollm2",
        max_tokens=100,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me a short story about a lighthouse keeper."}],
    )
    tokens = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first is None:
            first = time.perf_counter() - t0
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    total = time.perf_counter() - t0
    first = first or total
    return first * 1000, tokens / max(total - first, 1e-6)


def _row(name: str, value: float, unit: str, target: float | None) -> str:
    if target is None:
        return f"| {name} | {value:.3f} {unit} | – | – |"
    ratio = value / target
    verdict = "meets" if ratio <= 1 else "misses"
    return f"| {name} | {value:.3f} {unit} | ≤ {target:g} {unit} | {ratio:.2f} ({verdict}) |"


def main() -> None:
    os.environ.setdefault("PLAYGROUND_CACHE_DIR", str(Path(tempfile.gettempdir()) / "playground-bench-cache"))
    engines_by_voice: dict[str, str] = {}
    for v in local_voices().values():
        engines_by_voice.setdefault(v.engine, v.name)
    rows: list[str] = []
    with BackgroundServer(create_standalone_app()) as url:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=600)
        for voice in sorted(engines_by_voice.values()):  # warm-up loads each engine once
            client.audio.speech.create(model="tts-1", voice=voice, input="Warm up.", response_format="pcm").read()
        for engine, voice in sorted(engines_by_voice.items()):
            for fmt in ("pcm", "mp3"):
                ttfb = _median([_ttfb_ms(client, voice, fmt) for _ in range(RUNS)])
                rows.append(_row(f"speech first byte, {engine} ({voice}), {fmt}, stream", ttfb, "ms", 150))
            rtf = _median([_speech_rtf(client, voice) for _ in range(3)])
            rows.append(_row(f"speech real-time factor, {engine} ({voice})", rtf, "×", 0.1))
        for model, language, local in (("whisper-1", None, "base"), ("gpt-4o-mini-transcribe", "en", "tiny.en")):
            _stt_rtf(client, model, language)  # warm-up
            rtf = _median([_stt_rtf(client, model, language) for _ in range(3)])
            rows.append(
                _row(
                    f"transcription real-time factor, {local} ({model}), jfk 11 s",
                    rtf,
                    "×",
                    0.15 if local == "base" else None,
                )
            )
        _chat(client)  # warm-up
        results = [_chat(client) for _ in range(3)]
        rows.append(_row("chat time to first token (SmolLM2-135M)", _median([r[0] for r in results]), "ms", None))
        rows.append(_row("chat tokens/s (100-token reply)", _median([r[1] for r in results]), "tok/s", None))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(_row("peak memory (bench process incl. all engines)", peak_mib, "MiB", None))
    print(f"\nEmbedded backend on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"(median of {RUNS} runs for first byte, 3 for the rest)\n")
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
