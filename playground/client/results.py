"""What a run returns: the payload, its timings, usage and an estimated cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.core.catalog import get_catalog
from playground.core.pricing import format_cost
from playground.core.specs import ChatAudioSpec, RealtimeSpeechSpec, SpeechSpec, TranscriptionSpec

__all__ = ["MAX_TRACED_CHUNKS", "ChatAudioResult", "SpeechResult", "TranscriptionResult"]

#: chunk arrival times kept per run for the trace view
MAX_TRACED_CHUNKS = 512


@dataclass(frozen=True)
class SpeechResult:
    """A text spoken by either workflow: the speech endpoint or a Realtime session."""

    spec: SpeechSpec | RealtimeSpeechSpec
    #: the encoded audio exactly as received, in ``spec.response_format`` (realtime: a WAV file)
    audio: bytes
    #: seconds of audio, decoded from the bytes; None if undecodable
    duration_s: float | None
    #: request start -> first audio byte
    ttfb_ms: float
    total_ms: float
    usage: dict[str, Any] | None
    #: USD; None when the catalog has no price for the model
    est_cost: float | None
    #: what the embedded backend says it applied from ``instructions`` (header)
    instructions_applied: str | None = None
    #: (ms since the request, bytes) of each chunk as it arrived, for the trace view (at most 512)
    chunks: tuple[tuple[float, int], ...] = ()
    #: realtime: what the model said it said (compare with ``spec.input`` for rewording)
    transcript: str | None = None
    #: realtime: connecting took this long (part of ``ttfb_ms``)
    connect_ms: float | None = None
    #: realtime: ``response.create`` sent -> first audio delta
    server_first_audio_ms: float | None = None

    @property
    def workflow(self) -> str:
        """``realtime`` or ``speech`` (the endpoint)."""
        return "realtime" if isinstance(self.spec, RealtimeSpeechSpec) else "speech"

    @property
    def mime(self) -> str:
        fmt = get_catalog().speech_formats.get(self.spec.response_format)
        return fmt.mime if fmt else "application/octet-stream"

    def summary(self) -> str:
        dur = f"{self.duration_s:.2f} s audio" if self.duration_s is not None else "duration n/a"
        return (
            f"{dur} · first byte {self.ttfb_ms:.0f} ms · total {self.total_ms:.0f} ms · "
            f"est. {format_cost(self.est_cost)}"
        )


@dataclass(frozen=True)
class TranscriptionResult:
    spec: TranscriptionSpec
    text: str
    #: the parsed response (dict for json formats, str for text/srt/vtt)
    raw: Any
    duration_s: float | None
    ttfb_ms: float
    total_ms: float
    usage: dict[str, Any] | None
    est_cost: float | None

    def summary(self) -> str:
        dur = f"{self.duration_s:.2f} s audio" if self.duration_s is not None else "duration n/a"
        return f"{dur} · total {self.total_ms:.0f} ms · est. {format_cost(self.est_cost)}"


@dataclass(frozen=True)
class ChatAudioResult:
    spec: ChatAudioSpec
    #: the spoken reply's transcript (or the text reply)
    text: str
    #: the reply's audio in ``spec.audio_format`` (a streamed reply: raw PCM16 at 24 kHz)
    audio: bytes | None
    total_ms: float
    usage: dict[str, Any] | None
    #: what a later turn sends back as ``{"role": "assistant", "audio": {"id": ...}}``
    audio_id: str | None = None
    expires_at: int | None = None
    #: request sent → first chunk / first audio (streamed replies; the whole reply otherwise)
    ttfb_ms: float | None = None
    first_audio_ms: float | None = None
    est_cost: float | None = None
    finish_reason: str | None = None
