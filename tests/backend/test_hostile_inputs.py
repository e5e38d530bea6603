"""Hostile inputs against the live backend: every bad request gets OpenAI's error envelope.

Each case is sent with raw HTTP (``httpx2``, or a plain socket where an HTTP client
refuses to send the malformed thing) to the session's real backend, and must come back
as a 4xx (413 for oversize bodies) whose body is exactly
``{"error": {"message", "type", "param", "code"}}`` — never a 5xx, a 2xx or FastAPI's
``{"detail": ...}``. After every case ``GET /v1/models`` must still answer 200.
Body limits come from the catalog, never from constants here. Nothing valid enough to
reach a model is sent, so the suite stays fast.
"""

from __future__ import annotations

import base64
import io
import json
import math
import select
import socket
import struct
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer
from tests.backend.conftest import HOSTILE_RESULTS

CAT = get_catalog()
KEY = "hostile-suite-" + "k3y" * 8
ENVELOPE_KEYS = {"message", "type", "param", "code"}

SPEECH = "/v1/audio/speech"
TRANSCRIBE = "/v1/audio/transcriptions"
TRANSLATE = "/v1/audio/translations"
CHAT = "/v1/chat/completions"
MODELS = "/v1/models"

OK_SPEECH: dict[str, Any] = {"model": "tts-1", "input": "Hi.", "voice": "alloy"}
OK_CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
JSON_CT = {"Content-Type": "application/json"}
BOUNDARY = "hostile-boundary-7d1f"
MULTIPART_CT = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


# ------------------------------------------------------------------ building inputs


def js(obj: Any) -> bytes:
    """JSON as Python writes it: NaN/Infinity literals and \\ud800-style escapes survive."""
    return json.dumps(obj).encode()


def speech(**changes: Any) -> bytes:
    return js({**OK_SPEECH, **changes})


def speech_without(name: str) -> bytes:
    return js({k: v for k, v in OK_SPEECH.items() if k != name})


def chat(**changes: Any) -> bytes:
    return js({**OK_CHAT, **changes})


def user_says(content: Any) -> bytes:
    return chat(messages=[{"role": "user", "content": content}])


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


def wav(seconds: float, rate: int = 16_000) -> bytes:
    """A quiet 440 Hz tone as 16-bit mono WAV (0 s gives a header with no samples)."""
    n = round(seconds * rate)
    frames = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(n))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def wav_zero_rate() -> bytes:
    data = wav(0.2)
    return data[:24] + struct.pack("<I", 0) + data[28:]  # the fmt chunk's sample rate


RANDOM = bytes((i * 7919 + 13) % 251 for i in range(4096))  # deterministic noise
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + RANDOM[:200]
EXE = b"MZ\x90\x00" + RANDOM[:500]


