"""Studio tab: pick a voice and a vibe, hear it streamed, copy the code.

One screen at 1440x900: voice cards, vibe chips, instructions and script side by side,
model / format / speed and Play, then the live player; the code for exactly these
settings sits on the right. Handlers are module-level and take plain widget values (a
``gr.Request`` where the browser session's provider matters), so tests call them
directly; each event has an ``api_name`` so ``gradio_client`` can drive the same paths.
Playback runs in the page (``static/studio.js``): the Play click is the moment "first
audio" is measured from, and the first sample the page plays is where it ends.
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
from playground.core.vibes import NAME_MAX, slugify
from playground.ui import standin
from playground.ui.context import get_context
from playground.ui.share import SHARE_JS, share_query
from playground.ui.studio_vibes import (
    CHIPS,
    accept_suggestion,
    apply_vibe,
    refresh_vibes,
    save_vibe,
    shuffle_vibes,
    vibe_names,
    voice_changed,
)
from playground.ui.widgets import model_choices, model_picker, range_slider, voice_choices

__all__ = [
    "PLAYER_HTML",
    "StudioParts",
    "accept_suggestion",
    "apply_vibe",
    "clamp_speed",
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
    "workflow_changed",
]

DEFAULT_SCRIPT = "Welcome to the audio playground. Pick a voice, choose a vibe, and press play to hear it."

#: the live player; studio.js drives it (progress, stop, replay, the heard latency)
PLAYER_HTML = """
<div id="pg-live" class="pg-live">
  <button id="pg-live-stop" type="button" title="Stop" aria-label="Stop">■</button>
  <button id="pg-live-replay" type="button" title="Play again" aria-label="Play again" disabled>↺</button>
  <div class="pg-live-bar"><div class="pg-live-buffer"></div><div class="pg-live-fill"></div></div>
  <span id="pg-live-time">0:00 / 0:00</span>
  <span id="pg-live-status">Press Play: audio starts with the first sentence.</span>
