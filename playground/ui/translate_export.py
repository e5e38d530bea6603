"""The Translate tab's pure pieces (no Gradio): the price of a session so far, and what
the page hands over when the user exports a session, checked and turned into files.

The page (``static/translate.js``) keeps the transcripts, the per-phrase table and the
translated speech it played; on Export it sends them as one JSON object, parsed here by
``parse_session``. The source audio does not travel back: the relay kept it.
"""

from __future__ import annotations

import base64
import binascii
import statistics
from dataclasses import dataclass, field
from typing import Any

from playground.core import jsonsafe
from playground.core.audio import pcm16_wav

__all__ = [
    "Phrase",
    "TranslatedSession",
    "cost_text",
    "parse_session",
    "pcm_wav",
    "session_timings",
    "transcripts_text",
]

#: the rate of everything a translation session takes and returns (PCM16, mono)
RATE = 24000


@dataclass(frozen=True)
class Phrase:
    """One row of the phrase table."""

    #: the input position (ms, 200 ms steps) of the frame the phrase ended in
    elapsed_ms: int
    source: str = ""
    translation: str = ""
    #: from the page sending the audio at ``elapsed_ms`` to the phrase's first translated audio
    latency_ms: float | None = None


@dataclass(frozen=True)
class TranslatedSession:
    """What the page exports: both transcripts, the phrases, the translated speech."""

    source: str
    translation: str
    #: milliseconds of source audio sent
    input_ms: float
    phrases: list[Phrase] = field(default_factory=list)
    #: the translated speech, PCM16 at 24 kHz, mono
    audio: bytes = b""

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / 2 / RATE


def cost_text(input_ms: float, per_minute: float | None) -> str:
    """The session's price so far: input minutes × the per-minute price ("n/a" without one)."""
    if per_minute is None:
        return "n/a"
    return f"${max(0.0, input_ms) / 60000 * per_minute:.4f}"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    return float(value)


def _phrase(row: Any) -> Phrase:
    if not isinstance(row, dict):
        raise ValueError("each phrase must be an object")
    latency = row.get("latency_ms")
    return Phrase(
        elapsed_ms=int(_number(row.get("elapsed_ms"), "elapsed_ms")),
        source=str(row.get("source") or ""),
        translation=str(row.get("translation") or ""),
        latency_ms=None if latency is None else _number(latency, "latency_ms"),
    )


def parse_session(text: str | None, *, max_seconds: float) -> TranslatedSession:
    """The page's export, checked; ``ValueError`` says what is wrong. The audio is cut at
    ``max_seconds``."""
    try:
        data = jsonsafe.loads(text or "")
    except ValueError as e:
        raise ValueError(f"the export is not JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError("the export must be an object")
    phrases = data.get("phrases") or []
    if not isinstance(phrases, list):
        raise ValueError("phrases must be a list")
    try:
        audio = base64.b64decode(str(data.get("audio") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the translated audio is not base64") from None
    limit = int(max_seconds * RATE) * 2
    return TranslatedSession(
        source=str(data.get("source") or ""),
        translation=str(data.get("translation") or ""),
        input_ms=_number(data.get("input_ms", 0), "input_ms"),
        phrases=[_phrase(row) for row in phrases],
        audio=audio[: min(limit, len(audio) // 2 * 2)],
    )


def pcm_wav(pcm: bytes, rate: int = RATE) -> bytes:
    """PCM16 mono as a WAV file."""
    return pcm16_wav(pcm[: len(pcm) // 2 * 2], rate)


def _clock(ms: float) -> str:
    return f"{int(ms // 60000)}:{ms % 60000 / 1000:04.1f}"


def transcripts_text(session: TranslatedSession, language: str) -> str:
    """Both transcripts and the phrase table as plain text (the exported .txt)."""
    lines = [
        f"Source ({_clock(session.input_ms)} of audio):",
        session.source.strip() or "(no source transcript)",
        "",
        f"Translation ({language}):",
        session.translation.strip() or "(nothing translated)",
        "",
        "Phrases (position · latency · source → translation):",
    ]
    for p in session.phrases:
        latency = "—" if p.latency_ms is None else f"{p.latency_ms:.0f} ms"
        lines.append(f"{_clock(p.elapsed_ms)} · {latency} · {p.source.strip()} → {p.translation.strip()}")
    return "\n".join(lines) + "\n"


def session_timings(session: TranslatedSession) -> dict[str, float]:
    """What the history keeps as the run's timings (ms)."""
    latencies = [p.latency_ms for p in session.phrases if p.latency_ms is not None]
    timings = {"input_ms": session.input_ms}
    if latencies:
        timings["first_phrase_latency_ms"] = latencies[0]
        timings["median_latency_ms"] = statistics.median(latencies)
    return timings
