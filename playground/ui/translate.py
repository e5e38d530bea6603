"""Translate tab: live speech translation, from the microphone or a file streamed in real
time, through ``/relay/realtime`` into a live translation session.

Start asks ``translate_connect`` for a one-time relay ticket in "translation" mode (the key
stays on the server) and the page (``static/translate.js``, with the voice chat's capture
and player worklets) streams 24 kHz PCM16 into the session, shows the source and the
translated transcripts side by side, plays the translated speech as it comes and fills a
per-phrase table (position, texts, latency from the phrase's end to its first translated
audio, as the page measures it). Export sends what the page holds to
``export_translation``, which writes the transcripts and both recordings (the source from
the relay's copy) and keeps the run in the History. The code panel shows the same session
as SDK code.

Widgets in ``translate_layout``; the pure pieces (payload, WAV, text, cost) in
``translate_export``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gradio as gr

from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.snippets import render
from playground.core.specs import RealtimeTranslationSpec
from playground.ui.context import get_context
from playground.ui.translate_export import (
    RATE,
    cost_text,
    parse_session,
    pcm_wav,
    session_timings,
    transcripts_text,
)
from playground.ui.translate_layout import TranslatePanel, translate_panel

__all__ = [
    "LOCAL_NOTE",
    "TRANSLATE_FILE",
    "cost_text",
    "create_translate_tab",
    "export_translation",
    "file_info",
    "language_view",
    "translate_code",
    "translate_connect",
    "translation_spec",
]

#: the Python script in the code panel plays this file into the session
TRANSLATE_FILE = "speech.wav"
LOCAL_NOTE = "The local backend translates into **English only**."
#: what the runs of this tab are called in the History (file translation is "translation")
RUN_KIND = "live_translation"


def translation_spec(
    language: str | None,
    transcript: bool,
    transcription_model: str | None,
    noise: str | None,
    strength: float | str | None,
) -> RealtimeTranslationSpec:
    """The panel's values as a translation session (not validated); an empty strength is
    the server's default."""
    return RealtimeTranslationSpec(
        output_language=language or "",
        transcription_model=(transcription_model or "") if transcript else "",
        noise_reduction=noise or "",
        noise_reduction_strength=None if strength in (None, "") or not noise else float(strength),
    )


def _problems(spec: RealtimeTranslationSpec) -> str:
    problems = spec.problems()
    return "Fix the settings first: " + "; ".join(str(p) for p in problems) if problems else ""


def _local(request: gr.Request | None) -> bool:
    return get_context().provider_for(request).kind == "embedded"


def language_view(language: str | None, auto: bool, request: gr.Request = None) -> tuple[Any, str, bool]:
    """The picker's default for this session's provider (English on the embedded backend,
    the catalog's default with OpenAI) while the user has not picked one; the note beside it."""
    local = _local(request)
    default = "en" if local else get_catalog().translation.default_output_language
    value = default if auto or not language else language
    return value, LOCAL_NOTE if local else "", auto


def language_picked() -> bool:
    """The user chose a language: it no longer follows the provider."""
    return False


def file_info(path: str | None) -> str:
    """What the uploaded file holds, or why it cannot be streamed."""
    if not path:
        return ""
    try:
        seconds = len(audio.decode_mono(Path(path).read_bytes(), RATE)) / RATE
    except Exception as e:  # noqa: BLE001 - any decoder failure is the file's
        return f"⚠️ Could not read that file as audio: {e}"
    limit = get_catalog().limits.live_recording_max_seconds
    if seconds > limit:
        return f"⚠️ The file is {seconds:.0f} s long; at most {limit:.0f} s can be streamed."
    return f"**{Path(path).name}**: {seconds:.1f} s, sent in real time (then silence, then the session closes)."


def _file_source(path: str | None) -> dict[str, Any]:
    """The uploaded file as 24 kHz PCM16 WAV in the output folder, for the page to stream."""
    if not path:
        return {"error": "Upload an audio file first (or pick the microphone)."}
    limit = get_catalog().limits.live_recording_max_seconds
    try:
        samples = audio.decode_mono(Path(path).read_bytes(), RATE)
    except Exception as e:  # noqa: BLE001 - any decoder failure is the file's
        return {"error": f"Could not read that file as audio: {e}"}
    seconds = len(samples) / RATE
    if seconds > limit:
        return {"error": f"The file is {seconds:.0f} s long; at most {limit:.0f} s can be streamed."}
    if seconds < 0.2:
        return {"error": "The file holds less than 0.2 s of audio."}
    out = get_context().output_path(f"translate-source-{int(time.time() * 1000)}.wav")
    out.write_bytes(pcm_wav(audio.float_to_pcm16(samples)))
    return {"file_url": f"/gradio_api/file={out}", "file_seconds": round(seconds, 2)}


def translate_connect(
    source: str,
    file: str | None,
    language: str | None,
    transcript: bool,
    transcription_model: str | None,
    noise: str | None,
    strength: float | str | None,
    request: gr.Request = None,
) -> str:
    """A one-time relay ticket for a translation session, with what the page needs (or the error)."""
    spec = translation_spec(language, transcript, transcription_model, noise, strength)
    problem = _problems(spec)
    if problem:
        return json.dumps({"error": problem})
    page: dict[str, Any] = {"source": "file" if source == "file" else "mic"}
    if page["source"] == "file":
        page.update(_file_source(file))
        if "error" in page:
            return json.dumps({"error": page["error"]})
    ctx = get_context()
    provider = ctx.provider_for(request)
    owner = getattr(request, "session_hash", None) or "anonymous"
    ticket = ctx.relay.mint(
        provider, spec.model, spec.to_session(), owner=owner, mode="translation",
        person=ctx.person_for(request), origin=ctx.origin_for(request),
    )  # fmt: skip
    price = get_catalog().price(spec.model).get("per_minute_estimate")
    return json.dumps(
        {
            **page,
            "ticket": ticket,
            "label": provider.label,
            "language": spec.language_name,
            "transcript": bool(spec.transcription_model),
            "price_per_minute": price,
            "max_seconds": get_catalog().limits.live_recording_max_seconds,
        }
    )


