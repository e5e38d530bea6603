"""The relay in "translation" mode: the real relay in front of the real embedded backend,
with real German speech (the second half of ../shared/testdata/speech/multilingual.mp3)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from playground.client.providers import embedded_provider
from playground.core import audio
from playground.core.specs import RealtimeTranslationSpec
from playground.relay.route import TRANSLATION_EVENTS, check_browser_event
from tests.support.relay_server import serve_relay

pytestmark = pytest.mark.models

KEY = "relay-translation-key-do-not-leak"
RATE = 24000
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"
#: a German sentence of multilingual.mp3 that ends in a pause (seconds)
GERMAN = (36.1, 41.5)


@pytest.fixture(scope="module")
def german_pcm() -> bytes:
    """The German sentence, then two seconds of silence, as 24 kHz PCM16."""
    whole = audio.decode_mono((SPEECH / "multilingual.mp3").read_bytes(), RATE)
    clip = np.concatenate([whole[int(GERMAN[0] * RATE) : int(GERMAN[1] * RATE)], np.zeros(2 * RATE, np.float32)])
    return (np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def relay_server():
    with serve_relay(KEY) as (url, tickets, _):
        yield url, tickets


async def _recv_until(ws, kinds: set[str], seen: list[dict], timeout: float = 300) -> dict:
    async def run() -> dict:
        while True:
            raw = await ws.recv()
            assert KEY not in raw  # the key never reaches the browser
            event = json.loads(raw)
            seen.append(event)
            if event["type"] in kinds:
                return event

    return await asyncio.wait_for(run(), timeout)


def _appends(pcm: bytes, frame_ms: int = 200) -> list[str]:
    step = RATE * 2 * frame_ms // 1000
    return [
        json.dumps({"type": "session.input_audio_buffer.append", "audio": base64.b64encode(pcm[i : i + step]).decode()})
        for i in range(0, len(pcm), step)
    ]


def test_only_translation_events_pass_in_translation_mode():
    ok, error = check_browser_event(json.dumps({"type": "session.close"}), 1000, TRANSLATION_EVENTS)
    assert ok == {"type": "session.close"} and error is None
    refused, error = check_browser_event(json.dumps({"type": "response.create"}), 1000, TRANSLATION_EVENTS)
    assert refused is None and json.loads(error)["error"]["code"] == "invalid_event"


def test_german_speech_is_translated_through_the_relay(relay_server, german_pcm):
    url, tickets = relay_server
    spec = RealtimeTranslationSpec(output_language="en")
    token = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), owner="page-t", mode="translation")

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={token}") as ws:
            updated = await _recv_until(ws, {"session.updated", "error"}, seen)
            assert updated["type"] == "session.updated", updated
            assert updated["session"]["audio"]["output"]["language"] == "en"
            # a conversation event: the relay answers it and never forwards it
            await ws.send(json.dumps({"type": "response.create"}))
            refused = await _recv_until(ws, {"error"}, seen)
            assert refused["error"]["code"] == "invalid_event" and "response.create" in refused["error"]["message"]
            for append in _appends(german_pcm):
                await ws.send(append)
            await ws.send(json.dumps({"type": "session.close"}))
            await _recv_until(ws, {"session.closed"}, seen)
            with pytest.raises(ConnectionClosed):  # the relay closes after the provider did
                await asyncio.wait_for(ws.recv(), 30)
        return seen

    seen = asyncio.run(run())
    types = [e["type"] for e in seen]
    assert types[0] == "session.created"
    text = "".join(e["delta"] for e in seen if e["type"] == "session.output_transcript.delta")
    assert any(c.isalpha() for c in text), types
    assert not any(e["type"] == "error" for e in seen[types.index("error") + 1 :]), seen
    audio_deltas = [e for e in seen if e["type"] == "session.output_audio.delta"]
    assert audio_deltas and all(e["elapsed_ms"] % 200 == 0 for e in audio_deltas)
    # the relay kept the source audio the page sent, for the page's export
    kept = tickets.recording("page-t")
    assert kept == german_pcm


def test_a_language_the_embedded_backend_cannot_speak_comes_back_as_its_error(relay_server):
    url, tickets = relay_server
    spec = RealtimeTranslationSpec(output_language="es")
    token = tickets.mint(embedded_provider(url, KEY), spec.model, spec.to_session(), mode="translation")

    async def run() -> dict:
        seen: list[dict] = []
        async with connect(url.replace("http", "ws") + f"/relay/realtime?ticket={token}") as ws:
            return await _recv_until(ws, {"error", "session.updated"}, seen, 60)

    event = asyncio.run(run())
    assert event["type"] == "error", event
    assert event["error"]["param"] == "session.audio.output.language"
    assert "english" in event["error"]["message"].lower()
