"""Transcription tab: a file, the microphone or the last Studio output, through every
parameter of the transcription (and translation) API.

The panel only offers what the catalog says the chosen model takes, and says why the
rest is off. A run streams its text when the model can; verbose_json words are drawn
under the waveform and listed as buttons that play the audio from there
(``static/transcribe.js``); subtitles download with their own extension; a reference
text gives the word error rate and a word diff (``core/textmetrics``: Whisper's
normaliser, jiwer's alignment). The code panel shows the same request, with the
uploaded file's name.

Live mode transcribes the microphone while the user speaks: Record asks the server for a
one-time relay ticket (``live_connect``; the key stays on the server) and the page
(``static/transcribe.js``, reusing the voice chat's capture worklet) streams 24 kHz PCM16
through ``/relay/realtime`` into a realtime transcription session; each VAD turn's text
grows as deltas arrive and is stamped with where the turn starts. The relay keeps the
recording, so when it stops the same audio can go through file transcription with other
settings (``use_live_recording``). The code panel shows the same session as SDK code
(``RealtimeTranscriptionSpec``).
"""

from __future__ import annotations

import html
import json
import queue
import re
import threading
import time
import wave as wav_io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from playground.client.runner import Runner
from playground.core.audio import AudioDecodeError, decode, to_mono
from playground.core.catalog import get_catalog
from playground.core.diffview import diff_html
from playground.core.errors import PlaygroundError, SpecError
from playground.core.plots import waveform_figure, word_timeline_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import DELAYS, RealtimeTranscriptionSpec, TranscriptionSpec, split_list
from playground.core.subtitles import cue_text
from playground.ui import standin
from playground.ui.context import get_context
from playground.ui.share import SHARE_JS, decode_share, share_query
from playground.ui.widgets import model_choices, model_picker

__all__ = [
    "TranscribeParts",
    "audio_loaded",
    "create_transcribe_tab",
    "diff_html",
    "error_beside_button",
    "hint_options",
    "live_code",
    "live_connect",
    "live_spec",
    "model_options",
    "model_switched",
    "prompt_option",
    "run_transcription",
    "speaker_html",
    "speaker_text",
    "temperature_choices",
    "transcription_code",
    "transcription_spec",
    "use_live_recording",
    "use_studio_output",
]

TASKS = [("Transcribe", "transcribe"), ("Translate to English", "translate")]
#: OpenAI refuses shorter audio; below half a second a clip rarely holds a word
MIN_SECONDS = 0.1
SHORT_SECONDS = 0.5
SUBTITLES = ("srt", "vtt")
SOURCES = [("File or recording", "file"), ("Live (realtime)", "live")]
#: the temperature picker's "server default" (the API's own, sent as nothing)
SERVER_DEFAULT = -0.05
LIVE_TURNS = [("Server VAD", "server_vad"), ("Semantic VAD", "semantic_vad")]
LIVE_NOISE = [("Off", ""), ("Near field", "near_field"), ("Far field", "far_field")]
#: the script in the live code panel plays this file into the session
LIVE_FILE = "recording.wav"
#: the live console; transcribe.js fills it
LIVE_HTML = """
<div id="pg-lt" class="pg-lt">
  <div class="pg-lt-bar">
    <span id="pg-lt-dot" title="recording"></span>
    <div id="pg-lt-meter" title="microphone level"><div class="pg-lt-fill"></div></div>
    <span id="pg-lt-clock">0:00.0</span>
  </div>
  <div id="pg-lt-status" class="pg-lt-status">Press <b>Record</b>, allow the microphone, and speak:
  each turn's text appears while you talk.</div>
  <div id="pg-lt-text" class="pg-lt-text" aria-live="polite"></div>
</div>
<style>
.pg-lt { display: flex; flex-direction: column; gap: 8px; }
.pg-lt-bar { display: flex; align-items: center; gap: 10px; }
#pg-lt-dot { width: 12px; height: 12px; border-radius: 50%; background: var(--neutral-400); }
#pg-lt-dot.pg-on { background: #e5484d; }
#pg-lt-meter { flex: 1; height: 8px; border-radius: 4px; background: var(--neutral-200); overflow: hidden; }
#pg-lt-meter .pg-lt-fill { height: 100%; width: 0; background: var(--color-accent); }
.pg-lt-status.pg-bad { color: #e5484d; }
.pg-lt-text { min-height: 220px; max-height: 420px; overflow-y: auto; padding: 8px 10px;
  border: 1px solid var(--border-color-primary); border-radius: 12px; }
.pg-lt-turn { margin: 2px 0 6px; }
.pg-lt-t { font-family: var(--font-mono); color: var(--body-text-color-subdued); margin-right: 8px; }
.pg-lt-partial { opacity: 0.7; }
</style>
"""


