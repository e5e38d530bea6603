"""``POST /audio/speech``: the 13 OpenAI voices on local engines, streamed.

Validation is the same ``SpeechSpec`` the playground uses, so the backend and the UI
agree on every limit. Audio leaves sentence by sentence: the first chunk is
synthesised before the response starts (so a failing engine still gets a proper
error status), the rest while earlier chunks are on the wire.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from playground.backend.errors import APIError, spec_error
from playground.backend.localmap import local_voice
from playground.backend.style import Prosody, parse_instructions
from playground.backend.synthesis import OUTPUT_RATE, Synthesizer, audio_tokens
from playground.core.encode import StreamEncoder
from playground.core.specs import SpeechSpec

router = APIRouter(tags=["audio"])
log = logging.getLogger(__name__)

INSTRUCTIONS_HEADER = "x-playground-instructions-applied"


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str
    voice: str | dict[str, Any]
    instructions: str | None = None
    response_format: str = "mp3"
    speed: float = 1.0
    stream_format: str = "audio"


def _spec(body: SpeechBody) -> SpeechSpec:
    voice = body.voice
    if isinstance(voice, dict):
        voice = str(voice.get("id", ""))
    spec = SpeechSpec(
        input=body.input,
        voice=voice,
        model=body.model,
        instructions=body.instructions or "",
        speed=body.speed,
        response_format=body.response_format,
        stream_format=body.stream_format,  # type: ignore[arg-type]
    )
    problems = spec.problems()
    if problems:
        raise spec_error(problems)
    if spec.voice.startswith("voice_"):
        raise APIError(
            "Custom voices are not available on the local backend; use one of the built-in voices.",
            param="voice",
            code="invalid_value",
        )
    return spec


@router.post("/audio/speech")
async def create_speech(body: SpeechBody, request: Request) -> StreamingResponse:
    spec = _spec(body)
    voice = local_voice(spec.voice)
    prosody = parse_instructions(spec.instructions) if spec.instructions else Prosody()
    engines = request.app.state.engines
    try:
        synth = Synthesizer(engines, voice, spec.input, speed=spec.speed, prosody=prosody)
        chunks = synth.stream()
        first = await anext(chunks, None)
    except APIError:
        raise
    except Exception as e:
        log.exception("speech synthesis failed")
        raise APIError(f"Local speech engine failed: {e}", status=500, type="server_error") from e

    encoder = StreamEncoder(spec.response_format, OUTPUT_RATE)

    async def audio_bytes() -> AsyncIterator[bytes]:
        try:
            if first is not None:
                yield encoder.encode(first)
            async for samples in chunks:
                data = encoder.encode(samples)
                if data:
                    yield data
            tail = encoder.finish()
            if tail:
                yield tail
        except Exception:
            log.exception("speech stream failed mid-way")

    headers = {INSTRUCTIONS_HEADER: prosody.describe(), "x-playground-voice": voice.label}
    if spec.stream_format == "sse":

        async def events() -> AsyncIterator[bytes]:
            async for data in audio_bytes():
                event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}
                yield f"data: {json.dumps(event)}\n\n".encode()
            in_tok = synth.input_tokens(spec.input, spec.instructions)
            out_tok = audio_tokens(synth.seconds)
            usage = {"input_tokens": in_tok, "output_tokens": out_tok, "total_tokens": in_tok + out_tok}
            yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
    return StreamingResponse(audio_bytes(), media_type=encoder.mime, headers=headers)
