"""A small OpenAI-compatible server that records every request it gets.

Used as the far end for snippet and runner tests: both hit it and the recorded
requests are compared. Responses are valid shapes with real (generated) audio, so the
SDK parses them exactly as it would OpenAI's. It is test scaffolding, not the backend
under test.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from playground.serving import free_port

TEXT = "And so my fellow Americans, ask not what your country can do for you."


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    json: Any = None
    form: list[tuple[str, str]] = field(default_factory=list)
    file_name: str | None = None
    file_bytes: bytes | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)


def tone(seconds: float = 0.5, rate: int = 24000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = 24000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _sse(events: list[dict[str, Any]]) -> StreamingResponse:
    async def gen():
        for e in events:
            yield f"data: {json.dumps(e)}\n\n"

    return StreamingResponse(gen(), media_type="text/event-stream")


def _chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A streamed chat reply: transcript and PCM16 audio deltas (or text), then usage."""
    spoken = "audio" in body.get("modalities", [])
    pcm = (np.clip(tone(), -1, 1) * 32767).astype("<i2").tobytes()
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": body.get("model")}
    deltas: list[dict[str, Any]] = (
        [
            {"audio": {"id": "audio_1", "transcript": "Hi there!"}},
            {"audio": {"id": "audio_1", "data": base64.b64encode(pcm[: len(pcm) // 2]).decode()}},
            {"audio": {"id": "audio_1", "data": base64.b64encode(pcm[len(pcm) // 2 :]).decode()}},
            {"audio": {"id": "audio_1", "expires_at": 2_000_000_000}},
        ]
        if spoken
        else [{"content": "Hi!"}]
    )
    chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
    return chunks


class RecordingServer:
    """Holds the FastAPI app and the list of requests it recorded."""

    def __init__(self, *, fail_with: tuple[int, str] | None = None):
        self.requests: list[Recorded] = []
        self.fail_with = fail_with
        self._lock = threading.Lock()
        self.app = self._build()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _add(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def maybe_fail(request: Request, call_next):
            if self.fail_with is not None:
                status, message = self.fail_with
                self._add(Recorded(request.method, request.url.path, request.headers.get("authorization")))
                return JSONResponse(
                    {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}},
                    status_code=status,
                )
            return await call_next(request)

        @app.get("/v1/models")
        async def models(request: Request):
            self._add(Recorded("GET", "/v1/models", request.headers.get("authorization")))
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in ("tts-1", "whisper-1")]
            return {"object": "list", "data": data}

        @app.post("/v1/audio/speech")
        async def speech(request: Request):
            body = await request.json()
            self._add(Recorded("POST", "/v1/audio/speech", request.headers.get("authorization"), json=body))
            samples = tone()
            fmt = body.get("response_format", "mp3")
            data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes() if fmt == "pcm" else wav_bytes(samples)
            if body.get("stream_format") == "sse":
                half = len(data) // 2
                return _sse(
                    [
                        {"type": "speech.audio.delta", "audio": base64.b64encode(data[:half]).decode()},
                        {"type": "speech.audio.delta", "audio": base64.b64encode(data[half:]).decode()},
                        {
                            "type": "speech.audio.done",
                            "usage": {"input_tokens": 5, "output_tokens": 50, "total_tokens": 55},
                        },
                    ]
                )
            return Response(data, media_type="application/octet-stream")

        async def transcribe(request: Request, path: str):
            form = await request.form()
            fields: list[tuple[str, str]] = []
            file_name, file_bytes = None, None
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    file_name, file_bytes = value.filename, await value.read()
                else:
                    fields.append((key, str(value)))
            self._add(
                Recorded(
                    "POST",
                    path,
                    request.headers.get("authorization"),
                    form=fields,
                    file_name=file_name,
                    file_bytes=file_bytes,
                )
            )
            values = dict(fields)
            fmt = values.get("response_format", "json")
            if values.get("stream") == "true":
                words = TEXT.split(" ")
                events = [{"type": "transcript.text.delta", "delta": w + " "} for w in words]
                events.append({"type": "transcript.text.done", "text": TEXT})
                return _sse(events)
            if fmt == "text":
                return PlainTextResponse(TEXT)
            if fmt in ("srt", "vtt"):
                head = "WEBVTT\n\n" if fmt == "vtt" else "1\n"
                return PlainTextResponse(f"{head}00:00:00,000 --> 00:00:02,000\n{TEXT}\n")
            if fmt == "verbose_json":
                return {
                    "task": "transcribe",
                    "language": "english",
                    "duration": 2.0,
                    "text": TEXT,
                    "segments": [
                        {
                            "id": 0,
                            "start": 0.0,
                            "end": 2.0,
                            "text": TEXT,
                            "seek": 0,
                            "tokens": [],
                            "temperature": 0.0,
                            "avg_logprob": -0.1,
                            "compression_ratio": 1.0,
                            "no_speech_prob": 0.0,
                        }
                    ],
                }
            return {"text": TEXT, "usage": {"type": "duration", "seconds": 2}}

        @app.post("/v1/audio/transcriptions")
        async def transcriptions(request: Request):
            return await transcribe(request, "/v1/audio/transcriptions")

        @app.post("/v1/audio/translations")
        async def translations(request: Request):
            return await transcribe(request, "/v1/audio/translations")

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self._add(Recorded("POST", "/v1/chat/completions", request.headers.get("authorization"), json=body))
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None if "audio" in body.get("modalities", []) else "Hi!",
            }
            if body.get("stream"):
                return _sse(_chat_chunks(body))
            if "audio" in body.get("modalities", []):
                message["audio"] = {
                    "id": "audio_1",
                    "data": base64.b64encode(wav_bytes(tone())).decode(),
                    "expires_at": 2_000_000_000,
                    "transcript": "Hi there!",
                }
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }

        @app.post("/v1/realtime/client_secrets")
        async def client_secrets(request: Request):
            body = await request.json()
            self._add(Recorded("POST", "/v1/realtime/client_secrets", request.headers.get("authorization"), json=body))
            return {"value": "ek_test_secret", "expires_at": 2_000_000_000, "session": body.get("session", {})}

        @app.websocket("/v1/realtime")
        async def realtime(ws: WebSocket):
            await ws.accept()
            rec = Recorded("WS", "/v1/realtime", ws.headers.get("authorization"), query=dict(ws.query_params))
            self._add(rec)
            await ws.send_json({"type": "session.created", "event_id": "e0", "session": {"type": "realtime"}})
            try:
                while True:
                    event = json.loads(await ws.receive_text())
                    rec.events.append(event)
                    if event["type"] == "session.update":
                        await ws.send_json({"type": "session.updated", "event_id": "e1", "session": event["session"]})
                    elif event["type"] == "response.create":
                        await ws.send_json(
                            {
                                "type": "response.output_audio_transcript.delta",
                                "event_id": "e2",
                                "response_id": "r1",
                                "item_id": "i1",
                                "output_index": 0,
                                "content_index": 0,
                                "delta": "Hello!",
                            }
                        )
                        await ws.send_json(
                            {
                                "type": "response.done",
                                "event_id": "e3",
                                "response": {
                                    "id": "r1",
                                    "object": "realtime.response",
                                    "status": "completed",
                                    "output": [],
                                },
                            }
                        )
            except WebSocketDisconnect:
                return

        return app


# ------------------------------------------------------------------------------ TLS
# The npm SDK's realtime client always connects with wss: (even for an http:// baseURL),
# so the JS realtime snippet needs the recording app behind TLS.


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate and key for 127.0.0.1, made with the openssl CLI (None without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    args = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1"
    args += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run([openssl, *args.split(), "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def serve_tls(app: Any, cert: Path, key: Path, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` over HTTPS on a loopback port; yields ``https://127.0.0.1:<port>``."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"tls-server:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"TLS server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
