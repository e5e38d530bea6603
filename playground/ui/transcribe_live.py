"""Live mode's handlers: the live panel's values as a realtime transcription session, the
one-time relay ticket that opens it, its code, and the recording handed on to file mode.

Import the names from ``playground.ui.transcribe``.
"""

from __future__ import annotations

import json
import time
import wave as wav_io
from typing import Any

import gradio as gr

from playground.core.catalog import get_catalog
from playground.core.snippets import render
from playground.core.specs import RealtimeTranscriptionSpec
from playground.ui.context import get_context
from playground.ui.transcribe_options import _model

#: the script in the live code panel plays this file into the session
LIVE_FILE = "recording.wav"


def live_spec(
    model: str,
    language: str,
    prompt: str,
    noise: str,
    turn: str,
    threshold: float,
    silence_ms: float,
    prefix_ms: float,
    eagerness: str,
    delay: str | None = "",
) -> RealtimeTranscriptionSpec:
    """The live panel's values as a realtime transcription session (not validated); the
    delay goes only to a model that takes one."""
    info = _model(model)
    return RealtimeTranscriptionSpec(
        delay=(delay or "") if info is not None and info.delay else "",
        model=model,
        language=language or "",
        prompt=(prompt or "").strip(),
        noise_reduction=noise or "",
        turn_detection=turn,
        vad_threshold=float(threshold),
        silence_duration_ms=int(silence_ms),
        prefix_padding_ms=int(prefix_ms),
        eagerness=eagerness,
    )


def live_connect(
    model: str,
    language: str,
    prompt: str,
    noise: str,
    turn: str,
    threshold: float,
    silence_ms: float,
    prefix_ms: float,
    eagerness: str,
    delay: str | None = "",
    request: gr.Request = None,
) -> str:
    """A one-time relay ticket for a live transcription session, for this browser session."""
    spec = live_spec(model, language, prompt, noise, turn, threshold, silence_ms, prefix_ms, eagerness, delay)
    problems = spec.problems()
    if problems:
        return json.dumps({"error": "Fix the settings first: " + "; ".join(str(p) for p in problems)})
    ctx = get_context()
    provider = ctx.provider_for(request)
    owner = getattr(request, "session_hash", None) or "anonymous"
    ticket = ctx.relay.mint(
        provider, spec.model, spec.to_session(), owner=owner, mode="transcription",
        person=ctx.person_for(request), origin=ctx.origin_for(request),
    )  # fmt: skip
    return json.dumps({"ticket": ticket, "session": spec.to_session(), "label": provider.label})


def live_code(
    model: str,
    language: str,
    prompt: str,
    noise: str,
    turn: str,
    threshold: float,
    silence_ms: float,
    prefix_ms: float,
    eagerness: str,
    delay: str | None = "",
    request: gr.Request = None,
) -> list[str]:
    """Python (a recording played into the same session) and JavaScript for the live settings."""
    spec = live_spec(model, language, prompt, noise, turn, threshold, silence_ms, prefix_ms, eagerness, delay)
    problems = spec.problems()
    if problems:
        note = "# Fix the settings first: " + "; ".join(str(p) for p in problems) + "\n"
        return [note, note.replace("#", "//", 1)]
    base_url = get_context().provider_for(request).snippet_base_url
    return [render(spec, "python", base_url=base_url, file_path=LIVE_FILE), render(spec, "js", base_url=base_url)]


def use_live_recording(request: gr.Request = None) -> tuple[Any, str, Any]:
    """The last live recording of this browser session as a WAV file for file transcription."""
    owner = getattr(request, "session_hash", None) or "anonymous"
    pcm = get_context().relay.recording(owner)
    rate = get_catalog().realtime.pcm_rate
    if not pcm:
        return gr.update(), "Nothing recorded live yet: press Record in Live mode first.", gr.update()
    path = get_context().output_path(f"live-{int(time.time())}.wav")
    with wav_io.open(str(path), "wb") as w:  # the relay kept PCM16 mono at the session's rate
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm[: len(pcm) // 2 * 2])
    info = f"The live recording: **{len(pcm) / 2 / rate:.2f} s**. Pick other settings and press Transcribe."
    return str(path), info, "file"