@dataclass
class TranscribeParts:
    settings: list[Any]
    code_outputs: list[gr.Code]
    #: (model, task, fmt) -> the options the model allows, for the page load
    option_inputs: list[Any]
    option_outputs: list[Any]


def _model(model: str) -> Any:
    return get_catalog().transcription_model(model)


def hint_options(model: str, task: str = "transcribe") -> tuple[Any, Any]:
    """The keywords and possible-languages boxes: shown only for models that take them."""
    info = _model(model)
    ok = task == "transcribe" and info is not None
    return (
        gr.update(visible=bool(ok and info.keywords)),
        gr.update(visible=bool(ok and info.languages)),
    )


def _diarizes(info: Any) -> bool:
    return info is not None and "diarized_json" in info.response_formats


def temperature_choices() -> list[tuple[str, float]]:
    """The temperature picker: the server's default, then 0 to 1 by tenths."""
    return [("server default", SERVER_DEFAULT), *[(f"{t / 10:.1f}", t / 10) for t in range(11)]]


def prompt_option(model: str) -> Any:
    """The prompt box: hidden for the diarizing model, which takes no prompt."""
    diarizes = _diarizes(_model(model))
    return gr.update(visible=not diarizes)


def _shared_transcription(request: gr.Request | None) -> bool:
    token = (getattr(request, "query_params", None) or {}).get("share", "")
    data = decode_share(token) if token else None
    return bool(data and data.get("tab") == "transcribe")


def model_switched(model: str, task: str, fmt: str) -> tuple[Any, Any, Any, Any, str]:
    """``model_options`` when the model or task changes: the diarizing model moves from plain
    json (every model's first format) to the format that names its speakers; a format picked
    afterwards stays (that goes through ``model_options``)."""
    if _diarizes(_model(model)) and task == "transcribe" and fmt == "json":
        fmt = "diarized_json"
    return model_options(model, task, fmt)


def model_options(
    model: str, task: str, fmt: str, on_load: bool = False, request: gr.Request | None = None
) -> tuple[Any, Any, Any, Any, str]:
    """What the panel may offer for this model and task: (formats, granularities, logprobs,
    stream, why the rest is off).

    ``on_load``: the page-load call. A transcription share link fills the panel in that same
    load (``share.apply_shared``, already narrowed to its model), so this call, racing it with
    the defaults, leaves the panel alone.
    """
    if on_load and _shared_transcription(request):
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    info = _model(model)
    if info is None:
        return gr.update(), gr.update(), gr.update(), gr.update(), f"Unknown model {model!r}."
    why = []
    formats = list(info.response_formats)
    if task == "translate" and not info.translation:
        why.append(f"{info.id} does not translate; whisper-1 does.")
    if fmt not in formats:  # the diarizing model starts on the format that names its speakers
        fmt = "diarized_json" if "diarized_json" in formats else formats[0]
    grains = info.timestamp_granularities and fmt == "verbose_json"
    if not info.timestamp_granularities:
        why.append(f"Word and segment timestamps: whisper-1 only (verbose_json), not {info.id}.")
    elif fmt != "verbose_json":
        why.append("Word and segment timestamps need the verbose_json format.")
    logprobs = info.logprobs and fmt == "json" and task == "transcribe"
    if not info.logprobs:
        why.append(f"Log-probabilities: not offered by {info.id}.")
    stream = info.stream and task == "transcribe" and fmt != "diarized_json"
    if not info.stream:
        why.append(f"Streaming: not offered by {info.id} (whole result at once).")
    elif task == "translate":
        why.append("Translations do not stream.")
    elif fmt == "diarized_json":
        why.append("Speaker labels come with the whole result (no streaming).")

    def allowed(ok: bool, off: Any, **shown: Any) -> Any:
        """Offered: leave the user's choice; not offered: switch it off."""
        return gr.update(**shown) if ok else gr.update(value=off, **{k: False for k in shown})

    return (
        gr.update(choices=formats, value=fmt),
        # hidden, not cleared: the ticks come back with verbose_json, and an update from an
        # earlier model (the page load's, racing a share link's) cannot wipe the link's ticks
        gr.update(visible=bool(grains)),
        allowed(logprobs, False, interactive=True),
        allowed(stream, False, interactive=True),
        " ".join(why),
    )


