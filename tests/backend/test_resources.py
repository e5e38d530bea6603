"""Bounded resources: body ceilings before reading, no client can stall others, gone clients cost nothing."""

from __future__ import annotations

import http.client
import json
import resource
import socket
import threading
import time
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from bench.long_audio import long_recording
from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

pytestmark = pytest.mark.models

ASK = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper and the sea."}]


def _envelope(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_oversized_chat_is_refused_from_its_declared_length(backend_url):
    """A 40 MB body is answered with 413 after its headers; the body is never sent or read."""
    limit = get_catalog().limits.chat_body_max_bytes
    host, port = backend_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("POST", "/v1/chat/completions")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(40 * 2**20))
        conn.endheaders()  # headers only: not one byte of the body is sent
        answer = conn.getresponse()
        body = json.loads(answer.read())
    finally:
        conn.close()
    assert answer.status == 413
    assert body["error"]["code"] == "request_too_large" and f"{limit / 2**20:g} MiB" in body["error"]["message"]


def test_oversized_chunked_upload_is_cut_off_while_streaming(backend_url):
    """No Content-Length: the body is counted as it arrives and refused once over the limit."""
    limit = get_catalog().limits.upload_max_bytes
    sent = 0

    def chunks():
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        block = b"\0" * 2**20
        while sent < 3 * limit:  # would be 75 MiB if the server kept reading
            sent += len(block)
            yield block

    headers = {"content-type": "multipart/form-data; boundary=b"}
    try:
        r = httpx.post(backend_url + "/v1/audio/transcriptions", content=chunks(), headers=headers, timeout=30)
        assert r.status_code == 413 and _envelope(r)["param"] == "file"
    except httpx.TransportError:
        pass  # the server may close the connection while we are still sending: also refused
    assert sent < 2 * limit, "the server kept reading long past the limit"
    assert httpx.get(backend_url + "/v1/models", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"n": 2}, "n"),
        ({"top_p": 1.5}, "top_p"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
    ],
)
def test_bad_chat_parameters_are_400_not_500(client, extra, param):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(**{"model": "gpt-4o-mini", "messages": ASK, **extra})
    assert e.value.body["param"] == param


def test_a_failing_engine_gives_500_without_its_internals():
    """The remote LLM cannot be reached: the client learns that, not the exception's text."""
    settings = BackendSettings(llm_base_url="http://127.0.0.1:9/v1", warm_start=False)
    with BackgroundServer(create_standalone_app(settings)) as url:
        r = httpx.post(url + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ASK}, timeout=60)
    assert r.status_code == 500
    error = _envelope(r)
    assert error["type"] == "server_error" and "language model" in error["message"]
    for leak in ("Connection", "refused", "Errno", "Traceback", "127.0.0.1:9"):
        assert leak not in error["message"]


def test_a_stalled_reader_does_not_hold_up_other_chats(backend_url, client):
    """One client streams a spoken reply and stops reading; another chat still completes."""
    host, port = backend_url.removeprefix("http://").split(":")
    body = json.dumps(
        {
            "model": "gpt-audio-mini",
            "messages": ASK,
            "max_tokens": 200,
            "stream": True,
            "modalities": ["text", "audio"],
            "audio": {"voice": "marin", "format": "wav"},
        }
    ).encode()
    stalled = socket.create_connection((host, int(port)), timeout=30)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        stalled.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert stalled.recv(64).startswith(b"HTTP/1.1 200")  # then never read again
        reply = OpenAI(base_url=backend_url + "/v1", api_key="local", max_retries=0, timeout=120).chat.completions
        answer = reply.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi."}], max_tokens=8)
        assert answer.choices[0].message.content.strip()
    finally:
        stalled.close()


def test_gone_client_stops_a_long_transcription(speech_dir: Path):
    """A client that gives up after 4 s: the server stops decoding instead of running for a minute."""
    data = long_recording(speech_dir, 600)
    with BackgroundServer(create_standalone_app(BackendSettings(warm_start=False))) as url:
        impatient = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=4)
        with pytest.raises(openai.APITimeoutError):
            impatient.audio.transcriptions.create(file=("long.ogg", data), model="whisper-1", language="en")
        # the segment being decoded when the client left may finish, later on a busy machine;
        # a decode that went on would keep the cores busy for the whole 600 s (over a minute)
        deadline = time.monotonic() + 20
        busy = _cpu_seconds_during(3.0)
        while busy >= 1.0 and time.monotonic() < deadline:
            busy = _cpu_seconds_during(3.0)
        # two busy cores would be ~6 s of CPU in 3 s; an idle server close to 0
        assert busy < 1.0, f"server still busy 20 s after the client left: {busy:.2f} CPU-seconds in 3 s"
        assert httpx.get(url + "/v1/models", timeout=10).status_code == 200


def _cpu_seconds_during(seconds: float) -> float:
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    before = cpu()
    threading.Event().wait(seconds)
    return cpu() - before
