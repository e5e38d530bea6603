"""Running a file transcription and showing what came back.

A run validates the spec, streams the text from a worker thread and draws the result:
diarized turns, word buttons over the audio, the words on the waveform, subtitles, metrics
and the WER diff; the code panel shows the same request. Import the names from
``playground.ui.transcribe``.
"""

from __future__ import annotations

import html
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from playground.client.runner import Runner
from playground.core.audio import AudioDecodeError, decode, to_mono
from playground.core.diffview import diff_html
from playground.core.errors import PlaygroundError, SpecError
from playground.core.plots import waveform_figure, word_timeline_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.subtitles import cue_text
from playground.ui.context import get_context
from playground.ui.transcribe_options import transcription_spec

#: OpenAI refuses shorter audio; below half a second a clip rarely holds a word
MIN_SECONDS = 0.1
SHORT_SECONDS = 0.5
SUBTITLES = ("srt", "vtt")


def audio_loaded(path: str | None) -> tuple[Any, str]:
    """The waveform and duration as soon as audio is loaded (or what is wrong with it)."""
    if not path:
        return None, ""
    try:
        sound = decode(Path(path).read_bytes())
    except (AudioDecodeError, OSError) as e:
        return None, _not_audio(path, e)
    mono = to_mono(sound.samples)
    seconds = len(mono) / sound.sample_rate
    channels = 1 if sound.samples.ndim == 1 else sound.samples.shape[1]
    info = f"**{seconds:.2f} s** · {sound.sample_rate} Hz · {channels} channel{'s' if channels > 1 else ''}"
    return waveform_figure(mono, sound.sample_rate, title=Path(path).name), info


def _not_audio(path: str, error: Exception) -> str:
    """Why a file is not audio, in words (not ``[Errno 1094995529] … '<none>'``)."""
    why = re.sub(r"\[Errno -?\d+\]\s*", "", str(error).strip())
    why = re.sub(r"^could not decode audio:\s*", "", why, flags=re.IGNORECASE)
    why = re.sub(r":\s*'<none>'", "", why).strip().rstrip(".") or "no audio stream found"
    why = why[:1].lower() + why[1:]
    return f"⚠️ This file is not audio we can read ({html.escape(why)}): {html.escape(Path(path).name)}"


def error_beside_button(metrics: str) -> tuple[str, Any]:
    """After a run: a refusal moves next to the Transcribe button (the metrics line empties);
    a good run clears the last refusal."""
    if (metrics or "").startswith("⚠️") and "**Total**" not in metrics:
        return metrics, ""
    return "", gr.update()


def use_studio_output(request: gr.Request = None) -> tuple[str | None, str]:
    path = get_context().last_output(getattr(request, "session_hash", None))
    if path is None:
        return None, "Nothing from the Studio yet: press Play there first."
    return path, f"The Studio's last output: `{Path(path).name}`."


def _speaker_segments(raw: Any) -> list[dict[str, Any]]:
    """The segments of a diarized result (each with its ``speaker``), else none."""
    if not isinstance(raw, dict):
        return []
    segments = [s for s in raw.get("segments") or [] if isinstance(s, dict)]
    return segments if segments and all(s.get("speaker") for s in segments) else []


def speaker_text(raw: Any) -> str:
    """A diarized transcript as one line per turn: ``A: …`` (or the known speaker's name)."""
    lines: list[tuple[str, str]] = []
    for seg in _speaker_segments(raw):
        who, text = str(seg["speaker"]), str(seg.get("text") or "").strip()
        if lines and lines[-1][0] == who:
            lines[-1] = (who, f"{lines[-1][1]} {text}".strip())
        else:
            lines.append((who, text))
    return "\n".join(f"{who}: {text}" for who, text in lines)


