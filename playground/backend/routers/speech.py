"""``POST /audio/speech``: the 13 OpenAI voices on local engines, streamed.

Validation is the same ``SpeechSpec`` the playground uses, so the backend and the UI
agree on every limit; the body's shape is checked strictly first: unknown fields are
refused as OpenAI does, and ``speed`` must be a JSON number (pydantic would otherwise
turn ``"1.5"`` or ``true`` into one). Audio leaves sentence by sentence: the first
chunk is synthesised before the response starts (so a failing engine still gets a
proper error status), the rest while earlier chunks are on the wire. Synthesis and
encoding run in worker threads; the event loop only moves bytes. FLAC is the one format
sent whole (its header needs the length; see ``core.encode``).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from playground.backend.errors import APIError, custom_voice_message, engine_failure, spec_error
from playground.backend.localmap import local_voice
from playground.backend.models_gate import check_model
from playground.backend.style import Prosody, parse_instructions
from playground.backend.synthesis import Synthesizer, audio_tokens
from playground.core.catalog import get_catalog
from playground.core.encode import WHOLE_FILE_FORMATS, StreamEncoder, encode_all
from playground.core.specs import SpeechSpec

router = APIRouter(tags=["audio"])
log = logging.getLogger(__name__)

INSTRUCTIONS_HEADER = "x-playground-instructions-applied"


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    input: str
    voice: str | dict[str, Any]
    instructions: str | None = None
    response_format: str = get_catalog().speech_defaults["format"]
    speed: float = Field(default=1.0, strict=True)
    stream_format: str = "audio"


def _spec(body: SpeechBody) -> SpeechSpec:
    check_model(body.model)
    custom = custom_voice_message(body.voice, "voice", len(get_catalog().speech_voices))
    if custom is not None:
        raise APIError(custom, param="voice", code="invalid_value")
    voice = str(body.voice)
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
    return spec


async def _encoded(synth: Synthesizer, fmt: str) -> AsyncIterator[bytes]:
    """Encoded audio, chunk by chunk; the first chunk is rendered before this returns."""
    if fmt in WHOLE_FILE_FORMATS:
        try:
            samples = await run_in_threadpool(synth.render_all)
            data = await run_in_threadpool(encode_all, samples, fmt, synth.rate)
        except Exception as e:
            log.exception("speech synthesis failed")
            raise engine_failure("speech engine") from e

        async def whole() -> AsyncIterator[bytes]:
            yield data

        return whole()

    chunks = synth.stream()
    try:
        first = await anext(chunks, None)
    except Exception as e:
        log.exception("speech synthesis failed")
        raise engine_failure("speech engine") from e
    encoder = StreamEncoder(fmt, synth.rate)

    async def pieces() -> AsyncIterator[bytes]:
        try:
            samples: np.ndarray | None = first
            while samples is not None:
                data = await run_in_threadpool(encoder.encode, samples)
                if data:
                    yield data
                samples = await anext(chunks, None)
            tail = await run_in_threadpool(encoder.finish)
            if tail:
                yield tail
        except Exception:
            log.exception("speech stream failed mid-way")
        finally:
            await chunks.aclose()

    return pieces()


@router.post("/audio/speech")
async def create_speech(body: SpeechBody, request: Request) -> Response:
    spec = _spec(body)
    voice = local_voice(spec.voice)
    prosody = parse_instructions(spec.instructions) if spec.instructions else Prosody()
    try:
        synth = Synthesizer(request.app.state.engines, voice, spec.input, speed=spec.speed, prosody=prosody)
    except Exception as e:
        log.exception("speech engine could not start")
        raise engine_failure("speech engine") from e
    audio = await _encoded(synth, spec.response_format)
    headers = {INSTRUCTIONS_HEADER: prosody.describe(), "x-playground-voice": voice.label}
    if spec.stream_format == "sse":

        async def events() -> AsyncIterator[bytes]:
            async for data in audio:
                event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}
                yield f"data: {json.dumps(event)}\n\n".encode()
            in_tok = synth.input_tokens(spec.input, spec.instructions)
            out_tok = audio_tokens(synth.seconds)
            usage = {"input_tokens": in_tok, "output_tokens": out_tok, "total_tokens": in_tok + out_tok}
            yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
    mime = get_catalog().speech_formats[spec.response_format].mime
    return StreamingResponse(audio, media_type=mime, headers=headers)
