"""Chat completions (text, streaming, audio in/out), models, auth and robustness."""

from __future__ import annotations

import base64

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

pytestmark = pytest.mark.models

ASK = [{"role": "user", "content": "Name one colour of the sky."}]


def test_text_completion(client):
    c = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=24)
    assert c.choices[0].message.content.strip()
    assert c.usage.prompt_tokens > 0 and 0 < c.usage.completion_tokens <= 24


def test_streamed_completion_with_usage(client):
    stream = client.chat.completions.create(
        model="smollm2", messages=ASK, max_tokens=24, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize("fmt", ["wav", "mp3", "pcm16"])
def test_audio_reply(client, fmt):
    c = client.chat.completions.create(
        model="gpt-audio-mini",
        modalities=["text", "audio"],
        audio={"voice": "sage", "format": fmt},
        messages=ASK,
        max_tokens=24,
    )
    message = c.choices[0].message
    assert message.audio.transcript.strip()
    sound = audio.decode(base64.b64decode(message.audio.data), "pcm" if fmt == "pcm16" else fmt)
    assert sound.duration > 0.3 and sound.sample_rate == 24000
    assert message.audio.id.startswith("audio_") and message.audio.expires_at > 0


def test_streamed_audio_reply(client):
    stream = client.chat.completions.create(
        model="gpt-audio-mini",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "pcm16"},
        messages=ASK,
        max_tokens=24,
        stream=True,
    )
    transcript, data = [], b""
    for chunk in stream:
        if not chunk.choices:
            continue
        delta_audio = chunk.choices[0].delta.audio
        if delta_audio is not None:
            part = delta_audio.model_dump()
            transcript.append(part.get("transcript") or "")
            data += base64.b64decode(part.get("data") or b"")
    assert "".join(transcript).strip()
    assert audio.decode(data, "pcm").duration > 0.3


def test_audio_input_is_transcribed(client, speech_dir):
    raw = (speech_dir / "stereo_diarization.wav").read_bytes()
    with_audio = client.chat.completions.create(
        model="gpt-audio-mini",
        max_tokens=8,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Repeat:"},
                    {"type": "input_audio", "input_audio": {"data": base64.b64encode(raw).decode(), "format": "wav"}},
                ],
            }
        ],
    )
    without = client.chat.completions.create(
        model="gpt-audio-mini", max_tokens=8, messages=[{"role": "user", "content": "Repeat:"}]
    )
    # the transcript (~25 words) reached the model's prompt
    assert with_audio.usage.prompt_tokens >= without.usage.prompt_tokens + 15


@pytest.mark.parametrize(
    ("kwargs", "status", "param"),
    [
        ({"model": "gpt-9"}, 404, "model"),
        ({"modalities": ["text", "audio"]}, 400, "audio"),
        ({"modalities": ["text", "audio"], "audio": {"voice": "robot", "format": "wav"}}, 400, "audio.voice"),
        ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "ogg"}}, 400, "audio.format"),
        ({"messages": []}, 400, "messages"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "input_audio", "input_audio": {"data": "!!notb64", "format": "wav"}}],
                    }
                ]
            },
            400,
            "messages[0].content[0]",
        ),
    ],
)
def test_chat_errors(client, kwargs, status, param):
    args = {"model": "gpt-4o-mini", "messages": ASK, **kwargs}
    with pytest.raises(openai.APIStatusError) as e:
        client.chat.completions.create(**args)
    assert e.value.status_code == status and e.value.body["param"] == param


def test_models_list_and_retrieve(client):
    ids = {m.id for m in client.models.list()}
    cat = get_catalog()
    assert set(cat.speech_models) | set(cat.transcription_models) <= ids
    assert client.models.retrieve("whisper-1").id == "whisper-1"
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("nope")
    assert e.value.body["code"] == "model_not_found"


def test_unknown_route_uses_envelope(backend_url):
    r = httpx.get(backend_url + "/v1/does-not-exist", timeout=10)
    assert r.status_code == 404 and set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_bearer_token_when_configured():
    with BackgroundServer(create_standalone_app(BackendSettings(api_key="s3cret-token"))) as url:
        bad = OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as e:
            bad.models.list()
        assert e.value.body["code"] == "invalid_api_key" and "s3cret" not in str(e.value.body)
        good = OpenAI(base_url=url + "/v1", api_key="s3cret-token", max_retries=0)
        assert len(good.models.list().data) > 5