def translate_code(
    language: str | None,
    transcript: bool,
    transcription_model: str | None,
    noise: str | None,
    strength: float | str | None,
    request: gr.Request = None,
) -> list[str]:
    """Python (a file played into the same session) and JavaScript for these settings."""
    spec = translation_spec(language, transcript, transcription_model, noise, strength)
    problem = _problems(spec)
    if problem:
        return [f"# {problem}\n", f"// {problem}\n"]
    base_url = get_context().provider_for(request).snippet_base_url
    out = []
    for lang, mark in (("python", "#"), ("js", "//")):
        try:
            out.append(render(spec, lang, base_url=base_url, file_path=TRANSLATE_FILE))
        except Exception as e:  # noqa: BLE001 - the exported code may not cover this kind yet
            out.append(f"{mark} The code for this session cannot be shown yet ({type(e).__name__}: {e}).\n")
    return out


def _write(name: str, data: bytes | str) -> str:
    path = get_context().output_path(name)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


def export_translation(
    payload: str | None,
    language: str | None,
    transcript: bool,
    transcription_model: str | None,
    noise: str | None,
    strength: float | str | None,
    request: gr.Request = None,
) -> tuple[Any, str]:
    """The page's session as files (transcripts .txt, translated speech .wav, the source .wav
    the relay kept), kept in the History as a "live_translation" run."""
    cat = get_catalog()
    try:
        session = parse_session(payload, max_seconds=cat.limits.live_recording_max_seconds)
    except ValueError as e:
        return gr.update(value=None, visible=False), f"⚠️ Nothing to export: {e}."
    if not session.translation.strip() and not session.audio:
        return gr.update(value=None, visible=False), "⚠️ Nothing translated yet: press Start first."
    spec = translation_spec(language, transcript, transcription_model, noise, strength)
    ctx = get_context()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    translated = pcm_wav(session.audio)
    paths = [
        _write(f"translation-{stamp}.txt", transcripts_text(session, spec.language_name)),
        _write(f"translation-{stamp}.wav", translated),
    ]
    source = ctx.relay.recording(getattr(request, "session_hash", None) or "anonymous")
    if source:
        paths.append(_write(f"translation-source-{stamp}.wav", pcm_wav(source)))
    per_minute = cat.price(spec.model).get("per_minute_estimate")
    ctx.record(
        RUN_KIND, spec, model=spec.model, provider=ctx.provider_for(request).label,
        timings=session_timings(session), cost=None if per_minute is None else session.input_ms / 60000 * per_minute,
        text=session.translation.strip(), audio=translated, audio_ext="wav", request=request,
    )  # fmt: skip
    count = len(session.phrases)
    note = (
        f"Saved to History: {count} phrase{'' if count == 1 else 's'}, "
        f"{session.audio_seconds:.1f} s of translated speech, "
        f"{session.input_ms / 1000:.1f} s of source; cost {cost_text(session.input_ms, per_minute)}."
    )
    return gr.update(value=paths, visible=True), note


#: the page hands its session over as JSON before the export handler runs
_EXPORT_JS = "(p, ...rest) => [window.pgTranslate ? window.pgTranslate.exportPayload() : '', ...rest]"
_RUN_JS = "(c) => { window.pgTranslate && window.pgTranslate.start(c); return []; }"
_START_JS = "(...args) => { window.pgTranslate && window.pgTranslate.connecting(); return args; }"


def _wire(ui: TranslatePanel, tab: Any) -> None:
    settings = ui.settings
    language_out = [ui.language, ui.language_note, ui.auto_language]
    if tab is not None:
        tab.select(language_view, [ui.language, ui.auto_language], language_out, queue=False).then(
            translate_code, settings, [ui.code_py, ui.code_js], queue=False
        )
    ui.language.input(language_picked, None, ui.auto_language, queue=False)
    ui.source.change(lambda s: [gr.update(visible=s == "file")] * 2, ui.source, [ui.file, ui.file_note], queue=False)
    ui.file.change(file_info, ui.file, ui.file_note, queue=False)
    ui.noise.change(lambda n: gr.update(visible=bool(n)), ui.noise, ui.strength, queue=False)
    ui.transcript.change(lambda on: gr.update(interactive=on), ui.transcript, ui.transcription_model, queue=False)
    gr.on([c.change for c in settings], translate_code, settings, [ui.code_py, ui.code_js], queue=False)
    ui.start.click(
        translate_connect, [ui.source, ui.file, *settings], ui.config, js=_START_JS, api_name="translate_connect",
        queue=False,
    ).then(None, ui.config, None, js=_RUN_JS)  # fmt: skip
    ui.stop.click(None, None, None, js="() => { window.pgTranslate && window.pgTranslate.stop(); return []; }")
    ui.export.click(
        export_translation, [ui.payload, *settings], [ui.files, ui.export_note], js=_EXPORT_JS,
        api_name="translate_export", queue=False,
    )  # fmt: skip


def create_translate_tab(tab: Any = None) -> TranslatePanel:
    """The tab's widgets and events; ``tab`` (the ``gr.Tab``) loads the provider's language
    default whenever it is opened (the page script comes with the page head)."""
    ui = translate_panel(get_catalog())
    _wire(ui, tab)
    return ui
