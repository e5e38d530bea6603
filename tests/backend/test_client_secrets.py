"""``POST /v1/realtime/client_secrets`` through the official SDK, and the minted key on the WebSocket.

A backend with an API key: the secret is minted with the key, then opens a realtime
session on its own (the key never reaches the "browser"), and that session starts with the
minted voice and instructions. The exported curl snippet mints one the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import websockets
from openai import AsyncOpenAI, OpenAI
from openai.types.realtime import ClientSecretCreateResponse
from openai.types.realtime.realtime_session_create_response import RealtimeSessionCreateResponse
from openai.types.realtime.realtime_transcription_session_create_response import (
    RealtimeTranscriptionSessionCreateResponse,
)

from playground.backend.app import create_standalone_app
from playground.backend.routers.client_secrets import SecretStore
from playground.backend.settings import BackendSettings
from playground.core.snippets import render
from playground.core.specs import RealtimeSpeechSpec
from playground.serving import BackgroundServer
from tests.conftest import SECRET_KEY

KEY = SECRET_KEY
SESSION = {
    "type": "realtime",
    "model": "gpt-realtime",
    "instructions": "You are a lighthouse keeper; answer briefly.",
    "audio": {"output": {"voice": "cedar", "format": {"type": "audio/pcmu"}}},
}


@pytest.fixture(scope="module")
def keyed_url(backend_url: str) -> Iterator[str]:
    """A second live backend, this one with an API key (``backend_url`` set up the model cache)."""
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=KEY, warm_start=False))) as url:
        yield url


@pytest.fixture
def sdk(keyed_url: str) -> OpenAI:
    return OpenAI(base_url=keyed_url + "/v1", api_key=KEY, max_retries=0, timeout=60)


def _first_event(url: str, key: str, **connect: Any) -> Any:
    """The first server event of a WebSocket session opened with ``key`` as the API key."""

    async def run() -> Any:
        client = AsyncOpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        async with client.realtime.connect(**connect) as conn:
            return await asyncio.wait_for(conn.recv(), 60)

    return asyncio.run(run())


def _refused(url: str, key: str) -> websockets.exceptions.InvalidStatus:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        _first_event(url, key, model="gpt-realtime")
    return refused.value


def _error(exc: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    body = exc.value.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# ------------------------------------------------------------------- minting


def test_a_realtime_session_is_minted_as_the_sdk_types_it(sdk):
    before = time.time()
    secret = sdk.realtime.client_secrets.create(session=SESSION)
    assert isinstance(secret, ClientSecretCreateResponse)
    assert isinstance(secret.session, RealtimeSessionCreateResponse)
    assert secret.value.startswith("ek_") and len(secret.value) >= 3 + 32
    assert before + 600 - 2 <= secret.expires_at <= time.time() + 600 + 1
    session = secret.session
    assert session.model == "gpt-realtime" and session.instructions == SESSION["instructions"]
    assert session.audio.output.voice == "cedar"
    assert session.audio.output.format.type == "audio/pcmu"
    # the full session, as session.created will show it: defaults filled in
    assert session.audio.input.format.type == "audio/pcm" and session.audio.input.turn_detection.type == "server_vad"
    assert session.output_modalities == ["audio"] and session.tools == [] and session.id.startswith("sess_")
    # each secret is new and unguessable
    again = sdk.realtime.client_secrets.create(session=SESSION)
    assert again.value != secret.value


def test_expiry_and_defaults(sdk):
    secret = sdk.realtime.client_secrets.create(expires_after={"anchor": "created_at", "seconds": 7200})
    assert abs(secret.expires_at - (time.time() + 7200)) <= 2
    assert secret.session.type == "realtime" and secret.session.model == "gpt-realtime-2.1-mini"


def test_a_transcription_session_is_minted(sdk):
    secret = sdk.realtime.client_secrets.create(
        session={
            "type": "transcription",
            "audio": {
                "input": {
                    "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                    "noise_reduction": {"type": "near_field"},
                }
            },
        }
    )
    assert isinstance(secret.session, RealtimeTranscriptionSessionCreateResponse)
    heard = secret.session.audio.input
    assert heard.transcription.model == "gpt-4o-transcribe" and heard.transcription.language == "en"
    assert heard.noise_reduction.type == "near_field" and secret.value.startswith("ek_")


@pytest.mark.parametrize(
    ("session", "param", "code"),
    [
        ({**SESSION, "audio": {"output": {"voice": "fable"}}}, "session.audio.output.voice", "invalid_value"),
        ({"type": "realtime", "audio": {"output": {"speed": 9}}}, "session.audio.output.speed", "invalid_value"),
        ({"type": "realtime", "tools": "none"}, "session.tools", "invalid_type"),
        ({"type": "realtime", "frobnicate": 1}, "session.frobnicate", "unknown_parameter"),
        ({"type": "realtime", "prompt": {"id": "pmpt_1"}}, "session.prompt", "unsupported_value"),
        ({"type": "walkie-talkie"}, "session.type", "invalid_value"),
        ({"instructions": "no type"}, "session.type", "missing_required_parameter"),
        (
            {"type": "transcription", "instructions": "a conversation field"},
            "session.instructions",
            "unknown_parameter",
        ),
        (
            {"type": "transcription", "audio": {"input": {"transcription": {"model": "tts-1"}}}},
            "session.audio.input.transcription.model",
            "invalid_value",
        ),
    ],
)
def test_a_bad_session_field_is_named_in_the_envelope(sdk, session, param, code):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.realtime.client_secrets.create(session=session)
    error = _error(refused)
    assert refused.value.status_code == 400 and error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code), error


def test_an_unknown_model_is_refused_as_the_websocket_refuses_it(sdk):
    with pytest.raises(openai.NotFoundError) as refused:
        sdk.realtime.client_secrets.create(session={"type": "realtime", "model": "gpt-nope"})
    error = _error(refused)
    assert (error["param"], error["code"]) == ("session.model", "model_not_found")
    assert "gpt-nope" in error["message"] and "gpt-realtime" in error["message"]


@pytest.mark.parametrize(
    ("expires_after", "param"),
    [
        ({"anchor": "created_at", "seconds": 9}, "expires_after.seconds"),
        ({"anchor": "created_at", "seconds": 7201}, "expires_after.seconds"),
        ({"anchor": "created_at", "seconds": "600"}, "expires_after.seconds"),
        ({"anchor": "expires_at", "seconds": 600}, "expires_after.anchor"),
        ({"seconds": 600, "ttl": 1}, "expires_after.ttl"),
    ],
)
def test_expires_after_out_of_range_is_refused(sdk, expires_after, param):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.realtime.client_secrets.create(session=SESSION, expires_after=expires_after)
    assert _error(refused)["param"] == param


def test_an_oversized_body_is_refused_with_413(sdk):
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.realtime.client_secrets.create(session={**SESSION, "instructions": "x" * (2 * 2**20)})
    assert refused.value.status_code == 413
    assert _error(refused)["code"] == "request_too_large"


def test_minting_takes_the_api_key_and_not_a_client_secret(sdk, keyed_url):
    secret = sdk.realtime.client_secrets.create(session=SESSION)
    for key in ("wrong", secret.value):
        other = OpenAI(base_url=keyed_url + "/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as refused:
            other.realtime.client_secrets.create(session=SESSION)
        assert _error(refused)["code"] == "invalid_api_key"


def test_the_store_is_bounded_and_forgets_expired_secrets():
    store = SecretStore(capacity=3)
    dead, _ = store.mint({"type": "realtime"}, 0)  # expires the second it is made
    values = [store.mint({"type": "realtime"}, 600)[0] for _ in range(3)]
    assert store.get(dead) is None and len(store) == 3  # the dead one made room, no live one went
    assert all(store.get(v) is not None for v in values)
    values += [store.mint({"type": "realtime"}, 600)[0] for _ in range(2)]
    assert len(store) == 3 and store.get(values[0]) is None and store.get(values[1]) is None
    assert all(store.get(v) is not None for v in values[2:])


# ------------------------------------------------------------------- the WebSocket


@pytest.mark.models
def test_the_secret_opens_the_minted_session_on_a_backend_with_a_key(sdk, keyed_url):
    secret = sdk.realtime.client_secrets.create(session=SESSION)
    created = _first_event(keyed_url, secret.value, model="gpt-realtime")
    assert created.type == "session.created"
    assert created.session.audio.output.voice == "cedar"
    assert created.session.instructions == SESSION["instructions"]
    assert created.session.audio.output.format.type == "audio/pcmu"
    assert created.session.id != secret.session.id  # a secret opens many sessions, each its own
    # ?model= may be left out: the secret names it; and the secret opens more than one session
    created = _first_event(keyed_url, secret.value)
    assert created.type == "session.created" and created.session.model == "gpt-realtime"
    assert created.session.audio.output.voice == "cedar"


@pytest.mark.models
def test_a_transcription_secret_opens_a_transcription_session(sdk, keyed_url):
    secret = sdk.realtime.client_secrets.create(
        session={"type": "transcription", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
    )
    created = _first_event(keyed_url, secret.value, extra_query={"intent": "transcription"})
    assert created.type == "session.created" and created.session.type == "transcription"
    assert created.session.audio.input.transcription.model == "whisper-1"


@pytest.mark.models
def test_an_unknown_or_expired_secret_is_refused_with_401(sdk, keyed_url, backend_url):
    secret = sdk.realtime.client_secrets.create(session=SESSION, expires_after={"seconds": 10})
    for url in (keyed_url, backend_url):  # refused even where any key would do: it expects its session
        refused = _refused(url, "ek_" + "0" * 32)
        assert refused.response.status_code == 401 and b"invalid_api_key" in refused.response.body
    assert _first_event(keyed_url, secret.value).session.audio.output.voice == "cedar"
    time.sleep(max(0.0, secret.expires_at - time.time()) + 0.5)
    refused = _refused(keyed_url, secret.value)
    assert refused.response.status_code == 401 and b"expired" in refused.response.body
    # the backend's own key still works, and still opens a default session
    assert _first_event(keyed_url, KEY, model="gpt-realtime").session.audio.output.voice == "marin"


@pytest.mark.models
def test_a_conversation_secret_is_not_a_transcription_session(sdk, keyed_url):
    secret = sdk.realtime.client_secrets.create(session=SESSION)
    event = _first_event(keyed_url, secret.value, extra_query={"intent": "transcription"})
    assert event.type == "error" and event.error.param == "intent"


# ------------------------------------------------------------------- curl


@pytest.mark.models
def test_the_exported_curl_snippet_mints_a_secret(keyed_url, tmp_path: Path):
    if shutil.which("curl") is None:
        pytest.fail("curl is required for snippet tests (apt-get install curl)")
    spec = RealtimeSpeechSpec(input="Hello.")
    code = render(spec, "curl", base_url=keyed_url + "/v1")
    (tmp_path / ".curlrc").write_text("fail-with-body\nsilent\nshow-error\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, HOME=str(tmp_path), CURL_HOME=str(tmp_path))
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, f"{code}\n---\n{proc.stderr}"
    secret = ClientSecretCreateResponse.model_validate(json.loads(proc.stdout))
    assert secret.value.startswith("ek_") and secret.session.type == "realtime"
    assert secret.session.audio.output.voice == spec.to_session()["audio"]["output"]["voice"]
    # and a WebSocket client holding only that value gets the session it carries
    created = _first_event(keyed_url, secret.value, model=spec.to_session()["model"])
    assert created.session.model == spec.to_session()["model"]
    assert created.session.audio.output.voice == secret.session.audio.output.voice
