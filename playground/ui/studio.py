"""Studio tab: pick a voice and a vibe, hear it streamed, copy the code.

One screen at 1440x900: voice cards, vibe chips, instructions and script side by side,
model / format / speed and Play, then the live player; the code for exactly these
settings sits on the right. Handlers are module-level and take plain widget values (a
``gr.Request`` where the browser session's provider matters), so tests call them
directly; each event has an ``api_name`` so ``gradio_client`` can drive the same paths.
Playback runs in the page (``static/studio.js``): the Play click is the moment "first
audio" is measured from, and the first sample the page plays is where it ends. The widgets
are laid out in ``studio_layout``; this module wires them.
"""

from __future__ import annotations

import hashlib
import html
import time
from functools import partial
from typing import Any

import gradio as gr

from playground.client.runner import Runner
from playground.core import workflows
from playground.core.audio import AudioDecodeError, decode, to_mono
from playground.core.catalog import get_catalog
from playground.core.diffview import diff_html
from playground.core.errors import PlaygroundError, SpecError
from playground.core.plots import waveform_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import RealtimeSpeechSpec, SpeechSpec
from playground.core.textmetrics import word_diff
from playground.core.vibes import slugify
from playground.ui.context import get_context
from playground.ui.share import SHARE_JS, share_query
from playground.ui.studio_layout import DEFAULT_SCRIPT, PLAYER_HTML, StudioLayout, count_html, studio_layout
from playground.ui.studio_vibes import (
    CHIPS,
    accept_suggestion,
    apply_vibe,
    refresh_vibes,
    save_vibe,
    shuffle_vibes,
    voice_changed,
)
from playground.ui.widgets import model_choices, voice_choices

__all__ = [
    "CHIPS",
    "DEFAULT_SCRIPT",
    "PLAYER_HTML",
    "StudioParts",
    "accept_suggestion",
    "apply_vibe",
    "clamp_speed",
    "clear_after_refusal",
    "create_studio_tab",
    "finish_speech",
    "model_changed",
    "preview_voice",
    "refresh_vibes",
    "save_vibe",
    "shuffle_vibes",
    "speech_spec",
    "start_speech",
    "transcript_check",
    "update_code",
    "voice_changed",
    "wire_studio",
    "workflow_changed",
]

# ----------------------------------------------------------------------- handlers


def speech_spec(
    script: str,
    voice: str,
    model: str,
    instructions: str,
    speed: float,
    fmt: str,
    workflow: str = workflows.SPEECH,
) -> SpeechSpec | RealtimeSpeechSpec:
    """The spec for the current widgets on the chosen workflow: instructions dropped for
    models that take none, speed held to the workflow's range (the UI shows when it had to)."""
    return workflows.tts_spec(
        workflows.pick(workflow),
        input=script or "",
        voice=voice,
        model=model,
        instructions=instructions or "",
        speed=speed,
        fmt=fmt,
    )


def update_code(
    script: str,
    voice: str,
    model: str,
    instructions: str,
    speed: float,
    fmt: str,
    workflow: str = workflows.DEFAULT,
    request: gr.Request | None = None,
) -> tuple[str, str, str, str, str]:
    """Snippets for exactly what Play sends, and the two character counts."""
    cat = get_catalog()
    spec = speech_spec(script, voice, model, instructions, speed, fmt, workflows.pick(workflow))
    problems = spec.problems()
    base_url = get_context().provider_for(request).snippet_base_url
    codes = [render(spec, lang, base_url=base_url) for lang in ("python", "js", "curl")]
    if problems:
        prefix = "Fix before running: " + "; ".join(str(p) for p in problems)
        codes = [f"{mark}{prefix}\n{code}" for mark, code in zip(("# ", "// ", "# "), codes, strict=True)]
    return (
        codes[0],
        codes[1],
        codes[2],
        count_html("Script", script, cat.limits.speech_input_max_chars),
        count_html("Instructions", instructions, cat.limits.instructions_max_chars),
    )


def clamp_speed(speed: float | None, workflow: str = workflows.SPEECH) -> tuple[float, str]:
    """Hold a typed speed to the workflow's range, and say so instead of clamping silently.

    Always a plain value, never ``gr.update``: Gradio answers any update (an empty one
    too) by building a fresh ``gr.Slider`` for the session, without the out-of-range
    pass-through of ``widgets.range_slider``, and the next typed value would be refused
    with a server error before any handler runs.
    """
    return workflows.clamp_speed(workflows.pick(workflow), speed)


