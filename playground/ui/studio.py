"""Studio tab: pick a voice and a vibe, hear it streamed, copy the code.

Handlers are module-level and take plain widget values, so tests call them directly;
each event has an ``api_name`` so ``gradio_client`` can drive the same paths.
"""

from __future__ import annotations

import hashlib
import html
import random
import time
from typing import Any

import gradio as gr

from playground.client.runner import Runner
from playground.core.audio import AudioDecodeError, decode, to_mono
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError, SpecError
from playground.core.plots import waveform_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import SpeechSpec
from playground.core.vibes import VibeExistsError, slugify
from playground.ui.context import get_context

__all__ = [
    "apply_vibe",
    "create_studio_tab",
    "finish_speech",
    "model_changed",
    "preview_voice",
    "save_vibe",
    "shuffle_vibes",
    "speech_spec",
    "start_speech",
    "update_code",
]

CHIPS = 6
DEFAULT_SCRIPT = "Welcome to the audio playground. Pick a voice, choose a vibe, and press play to hear it."


# ----------------------------------------------------------------------- handlers


def speech_spec(script: str, voice: str, model: str, instructions: str, speed: float, fmt: str) -> SpeechSpec:
    """The spec for the current widgets; instructions are dropped for models that take none."""
    entry = get_catalog().speech_model(model)
    steerable = entry is None or entry.instructions
    return SpeechSpec(
        input=script or "",
        voice=voice,
        model=model,
        instructions=(instructions or "").strip() if steerable else "",
        speed=float(speed),
        response_format=fmt,
    )


def _count(label: str, text: str, limit: int) -> str:
    n = len(text or "")
    style = "pg-over" if n > limit else ""
    return f'<span class="pg-count {style}">{label}: {n:,} / {limit:,} characters</span>'


def update_code(
    script: str, voice: str, model: str, instructions: str, speed: float, fmt: str
) -> tuple[str, str, str, str, str]:
    """Snippets for exactly the current settings, and the two character counts."""
    ctx = get_context()
    cat = get_catalog()
    spec = speech_spec(script, voice, model, instructions, speed, fmt)
    problems = spec.problems()
    prefix = ""
    if problems:
        prefix = "Fix before running: " + "; ".join(str(p) for p in problems)
    base_url = ctx.provider.snippet_base_url
    codes = [render(spec, lang, base_url=base_url) for lang in ("python", "js", "curl")]
    if prefix:
        marks = ("# ", "// ", "# ")
        codes = [f"{mark}{prefix}\n{code}" for mark, code in zip(marks, codes, strict=True)]
    return (
        codes[0],
        codes[1],
        codes[2],
        _count("Script", script, cat.speech_input_max_chars),
        _count("Instructions", instructions, cat.instructions_max_chars),
    )


def model_changed(model: str) -> dict[str, Any]:
    entry = get_catalog().speech_model(model)
    if entry is not None and not entry.instructions:
        steerable = ", ".join(m.id for m in get_catalog().speech_models.values() if m.instructions)
        return gr.update(interactive=False, info=f"{model} does not take instructions; switch to {steerable}.")
    return gr.update(interactive=True, info="Describe affect, tone, pacing, emotion, pronunciation and pauses.")


def shuffle_vibes() -> dict[str, Any]:
    names = [v.name for v in get_context().all_vibes()]
    return gr.update(choices=random.sample(names, min(CHIPS, len(names))), value=None)


def apply_vibe(name: str | None, script: str, last_sample: str) -> tuple[Any, Any, Any, str, str]:
    """Fill instructions, the suggested voice, and the script if it is empty or still a previous sample.

    Returns (instructions, script, voice, the sample now in the box, the chosen vibe's name).
    """
    vibe = get_context().vibe(name) if name else None
    if vibe is None:
        return gr.update(), gr.update(), gr.update(), last_sample, ""
    keep_script = (script or "").strip() and script.strip() != (last_sample or "").strip()
    new_script = script if keep_script else vibe.script.strip()
    return vibe.instructions_text, new_script, vibe.voice, vibe.script.strip(), vibe.name


def preview_voice(voice: str, model: str) -> str | None:
    """A short sample of the voice, generated once per provider, model and voice, then cached."""
    ctx = get_context()
    cat = get_catalog()
    if voice not in cat.speech_voices:
        return None
    key = "|".join([ctx.provider.kind, ctx.provider.base_url or "openai", model, voice])
    path = ctx.data_dir / "previews" / f"{voice}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.mp3"
    if not path.is_file():
        character = cat.speech_voices[voice].character
        text = f"Hi, I'm {voice.capitalize()}. {character}."
        try:
            result = Runner(ctx.provider).speech(
                SpeechSpec(input=text, voice=voice, model=model, response_format="mp3")
            )
        except PlaygroundError as e:
            raise gr.Error(f"Preview failed: {e}") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(result.audio)
        tmp.replace(path)
    return str(path)


