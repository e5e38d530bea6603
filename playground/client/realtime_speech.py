"""Text to speech through the Realtime API: one connection per text, measured like the speech endpoint.

What Play does on the realtime workflow, and exactly what the exported code does: connect
with the SDK, ``session.update`` (voice, speed, format), ``response.create`` with the text
out of band, then read ``response.output_audio.delta`` and the transcript until
``response.done``. The audio is handed on as it arrives (in the session's format) and kept
as a WAV file; G.711 is decoded to 16-bit at its own 8 kHz. A watchdog closes the
connection when the run passes its deadline, so a silent server cannot hold a worker.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import openai

from playground.client.providers import Provider
from playground.client.results import MAX_TRACED_CHUNKS, SpeechResult
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.errors import ProviderError
from playground.core.pricing import estimate_realtime_cost
from playground.core.specs import RealtimeSpeechSpec

__all__ = ["TIMEOUT_S", "realtime_speech"]

#: a whole run: connect, the text's audio, response.done
TIMEOUT_S = 120.0


def _ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def realtime_speech(
    provider: Provider,
    spec: RealtimeSpeechSpec,
    *,
    on_audio: Callable[[bytes], None] | None = None,
    on_transcript: Callable[[str], None] | None = None,
    timeout: float = TIMEOUT_S,
) -> SpeechResult:
    """Speak ``spec.input`` through a realtime session; ``on_audio`` gets each delta's bytes
    in ``spec.output_format``, ``on_transcript`` each transcript delta."""
    spec.validate()
    t0 = time.perf_counter()
    parts: list[bytes] = []
    arrivals: list[tuple[float, int]] = []
    transcript: list[str] = []
    final_transcript: str | None = None
    usage: dict[str, Any] | None = None
    ttfb = sent_at = connect_ms = None
    status = None
    timed_out = threading.Event()
    try:
        manager = provider.client().realtime.connect(**spec.to_kwargs())
        with manager as conn:
            connect_ms = _ms_since(t0)

            def expire() -> None:
                timed_out.set()
                conn.close()

            watchdog = threading.Timer(timeout, expire)
            watchdog.daemon = True
            watchdog.start()
            try:
                conn.session.update(session=spec.to_session())  # type: ignore[arg-type]
                conn.response.create(response=spec.to_response())  # type: ignore[arg-type]
                sent_at = _ms_since(t0)
                for event in conn:
                    kind = event.type
                    if kind == "response.output_audio.delta":
                        data = base64.b64decode(event.delta)
                        if ttfb is None:
                            ttfb = _ms_since(t0)
                        if len(arrivals) < MAX_TRACED_CHUNKS:
                            arrivals.append((_ms_since(t0), len(data)))
                        parts.append(data)
                        if on_audio is not None:
                            on_audio(data)
                    elif kind == "response.output_audio_transcript.delta":
                        transcript.append(event.delta)
                        if on_transcript is not None:
                            on_transcript(event.delta)
                    elif kind == "response.output_audio_transcript.done":
                        final_transcript = event.transcript
                    elif kind == "error":
                        raise ProviderError(
                            provider.redact(f"Realtime speech failed: {event.error.message}"),
                            code=event.error.code,
                        )
                    elif kind == "response.done":
                        status = event.response.status
                        if event.response.usage is not None:
                            usage = event.response.usage.model_dump(exclude_none=True)
                        if status == "failed":
                            details = event.response.status_details
                            error = getattr(details, "error", None)
                            raise ProviderError(
                                f"Realtime speech failed: the response failed ({getattr(error, 'code', None)})",
                                code=getattr(error, "code", None),
                            )
                        break
            finally:
                watchdog.cancel()
    except ProviderError:
        raise
    except openai.APIStatusError as e:
        raise ProviderError(provider.redact(f"Realtime speech failed ({e.status_code}): {e.message}")) from None
    except Exception as e:  # noqa: BLE001 - websockets and socket errors: one readable message
        if timed_out.is_set():
            raise ProviderError(f"Realtime speech timed out after {timeout:.0f} s", code="timeout") from None
        where = provider.public()["base_url"]
        raise ProviderError(
            provider.redact(f"Realtime speech: cannot talk to {where} ({type(e).__name__}: {e})"),
            code="connection_error",
        ) from None
    if status is None:
        raise ProviderError("Realtime speech: the connection closed before the response was done")
    return _result(spec, b"".join(parts), t0, ttfb, usage, arrivals, final_transcript, transcript, connect_ms, sent_at)


def _result(
    spec: RealtimeSpeechSpec,
    data: bytes,
    t0: float,
    ttfb: float | None,
    usage: dict[str, Any] | None,
    arrivals: list[tuple[float, int]],
    final: str | None,
    deltas: list[str],
    connect_ms: float | None,
    sent_at: float | None,
) -> SpeechResult:
    total = _ms_since(t0)
    pcm, rate = audio.session_audio_to_pcm16(data, spec.output_format)
    duration = len(pcm) / 2 / rate
    return SpeechResult(
        spec=spec,
        audio=audio.pcm16_wav(pcm, rate),
        duration_s=duration,
        ttfb_ms=ttfb if ttfb is not None else total,
        total_ms=total,
        usage=usage,
        est_cost=_cost(spec, usage, duration),
        chunks=tuple(arrivals),
        transcript=final if final is not None else "".join(deltas),
        connect_ms=connect_ms,
        server_first_audio_ms=(ttfb - sent_at) if ttfb is not None and sent_at is not None else None,
    )


def _cost(spec: RealtimeSpeechSpec, usage: dict[str, Any] | None, duration_s: float) -> float | None:
    """From the response's token usage; a server that sends none is estimated from the
    text (about four characters a token) and the audio (the model's audio tokens a second)."""
    if not usage:
        cat = get_catalog()
        price = cat.price(cat.canonical_realtime_model(spec.model) or spec.model)
        chars = len(spec.input) + len(spec.to_response()["instructions"])
        usage = {
            "input_token_details": {"text_tokens": round(chars / 4)},
            "output_token_details": {
                "audio_tokens": round(duration_s * price.get("assistant_audio_tokens_per_second", 0))
            },
        }
    return estimate_realtime_cost(spec.model, usage)
