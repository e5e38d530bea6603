"""Live translation sessions on the embedded backend, driven by the official SDK.

``client.realtime.translations.connect`` against ``/v1/realtime/translations``: German
speech comes back as English text and English speech, events in the SDK's own shapes,
bad input answered with ``error`` events naming the field, and the session closes
cleanly after ``session.close``. Real audio, real models, no mocks.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest
import websockets
from openai import AsyncOpenAI, BadRequestError, NotFoundError
from openai.types.realtime.realtime_translation_server_event import RealtimeTranslationServerEvent
from pydantic import TypeAdapter

from playground.core.textmetrics import word_error_rate as wer
from tests.backend.realtime_support import RATE, b64, clip, manifest_text, pcm16, silence

pytestmark = pytest.mark.models

MODEL = "gpt-realtime-translate"
#: 200 ms appends, as the translation endpoint consumes them
STEP = RATE // 5
#: the second half of multilingual.mp3 reads the MIT licence in German: two phrases
GERMAN = (30.0, 42.5)
_EVENTS = TypeAdapter(RealtimeTranslationServerEvent)


def _client(url: str, key: str = "local") -> AsyncOpenAI:
    return AsyncOpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def german() -> np.ndarray:
    x = clip("multilingual.mp3")
    return x[int(GERMAN[0] * RATE) : int(GERMAN[1] * RATE)]


async def _send(conn: Any, samples: np.ndarray) -> None:
    data = pcm16(samples)
    for i in range(0, len(data), STEP * 2):
        await conn.session.input_audio_buffer.append(audio=b64(data[i : i + STEP * 2]))


async def _until_closed(conn: Any, timeout: float = 120) -> list[dict[str, Any]]:
    """Every event, each checked against the SDK's models, up to ``session.closed``."""
    seen: list[dict[str, Any]] = []

    async def run() -> list[dict[str, Any]]:
        while True:
            event = json.loads(await conn.recv_bytes())
            parsed = _EVENTS.validate_python(event)
            assert parsed.type == event["type"]
            seen.append(event)
            if event["type"] == "session.closed":
                return seen

    return await asyncio.wait_for(run(), timeout)


def _text(events: list[dict[str, Any]], kind: str) -> str:
    return "".join(e["delta"] for e in events if e["type"] == kind)


def _audio(events: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "session.output_audio.delta")