def _player(token: str) -> str:
    return (
        '<div class="pg-player">'
        f'<audio id="pg-studio-audio" controls autoplay preload="auto" src="/studio/stream/{html.escape(token)}">'
        "</audio></div>"
    )


def start_speech(
    script: str, voice: str, model: str, instructions: str, speed: float, fmt: str
) -> tuple[str, str, str]:
    """Validate, start synthesis at once, and hand the browser a streaming player."""
    spec = speech_spec(script, voice, model, instructions, speed, fmt)
    try:
        pending = get_context().streams.start(spec, get_context().provider)
    except SpecError as e:
        raise gr.Error(f"Check your settings: {e}") from None
    return _player(pending.token), pending.token, "Generating… the audio starts playing with the first sentence."


def _file_name(spec: SpeechSpec, vibe_name: str | None) -> str:
    ctx = get_context()
    vibe = ctx.vibe(vibe_name) if vibe_name else None
    styled = vibe is not None and spec.instructions.strip() == vibe.instructions_text.strip()
    tag = slugify(vibe.name) if styled and vibe else ("custom" if spec.instructions else "plain")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    ext = get_catalog().speech_formats[spec.response_format].ext
    return f"{spec.voice}_{tag}_{stamp}.{ext}"


def _metrics(result: Any) -> str:
    parts = [
        f"**First audio** {result.ttfb_ms:,.0f} ms",
        f"**Total** {result.total_ms / 1000:,.2f} s",
        f"**Duration** {result.duration_s:,.2f} s" if result.duration_s is not None else "**Duration** n/a",
        f"**Est. cost** {format_cost(result.est_cost)}",
    ]
    line = " · ".join(parts)
    if result.instructions_applied:
        line += f"\n\n<small>Local backend applied: {html.escape(result.instructions_applied)}</small>"
    return line


def finish_speech(token: str, vibe_name: str | None) -> tuple[str, str | None, Any]:
    """Wait for the run started by ``start_speech``: metrics, download file, waveform."""
    ctx = get_context()
    pending = ctx.streams.get(token or "")
    if pending is None:
        return "⚠️ Nothing to collect: press Play first.", None, None
    result, error = pending.wait()
    if result is None:
        return f"⚠️ {html.escape(error or 'speech failed')}", None, None
    path = ctx.output_path(_file_name(pending.spec, vibe_name))
    path.write_bytes(result.audio)
    try:
        sound = decode(result.audio, pending.spec.response_format)
        figure = waveform_figure(to_mono(sound.samples), sound.sample_rate, title="Waveform")
    except AudioDecodeError:
        figure = None
    return _metrics(result), str(path), figure