def transcription_spec(
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
) -> TranscriptionSpec:
    """The panel's values as a spec; keywords and languages only go to models that take them,
    the prompt not to the diarizing model (which takes none; its box is hidden)."""
    info = _model(model)
    hints = task == "transcribe" and info is not None
    stamps = info is not None and info.timestamp_granularities and fmt == "verbose_json"
    try:
        temp = None if temperature is None or temperature == "" else float(temperature)
    except (TypeError, ValueError):
        temp = None
    return TranscriptionSpec(
        keywords=split_list(keywords) if hints and info.keywords else (),
        languages=tuple(languages or ()) if hints and info.languages else (),
        file=path or "",
        task=task,
        model=model,
        language=language or "",
        prompt="" if _diarizes(info) else (prompt or "").strip(),
        temperature=None if temp is None or temp < 0 else temp,  # SERVER_DEFAULT: the server's own
        response_format=fmt,
        # only where they can go (the boxes keep their ticks while hidden)
        timestamp_granularities=tuple(grains or ()) if info is None or stamps else (),
        include_logprobs=bool(logprobs),
        stream=bool(stream),
    )


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
        audio=Path(path).read_bytes(), audio_ext=Path(path).suffix.lstrip(".") or "wav",
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


# ------------------------------------------------------------------------------ live


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
    ticket = ctx.relay.mint(provider, spec.model, spec.to_session(), owner=owner, mode="transcription")
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


