"""Every voice, through the real SDK over loopback: speed, intelligibility, distinctness.

Per voice: streamed first byte for a two-sentence script (pcm and mp3, warm engine),
real-time factor of a paragraph, round-trip word error rate (spoken, then transcribed
by Whisper base), median pitch and the nearest other voice by pitch and timbre (see
``bench.voiceprint``). Budgets (DESIGN.md): first byte <= 150 ms, RTF <= 0.05,
WER <= 10%, and no two voices alike.
"""

from __future__ import annotations

import os
import platform

import numpy as np
from openai import OpenAI

from bench.common import bench_cache, median, speech_rtf, speech_ttfb_ms
from bench.voiceprint import MIN_PITCH_ST, MIN_TIMBRE, alike_pairs, measure, nearest
from playground.backend.app import create_standalone_app
from playground.backend.localmap import local_voices
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.textmetrics import word_error_rate
from playground.serving import BackgroundServer

RUNS = 5
TTFB_MS, RTF, WER = 150.0, 0.05, 0.10
#: the round-trip paragraph: numbers, names and ordinary words
ROUND_TRIP = (
    "The museum opens early in the morning. Visitors can look at old maps, painted ships and a large "
    "collection of clocks from many countries. Please buy your tickets at the front desk, and remember "
    "that the garden closes before sunset."
)


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def main() -> None:
    bench_cache()
    voices = local_voices()
    rate = get_catalog().pcm_sample_rate
    rows, prints, misses = [], [], 0
    with BackgroundServer(create_standalone_app()) as url:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=600)
        for name in voices:  # warm-up: every engine loads once
            client.audio.speech.create(
                model=get_catalog().speech_defaults["model"], voice=name, input="Warm up."
            ).read()
        for name, voice in voices.items():
            pcm = median([speech_ttfb_ms(client, name, "pcm") for _ in range(RUNS)])
            mp3 = median([speech_ttfb_ms(client, name, "mp3") for _ in range(RUNS)])
            rtf = median([speech_rtf(client, name) for _ in range(3)])
            data = client.audio.speech.create(
                model=get_catalog().speech_defaults["model"], voice=name, input=ROUND_TRIP, response_format="pcm"
            ).read()
            samples = audio.decode(data, "pcm").samples
            heard = client.audio.transcriptions.create(
                file=("speech.wav", _wav(samples, rate)), model=get_catalog().round_trip_model, language="en"
            ).text
            wer = word_error_rate(ROUND_TRIP, heard)
            prints.append(measure(name, samples, rate))
            ok = pcm <= TTFB_MS and mp3 <= TTFB_MS and rtf <= RTF and wer <= WER
            misses += not ok
            rows.append((name, voice.label, pcm, mp3, rtf, wer, ok))
    near = nearest(prints)
    by_name = {p.name: p for p in prints}
    print(f"\nEvery voice on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"(first byte: median of {RUNS}, two sentences, streamed; RTF: median of 3; WER: Whisper base)\n")
    print(
        "| voice | local voice | first byte pcm / mp3 | RTF | round-trip WER | median pitch | movement "
        "| nearest voice (pitch gap, timbre gap) | budgets |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, pcm, mp3, rtf, wer, ok in rows:
        p = by_name[name]
        other, gap_st, gap_timbre = near[name]
        print(
            f"| {name} | {label} | {pcm:.0f} / {mp3:.0f} ms | {rtf:.3f} | {wer:.1%} | {p.median_hz:.0f} Hz "
            f"| {p.movement_st:.1f} st | {other.name} ({gap_st:.1f} st, {gap_timbre:.0f}) | {_mark(ok)} |"
        )
    alike = alike_pairs(prints)
    print(
        f"\nBudgets: first byte ≤ {TTFB_MS:.0f} ms, RTF ≤ {RTF}, WER ≤ {WER:.0%}: "
        f"{len(rows) - misses} of {len(rows)} voices meet all."
    )
    print(
        f"Distinct: two voices are alike when both their pitch gap < {MIN_PITCH_ST} st and timbre gap "
        f"< {MIN_TIMBRE:g}; alike pairs: {', '.join(f'{a}/{b}' for a, b in alike) or 'none'}."
    )


def _wav(samples: np.ndarray, rate: int) -> bytes:
    from playground.core.encode import encode_all

    return encode_all(samples, "wav", rate)
