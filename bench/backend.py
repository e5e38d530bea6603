"""Embedded backend figures on this machine, through the real SDK over loopback.

Prints a markdown table: transcription real-time factor per local model, chat time to
first token and tokens/s, and the process's peak memory. Targets from DESIGN.md are
printed beside each figure with the ratio measured/target (<= 1 meets it). Speech
figures, per voice, are ``python -m bench voices``.
"""

from __future__ import annotations

import os
import platform
import resource
import time

from openai import OpenAI

from bench.common import JFK, bench_cache, median, row
from playground.backend.app import create_standalone_app
from playground.core import audio
from playground.serving import BackgroundServer

RUNS = 5


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


def main() -> None:
    bench_cache()
    rows: list[str] = []
    with BackgroundServer(create_standalone_app()) as url:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=600)
        for model, language, local in (("whisper-1", None, "base"), ("gpt-4o-mini-transcribe", "en", "tiny.en")):
            _stt_rtf(client, model, language)  # warm-up
            rtf = median([_stt_rtf(client, model, language) for _ in range(3)])
            rows.append(
                row(
                    f"transcription real-time factor, {local} ({model}), jfk 11 s",
                    rtf,
                    "×",
                    0.15 if local == "base" else None,
                )
            )
        _chat(client)  # warm-up
        results = [_chat(client) for _ in range(3)]
        rows.append(row("chat time to first token (SmolLM2-135M)", median([r[0] for r in results]), "ms", None))
        rows.append(row("chat tokens/s (100-token reply)", median([r[1] for r in results]), "tok/s", None))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(row("peak memory (bench process incl. all engines)", peak_mib, "MiB", None))
    print(f"\nEmbedded backend on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"(median of {RUNS} runs for first byte, 3 for the rest)\n")
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