async def _translate(url: str, samples: np.ndarray, session: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    async with _client(url).realtime.translations.connect(model=MODEL) as conn:
        created = json.loads(await conn.recv_bytes())
        assert created["type"] == "session.created" and created["session"]["type"] == "translation"
        if session is not None:
            await conn.session.update(session=session)
        await _send(conn, np.concatenate([samples, silence(2.0)]))
        await conn.session.close()
        events = await _until_closed(conn)
        with pytest.raises(websockets.exceptions.ConnectionClosedOK):  # the server closed it after session.closed
            await asyncio.wait_for(conn.recv_bytes(), 10)
        return events


def test_german_speech_comes_back_as_english_text_and_speech(backend_url):
    events = asyncio.run(
        _translate(backend_url, german(), {"audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}}}})
    )
    source = _text(events, "session.input_transcript.delta")
    english = _text(events, "session.output_transcript.delta")
    assert "Software" in source and any(w in source for w in ("Dokumentation", "erhält", "Genehmigung"))
    assert "software" in english.lower() and any(w in english.lower() for w in ("documentation", "data", "file"))
    assert not any(w in english for w in ("Software und", "diese", "Dokumentation"))  # English, not German
    audio = _audio(events)
    assert len(audio) / 2 / RATE > 2.0
    deltas = [e for e in events if e["type"] == "session.output_audio.delta"]
    assert {(e["format"], e["sample_rate"], e["channels"]) for e in deltas} == {("pcm16", RATE, 1)}
    elapsed = [e["elapsed_ms"] for e in events if "elapsed_ms" in e]
    assert elapsed == sorted(elapsed) and all(ms % 200 == 0 for ms in elapsed)
    assert events[-1]["type"] == "session.closed"
    # the speech says what the transcript says: heard back by Whisper
    samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32768.0
    heard = _hear(backend_url, samples)
    assert wer(english, heard) <= 0.35, (english, heard)


def _hear(url: str, samples: np.ndarray) -> str:
    import io

    import soundfile as sf
    from openai import OpenAI

    buf = io.BytesIO()
    sf.write(buf, samples, RATE, format="WAV", subtype="PCM_16")
    client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    return client.audio.transcriptions.create(
        model="gpt-transcribe", file=("heard.wav", buf.getvalue(), "audio/wav"), language="en"
    ).text


def test_english_speech_is_its_own_translation(backend_url):
    events = asyncio.run(_translate(backend_url, clip("jfk.flac")))
    english = _text(events, "session.output_transcript.delta")
    assert wer(manifest_text("jfk.flac"), english) <= 0.25, english
    assert not _text(events, "session.input_transcript.delta")  # no source transcript was asked for


def test_bad_input_is_answered_by_name_and_the_session_goes_on(backend_url):
    async def run() -> tuple[list[tuple[str | None, str | None]], list[dict[str, Any]]]:
        async with _client(backend_url).realtime.translations.connect(model=MODEL) as conn:
            await conn.recv_bytes()
            raw = conn._connection.send  # some of these cannot be built with the SDK's typed helpers
            await conn.session.update(session={"audio": {"output": {"language": "es"}}})
            await conn.session.update(session={"audio": {"output": {"language": "xx"}}})
            await raw(json.dumps({"type": "session.update", "session": {"audio": {"input": {"format": "pcm"}}}}))
            await raw(json.dumps({"type": "session.update", "session": {"model": "gpt-realtime"}}))
            await raw(json.dumps({"type": "session.input_audio_buffer.append", "audio": b64(b"\x00\x01\x02")}))
            await raw(json.dumps({"type": "session.input_audio_buffer.append", "audio": "***"}))
            await raw(json.dumps({"type": "response.create"}))
            await raw('{"type": "session.update", "session": ' + "[" * 50_000 + "]" * 50_000 + "}")
            await conn.session.update(
                session={"audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}}}}
            )
            await _send(conn, clip("jfk.flac")[: 3 * RATE])  # an open phrase: closing translates it first
            await conn.session.close()
            await raw(json.dumps({"type": "session.input_audio_buffer.append", "audio": b64(pcm16(silence(0.2)))}))
            events = await _until_closed(conn)
        errors = [(e["error"].get("param"), e["error"].get("code")) for e in events if e["type"] == "error"]
        return errors, events

    errors, events = asyncio.run(run())
    assert errors == [
        ("session.audio.output.language", "unsupported_language"),
        ("session.audio.output.language", "invalid_value"),
        ("session.audio.input.format", "unknown_parameter"),
        ("session.model", "unknown_parameter"),
        ("audio", "invalid_value"),
        ("audio", "invalid_base64"),
        ("type", "invalid_value"),
        (None, "invalid_json"),
        ("type", "session_closing"),
    ]
    (updated,) = [e for e in events if e["type"] == "session.updated"]
    assert updated["session"]["audio"]["output"]["language"] == "en"  # the refused updates changed nothing
    assert updated["session"]["audio"]["input"]["transcription"] == {"model": "gpt-realtime-whisper"}
    assert "fellow" in _text(events, "session.output_transcript.delta")  # what was open when closing was said
    unsupported = next(e for e in events if e["type"] == "error" and e["error"]["code"] == "unsupported_language")
    assert "English only" in unsupported["error"]["message"]


def test_a_client_that_stops_sending_audio_still_gets_its_phrase(backend_url):
    async def run() -> str:
        async with _client(backend_url).realtime.translations.connect(model=MODEL) as conn:
            await conn.recv_bytes()
            await _send(conn, clip("jfk.flac")[: int(4.5 * RATE)])  # speech, then nothing at all
            text = ""
            while not text:
                event = json.loads(await asyncio.wait_for(conn.recv_bytes(), 60))
                if event["type"] == "session.output_transcript.delta":
                    text = event["delta"]
            return text

    text = asyncio.run(run())
    assert "fellow Americans" in text or "so my fellow" in text, text


def test_client_secrets_open_translation_sessions_only(backend_url):
    async def run() -> None:
        client = _client(backend_url)
        secret = await client.realtime.translations.client_secrets.create(
            session={
                "model": MODEL,
                "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}}, "output": {"language": "en"}},
            }
        )
        assert secret.value.startswith("ek_") and secret.session.type == "translation"
        async with _client(backend_url, secret.value).realtime.translations.connect(model=MODEL) as conn:
            created = json.loads(await conn.recv_bytes())
            assert created["session"]["audio"]["input"]["transcription"] == {"model": "gpt-realtime-whisper"}
            assert created["session"]["id"] != secret.session.id  # each connection is a session of its own
        with pytest.raises(BadRequestError) as refused:
            await client.realtime.translations.client_secrets.create(
                session={"model": MODEL, "audio": {"output": {"language": "es"}}}
            )
        assert refused.value.body["param"] == "session.audio.output.language"
        with pytest.raises(NotFoundError):
            await client.realtime.translations.client_secrets.create(session={"model": "gpt-realtime"})
        # a translation secret does not open a conversation, nor a conversation's secret a translation
        async with _client(backend_url, secret.value).realtime.connect(model="gpt-realtime") as conn:
            event = json.loads(await conn.recv_bytes())
            assert event["type"] == "error" and "translation" in event["error"]["message"]
        talk = await client.realtime.client_secrets.create(session={"type": "realtime", "model": "gpt-realtime"})
        async with _client(backend_url, talk.value).realtime.translations.connect(model=MODEL) as conn:
            event = json.loads(await conn.recv_bytes())
            assert event["type"] == "error" and "/v1/realtime" in event["error"]["message"]

    asyncio.run(run())


def test_an_unknown_model_is_refused_with_an_event(backend_url):
    async def run() -> dict[str, Any]:
        async with _client(backend_url).realtime.translations.connect(model="gpt-realtime-2") as conn:
            return json.loads(await conn.recv_bytes())

    event = asyncio.run(run())
    assert event["type"] == "error" and event["error"]["code"] == "model_not_found"
    assert MODEL in event["error"]["message"]