def speaker_html(path: str, raw: Any) -> str:
    """A diarized transcript, a colour per speaker; each segment plays the audio from there."""
    segments = _speaker_segments(raw)
    if not segments:
        return ""
    colours: dict[str, int] = {}
    rows = []
    for seg in segments:
        who = str(seg["speaker"])
        n = colours.setdefault(who, len(colours) % 6)
        start = float(seg.get("start") or 0.0)
        rows.append(
            f'<div class="pg-tr-turn"><span class="pg-spk pg-spk-{n}" title="speaker">{html.escape(who)}</span>'
            f'<button type="button" class="pg-tr-seek" data-t="{start:.2f}" title="{start:.2f} s">'
            f"{html.escape(str(seg.get('text') or '').strip())}</button></div>"
        )
    src = f"/gradio_api/file={html.escape(path)}"
    return (
        f'<audio id="pg-tr-player" controls preload="auto" src="{src}"></audio>'
        f'<div class="pg-tr-turns"><span class="pg-muted">{len(colours)} speaker{"s" if len(colours) != 1 else ""}'
        f" · click a line to play from there:</span>{''.join(rows)}</div>"
    )


def _words_html(path: str, raw: Any) -> str:
    """The audio and, for verbose_json, each word (or segment) as a button that plays from there."""
    if not isinstance(raw, dict):
        return ""
    items = [(w["start"], w["word"]) for w in raw.get("words") or []]
    kind = "words"
    if not items:
        items = [(s["start"], s["text"]) for s in raw.get("segments") or []]
        kind = "segments"
    if not items:
        return ""
    buttons = " ".join(
        f'<button type="button" class="pg-tr-seek" data-t="{start:.2f}" title="{start:.2f} s">'
        f"{html.escape(str(text).strip())}</button>"
        for start, text in items
    )
    src = f"/gradio_api/file={html.escape(path)}"
    return (
        f'<audio id="pg-tr-player" controls preload="auto" src="{src}"></audio>'
        f'<div class="pg-tr-words"><span class="pg-muted">Click {kind} to play from there:</span> {buttons}</div>'
    )


def _timeline(path: str, raw: Any) -> Any:
    if not isinstance(raw, dict):
        return None
    words = [(float(w["start"]), float(w["end"]), str(w["word"])) for w in raw.get("words") or []]
    if not words:
        words = [(float(s["start"]), float(s["end"]), str(s["text"]).strip()[:24]) for s in raw.get("segments") or []]
    if not words:
        return None
    try:
        sound = decode(Path(path).read_bytes())
    except (AudioDecodeError, OSError):
        return None
    return word_timeline_figure(to_mono(sound.samples), sound.sample_rate, words, title="Words on the waveform")


def _subtitle_file(path: str, fmt: str, text: str) -> str:
    out = get_context().output_path(f"{Path(path).stem}-{int(time.time())}.{fmt}")
    out.write_text(text, encoding="utf-8")
    return str(out)


def _metrics(result: Any, streamed: bool) -> str:
    parts = []
    if streamed:
        parts.append(f"**First text** {result.ttfb_ms:.0f} ms")
    parts.append(f"**Total** {result.total_ms:.0f} ms")
    if result.duration_s is not None:
        parts.append(f"**Audio** {result.duration_s:.2f} s")
    parts.append(f"**Est. cost** {format_cost(result.est_cost)}")
    return " · ".join(parts)