</div>
"""


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


def _count(label: str, text: str, limit: int) -> str:
    n = len(text or "")
    style = "pg-over" if n > limit else ""
    return f'<span class="pg-count {style}">{label}: {n:,} / {limit:,}</span>'


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
        _count("Script", script, cat.limits.speech_input_max_chars),
        _count("Instructions", instructions, cat.limits.instructions_max_chars),
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
        pending = ctx.streams.start(spec, ctx.provider_for(request), token=token or "")
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


def finish_speech(token: str, vibe_name: str | None, request: gr.Request = None) -> tuple[str, Any, Any]:
    """Wait for the run started by ``start_speech``: metrics, download file, waveform."""
    ctx = get_context()
    if not token:  # Play was refused (the note under Play says why): clear the last run's results
        return "", gr.update(value=None, visible=False), None
    pending = ctx.streams.get(token)
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


def create_studio_tab() -> StudioParts:
    cat = get_catalog()
    vibes = vibe_names()

    with gr.Row(equal_height=False, elem_id="pg-studio"):
        with gr.Column(scale=3, min_width=560):
            start = workflows.get(workflows.DEFAULT)
            workflow = gr.Radio(
                [(workflows.label(w), w) for w in workflows.WORKFLOWS],
                value=start.id,
                label="Workflow  ·  Realtime reads the text in a Realtime session, the speech endpoint's successor",
                elem_id="pg-workflow",
            )
            voice = gr.Radio(
                voice_choices(start.id),
                value=start.default_voice,
                label="Voice  ·  ★ most expressive with instructions  ·  “endpoint only”: not on the Realtime API",
                elem_classes="pg-voice-grid",
                elem_id="pg-voice",
            )
            with gr.Row(elem_id="pg-vibe-row", equal_height=False):
                chips = gr.Radio(vibes[:CHIPS], label="Vibe", elem_classes="pg-chips", elem_id="pg-chips", scale=5)
                with gr.Column(scale=2, min_width=190, elem_id="pg-vibe-side"):
                    all_vibes = gr.Dropdown(vibes, label="All vibes (yours too)", value=None, elem_id="pg-all-vibes")
                    shuffle = gr.Button("Shuffle chips", size="sm", elem_id="pg-shuffle")
            with gr.Row(elem_id="pg-suggest-row", equal_height=True):
                suggestion = gr.Markdown(elem_id="pg-suggestion")
                use_voice = gr.Button("Use", size="sm", visible=False, scale=0, min_width=110, elem_id="pg-use-voice")
            with gr.Row(equal_height=True, elem_id="pg-texts"):
                with gr.Column(scale=1, min_width=260):
                    instructions = gr.Textbox(
                        label="Instructions",
                        lines=4,
                        max_lines=6,
                        elem_id="pg-instructions",
                        placeholder="Affect, tone, pacing, emotion, pronunciation, pauses… or pick a vibe.",
                    )
                    instructions_count = gr.HTML(_count("Instructions", "", cat.limits.instructions_max_chars))
                with gr.Column(scale=1, min_width=260):
                    script = gr.Textbox(
                        value=DEFAULT_SCRIPT,
                        label="Script",
                        lines=4,
                        max_lines=6,
                        elem_id="pg-script",
                        placeholder="What the voice says.",
                    )
                    script_count = gr.HTML(_count("Script", DEFAULT_SCRIPT, cat.limits.speech_input_max_chars))
            with gr.Row(equal_height=True, elem_id="pg-controls"):
                # custom values: a script may send the other workflow's model or format (or a
                # compatible server's own model name); the spec decides, and says what it did
                model = model_picker(
                    start.models,
                    start.default_model,
                    label="Model",
                    elem_id="pg-model",
                    min_width=150,
                    allow_custom_value=True,
                )
                fmt = gr.Dropdown(
                    [(lbl, f) for f, lbl in start.formats],
                    value=start.default_format,
                    allow_custom_value=True,
                    label="Format",
                    elem_id="pg-format",
                    min_width=150,
                )
                speed = range_slider(
                    cat.limits.speed.min,
                    cat.limits.speed.max,
                    value=cat.limits.speed.default,
                    step=0.05,
                    label="Speed",
                    elem_id="pg-speed",
                    min_width=180,
                )
                play = gr.Button("▶  Play", variant="primary", elem_id="pg-play", scale=0, min_width=130)
            # what went wrong with Play or the speed, right under them
            speed_note = gr.Markdown(elem_id="pg-speed-note")
            play_note = gr.Markdown(elem_id="pg-play-note", elem_classes="pg-error-note")
            standin.note("studio", voice, model)  # offline: which local engine speaks this voice, hidden otherwise
            gr.HTML(PLAYER_HTML, elem_id="pg-player-box")
            metrics = gr.Markdown(elem_id="pg-metrics")
        with gr.Column(scale=2, min_width=400, elem_id="pg-side"):
            with gr.Tabs(elem_id="pg-code-tabs"):
                with gr.Tab("Python"):
                    py_code = gr.Code(language="python", show_label=False, elem_id="pg-code-python", max_lines=24)
                with gr.Tab("JavaScript"):
                    js_code = gr.Code(language="javascript", show_label=False, elem_id="pg-code-js", max_lines=24)
                with gr.Tab("curl"):
                    curl_code = gr.Code(language="shell", show_label=False, elem_id="pg-code-curl", max_lines=24)
            download = gr.File(label="Download", interactive=False, elem_id="pg-download", height=60, visible=False)
            preview = gr.Audio(
                label="Voice preview (plays when you pick a voice)",
                autoplay=True,
                interactive=False,
                elem_id="pg-preview",
                buttons=["download"],
            )
            with gr.Accordion("Save as vibe", open=False, elem_id="pg-save-box"):
                vibe_name = gr.Textbox(
                    label="Name", placeholder="e.g. Calm onboarding", max_length=NAME_MAX, elem_id="pg-vibe-name"
                )
                overwrite = gr.Checkbox(label="Overwrite a vibe of this name (built-in or yours)", value=False)
                save = gr.Button("Save vibe", size="sm", elem_id="pg-save-vibe")
                save_status = gr.Markdown(elem_id="pg-save-status")
            with gr.Accordion("Share these settings", open=False, elem_id="pg-share-box"):
                share = gr.Button("Make a link", size="sm", elem_id="pg-share")
                share_link = gr.Textbox(
                    show_label=False, placeholder="a link that reopens these settings", elem_id="pg-share-link"
                )
    waveform = gr.Plot(label="Waveform", elem_id="pg-waveform")
    token = gr.Textbox(visible=False, elem_id="pg-token")
    last_sample = gr.State(DEFAULT_SCRIPT)  # the starter text is a sample too: a vibe may replace it
    current_vibe = gr.Textbox(visible=False)

    settings = [script, voice, model, instructions, speed, fmt, workflow]
    share.click(partial(share_query, "studio"), settings, share_link, api_name="share_studio", queue=False).then(
        None, share_link, share_link, js=SHARE_JS
    )
    code_outputs = [py_code, js_code, curl_code, script_count, instructions_count]
    for i, component in enumerate(settings):
        component.change(
            update_code,
            settings,
            code_outputs,
            api_name="code" if i == 0 else False,
            show_progress="hidden",
            queue=False,
        )
    speed.input(
        clamp_speed, [speed, workflow], [speed, speed_note], api_name="clamp_speed", queue=False, show_progress="hidden"
    )
    workflow.input(
        workflow_changed,
        [workflow, voice, model, fmt, speed],
        [model, fmt, voice, speed, speed_note, play_note],
        api_name="workflow_changed",
        queue=False,
        show_progress="hidden",
    )
    voice.change(
        voice_changed, [current_vibe, voice, workflow], [suggestion, use_voice], queue=False, show_progress="hidden"
    )
    voice.input(voice_note, [voice, workflow], play_note, queue=False, show_progress="hidden")
    gr.on([voice.input], preview_voice, [voice, model, workflow], preview, api_name="preview", show_progress="minimal")
    model.change(model_changed, model, instructions, api_name="model_changed", queue=False)
    shuffle.click(shuffle_vibes, None, chips, api_name="shuffle_vibes", queue=False)
    for picker, api in ((chips, "apply_vibe"), (all_vibes, False)):
        picker.input(
            apply_vibe,
            [picker, script, last_sample, voice, workflow],
            [instructions, script, last_sample, current_vibe, suggestion, use_voice],
            api_name=api,
            queue=False,
        )
    use_voice.click(accept_suggestion, current_vibe, [voice, suggestion, use_voice], api_name="use_voice", queue=False)
    # The page makes the token and opens the PCM stream on the click itself (studio.js),
    # in parallel with this request: one round trip less before the first sound.
    begin = "(...args) => [...args.slice(0, -1), window.pgStudio ? window.pgStudio.begin() : '']"
    # No progress overlays: the live player shows progress, and the page's own work at the
    # moment of the click competes with the first sentence for the CPU.
    quiet = {"show_progress": "hidden"}
    # the metrics request waits for the first sound, so it does not compete with the first sentence
    settle = "async () => { if (window.pgStudio) await window.pgStudio.settled(); return []; }"
    play.click(
        start_speech, [*settings, token], [token, play_note], api_name="speak", js=begin, queue=False, **quiet
    ).then(None, None, None, js=settle).then(
        finish_speech, [token, current_vibe], [metrics, download, waveform], api_name="collect", **quiet
    ).then(None, None, None, js="() => { if (window.pgStudio) window.pgStudio.fillMetrics(); return []; }")
    save.click(
        save_vibe,
        [vibe_name, instructions, script, voice, overwrite],
        [save_status, all_vibes, chips],
        api_name="save_vibe",
    )
    return StudioParts(settings, code_outputs, chips, all_vibes)
