"""Driving the embedded realtime endpoint with the real SDK: audio, events, timeouts."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from openai import AsyncOpenAI
from openai.types.realtime.realtime_server_event import RealtimeServerEvent
from pydantic import TypeAdapter

from playground.core import audio

SPEECH = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "speech"
RATE = 24000
#: appends of 40 ms, as a microphone worklet sends them
FRAME = RATE * 40 // 1000

_STRICT = TypeAdapter(RealtimeServerEvent)


@functools.cache
def clip(name: str, rate: int = RATE) -> np.ndarray:
    return audio.decode_mono((SPEECH / name).read_bytes(), rate)


def manifest_text(name: str) -> str:
    data = json.loads((SPEECH / "manifest.json").read_text())
    return next(c["text"] for c in data["clips"] if c["file"] == name)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.float32)


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def client_for(backend_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=backend_url + "/v1", api_key="local", max_retries=0)


def strict(event: Any) -> Any:
    """Validate an event against the SDK's own models: every required field, right types."""
    return _STRICT.validate_python(event.model_dump(exclude_unset=True))


async def send_audio(conn: Any, samples: np.ndarray, *, pace: float = 0.0) -> None:
    """Append in 40 ms frames; ``pace`` 1.0 sends them in real time, 0 as fast as possible."""
    data = pcm16(samples)
    step = FRAME * 2
    loop = asyncio.get_running_loop()
    start = loop.time()
    for k, i in enumerate(range(0, len(data), step)):
        await conn.input_audio_buffer.append(audio=b64(data[i : i + step]))
        if pace:
            delay = start + (k + 1) * 0.04 / pace - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


async def collect(
    conn: Any, until: str | Callable[[Any], bool], *, timeout: float = 120.0, events: list[Any] | None = None
) -> list[Any]:
    """Events received up to and including the first that matches ``until``."""
    done = (lambda e: e.type == until) if isinstance(until, str) else until
    out = events if events is not None else []

    async def run() -> list[Any]:
        while True:
            event = await conn.recv()
            strict(event)
            out.append(event)
            if done(event):
                return out

    return await asyncio.wait_for(run(), timeout)


def types(events: list[Any]) -> list[str]:
    return [e.type for e in events]


def audio_of(events: list[Any]) -> np.ndarray:
    data = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0


def one(events: list[Any], type_: str) -> Any:
    found = [e for e in events if e.type == type_]
    assert len(found) == 1, f"expected one {type_}, got {len(found)}: {types(events)}"
    return found[0]