def save_vibe(
    name: str, instructions: str, script: str, voice: str, overwrite: bool
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Store the current settings as a user vibe; an existing name needs ``overwrite``."""
    ctx = get_context()
    if not (instructions or "").strip():
        return "⚠️ Write some instructions first.", gr.update(), gr.update()
    try:
        vibe = ctx.vibe_store.save(
            name or "", instructions=instructions, script=script or "", voice=voice, overwrite=bool(overwrite)
        )
    except VibeExistsError as e:
        return f"⚠️ {e}", gr.update(), gr.update()
    except PlaygroundError as e:
        return f"⚠️ {e}", gr.update(), gr.update()
    names = [v.name for v in ctx.all_vibes()]
    return (
        f"✅ Saved “{html.escape(vibe.name)}” to your vibes ({html.escape(str(ctx.vibe_store.folder))}).",
        gr.update(choices=names, value=vibe.name),
        gr.update(choices=[*random.sample(names, min(CHIPS - 1, len(names))), vibe.name]),
    )


# ------------------------------------------------------------------------ layout


def _voice_choices() -> list[tuple[str, str]]:
    out = []
    for v in get_catalog().speech_voices.values():
        star = " ★" if v.expressive else ""
        out.append((f"{v.id.capitalize()}{star} — {v.character}", v.id))
    return out


def create_studio_tab() -> None:
    ctx = get_context()
    cat = get_catalog()
    vibes = [v.name for v in ctx.all_vibes()]
    first_chips = vibes[:CHIPS]

    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            gr.Markdown("### 1 · Voice  <small>★ = most expressive with instructions</small>")
            voice = gr.Radio(
                _voice_choices(),
                value=cat.speech_defaults["voice"],
                show_label=False,
                elem_classes="pg-voice-grid",
                elem_id="pg-voice",
            )
            preview = gr.Audio(
                label="Voice preview (plays when you pick a voice)",
                autoplay=True,
                interactive=False,
                elem_id="pg-preview",
                buttons=["download"],
            )
            gr.Markdown("### 2 · Vibe")
            with gr.Row():
                chips = gr.Radio(first_chips, show_label=False, elem_classes="pg-chips", elem_id="pg-chips", scale=5)
                shuffle = gr.Button("Shuffle", size="sm", scale=1, min_width=90, elem_id="pg-shuffle")
            all_vibes = gr.Dropdown(vibes, label="All vibes (yours included)", value=None, elem_id="pg-all-vibes")
            instructions = gr.Textbox(
                label="Instructions",
                lines=7,
                max_lines=16,
                elem_id="pg-instructions",
                info="Describe affect, tone, pacing, emotion, pronunciation and pauses.",
            )
            instructions_count = gr.HTML(_count("Instructions", "", cat.instructions_max_chars))
            gr.Markdown("### 3 · Script")
            script = gr.Textbox(value=DEFAULT_SCRIPT, label="Script", lines=5, max_lines=20, elem_id="pg-script")
            script_count = gr.HTML(_count("Script", DEFAULT_SCRIPT, cat.speech_input_max_chars))
            with gr.Row():
                model = gr.Dropdown(
                    list(cat.speech_models), value=cat.speech_defaults["model"], label="Model", elem_id="pg-model"
                )
                fmt = gr.Dropdown(
                    [(f.label, f.id) for f in cat.speech_formats.values()],
                    value=cat.speech_defaults["format"],
                    label="Format",
                    elem_id="pg-format",
                )
            speed = gr.Slider(
                cat.speed.min, cat.speed.max, value=cat.speed.default, step=0.05, label="Speed", elem_id="pg-speed"
            )
            with gr.Row():
                play = gr.Button("▶  Play", variant="primary", elem_id="pg-play", scale=2)
                download = gr.File(label="Download", interactive=False, elem_id="pg-download", scale=3, height=90)
            player = gr.HTML(elem_id="pg-player-box")
            metrics = gr.Markdown(elem_id="pg-metrics")
            waveform = gr.Plot(label="Waveform", elem_id="pg-waveform")
            token = gr.Textbox(visible=False)
            last_sample = gr.State("")
            current_vibe = gr.Textbox(visible=False)
            with gr.Accordion("Save as vibe", open=False):
                vibe_name = gr.Textbox(label="Name", placeholder="e.g. Calm onboarding")
                overwrite = gr.Checkbox(label="Overwrite if a vibe with this name exists", value=False)
                save = gr.Button("Save vibe", size="sm")
                save_status = gr.Markdown()
        with gr.Column(scale=2, min_width=360):
            gr.Markdown("### Code for exactly these settings")
            with gr.Tab("Python"):
                py_code = gr.Code(language="python", show_label=False, elem_id="pg-code-python")
            with gr.Tab("JavaScript"):
                js_code = gr.Code(language="javascript", show_label=False, elem_id="pg-code-js")
            with gr.Tab("curl"):
                curl_code = gr.Code(language="shell", show_label=False, elem_id="pg-code-curl")

    settings = [script, voice, model, instructions, speed, fmt]
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
    gr.on([voice.input], preview_voice, [voice, model], preview, api_name="preview", show_progress="minimal")
    model.change(model_changed, model, instructions, api_name="model_changed", queue=False)
    shuffle.click(shuffle_vibes, None, chips, api_name="shuffle_vibes", queue=False)
    for picker, api in ((chips, "apply_vibe"), (all_vibes, False)):
        picker.input(
            apply_vibe,
            [picker, script, last_sample],
            [instructions, script, voice, last_sample, current_vibe],
            api_name=api,
            queue=False,
        )
    play.click(start_speech, settings, [player, token, metrics], api_name="speak").then(
        finish_speech, [token, current_vibe], [metrics, download, waveform], api_name="collect"
    )
    save.click(
        save_vibe,
        [vibe_name, instructions, script, voice, overwrite],
        [save_status, all_vibes, chips],
        api_name="save_vibe",
    )
    return settings, code_outputs