def voice_note(voice: str, workflow: str) -> str:
    """Under Play: the picked voice is not one the workflow has (Play would be refused)."""
    w = workflows.get(workflows.pick(workflow))
    if not voice or voice in w.voices or voice.startswith("voice_"):
        return ""
    where = workflows.label(workflows.SPEECH if w.id == workflows.REALTIME else workflows.REALTIME)
    return (
        f"⚠️ **{html.escape(voice)}** is only on the {html.escape(where)}; "
        f"{html.escape(workflows.label(w.id))} has {', '.join(w.voices)}. Pick one of those, or switch the workflow."
    )


def workflow_changed(workflow: str, voice: str, model: str, fmt: str, speed: float | None) -> tuple[Any, ...]:
    """Models, formats and voice labels of the workflow; the speed held to its range.

    Returns (model, format, voice grid, speed, speed note, note under Play)."""
    w = workflows.get(workflows.pick(workflow))
    choices, value = model_choices(w.models, model if model in w.models else w.default_model)
    value_fmt = fmt if fmt in {f for f, _ in w.formats} else w.default_format
    speed_value, speed_text = clamp_speed(speed, w.id)
    return (
        gr.update(choices=choices, value=value),
        gr.update(choices=[(lbl, f) for f, lbl in w.formats], value=value_fmt),
        gr.update(choices=voice_choices(w.id)),
        speed_value,
        speed_text,
        voice_note(voice, w.id),
    )


def model_changed(model: str) -> dict[str, Any]:
    entry = get_catalog().speech_model(model)
    if entry is not None and not entry.instructions:
        steerable = ", ".join(m.id for m in get_catalog().speech_models.values() if m.instructions)
        return gr.update(interactive=False, info=f"{model} does not take instructions; switch to {steerable}.")
    return gr.update(interactive=True, info="Affect, tone, pacing, emotion, pronunciation, pauses.")


def preview_voice(
    voice: str, model: str, workflow: str = workflows.DEFAULT, request: gr.Request | None = None
) -> str | None:
    """A short sample of the voice, made once per provider, workflow, model and voice, then
    cached. A voice the workflow lacks is previewed on the other one (the note says so)."""
    ctx = get_context()
    cat = get_catalog()
    if voice not in cat.speech_voices:
        return None
    flow = workflows.pick(workflow)
    if voice not in workflows.get(flow).voices:
        flow, model = workflows.SPEECH, cat.speech_defaults["model"]
    provider = ctx.provider_for(request)
    key = "|".join([provider.kind, provider.base_url or "openai", flow, model, voice])
    ext = "wav" if flow == workflows.REALTIME else "mp3"
    path = ctx.data_dir / "previews" / f"{voice}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.{ext}"
    if not path.is_file():
        character = cat.speech_voices[voice].character
        text = f"Hi, I'm {voice.capitalize()}. {character}."
        try:
            spec = workflows.tts_spec(flow, input=text, voice=voice, model=model, fmt="mp3")
            result = Runner(provider).say(spec)
        except PlaygroundError as e:
            raise gr.Error(f"Preview failed: {e}") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(result.audio)
        tmp.replace(path)
    return str(path)


def start_speech(
    script: str,
    voice: str,
    model: str,
    instructions: str,
    speed: float,
    fmt: str,
    workflow: str = workflows.DEFAULT,
    token: str = "",
    request: gr.Request | None = None,
) -> tuple[str, str]:
    """Validate and start synthesis at once; the page plays it from ``/studio/pcm/<token>``.

    ``token``: the one the page made on the click and is already fetching (studio.js),
    so the stream opens while this request is still on its way. Returns (token, note): the
    note, shown under Play, is empty on success and says what to fix otherwise (the token
    then is empty, and ``finish_speech`` clears the last run's metrics).
    """
    ctx = get_context()
    spec = speech_spec(script, voice, model, instructions, speed, fmt, workflows.pick(workflow))
    try:
        pending = ctx.start_stream(spec, request, token)
    except SpecError as e:
        return "", f"⚠️ Check your settings: {html.escape(str(e))}"
    except PlaygroundError as e:
        return "", f"⚠️ Could not start: {html.escape(str(e))}"
    return pending.token, ""


def _file_name(spec: SpeechSpec | RealtimeSpeechSpec, vibe_name: str | None) -> str:
    ctx = get_context()
    vibe = ctx.vibe(vibe_name) if vibe_name else None
    styled = vibe is not None and spec.instructions.strip() == vibe.instructions_text.strip()
    tag = slugify(vibe.name) if styled and vibe else ("custom" if spec.instructions else "plain")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    ext = get_catalog().speech_formats[spec.response_format].ext
    return f"{spec.voice}_{tag}_{stamp}.{ext}"


