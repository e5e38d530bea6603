"""POST /v1/audio/speech through the real openai SDK: formats, streaming, voices, errors."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time

import httpx2 as httpx
import numpy as np
import openai
import pytest
import soundfile as sf

from playground.core import audio
from playground.core.catalog import get_catalog
from tests.backend.conftest import async_client, decoded
from tests.support.streaming import first_burst_share

pytestmark = pytest.mark.models

TWO_SENTENCES = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."


#: what each format decodes to (opus is 48 kHz inside Ogg); aac has no libsndfile decoder
FORMATS = {"mp3": 24000, "opus": 48000, "aac": 24000, "flac": 24000, "wav": 24000, "pcm": 24000}
LIBSNDFILE = {"mp3", "opus", "flac", "wav"}


@pytest.fixture(scope="module")
def reference_seconds(client) -> float:
    """marin (hibari) has deterministic durations: the raw PCM length is the truth."""
    data = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="marin", input=TWO_SENTENCES, response_format="pcm"
    )
    return decoded(data.read(), "pcm").duration


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_decodes_to_the_full_duration(client, fmt, streamed, reference_seconds):
    """With libsndfile (soundfile) where it knows the format, and with FFmpeg (PyAV) always."""
    kwargs = {"model": "gpt-4o-mini-tts", "voice": "marin", "input": TWO_SENTENCES, "response_format": fmt}
    if streamed:
        with client.audio.speech.with_streaming_response.create(**kwargs) as response:
            data = b"".join(response.iter_bytes())
    else:
        data = client.audio.speech.create(**kwargs).read()
    results = {"ffmpeg": audio._decode_av(data) if fmt != "pcm" else decoded(data, "pcm")}
    if fmt in LIBSNDFILE:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32")
        results["libsndfile"] = audio.DecodedAudio(samples, rate)
    for decoder, sound in results.items():
        assert sound.sample_rate == FORMATS[fmt] and sound.channels == 1, decoder
        # codecs may add a frame of padding, never lose audio
        assert reference_seconds - 0.01 <= sound.duration <= reference_seconds + 0.15, (decoder, sound.duration)
        assert audio.rms_dbfs(audio.to_mono(sound.samples)) > -40, decoder


def test_audio_streams_sentence_by_sentence(client):
    text = "First sentence here. Second sentence follows. Third one ends it."
    chunks, arrivals = [], []
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="echo", input=text, response_format="pcm"
    ) as response:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            arrivals.append(time.perf_counter())
    # the first sentence's audio came before the rest was made: not one buffered body
    assert first_burst_share(arrivals, [len(c) for c in chunks]) < 0.6
    assert decoded(b"".join(chunks), "pcm").duration > 2.0


def test_sse_stream_has_deltas_and_usage(client):
    events = []
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=TWO_SENTENCES, response_format="mp3", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
    types = [e["type"] for e in events]
    assert types[-1] == "speech.audio.done" and types.count("speech.audio.delta") >= 2
    usage = events[-1]["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    data = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert decoded(data).duration > 2.0


def test_speed_changes_duration(client):
    def seconds(speed: float) -> float:
        data = client.audio.speech.create(
            model="tts-1", voice="onyx", input=TWO_SENTENCES, speed=speed, response_format="pcm"
        ).read()
        return decoded(data, "pcm").duration

    slow, normal, fast = seconds(0.5), seconds(1.0), seconds(2.0)
    assert slow > normal * 1.5 and fast < normal * 0.7


def test_instructions_are_applied_and_reported(client):
    plain = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts", voice="coral", input=TWO_SENTENCES, response_format="wav"
    )
    styled = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input=TWO_SENTENCES,
        response_format="wav",
        instructions="Whisper it very slowly, with a deep voice.",
    )
    applied = styled.headers["x-playground-instructions-applied"]
    assert "pace=" in applied and "volume=" in applied and "pitch=" in applied and "whisper" in applied
    assert plain.headers["x-playground-instructions-applied"] == "none"
    a, b = decoded(plain.content), decoded(styled.content)
    assert b.duration > a.duration * 1.1
    assert audio.rms_dbfs(b.samples) < audio.rms_dbfs(a.samples) - 6


def test_all_voices_are_distinct_and_listed(client):
    table = client.models.retrieve("gpt-4o-mini-tts").model_extra["voices"]
    assert set(table) == set(get_catalog().voice_ids)
    assert len(set(table.values())) == 13, table


def test_concurrent_requests_do_not_interfere(backend_url, client):
    text = "Concurrency should never corrupt audio."
    reference = decoded(
        client.audio.speech.create(model="tts-1", voice="ash", input=text, response_format="pcm").read(), "pcm"
    )

    async def many():
        async with async_client(backend_url) as aclient:

            async def one() -> audio.DecodedAudio:
                response = await aclient.audio.speech.create(
                    model="tts-1", voice="ash", input=text, response_format="pcm"
                )
                return decoded(response.read(), "pcm")

            return await asyncio.gather(*(one() for _ in range(4)))

    for result in asyncio.run(many()):
        assert abs(result.duration - reference.duration) < 0.25
        assert audio.rms_dbfs(result.samples) > -40


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "status", "param", "needle"),
    [
        ({"model": "tts-9"}, 404, "model", "does not exist"),
        ({"voice": "robot"}, 400, "voice", "alloy"),
        ({"voice": {"id": "voice_123"}}, 400, "voice", "custom voices (voice_123) live in your OpenAI account"),
        ({"input": ""}, 400, "input", "must not be empty"),
        ({"input": "x" * 4097}, 400, "input", "4096"),
        ({"speed": 5.0}, 400, "speed", "0.25 and 4"),
        ({"speed": 0.1}, 400, "speed", "0.25 and 4"),
        ({"response_format": "ogg"}, 400, "response_format", "mp3, opus"),
        ({"model": "tts-1", "instructions": "calm"}, 400, "instructions", "not supported by tts-1"),
        ({"model": "tts-1-hd", "stream_format": "sse"}, 400, "stream_format", "audio"),
    ],
)
def test_errors_use_openai_envelope(client, kwargs, status, param, needle):
    args = {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "Hello.", **kwargs}
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.speech.create(**args)
    assert e.value.status_code == status
    body = e.value.body
    assert set(body) == {"message", "type", "param", "code"}, body
    assert body["param"] == param and needle in body["message"]
    assert body["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        b'{"model": "tts-1"}',
        b'{"model": "tts-1", "voice": "alloy", "input": 42}',
        b'{"model": "tts-1", "voice": "alloy", "input": "hi", "speed": "fast"}',
        b'{"model": null, "voice": "alloy", "input": "hi"}',
        b'{"model": "tts-1", "voice": "alloy", "input": "\\ud800"}',
    ],
)
def test_malformed_bodies_get_400_and_server_keeps_serving(backend_url, client, payload):
    r = httpx.post(
        backend_url + "/v1/audio/speech", content=payload, headers={"content-type": "application/json"}, timeout=60
    )
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    ok = client.audio.speech.create(model="tts-1", voice="alloy", input="Still here.", response_format="pcm")
    assert len(ok.read()) > 1000


def test_non_speech_text_still_produces_valid_audio(client):
    for text in ("...", "12345", "!!!", "Ünïcödé 🎉 text", "a"):
        data = client.audio.speech.create(model="tts-1", voice="fable", input=text, response_format="wav").read()
        sound = decoded(data)
        assert sound.sample_rate == 24000 and np.isfinite(sound.samples).all()
