"""Helpers shared by the benches: markdown rows with target ratios, speech timings."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from openai import OpenAI

from playground.core import audio
from playground.core.catalog import get_catalog

__all__ = ["JFK", "TWO_SENTENCES", "bench_cache", "median", "row", "speech_rtf", "speech_ttfb_ms"]

TWO_SENTENCES = "Welcome to the audio playground. Every voice you hear is made on this machine."
PARAGRAPH = (
    "The playground turns text into speech on your own computer. It splits the text into sentences, "
    "speaks each one with a local voice, and streams the audio while the next sentence is being made. "
    "That is why you hear the first words almost at once, even when the whole passage takes longer."
)
JFK = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech" / "jfk.flac"


def bench_cache() -> None:
    """Joined model files go to a cache of the benches' own, reused between runs."""
    os.environ.setdefault("PLAYGROUND_CACHE_DIR", str(Path(tempfile.gettempdir()) / "playground-bench-cache"))


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    """The 90th percentile (numpy's linear interpolation)."""
    return float(np.percentile(values, 90))


def row(name: str, value: float, unit: str, target: float | None, *, fmt: str = ".3f") -> str:
    """A table row with the ratio measured / target (<= 1 meets it)."""
    unit = f" {unit}" if unit else ""
    if target is None:
        return f"| {name} | {value:{fmt}}{unit} | – | – |"
    ratio = value / target
    verdict = "meets" if ratio <= 1 else "misses"
    return f"| {name} | {value:{fmt}}{unit} | ≤ {target:g}{unit} | {ratio:.2f} ({verdict}) |"


def speech_ttfb_ms(client: OpenAI, voice: str, fmt: str, text: str = TWO_SENTENCES) -> float:
    """Request start to the first audio byte of a streamed reply."""
    t0 = time.perf_counter()
    with client.audio.speech.with_streaming_response.create(
        model=get_catalog().speech_defaults["model"], voice=voice, input=text, response_format=fmt
    ) as response:
        first = None
        for chunk in response.iter_bytes():
            if chunk and first is None:
                first = time.perf_counter() - t0
    return (first or time.perf_counter() - t0) * 1000


def speech_rtf(client: OpenAI, voice: str, text: str = PARAGRAPH) -> float:
    """Wall time of a whole reply / seconds of audio it holds."""
    t0 = time.perf_counter()
    data = client.audio.speech.create(
        model=get_catalog().speech_defaults["model"], voice=voice, input=text, response_format="pcm"
    ).read()
    elapsed = time.perf_counter() - t0
    return elapsed / audio.decode(data, "pcm").duration


#: short questions a realtime session is asked, spoken or typed (the realtime and load benches)
QUESTIONS = [
    "What is a good name for a small grey cat?",
    "How long should I boil an egg?",
    "Can you suggest a quick lunch idea?",
    "What is the capital of Japan?",
    "Tell me something nice about the morning.",
    "Which is bigger, the sun or the moon?",
    "How do I say thank you in French?",
    "What should I read this weekend?",
]