def _metrics(result: Any) -> str:
    realtime = result.workflow == workflows.REALTIME
    server = (
        f"server first audio {result.server_first_audio_ms:,.0f} ms (connect {result.connect_ms:,.0f} ms)"
        if realtime and result.server_first_audio_ms is not None and result.connect_ms is not None
        else f"server first byte {result.ttfb_ms:,.0f} ms"
    )
    basis = "audio tokens" if realtime else "characters" if "per_1m_chars" in _price(result) else "tokens"
    per_minute = (
        f" ({format_cost(result.est_cost / result.duration_s * 60)}/min)"
        if result.est_cost is not None and result.duration_s
        else ""
    )
    parts = [
        "**First audio heard** <span class='pg-heard'>(measured in the page)</span>",
        server,
        f"**Total** {result.total_ms / 1000:,.2f} s",
        f"**Duration** {result.duration_s:,.2f} s" if result.duration_s is not None else "**Duration** n/a",
        f"**Est. cost** {format_cost(result.est_cost)}{per_minute} <small>from {basis}</small>",
    ]
    line = " · ".join(parts)
    if result.instructions_applied:
        line += f"\n\n<small>Local backend applied: {html.escape(result.instructions_applied)}</small>"
    if realtime:
        line += "\n\n" + transcript_check(result.spec.input, result.transcript or "")
    return line


def _price(result: Any) -> dict[str, float]:
    return get_catalog().price(result.spec.model)


def transcript_check(script: str, transcript: str) -> str:
    """The Realtime voice's own transcript against the script: read as written, or the word diff."""
    if not transcript.strip():
        return "<small>No transcript came back, so the reading could not be checked against the script.</small>"
    diff = word_diff(script, transcript, literal=True)
    if diff.substitutions + diff.deletions + diff.insertions == 0:
        return "✓ **Read as written**: the transcript matches the script word for word."
    view = diff_html(
        script, transcript, missing="in the script, not said", added="said, not in the script",
        replaced="script", reference_name="script", literal=True,
    )  # fmt: skip
    return f"⚠️ **Reworded**: the voice said something other than the script.\n\n{view}"


def clear_after_refusal(token: str) -> tuple[Any, Any, Any]:
    """Right after ``start_speech``: a refused Play (no token; the note under Play says why)
    clears the last run's metrics, download and waveform; a started one leaves them until
    ``finish_speech`` replaces them."""
    if token:
        return gr.update(), gr.update(), gr.update()
    return "", gr.update(value=None, visible=False), None


def finish_speech(token: str, vibe_name: str | None, request: gr.Request = None) -> tuple[Any, Any, Any]:
    """Wait for the run started by ``start_speech``: metrics, download file, waveform.

    A refused Play has nothing to collect and changes nothing here (``clear_after_refusal``
    already cleared the results): this step of its chain can run after the next Play's has
    shown that Play's metrics, and must not wipe them.
    """
    ctx = get_context()
    if not token:
        return gr.update(), gr.update(), gr.update()
    pending = ctx.streams.get(token, ctx.person_for(request))
    if pending is None:
        return "⚠️ Nothing to collect: press Play first.", gr.update(value=None, visible=False), None
    result, error = pending.wait()
    if result is None:
        return f"⚠️ {html.escape(error or 'speech failed')}", gr.update(value=None, visible=False), None
    path = ctx.output_path(_file_name(pending.spec, vibe_name))
    path.write_bytes(result.audio)
    ctx.remember_output(getattr(request, "session_hash", None), path)
    spec = pending.spec
    timings = {"ttfb_ms": result.ttfb_ms, "total_ms": result.total_ms, "chunks": list(result.chunks)}
    if result.server_first_audio_ms is not None:
        timings |= {"server_first_audio_ms": result.server_first_audio_ms, "connect_ms": result.connect_ms}
    ctx.record(
        "speech", spec, model=spec.model, voice=spec.voice, provider=ctx.provider_for(request).label,
        timings=timings,
        usage=result.usage, cost=result.est_cost, text=spec.input, audio=result.audio, audio_ext=spec.response_format,
        request=request,
    )  # fmt: skip
    try:
        sound = decode(result.audio, pending.spec.response_format)
        figure = waveform_figure(to_mono(sound.samples), sound.sample_rate, title="Waveform")
    except AudioDecodeError:
        figure = None
    return _metrics(result), gr.update(value=str(path), visible=True), figure