def part(name: str, content: bytes | str, filename: str | None = None, *, headers: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    body = content.encode() if isinstance(content, str) else content
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{headers}\r\n".encode() + body + b"\r\n"


def form(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def upload(
    filename: str = "clip.wav", content: bytes | None = None, model: str | bytes = "whisper-1", **fields: str
) -> bytes:
    """A transcription form: ``model``, the file part and any extra fields."""
    parts = [part("model", model)] if model != "" else []
    parts += [part(k, v) for k, v in fields.items()]
    parts.append(
        part("file", wav(0.3) if content is None else content, filename, headers="Content-Type: audio/wav\r\n")
    )
    return form(*parts)


# ------------------------------------------------------------------- raw requests


def raw_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def declared_oversize(path: str, limit: int, content_type: str) -> bytes:
    """Headers declaring one byte over the limit; the body never follows."""
    return raw_head("POST", path, {"Content-Type": content_type, "Content-Length": str(limit + 1)})


def chunked_oversize(path: str, limit: int, content_type: str, prefix: bytes) -> Callable[[], Iterator[bytes]]:
    """A chunked body (no Content-Length) that runs past the limit."""

    def pieces() -> Iterator[bytes]:
        yield raw_head("POST", path, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        sent, block = 0, b"a" * 65536
        data = prefix
        while sent <= limit + len(block):
            yield f"{len(data):x}\r\n".encode() + data + b"\r\n"
            sent += len(data)
            data = block
        yield b"0\r\n\r\n"

    return pieces


# -------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    #: allowed statuses; 400 unless the case says otherwise
    status: tuple[int, ...] = (400,)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: the whole request for a socket: bytes, or a factory of pieces (chunked bodies)
    raw: bytes | Callable[[], Iterator[bytes]] | None = None
    #: send to the second backend, which requires ``Authorization: Bearer KEY``
    keyed: bool = False


def post_json(id: str, path: str, body: bytes, status: tuple[int, ...] = (400,)) -> Case:
    return Case(id, "POST", path, status, content=body, headers=JSON_CT)


def post_form(id: str, path: str, body: bytes, status: tuple[int, ...] = (400,), **kw: Any) -> Case:
    return Case(id, "POST", path, status, content=body, headers=MULTIPART_CT, **kw)


NOT_FOUND = (404,)
NOT_ALLOWED = (405,)
TOO_LARGE = (413,)
UNAUTHORIZED = (401,)
JSON_MAX = CAT.limits.json_body_max_bytes
CHAT_MAX = CAT.limits.chat_body_max_bytes
UPLOAD_MAX = CAT.limits.upload_max_bytes
FILE_HEAD = (
    part("model", "whisper-1")
    + (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n').encode()
)

SPEECH_CASES = [
    # wrong JSON types for every field
    post_json("speech/model-number", SPEECH, speech(model=1)),
    post_json("speech/model-object", SPEECH, speech(model={"id": "tts-1"})),
    post_json("speech/input-array", SPEECH, speech(input=["Hi."])),
    post_json("speech/input-null", SPEECH, speech(input=None)),
    post_json("speech/input-number", SPEECH, speech(input=42)),
    post_json("speech/voice-number", SPEECH, speech(voice=7)),
    post_json("speech/voice-array", SPEECH, speech(voice=["alloy"])),
    post_json("speech/voice-object-without-id", SPEECH, speech(voice={"name": "alloy"})),
    post_json("speech/voice-object-number-id", SPEECH, speech(voice={"id": 5})),
    post_json("speech/speed-number-as-string", SPEECH, speech(speed="1.5")),
    post_json("speech/speed-bool", SPEECH, speech(speed=True)),
    post_json("speech/speed-null", SPEECH, speech(speed=None)),
    post_json("speech/response-format-array", SPEECH, speech(response_format=["mp3"])),
    post_json("speech/stream-format-number", SPEECH, speech(stream_format=1)),
    post_json("speech/instructions-object", SPEECH, speech(model="gpt-4o-mini-tts", instructions={"tone": "calm"})),
    # numbers out of range, NaN and Infinity literals
    post_json("speech/speed-zero", SPEECH, speech(speed=0)),
    post_json("speech/speed-negative", SPEECH, speech(speed=-1.0)),
    post_json("speech/speed-huge", SPEECH, speech(speed=1e308)),
    post_json("speech/speed-400-digit-integer", SPEECH, speech(speed=10**400)),
    post_json("speech/speed-NaN-literal", SPEECH, speech(speed=math.nan)),
    post_json("speech/speed-Infinity-literal", SPEECH, speech(speed=math.inf)),
    post_json("speech/speed-minus-Infinity-literal", SPEECH, speech(speed=-math.inf)),
    # empty and missing
    post_json("speech/empty-body", SPEECH, b""),
    post_json("speech/empty-object", SPEECH, b"{}"),
    post_json("speech/missing-voice", SPEECH, speech_without("voice")),
    post_json("speech/missing-input", SPEECH, speech_without("input")),
    post_json("speech/input-empty", SPEECH, speech(input="")),
    post_json("speech/input-whitespace", SPEECH, speech(input=" \n\t ")),
    post_json("speech/input-over-max-chars", SPEECH, speech(input="a" * (CAT.limits.speech_input_max_chars + 1))),
    # invalid JSON
    post_json("speech/json-truncated", SPEECH, speech()[:-12]),
    post_json("speech/json-trailing-garbage", SPEECH, speech() + b"}}garbage"),
    post_json("speech/json-bare-string", SPEECH, b'"Hello there"'),
    post_json("speech/json-array", SPEECH, js([OK_SPEECH])),
    post_json("speech/json-null", SPEECH, b"null"),
    post_json("speech/json-single-quotes", SPEECH, b"{'model': 'tts-1', 'input': 'Hi', 'voice': 'alloy'}"),
    post_json("speech/json-invalid-utf8", SPEECH, b'{"model": "tts-1", "input": "\xff\xfe\xfd", "voice": "alloy"}'),
    post_json("speech/json-100k-nested-arrays", SPEECH, nested(100_000).encode()),
    post_json(
        "speech/input-500-nested-arrays",
        SPEECH,
        b'{"model": "tts-1", "voice": "alloy", "input": %s}' % nested(500).encode(),
    ),
    # unicode in the wrong places
    post_json("speech/input-lone-surrogate", SPEECH, speech(input="\ud800")),
    post_json("speech/model-lone-surrogate", SPEECH, speech(model="tts-1\udfff"), NOT_FOUND),
    post_json("speech/voice-rtl", SPEECH, speech(voice="مرحبا")),
    post_json("speech/voice-emoji", SPEECH, speech(voice="🎙️")),
    post_json("speech/voice-nul", SPEECH, speech(voice="alloy\u0000")),
    post_json("speech/model-nul", SPEECH, speech(model="tts-1\u0000"), NOT_FOUND),
    post_json("speech/input-only-nul-characters", SPEECH, speech(input="\u0000\u0000\u0000")),
    post_json("speech/input-with-embedded-nul", SPEECH, speech(input="Hello\u0000 world.")),
    post_json("speech/response-format-emoji", SPEECH, speech(response_format="mp3🎵")),
    # unknown fields and unsupported combinations
    post_json("speech/unknown-field", SPEECH, speech(bogus=1)),
    post_json("speech/misspelled-field", SPEECH, speech(speeed=2.0)),
    post_json("speech/instructions-on-tts-1", SPEECH, speech(instructions="Speak slowly.")),
    post_json("speech/sse-on-tts-1", SPEECH, speech(stream_format="sse")),
    post_json("speech/custom-voice-id", SPEECH, speech(voice={"id": "voice_1234"})),
    # path traversal and overlong model names
    post_json("speech/model-path-traversal", SPEECH, speech(model="../../../../etc/passwd"), NOT_FOUND),
    post_json("speech/model-100k-chars", SPEECH, speech(model="m" * 100_000), NOT_FOUND),
    post_json("speech/voice-path-traversal", SPEECH, speech(voice="../../voices/alloy")),
    # wrong content types
    Case(
        "speech/form-urlencoded",
        "POST",
        SPEECH,
        content=b"model=tts-1&input=Hi&voice=alloy",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    post_form("speech/multipart", SPEECH, form(part("model", "tts-1"), part("input", "Hi"), part("voice", "alloy"))),
    Case("speech/text-plain-json", "POST", SPEECH, content=speech(), headers={"Content-Type": "text/plain"}),
    # bodies over the limit
    Case(
        "speech/oversize-content-length",
        "POST",
        SPEECH,
        TOO_LARGE,
        raw=declared_oversize(SPEECH, JSON_MAX, "application/json"),
    ),
    Case(
        "speech/oversize-chunked",
        "POST",
        SPEECH,
        TOO_LARGE,
        raw=chunked_oversize(SPEECH, JSON_MAX, "application/json", b'{"model": "tts-1", "input": "'),
    ),
    # wrong methods
    Case("speech/GET", "GET", SPEECH, NOT_ALLOWED),
    Case("speech/PUT", "PUT", SPEECH, NOT_ALLOWED, content=speech(), headers=JSON_CT),
]

TRANSCRIPTION_CASES = [
    # wrong content types and broken multipart
    post_json("transcribe/json-body", TRANSCRIBE, js({"model": "whisper-1", "file": "clip.wav"})),
    Case(
        "transcribe/form-urlencoded",
        "POST",
        TRANSCRIBE,
        content=b"model=whisper-1&file=clip.wav",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    post_form("transcribe/empty-body", TRANSCRIBE, b""),
    Case(
        "transcribe/multipart-without-boundary",
        "POST",
        TRANSCRIBE,
        content=upload(),
        headers={"Content-Type": "multipart/form-data"},
    ),
    post_form("transcribe/boundary-never-closed", TRANSCRIBE, upload()[: -len(f"--{BOUNDARY}--\r\n")]),
    post_form("transcribe/cut-inside-file-part", TRANSCRIBE, upload()[:300]),
    post_form("transcribe/missing-file-part", TRANSCRIBE, form(part("model", "whisper-1"))),
    post_form(
        "transcribe/file-part-without-filename", TRANSCRIBE, form(part("model", "whisper-1"), part("file", wav(0.3)))
    ),
    post_form(
        "transcribe/two-files",
        TRANSCRIBE,
        form(part("model", "whisper-1"), part("file", wav(0.3), "a.wav"), part("file", wav(0.3), "b.wav")),
    ),
    post_form(
        "transcribe/file-under-another-name",
        TRANSCRIBE,
        form(part("model", "whisper-1"), part("audio", wav(0.3), "clip.wav")),
    ),
    post_form("transcribe/missing-model", TRANSCRIBE, upload(model="")),
    post_form(
        "transcribe/model-as-file-part",
        TRANSCRIBE,
        form(part("model", "whisper-1", "model.txt"), part("file", wav(0.3), "clip.wav")),
    ),
    post_form("transcribe/65-fields", TRANSCRIBE, upload(**{f"x{i}": "1" for i in range(65)})),
    # bad audio
    post_form("transcribe/empty-file", TRANSCRIBE, upload("clip.wav", b"")),
    post_form("transcribe/text-named-wav", TRANSCRIBE, upload("notes.wav", b"Dear diary, today I sent a text file.\n")),
    post_form("transcribe/random-bytes-named-mp3", TRANSCRIBE, upload("noise.mp3", RANDOM)),
    post_form("transcribe/wav-header-without-samples", TRANSCRIBE, upload("empty.wav", wav(0))),
    post_form("transcribe/clip-of-50-ms", TRANSCRIBE, upload("short.wav", wav(0.05))),
    post_form("transcribe/png-named-flac", TRANSCRIBE, upload("picture.flac", PNG)),
    post_form("transcribe/wav-with-zero-sample-rate", TRANSCRIBE, upload("zero.wav", wav_zero_rate())),
    post_form("transcribe/exe-extension", TRANSCRIBE, upload("setup.exe", EXE)),
    post_form("transcribe/no-extension-garbage", TRANSCRIBE, upload("blob", RANDOM)),
    post_form(
        "transcribe/filename-path-traversal", TRANSCRIBE, upload("../../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    ),
    # numbers
    post_form("transcribe/temperature-word", TRANSCRIBE, upload(temperature="hot")),
    post_form("transcribe/temperature-negative", TRANSCRIBE, upload(temperature="-0.5")),
    post_form("transcribe/temperature-NaN", TRANSCRIBE, upload(temperature="NaN")),
    post_form("transcribe/temperature-Infinity", TRANSCRIBE, upload(temperature="Infinity")),
    post_form("transcribe/temperature-1e400", TRANSCRIBE, upload(temperature="1e400")),
    # bad values, unicode, unknown fields
    post_form("transcribe/response-format-xml", TRANSCRIBE, upload(response_format="xml")),
    post_form("transcribe/language-emoji", TRANSCRIBE, upload(language="🇫🇷")),
    post_form("transcribe/language-rtl", TRANSCRIBE, upload(language="عربي")),
    post_form("transcribe/model-invalid-utf8", TRANSCRIBE, upload(model=b"whisper\xff\xfe"), NOT_FOUND),
    post_form("transcribe/model-nul", TRANSCRIBE, upload(model="whisper-1\u0000"), NOT_FOUND),
    post_form("transcribe/unknown-field", TRANSCRIBE, upload(bogus="1")),
    post_form("transcribe/chunking-strategy-broken-json", TRANSCRIBE, upload(chunking_strategy='{"type": ')),
    post_form(
        "transcribe/chunking-strategy-deep-json",
        TRANSCRIBE,
        upload(chunking_strategy='{"a": ' * 5000 + "1" + "}" * 5000),
    ),
    post_form("transcribe/chunking-strategy-array", TRANSCRIBE, upload(chunking_strategy="[1, 2]")),
    post_form(
        "transcribe/granularity-unknown",
        TRANSCRIBE,
        upload(response_format="verbose_json", **{"timestamp_granularities[]": "century"}),
    ),
    post_form("transcribe/logprobs-on-whisper-1", TRANSCRIBE, upload(**{"include[]": "logprobs"})),
    # path traversal and overlong model names
    post_form("transcribe/model-path-traversal", TRANSCRIBE, upload(model="../../../etc/passwd"), NOT_FOUND),
    post_form("transcribe/model-10k-chars", TRANSCRIBE, upload(model="w" * 10_000), NOT_FOUND),
    # bodies over the limit
    Case(
        "transcribe/oversize-content-length",
        "POST",
        TRANSCRIBE,
        TOO_LARGE,
        raw=declared_oversize(TRANSCRIBE, UPLOAD_MAX + 256 * 1024, MULTIPART_CT["Content-Type"]),
    ),
    Case(
        "transcribe/oversize-chunked",
        "POST",
        TRANSCRIBE,
        TOO_LARGE,
        raw=chunked_oversize(TRANSCRIBE, UPLOAD_MAX + 256 * 1024, MULTIPART_CT["Content-Type"], FILE_HEAD),
    ),
    Case("transcribe/GET", "GET", TRANSCRIBE, NOT_ALLOWED),
    # translations
    post_form("translate/non-translating-model", TRANSLATE, upload(model="gpt-4o-transcribe"), (400, 404)),
    post_form("translate/language-not-supported", TRANSLATE, upload(language="en")),
    post_form("translate/empty-file", TRANSLATE, upload("clip.mp3", b"")),
    post_form("translate/exe-extension", TRANSLATE, upload("tool.exe", EXE)),
    post_form("translate/missing-file-part", TRANSLATE, form(part("model", "whisper-1"))),
    post_json("translate/json-body", TRANSLATE, js({"model": "whisper-1"})),
    Case(
        "translate/oversize-content-length",
        "POST",
        TRANSLATE,
        TOO_LARGE,
        raw=declared_oversize(TRANSLATE, UPLOAD_MAX + 256 * 1024, MULTIPART_CT["Content-Type"]),
    ),
    Case("translate/PUT", "PUT", TRANSLATE, NOT_ALLOWED, content=upload(), headers=MULTIPART_CT),
]


def audio_part(data: bytes | str | int, fmt: str | None = "wav") -> dict[str, Any]:
    if isinstance(data, bytes):
        data = base64.b64encode(data).decode()
    inner: dict[str, Any] = {"data": data} if fmt is None else {"data": data, "format": fmt}
    return {"type": "input_audio", "input_audio": inner}


CHAT_CASES = [
    # wrong JSON types
    post_json("chat/model-number", CHAT, chat(model=4)),
    post_json("chat/messages-string", CHAT, chat(messages="Hi")),
    post_json("chat/messages-object", CHAT, chat(messages={"role": "user", "content": "Hi"})),
    post_json("chat/messages-null-item", CHAT, chat(messages=[None])),
    post_json("chat/message-without-role", CHAT, chat(messages=[{"content": "Hi"}])),
    post_json("chat/role-unknown", CHAT, chat(messages=[{"role": "robot", "content": "Hi"}])),
    post_json("chat/content-number", CHAT, user_says(5)),
    post_json("chat/content-object", CHAT, user_says({"text": "Hi"})),
    post_json("chat/content-part-string", CHAT, user_says(["Hi"])),
    post_json("chat/content-part-unknown-type", CHAT, user_says([{"type": "video", "url": "x"}])),
    post_json("chat/text-part-number", CHAT, user_says([{"type": "text", "text": 5}])),
    post_json(
        "chat/content-500-nested-arrays",
        CHAT,
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": %s}]}' % nested(500).encode(),
    ),
    post_json("chat/max-tokens-number-as-string", CHAT, chat(max_tokens="100")),
    post_json("chat/temperature-number-as-string", CHAT, chat(temperature="0.5")),
    post_json("chat/n-number-as-string", CHAT, chat(n="1")),
    post_json("chat/stream-string", CHAT, chat(stream="yes")),
    post_json("chat/stream-number", CHAT, chat(stream=1)),
    post_json("chat/temperature-bool", CHAT, chat(temperature=True)),
    post_json("chat/modalities-string", CHAT, chat(modalities="text")),
    post_json("chat/audio-string", CHAT, chat(modalities=["text", "audio"], audio="alloy")),
    post_json("chat/audio-voice-number", CHAT, chat(modalities=["text", "audio"], audio={"voice": 3, "format": "wav"})),
    post_json("chat/stream-options-string", CHAT, chat(stream=True, stream_options="usage")),
    # numbers out of range
    post_json("chat/max-tokens-zero", CHAT, chat(max_tokens=0)),
    post_json("chat/max-tokens-negative", CHAT, chat(max_tokens=-5)),
    post_json("chat/max-tokens-huge", CHAT, chat(max_tokens=10**30)),
    post_json("chat/max-completion-tokens-fraction", CHAT, chat(max_completion_tokens=1.5)),
    post_json("chat/temperature-negative", CHAT, chat(temperature=-0.1)),
    post_json("chat/temperature-five", CHAT, chat(temperature=5)),
    post_json("chat/temperature-NaN-literal", CHAT, chat(temperature=math.nan)),
    post_json("chat/temperature-Infinity-literal", CHAT, chat(temperature=math.inf)),
    post_json("chat/top-p-two", CHAT, chat(top_p=2)),
    post_json("chat/n-zero", CHAT, chat(n=0)),
    post_json("chat/n-two", CHAT, chat(n=2)),
    post_json("chat/n-negative", CHAT, chat(n=-1)),
    # empty and invalid JSON
    post_json("chat/empty-body", CHAT, b""),
    post_json("chat/empty-object", CHAT, b"{}"),
    post_json("chat/messages-empty", CHAT, chat(messages=[])),
    post_json("chat/json-truncated", CHAT, chat()[:-5]),
    post_json("chat/json-trailing-garbage", CHAT, chat() + b"\x00trailing"),
    post_json("chat/json-bare-string", CHAT, b'"gpt-4o-mini"'),
    post_json(
        "chat/json-1M-nested-arrays", CHAT, b'{"model": "gpt-4o-mini", "messages": %s}' % nested(1_000_000).encode()
    ),
    # modalities and audio
    post_json("chat/modalities-audio-only", CHAT, chat(modalities=["audio"])),
    post_json("chat/modalities-empty", CHAT, chat(modalities=[])),
    post_json("chat/audio-modality-without-audio", CHAT, chat(modalities=["text", "audio"])),
    post_json("chat/input-audio-not-base64", CHAT, user_says([audio_part("!!not base64!!")])),
    post_json("chat/input-audio-random-bytes", CHAT, user_says([audio_part(RANDOM)])),
    post_json("chat/input-audio-empty", CHAT, user_says([audio_part(b"")])),
    post_json("chat/input-audio-number", CHAT, user_says([audio_part(12345)])),
    post_json("chat/input-audio-is-a-string", CHAT, user_says([{"type": "input_audio", "input_audio": "UklGRg=="}])),
    post_json("chat/input-audio-wav-header-only", CHAT, user_says([audio_part(wav(0))])),
    post_json("chat/input-audio-clip-of-50-ms", CHAT, user_says([audio_part(wav(0.05))])),
    post_json("chat/input-audio-format-exe", CHAT, user_says([audio_part(wav(0.3), "exe")])),
    post_json("chat/input-audio-without-format", CHAT, user_says([audio_part(wav(0.3), None)])),
    # unicode, unknown fields, traversal, long names
    post_json("chat/content-lone-surrogate", CHAT, user_says("hello \udc80")),
    post_json(
        "chat/transcript-lone-surrogate",
        CHAT,
        chat(messages=[{"role": "assistant", "audio": {"id": "audio_1", "transcript": "\udc00"}}]),
    ),
    post_json(
        "chat/refusal-part-number",
        CHAT,
        chat(messages=[{"role": "assistant", "content": [{"type": "refusal", "refusal": 5}]}]),
    ),
    post_json("chat/model-lone-surrogate", CHAT, chat(model="\ud83d"), NOT_FOUND),
    post_json("chat/model-rtl", CHAT, chat(model="نموذج"), NOT_FOUND),
    post_json("chat/role-nul", CHAT, chat(messages=[{"role": "user\u0000", "content": "Hi"}])),
    post_json("chat/unknown-field", CHAT, chat(bogus=True)),
    post_json("chat/model-path-traversal", CHAT, chat(model="../../models/smollm2.gguf"), NOT_FOUND),
    post_json("chat/model-100k-chars", CHAT, chat(model="c" * 100_000), NOT_FOUND),
    # wrong content types, oversize, methods
    Case(
        "chat/form-urlencoded",
        "POST",
        CHAT,
        content=b"model=gpt-4o-mini&messages=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    post_form("chat/multipart", CHAT, form(part("model", "gpt-4o-mini"), part("messages", "[]"))),
    Case(
        "chat/oversize-content-length",
        "POST",
        CHAT,
        TOO_LARGE,
        raw=declared_oversize(CHAT, CHAT_MAX, "application/json"),
    ),
    Case(
        "chat/oversize-chunked",
        "POST",
        CHAT,
        TOO_LARGE,
        raw=chunked_oversize(CHAT, CHAT_MAX, "application/json", b'{"model": "gpt-4o-mini", "messages": "'),
    ),
    Case("chat/GET", "GET", CHAT, NOT_ALLOWED),
    Case("chat/DELETE", "DELETE", CHAT, NOT_ALLOWED),
]

MODEL_CASES = [
    Case("models/unknown-id", "GET", MODELS + "/gpt-9-ultra", NOT_FOUND),
    Case("models/path-traversal-encoded", "GET", MODELS + "/..%2F..%2F..%2Fetc%2Fpasswd", NOT_FOUND),
    Case(
        "models/path-traversal-raw", "GET", MODELS, NOT_FOUND, raw=raw_head("GET", MODELS + "/../../../etc/passwd", {})
    ),
    Case("models/id-8k-chars", "GET", MODELS + "/" + "x" * 8000, NOT_FOUND),
    Case("models/empty-id", "GET", MODELS + "/", NOT_FOUND),
    Case("models/id-emoji", "GET", MODELS + "/%F0%9F%A4%96", NOT_FOUND),
    Case("models/id-nul", "GET", MODELS + "/whisper-1%00", NOT_FOUND),
    Case("models/id-invalid-utf8", "GET", MODELS + "/%FF%FE%ED%A0%80", NOT_FOUND),
    Case("models/POST", "POST", MODELS, NOT_ALLOWED, content=b"{}", headers=JSON_CT),
    Case("models/DELETE-id", "DELETE", MODELS + "/whisper-1", NOT_ALLOWED),
    Case("models/PATCH-id", "PATCH", MODELS + "/whisper-1", NOT_ALLOWED, content=b"{}", headers=JSON_CT),
    Case("models/PROPFIND", "PROPFIND", MODELS, NOT_ALLOWED),
    Case("models/OPTIONS", "OPTIONS", MODELS, NOT_ALLOWED),
    Case(
        "models/GET-declaring-oversize-body",
        "GET",
        MODELS,
        TOO_LARGE,
        raw=raw_head("GET", MODELS, {"Content-Length": str(JSON_MAX + 1)}),
    ),
]

ROUTE_CASES = [
    Case("routes/unknown-v1", "GET", "/v1/does-not-exist", NOT_FOUND),
    Case("routes/unknown-audio", "POST", "/v1/audio/voices", NOT_FOUND, content=b"{}", headers=JSON_CT),
    Case("routes/speech-subpath", "POST", SPEECH + "/extra", NOT_FOUND, content=speech(), headers=JSON_CT),
    Case("routes/v2", "GET", "/v2/models", NOT_FOUND),
    Case("routes/root", "GET", "/", NOT_FOUND),
    Case("routes/v1-root", "GET", "/v1/", NOT_FOUND),
    Case("routes/dotdot-raw", "GET", "/", NOT_FOUND, raw=raw_head("GET", "/v1/../../etc/passwd", {})),
]


def auth(id: str, header: str | None, method: str = "GET", path: str = MODELS, **kw: Any) -> Case:
    headers = dict(kw.pop("headers", {}))
    if header is not None:
        headers["Authorization"] = header
    return Case(id, method, path, UNAUTHORIZED, headers=headers, keyed=True, **kw)


AUTH_CASES = [
    auth("auth/missing-header", None),
    auth("auth/bearer-without-token", "Bearer"),
    auth("auth/wrong-key", "Bearer sk-wrong"),
    auth("auth/basic-scheme", "Basic dXNlcjpwYXNz"),
    auth("auth/token-scheme", f"Token {KEY}"),
    auth("auth/bare-key", KEY),
    auth("auth/key-with-suffix", f"Bearer {KEY}x"),
    auth("auth/key-prefix-only", f"Bearer {KEY[:-1]}"),
    auth("auth/8k-token", "Bearer " + "t" * 8000),
    Case(
        "auth/non-ascii-token",
        "GET",
        MODELS,
        UNAUTHORIZED,
        keyed=True,
        raw=raw_head("GET", MODELS, {}).replace(b"\r\n\r\n", "\r\nAuthorization: Bearer ключ\r\n\r\n".encode()),
    ),
    Case(
        "auth/latin1-token",
        "GET",
        MODELS,
        UNAUTHORIZED,
        keyed=True,
        raw=raw_head("GET", MODELS, {}).replace(b"\r\n\r\n", b"\r\nAuthorization: Bearer \xff\xfe\r\n\r\n"),
    ),
    auth("auth/speech-with-wrong-key", "Bearer nope", "POST", SPEECH, content=speech(), headers=JSON_CT),
    auth(
        "auth/transcription-with-wrong-key", "Bearer nope", "POST", TRANSCRIBE, content=upload(), headers=MULTIPART_CT
    ),
    auth("auth/chat-with-wrong-key", "Bearer nope", "POST", CHAT, content=chat(), headers=JSON_CT),
    auth("auth/model-with-wrong-key", "Bearer nope", "GET", MODELS + "/whisper-1"),
]

CASES: list[Case] = SPEECH_CASES + TRANSCRIPTION_CASES + CHAT_CASES + MODEL_CASES + ROUTE_CASES + AUTH_CASES
CATEGORIES = {c.id.split("/")[0] for c in CASES}


# ------------------------------------------------------------------------ sending


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


def send_raw(base: str, request: bytes | Callable[[], Iterator[bytes]]) -> Answer:
    """Write the request over a socket, stopping early once the server has answered."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.settimeout(10)
        pieces = [request] if isinstance(request, bytes) else request()
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break  # an early answer (413): stop sending
            try:
                sock.sendall(piece)
            except OSError:
                break  # the server closed its end after answering
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1.1 "), f"no HTTP answer: {data[:200]!r}"
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return Answer(int(lines[0].split()[1]), headers.get("content-type", ""), body)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def send(base: str, case: Case) -> Answer:
    if case.raw is not None:
        return send_raw(base, case.raw)
    r = httpx.request(case.method, base + case.path, content=case.content, headers=case.headers, timeout=30)
    return Answer(r.status_code, r.headers.get("content-type", ""), r.content)


def assert_envelope(answer: Answer, allowed: tuple[int, ...]) -> dict[str, Any]:
    assert answer.status in allowed, f"status {answer.status} (wanted {allowed}): {answer.body[:500]!r}"
    assert answer.content_type.startswith("application/json"), answer.content_type
    payload = json.loads(answer.body)
    assert isinstance(payload, dict) and set(payload) == {"error"}, payload
    err = payload["error"]
    assert isinstance(err, dict) and set(err) == ENVELOPE_KEYS, err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    assert isinstance(err["type"], str) and err["type"], err
    assert err["param"] is None or isinstance(err["param"], str), err
    assert err["code"] is None or isinstance(err["code"], str), err
    assert "Traceback" not in err["message"], err
    return err


def assert_serving(base: str, key: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.get(base + MODELS, headers=headers, timeout=30)
    assert r.status_code == 200 and r.json()["object"] == "list", r.text[:300]


# -------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    """A second backend that requires ``Authorization: Bearer KEY``."""
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=KEY))) as url:
        yield url


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_an_error_envelope(
    case: Case, backend_url: str, keyed_url: str, request: pytest.FixtureRequest
) -> None:
    results = request.config.stash.setdefault(HOSTILE_RESULTS, {})
    results[case.id] = False
    base = keyed_url if case.keyed else backend_url
    err = assert_envelope(send(base, case), case.status)
    if case.keyed:
        assert KEY not in err["message"]
    assert_serving(base, KEY if case.keyed else None)
    if case.keyed:
        assert_serving(backend_url)
    results[case.id] = True


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_hostile_input_count(request: pytest.FixtureRequest) -> None:
    """Runs last: every case was answered with the envelope and the server kept serving."""
    assert len(CASES) >= 60
    endpoints = {SPEECH, TRANSCRIBE, TRANSLATE, CHAT, MODELS}
    assert endpoints <= {c.path.split("/v1/models/")[0] if c.path.startswith(MODELS) else c.path for c in CASES}
    results = request.config.stash.get(HOSTILE_RESULTS, {})
    failed = sorted(case_id for case_id, ok in results.items() if not ok)
    assert not failed, f"cases not answered with an OpenAI error envelope: {failed}"
    print(
        f"\nhostile inputs: {len(CASES)} in {len(CATEGORIES)} groups, "
        "all answered with an OpenAI error envelope; server still serving"
    )