def run_transcription(
    path: str | None,
    task: str,
    model: str,
    language: str,
    prompt: str,
    temperature: float | None,
    fmt: str,
    grains: list[str] | None,
    logprobs: bool,
    stream: bool,
    reference: str,
    keywords: str | None = "",
    languages: list[str] | None = None,
    request: gr.Request = None,
) -> Iterator[tuple[Any, ...]]:
    """Yields (text, metrics, timeline, words, subtitle file, WER); the text grows while it streams."""
    nothing = (gr.update(visible=False), "", gr.update(value=None, visible=False), "")  # timeline, words, file, WER
    if not path:
        yield ("", "⚠️ Load a file, record from the microphone, or use the Studio's last output first.", *nothing)
        return
    spec = transcription_spec(
        path, task, model, language, prompt, temperature, fmt, grains, logprobs, stream, keywords, languages
    )
    try:
        spec.validate()
    except SpecError as e:
        yield ("", f"⚠️ {html.escape(str(e))}", *nothing)
        return
    try:
        seconds: float | None = decode(Path(path).read_bytes()).duration
    except AudioDecodeError as e:
        yield ("", _not_audio(path, e), *nothing)
        return
    except OSError:
        seconds = None  # the server says what is wrong with it
    if seconds is not None and seconds < MIN_SECONDS:
        yield ("", f"⚠️ The clip is {seconds:.2f} s long: too short (at least {MIN_SECONDS} s).", *nothing)
        return
    runner = Runner(get_context().provider_for(request))
    deltas: queue.Queue[str] = queue.Queue()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = runner.transcribe(spec, on_delta=deltas.put)
        except PlaygroundError as e:
            box["error"] = str(e)
        finally:
            deltas.put("")  # wake the loop

    worker = threading.Thread(target=work, name="transcribe", daemon=True)
    worker.start()
    text = ""
    while worker.is_alive() or not deltas.empty():
        try:
            piece = deltas.get(timeout=0.1)
        except queue.Empty:
            continue
        if piece:
            text += piece
            yield (text, "Streaming…", *nothing)
    worker.join()
    if "error" in box:
        yield (text, f"⚠️ {html.escape(box['error'])}", *nothing)
        return
    result = box["result"]
    raw = result.raw
    if not result.text.strip():
        seconds = result.duration_s or 0.0
        why = f" in {seconds:.2f} s of audio: too short to hold a word" if seconds < SHORT_SECONDS else " (silence?)"
        yield ("", f"⚠️ Nothing was heard{why}. {_metrics(result, spec.stream)}", *nothing)
        return
    shown = raw if isinstance(raw, str) and fmt in (*SUBTITLES, "text") else result.text
    shown = speaker_text(raw) or shown
    subtitle = (
        gr.update(value=_subtitle_file(path, fmt, raw), visible=True)
        if fmt in SUBTITLES and isinstance(raw, str)
        else gr.update(value=None, visible=False)
    )
    spoken = cue_text(raw) if fmt in SUBTITLES and isinstance(raw, str) else result.text
    wer = diff_html(reference, spoken) if (reference or "").strip() else ""
    ctx = get_context()
    ctx.record(
        "translation" if spec.task == "translate" else "transcription", replace(spec, file=Path(path).name),
        model=spec.model, provider=ctx.provider_for(request).label, usage=result.usage, cost=result.est_cost,
        timings={"ttfb_ms": result.ttfb_ms, "total_ms": result.total_ms}, text=result.text,
        audio=Path(path).read_bytes(), audio_ext=Path(path).suffix.lstrip(".") or "wav", request=request,
    )  # fmt: skip
    figure = _timeline(path, raw)
    plot = gr.update(value=figure, visible=figure is not None)
    words = speaker_html(path, raw) or _words_html(path, raw)
    yield (shown, _metrics(result, spec.stream), plot, words, subtitle, wer)


def transcription_code(
    path: str | None,
    task: str,
    model: str,
    language: str,
    prompt: str,
    temperature: float | None,
    fmt: str,
    grains: list[str] | None,
    logprobs: bool,
    stream: bool,
    keywords: str | None = "",
    languages: list[str] | None = None,
    request: gr.Request = None,
) -> list[str]:
    """Python / JavaScript / curl for exactly these settings, with the file's own name."""
    spec = transcription_spec(
        path, task, model, language, prompt, temperature, fmt, grains, logprobs, stream, keywords, languages
    )
    name = Path(path).name if path else "speech.mp3"
    problems = spec.problems(check_file=False)
    if problems:
        note = "# Fix the settings first: " + "; ".join(str(p) for p in problems) + "\n"
        return [note, note.replace("#", "//", 1), note]
    base_url = get_context().provider_for(request).snippet_base_url
    return [render(spec, lang, base_url=base_url, file_path=name) for lang in ("python", "js", "curl")]