class StudioParts:
    """The components the shell wires to page-load and settings events."""

    def __init__(self, settings: list[Any], code_outputs: list[Any], chips: Any, all_vibes: Any):
        self.settings = settings
        self.code_outputs = code_outputs
        self.chips = chips
        self.all_vibes = all_vibes


def wire_studio(ui: StudioLayout) -> None:
    """Register the tab's events; their order fixes Gradio's fn indices (and the API's), so keep it."""
    p, t, c, side = ui.picks, ui.texts, ui.controls, ui.side
    settings = ui.settings
    instant = {"queue": False, "show_progress": "hidden"}  # settings echoes: no queue, no progress overlay
    side.share.click(
        partial(share_query, "studio"), settings, side.share_link, api_name="share_studio", queue=False
    ).then(None, side.share_link, side.share_link, js=SHARE_JS)
    code_outputs = ui.code_outputs
    for i, component in enumerate(settings):
        component.change(update_code, settings, code_outputs, api_name="code" if i == 0 else False, **instant)
    c.speed.input(clamp_speed, [c.speed, p.workflow], [c.speed, c.speed_note], api_name="clamp_speed", **instant)
    p.workflow.input(
        workflow_changed,
        [p.workflow, p.voice, c.model, c.fmt, c.speed],
        [c.model, c.fmt, p.voice, c.speed, c.speed_note, c.play_note],
        api_name="workflow_changed",
        **instant,
    )
    p.voice.change(voice_changed, [ui.current_vibe, p.voice, p.workflow], [p.suggestion, p.use_voice], **instant)
    p.voice.input(voice_note, [p.voice, p.workflow], c.play_note, **instant)
    gr.on(
        [p.voice.input],
        preview_voice,
        [p.voice, c.model, p.workflow],
        side.preview,
        api_name="preview",
        show_progress="minimal",
    )
    c.model.change(model_changed, c.model, t.instructions, api_name="model_changed", queue=False)
    p.shuffle.click(shuffle_vibes, None, p.chips, api_name="shuffle_vibes", queue=False)
    for picker, api in ((p.chips, "apply_vibe"), (p.all_vibes, False)):
        picker.input(
            apply_vibe,
            [picker, t.script, ui.last_sample, p.voice, p.workflow],
            [t.instructions, t.script, ui.last_sample, ui.current_vibe, p.suggestion, p.use_voice],
            api_name=api,
            queue=False,
        )
    p.use_voice.click(
        accept_suggestion, ui.current_vibe, [p.voice, p.suggestion, p.use_voice], api_name="use_voice", queue=False
    )
    # The page makes the token and opens the PCM stream on the click itself (studio.js),
    # in parallel with this request: one round trip less before the first sound.
    begin = "async (...args) => [...args.slice(0, -1), window.pgStudio ? await window.pgStudio.begin() : '']"
    # No progress overlays: the live player shows progress, and the page's own work at the
    # moment of the click competes with the first sentence for the CPU.
    quiet = {"show_progress": "hidden"}
    # the metrics request waits for the first sound, so it does not compete with the first sentence
    # (a refused Play, no token, has no sound to wait for)
    settle = (
        "async (token) => { if (window.pgStudio && token) { window.pgStudio.adopt(token);"
        " await window.pgStudio.settled(); } return []; }"
    )
    results = [c.metrics, side.download, ui.waveform]
    c.play.click(
        start_speech, [*settings, ui.token], [ui.token, c.play_note], api_name="speak", js=begin, queue=False, **quiet
    ).then(clear_after_refusal, ui.token, results, queue=False, **quiet).then(None, ui.token, None, js=settle).then(
        finish_speech,
        [ui.token, ui.current_vibe],
        results,
        api_name="collect",
        **quiet,
    ).then(None, None, None, js="() => { if (window.pgStudio) window.pgStudio.fillMetrics(); return []; }")
    side.save.click(
        save_vibe,
        [side.vibe_name, t.instructions, t.script, p.voice, side.overwrite],
        [side.save_status, p.all_vibes, p.chips],
        api_name="save_vibe",
    )


def create_studio_tab() -> StudioParts:
    """Lay the tab out, then wire it; the parts are what the shell's load, share and settings events need."""
    ui = studio_layout()
    wire_studio(ui)
    return StudioParts(ui.settings, ui.code_outputs, ui.picks.chips, ui.picks.all_vibes)
