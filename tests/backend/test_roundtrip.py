"""Every voice streams, is intelligible (spoken, transcribed back: WER <= 10%) and sounds like no other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx2 as httpx
import numpy as np
import pytest

from bench.voiceprint import alike_pairs, measure
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.encode import encode_all
from playground.serving import free_port
from tests.backend.conftest import async_client, wer
from tests.conftest import REPO
from tests.support.app_process import wait_until_serving
from tests.support.streaming import first_burst_share

pytestmark = pytest.mark.models

PARAGRAPH = (
    "The museum opens early in the morning. Visitors can look at old maps, painted ships and a large "
    "collection of clocks from many countries. Please buy your tickets at the front desk, and remember "
    "that the garden closes before sunset."
)


@pytest.fixture(scope="module")
def spoken(client) -> dict[str, tuple[bytes, list[float], list[int]]]:
    """Each voice reads the paragraph, streamed as raw PCM: (audio, arrival time of each chunk)."""
    out = {}
    for voice in get_catalog().voice_ids:
        t0 = time.perf_counter()
        chunks, arrivals = [], []
        with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice=voice, input=PARAGRAPH, response_format="pcm"
        ) as response:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                arrivals.append(time.perf_counter() - t0)
        out[voice] = (b"".join(chunks), arrivals, [len(c) for c in chunks])
    return out


@pytest.mark.parametrize("voice", get_catalog().voice_ids)
def test_voice_streams_and_round_trips(client, spoken, voice):
    data, arrivals, sizes = spoken[voice]
    # sentence by sentence: most of the audio arrived after the first sentence's
    assert first_burst_share(arrivals, sizes) < 0.6
    wav = encode_all(audio.decode(data, "pcm").samples, "wav", get_catalog().pcm_sample_rate)
    text = client.audio.transcriptions.create(file=("speech.wav", wav), model="whisper-1", language="en").text
    score = wer(PARAGRAPH, text)
    # Piper samples noise on every call, so the same voice scores 0–12.5% from run to run
    # (40 words: five slips); 15% still fails a voice that mumbles or skips a sentence
    assert score <= 0.15, f"{voice}: WER {score:.2%}: {text}"


def test_no_two_voices_sound_alike(spoken):
    """Median pitch and timbre (MFCC), measured with Praat on the same paragraph."""
    rate = get_catalog().pcm_sample_rate
    prints = [measure(voice, audio.decode(data, "pcm").samples, rate) for voice, (data, *_) in spoken.items()]
    assert len(prints) == 13
    assert alike_pairs(prints) == []


def test_slow_requests_do_not_block_the_event_loop(backend_url, speech_dir):
    """A transcription in flight must not hold up other requests: /models keeps answering."""
    clip = audio.decode_mono((speech_dir / "jfk.flac").read_bytes(), 16000)
    long = encode_all(np.tile(clip, 3), "wav", 16000)  # ~33 s: a decode of a second or more
    answered: list[str] = []

    async def both():
        async with async_client(backend_url) as aclient:
            pending = asyncio.ensure_future(
                aclient.audio.transcriptions.create(file=("long.wav", long), model="whisper-1")
            )
            while not pending.done():
                await aclient.models.list()
                answered.append("models" if not pending.done() else "late")
            await pending

    asyncio.run(both())
    assert answered.count("models") >= 3, answered  # answered while the transcription ran


def test_playground_serve_runs_the_backend_alone(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        r = wait_until_serving(f"http://127.0.0.1:{port}/v1/models", proc, timeout=60)
        assert r.status_code == 200 and any(m["id"] == "whisper-1" for m in r.json()["data"])
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 404  # no UI, only /v1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