def create_transcribe_tab() -> TranscribeParts:
    cat = get_catalog()
    mb = cat.limits.upload_max_bytes >> 20
    langs = [("Auto-detect", ""), *[(code, code) for code in cat.transcription.languages]]
    choices, default = model_choices(cat.file_transcription_models, cat.transcription_default_model)
    first = cat.transcription_models[default]
    source = gr.Radio(SOURCES, value="file", label="Source", elem_id="pg-tr-source")
    with gr.Column(visible=True) as file_view:
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=380):
                task = gr.Radio(TASKS, value="transcribe", label="Mode", elem_id="pg-tr-task")
                audio = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label=f"Audio ({', '.join(cat.transcription_input_formats)}; ≤ {mb} MB)",
                    elem_id="pg-tr-audio",
                )
                audio_info = gr.Markdown(elem_id="pg-tr-info")
                with gr.Row(equal_height=True):  # the run button stays in the first screen
                    go = gr.Button("Transcribe", variant="primary", elem_id="pg-tr-go", scale=2)
                    studio_btn = gr.Button("Use the Studio's last output", size="sm", elem_id="pg-tr-studio", scale=1)
                go_note = gr.Markdown(elem_id="pg-tr-go-note", elem_classes="pg-error-note")
                wave = gr.Plot(label="Waveform", elem_id="pg-tr-wave", show_label=False)
                with gr.Row():
                    model = gr.Dropdown(choices, value=default, label="Model", elem_id="pg-tr-model")
                    language = gr.Dropdown(langs, value="", label="Language")
                standin.note("transcribe", model)  # which local Whisper answers offline, hidden otherwise
                prompt = gr.Textbox(
                    label="Prompt (vocabulary, spelling, style)",
                    lines=1,
                    max_lines=3,
                    visible=not _diarizes(first),
                    elem_id="pg-tr-prompt",
                )
                with gr.Row():  # only for models that take them (gpt-transcribe)
                    keywords = gr.Textbox(
                        value="",
                        label="Keywords (comma-separated names and terms)",
                        lines=1,
                        max_lines=3,
                        visible=first.keywords,
                        elem_id="pg-tr-keywords",
                    )
                    languages = gr.Dropdown(
                        list(cat.transcription.languages),
                        value=[],
                        multiselect=True,
                        label="Possible languages",
                        visible=first.languages,
                        elem_id="pg-tr-languages",
                    )
                with gr.Row():
                    # every format the API knows; the page narrows it to the model's on load and on change
                    fmt = gr.Radio(
                        list(cat.transcription_response_formats),
                        value="json",
                        label="Response format",
                        elem_id="pg-tr-fmt",
                    )
                    temperature = gr.Dropdown(
                        temperature_choices(),
                        value=SERVER_DEFAULT,
                        allow_custom_value=True,  # a shared or reopened run may carry any value
                        label="Temperature",
                        elem_id="pg-tr-temp",
                        min_width=130,
                    )
                with gr.Row():
                    grains = gr.CheckboxGroup(
                        ["word", "segment"], label="Timestamps", visible=False, elem_id="pg-tr-grains"
                    )
                    logprobs = gr.Checkbox(label="Log-probabilities", value=False, interactive=first.logprobs)
                    stream = gr.Checkbox(
                        label="Stream the text", value=first.stream, interactive=first.stream, elem_id="pg-tr-stream"
                    )
                why = gr.Markdown(elem_classes=["pg-muted"], elem_id="pg-tr-why")
                reference = gr.Textbox(
                    label="Reference text (optional: WER and word diff)", lines=2, elem_id="pg-tr-ref"
                )
                with gr.Row():
                    share = gr.Button("Share settings", size="sm", scale=0, min_width=140, elem_id="pg-tr-share")
                    share_link = gr.Textbox(show_label=False, placeholder="a link that reopens these settings", scale=3,
                                            elem_id="pg-tr-share-link")  # fmt: skip
            with gr.Column(scale=3, min_width=520):
                text = gr.Textbox(label="Transcript", lines=6, max_lines=16, elem_id="pg-tr-text")
                metrics = gr.Markdown(elem_id="pg-tr-metrics")
                wer = gr.HTML(elem_id="pg-tr-wer")
                words = gr.HTML(elem_id="pg-tr-words")
                timeline = gr.Plot(
                    label="Words on the waveform", show_label=False, visible=False, elem_id="pg-tr-timeline"
                )
                subtitle = gr.File(label="Subtitles", visible=False, elem_id="pg-tr-subtitle")
                with gr.Tabs():
                    with gr.Tab("Python"):
                        code_py = gr.Code(language="python", show_label=False, lines=10, elem_id="pg-tr-code-python")
                    with gr.Tab("JavaScript"):
                        code_js = gr.Code(language="javascript", show_label=False, lines=10)
                    with gr.Tab("curl"):
                        code_curl = gr.Code(language="shell", show_label=False, lines=10)

    rt = cat.realtime
    defaults = rt.server_vad_defaults
    with gr.Column(visible=False) as live_view:
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=380, elem_id="pg-lt-settings"):
                with gr.Row():
                    live_model = model_picker(
                        rt.transcription_models,
                        rt.default_transcription_model,
                        label="Transcription model",
                        elem_id="pg-lt-model",
                    )
                    live_language = gr.Dropdown(langs, value="en", label="Language", elem_id="pg-lt-language")
                    live_first = cat.transcription_model(live_model.value)
                    live_delay = gr.Dropdown(
                        [("default", ""), *[(d, d) for d in DELAYS]],
                        value="",
                        label="Delay (accuracy vs. latency)",
                        visible=bool(live_first and live_first.delay),
                        elem_id="pg-lt-delay",
                    )
                standin.note("live", live_model)  # which local Whisper answers offline, hidden otherwise
                live_prompt = gr.Textbox(label="Prompt (vocabulary, spelling)", lines=1, max_lines=3)
                live_noise = gr.Radio(LIVE_NOISE, value="", label="Noise reduction", elem_id="pg-lt-noise")
                live_turn = gr.Radio(LIVE_TURNS, value="server_vad", label="Turn detection", elem_id="pg-lt-turn")
                with gr.Row() as live_vad:
                    live_threshold = gr.Slider(0.1, 0.95, value=defaults.threshold, step=0.05, label="Threshold")
                    live_silence = gr.Slider(
                        100, 2000, value=defaults.silence_duration_ms, step=50, label="Silence (ms)"
                    )
                    live_prefix = gr.Slider(0, 1000, value=defaults.prefix_padding_ms, step=50, label="Prefix (ms)")
                live_eagerness = gr.Radio(rt.semantic_eagerness, value="auto", label="Eagerness", visible=False)
                with gr.Row():
                    record = gr.Button("Record", variant="primary", elem_id="pg-lt-record")
                    stop = gr.Button("Stop", elem_id="pg-lt-stop")
                to_file = gr.Button("Transcribe this recording with other settings", size="sm", elem_id="pg-lt-to-file")
            with gr.Column(scale=3, min_width=520):
                gr.HTML(LIVE_HTML, elem_id="pg-lt-console")
                with gr.Tabs():
                    with gr.Tab("Python"):
                        live_py = gr.Code(language="python", show_label=False, lines=12, elem_id="pg-lt-code-python")
                    with gr.Tab("JavaScript"):
                        live_js = gr.Code(language="javascript", show_label=False, lines=12)
    live_ticket = gr.Textbox(visible=False)

    settings = [audio, task, model, language, prompt, temperature, fmt, grains, logprobs, stream]
    hints = [keywords, languages]
    codes = [code_py, code_js, code_curl]
    options = [fmt, grains, logprobs, stream, why]
    share.click(
        partial(share_query, "transcribe"), [*settings[1:], *hints], share_link, api_name="share_transcription",
        queue=False,
    ).then(None, share_link, share_link, js=SHARE_JS)  # fmt: skip
    audio.change(audio_loaded, audio, [wave, audio_info], api_name="load_audio", queue=False)
    studio_btn.click(use_studio_output, None, [audio, audio_info], api_name="use_studio_output", queue=False)
    gr.on([model.change, task.change], model_switched, [model, task, fmt], options, queue=False)
    gr.on([model.change, task.change], hint_options, [model, task], hints, queue=False)
    model.change(prompt_option, model, prompt, queue=False, show_progress="hidden")
    fmt.change(model_options, [model, task, fmt], options, queue=False)
    gr.on([c.change for c in (*settings, *hints)], transcription_code, [*settings, *hints], codes, queue=False)
    go.click(
        run_transcription,
        [*settings, reference, *hints],
        [text, metrics, timeline, words, subtitle, wer],
        api_name="transcribe",
        concurrency_limit=4,
    ).then(error_beside_button, metrics, [go_note, metrics], queue=False, show_progress="hidden")
    source.change(
        lambda v: (gr.update(visible=v == "file"), gr.update(visible=v == "live")),
        source,
        [file_view, live_view],
        queue=False,
    )
    live_settings = [
        live_model, live_language, live_prompt, live_noise, live_turn,
        live_threshold, live_silence, live_prefix, live_eagerness, live_delay,
    ]  # fmt: skip
    live_model.change(
        lambda m: gr.update(visible=bool((info := _model(m)) and info.delay)), live_model, live_delay, queue=False
    )
    live_turn.change(
        lambda t: (gr.update(visible=t == "server_vad"), gr.update(visible=t == "semantic_vad")),
        live_turn,
        [live_vad, live_eagerness],
        queue=False,
    )
    record.click(live_connect, live_settings, live_ticket, api_name="live_connect", queue=False).then(
        None, live_ticket, None, js="(c) => { window.pgLive && window.pgLive.start(c); return []; }"
    )
    stop.click(None, None, None, js="() => { window.pgLive && window.pgLive.stop(); return []; }")
    to_file.click(  # the page stops first (the relay's copy is then whole), the server hands it over
        use_live_recording,
        None,
        [audio, audio_info, source],
        js="async () => { if (window.pgLive) await window.pgLive.stop(); return []; }",
        api_name="use_live_recording",
        queue=False,
    )
    gr.on([source.change, *[c.change for c in live_settings]], live_code, live_settings, [live_py, live_js],
          queue=False)  # fmt: skip
    # keywords and languages travel with the rest (share links, history, the code on load)
    return TranscribeParts([*settings, *hints], codes, [model, task, fmt, gr.State(True)], options)
